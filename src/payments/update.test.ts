import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PaymentError } from './errors.ts';
import {
  intentStatuses,
  intentStatusesFor,
  moveIntent,
  nextIntentStatus,
} from './state-machine.ts';
import { metadataKeysMax } from '../metadata.ts';
import { checkUpdate, mergePaymentMetadata as mergeMetadata } from './update.ts';

test("metadata updates merge as Stripe's do: '' removes a key, '' for all removes every key", () => {
  const current = { keep: '1', drop: '2' };
  assert.deepEqual(mergeMetadata(current, undefined), current);
  assert.deepEqual(mergeMetadata(current, { drop: '', add: '3' }), { keep: '1', add: '3' });
  assert.deepEqual(mergeMetadata(current, { keep: 'changed' }), { keep: 'changed', drop: '2' });
  assert.deepEqual(mergeMetadata(current, { absent: '' }), current);
  assert.deepEqual(mergeMetadata(current, ''), {});
});

test('a merge may not leave more than 50 keys', () => {
  const full = Object.fromEntries(
    Array.from({ length: metadataKeysMax }, (_, index) => [`k${index}`, 'v']),
  );
  assert.equal(Object.keys(mergeMetadata(full, { k0: '', other: 'v' })).length, metadataKeysMax);
  assert.throws(
    () => mergeMetadata(full, { other: 'v' }),
    (error: unknown) => error instanceof PaymentError && error.param === 'metadata',
  );
});

test('currency in any case; the amount checked against the new currency', () => {
  assert.deepEqual(checkUpdate({ currency: 'usd' }, { currency: 'EUR' }), {
    amount: undefined,
    currency: 'eur',
  });
  assert.deepEqual(checkUpdate({ currency: 'usd' }, { amount: 5 }), {
    amount: 5n,
    currency: undefined,
  });
  assert.throws(() => checkUpdate({ currency: 'usd' }, { currency: 'zzz' }), /currency/i);
  assert.throws(
    () => checkUpdate({ currency: 'usd' }, { currency: 'jpy', amount: 100_000_000_000_000 }),
    (error: unknown) => (error as { param?: string }).param === 'amount',
  );
});

test('the state machine lets what is charged change only before confirmation', () => {
  const before = ['requires_payment_method', 'requires_confirmation'];
  assert.deepEqual(intentStatusesFor('update_payment'), before);
  assert.deepEqual(intentStatusesFor('attach_payment_method'), before);
  assert.equal(
    nextIntentStatus('requires_payment_method', 'attach_payment_method'),
    'requires_confirmation',
  );
  assert.equal(intentStatusesFor('describe').length, intentStatuses.length);
  assert.throws(
    () => moveIntent('pi_1', 'succeeded', 'update_payment'),
    /You cannot update this PaymentIntent because it has a status of succeeded/,
  );
});
