import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DomainError } from '../errors.ts';
import {
  canonicalIpAddress,
  checkAlias,
  lookupForm,
  normalizeItemValue,
  valueListItemTypes,
  type ValueListItemType,
} from './value-lists.ts';

function refused(itemType: ValueListItemType, value: string): boolean {
  try {
    normalizeItemValue(itemType, value);
    return false;
  } catch (error) {
    assert.ok(error instanceof DomainError);
    assert.equal(error.param, 'value');
    return true;
  }
}

describe('value list values', () => {
  test('each type normalizes as Radar matches it', () => {
    assert.equal(
      normalizeItemValue('email', ' Jenny.Rosen@Example.COM '),
      'jenny.rosen@example.com',
    );
    assert.equal(normalizeItemValue('country', 'de'), 'DE');
    assert.equal(normalizeItemValue('ip_address', '2001:0DB8:0000::0001'), '2001:db8::1');
    assert.equal(normalizeItemValue('ip_address', '203.0.113.7'), '203.0.113.7');
    assert.equal(normalizeItemValue('card_bin', '424242'), '424242');
    assert.equal(normalizeItemValue('string', 'Gift Card'), 'gift card');
    assert.equal(normalizeItemValue('case_sensitive_string', 'Gift Card'), 'Gift Card');
    assert.equal(normalizeItemValue('customer_id', 'cus_123'), 'cus_123');
  });

  test('values a type cannot hold are refused naming value', () => {
    assert.ok(refused('email', 'no-at-sign'));
    assert.ok(refused('email', '@example.com'));
    assert.ok(refused('country', 'Germany'));
    assert.ok(refused('ip_address', '300.1.1.1'));
    assert.ok(refused('card_bin', '4242'));
    assert.ok(refused('card_fingerprint', 'has spaces'));
    assert.ok(refused('string', ''));
    assert.ok(refused('string', 'x'.repeat(801)));
  });

  test('no list of any type holds a card number', () => {
    for (const itemType of valueListItemTypes) {
      assert.ok(refused(itemType, '4242424242424242'), itemType);
      assert.ok(refused(itemType, '4000-0566-5566-5556'), itemType);
    }
  });

  test('a stored value is found by every spelling of it (property)', () => {
    const spellings = fc.oneof(
      fc.tuple(fc.constant<ValueListItemType>('email'), fc.emailAddress()),
      fc.tuple(fc.constant<ValueListItemType>('ip_address'), fc.ipV4()),
      fc.tuple(fc.constant<ValueListItemType>('ip_address'), fc.ipV6()),
      fc.tuple(fc.constant<ValueListItemType>('country'), fc.stringMatching(/^[A-Za-z]{2}$/)),
      fc.tuple(
        fc.constant<ValueListItemType>('string'),
        fc.string({ minLength: 1, maxLength: 40 }),
      ),
    );
    fc.assert(
      fc.property(spellings, ([itemType, raw]) => {
        if (raw.trim() === '' || refused(itemType, raw)) return;
        const stored = normalizeItemValue(itemType, raw);
        assert.equal(normalizeItemValue(itemType, stored), stored, 'normalizing is idempotent');
        assert.equal(lookupForm(itemType, stored), stored);
        if (itemType !== 'ip_address')
          assert.equal(lookupForm(itemType, raw.trim().toUpperCase()), stored);
      }),
    );
  });

  test('IP addresses: canonical IPv6, IPv4 as given, anything else undefined', () => {
    assert.equal(canonicalIpAddress('::FFFF:1.2.3.4'), '::ffff:102:304');
    assert.equal(canonicalIpAddress('fe80:0:0:0:0:0:0:1'), 'fe80::1');
    assert.equal(canonicalIpAddress('1.2.3.4'), '1.2.3.4');
    assert.equal(canonicalIpAddress('example.com'), undefined);
    assert.equal(canonicalIpAddress('[::1]'), undefined);
  });

  test('aliases: what a rule can write after @', () => {
    assert.equal(checkAlias('blocked_emails-2'), 'blocked_emails-2');
    for (const bad of ['', 'with space', 'a'.repeat(101), 'émail'])
      assert.throws(
        () => checkAlias(bad),
        (error: unknown) => error instanceof DomainError,
      );
  });
});
