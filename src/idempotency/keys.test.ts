// The request hash stored with an idempotency key is keyed (HMAC under a key derived from the
// vault master key), so the table cannot be used to brute-force a card number from its hash.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Database } from '../storage/database.ts';
import { migrate } from '../storage/migrations.ts';
import { openPglite } from '../storage/pglite.ts';
import { IdempotencyKeys, requestHash, requestHashKey } from './keys.ts';

const masterKey = crypto.randomBytes(32);
const otherMasterKey = crypto.randomBytes(32);
const path = '/v1/payment_methods';
const body = {
  type: 'card',
  card: { number: '4242424242424242', exp_month: 12, exp_year: 2031, cvc: '123' },
};
const withOtherCvc = {
  type: 'card',
  card: { number: '4242424242424242', exp_month: 12, exp_year: 2031, cvc: '124' },
};

/** What the hash was before it was keyed: SHA-256 of the same canonical text. */
function unkeyedHash(method: string, requestPath: string, requestBody: unknown): string {
  const canonical = JSON.stringify(requestBody, (_key, value: unknown) =>
    value === null || typeof value !== 'object' || Array.isArray(value)
      ? value
      : Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1))),
  );
  return crypto.createHash('sha256').update(`${method} ${requestPath}\n${canonical}`).digest('hex');
}

describe('requestHash', () => {
  const key = requestHashKey(masterKey);

  test('the same key and body give the same hash, whatever the field order', () => {
    const reordered = {
      card: { cvc: '123', exp_year: 2031, exp_month: 12, number: '4242424242424242' },
      type: 'card',
    };
    assert.equal(requestHash(key, 'POST', path, body), requestHash(key, 'POST', path, body));
    assert.equal(requestHash(key, 'POST', path, body), requestHash(key, 'POST', path, reordered));
  });

  test('different keys give different hashes of the same request', () => {
    assert.notEqual(
      requestHash(key, 'POST', path, body),
      requestHash(requestHashKey(otherMasterKey), 'POST', path, body),
    );
  });

  test('a body that differs only in the CVC has another hash', () => {
    assert.notEqual(
      requestHash(key, 'POST', path, body),
      requestHash(key, 'POST', path, withOtherCvc),
    );
  });

  test('the hash is neither the unkeyed SHA-256 nor an HMAC under the master key itself', () => {
    const hash = requestHash(key, 'POST', path, body);
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.notEqual(hash, unkeyedHash('POST', path, body));
    assert.notEqual(hash, requestHash(masterKey, 'POST', path, body));
  });

  test('the derived key is 32 bytes, stable per master key, and refuses a master key of another size', () => {
    assert.equal(key.length, 32);
    assert.ok(requestHashKey(masterKey).equals(key));
    assert.ok(!requestHashKey(otherMasterKey).equals(key));
    assert.throws(() => requestHashKey(crypto.randomBytes(16)), /32 bytes/);
  });
});

describe('IdempotencyKeys stores the keyed hash (PGlite)', () => {
  let database: Database;
  let keys: IdempotencyKeys;
  let merchantId: string;

  before(async () => {
    database = await openPglite('memory://');
    await migrate(database);
    merchantId = 'mch_keyedhash0001';
    await database.query("INSERT INTO merchants (id, name) VALUES ($1, 'Shop')", [merchantId]);
    keys = new IdempotencyKeys(database, 60_000, masterKey);
  });
  after(() => database.close());

  test('the stored hash is the HMAC; a repeat is replayed, a CVC change is a mismatch', async () => {
    const request = { merchantId, key: 'key-1', method: 'POST', path, body };
    assert.deepEqual(await keys.begin(request), {
      kind: 'proceed',
      resumed: false,
      resourceId: null,
    });
    const stored = await database.query<{ request_hash: string }>(
      'SELECT request_hash FROM idempotency_keys WHERE merchant_id = $1 AND key = $2',
      [merchantId, 'key-1'],
    );
    assert.equal(
      stored.rows[0]?.request_hash,
      requestHash(requestHashKey(masterKey), 'POST', path, body),
    );
    await keys.finish(merchantId, 'key-1', 200, '{"id":"pm_1"}');
    assert.deepEqual(await keys.begin(request), {
      kind: 'replay',
      status: 200,
      body: { id: 'pm_1' },
    });
    assert.deepEqual(await keys.begin({ ...request, body: withOtherCvc }), { kind: 'mismatch' });
  });

  test('under another master key the same request no longer matches its stored hash', async () => {
    const other = new IdempotencyKeys(database, 60_000, otherMasterKey);
    assert.deepEqual(await other.begin({ merchantId, key: 'key-1', method: 'POST', path, body }), {
      kind: 'mismatch',
    });
  });
});
