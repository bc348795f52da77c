// Envelope encryption primitives: AES-256-GCM with associated data, key wrapping, key derivation
// and fingerprints.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  cardAad,
  cardFingerprint,
  deriveMasterKeys,
  open,
  seal,
  unwrapDataKey,
  wrapDataKey,
} from './crypto.ts';

const key = crypto.randomBytes(32);
const aad = Buffer.from('context');

test('seal then open returns the plaintext; every seal uses a fresh IV', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 64 }),
      (plaintext, associated) => {
        const first = seal(key, Buffer.from(plaintext), Buffer.from(associated));
        const second = seal(key, Buffer.from(plaintext), Buffer.from(associated));
        assert.notDeepEqual(first.iv, second.iv);
        assert.deepEqual(open(key, first, Buffer.from(associated)), Buffer.from(plaintext));
      },
    ),
  );
});

test('a wrong key, wrong associated data, or any flipped bit fails to open', () => {
  const sealed = seal(key, Buffer.from('{"number":"4242424242424242"}'), aad);
  assert.equal(open(crypto.randomBytes(32), sealed, aad), undefined);
  assert.equal(open(key, sealed, Buffer.from('other')), undefined);
  for (const field of ['ciphertext', 'iv', 'authTag'] as const) {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 7 }), (position, bit) => {
        const altered = Buffer.from(sealed[field]);
        const index = position % altered.length;
        altered[index] = (altered[index] ?? 0) ^ (1 << bit);
        return open(key, { ...sealed, [field]: altered }, aad) === undefined;
      }),
    );
  }
  assert.equal(open(key, { ...sealed, authTag: sealed.authTag.subarray(0, 12) }, aad), undefined);
});

test('a wrapped data key only unwraps under its own id and wrapping key', () => {
  const masterKeys = deriveMasterKeys(crypto.randomBytes(32));
  const dataKey = crypto.randomBytes(32);
  const wrapped = wrapDataKey(masterKeys.wrappingKey, 'dk_one', dataKey);
  assert.deepEqual(unwrapDataKey(masterKeys.wrappingKey, 'dk_one', wrapped), dataKey);
  assert.equal(unwrapDataKey(masterKeys.wrappingKey, 'dk_two', wrapped), undefined);
  assert.equal(
    unwrapDataKey(deriveMasterKeys(crypto.randomBytes(32)).wrappingKey, 'dk_one', wrapped),
    undefined,
  );
  assert.throws(() => wrapDataKey(masterKeys.wrappingKey, 'dk_one', Buffer.alloc(16)), /32 bytes/);
});

test('derived keys are deterministic, distinct from each other and from the master key', () => {
  const masterKey = crypto.randomBytes(32);
  const first = deriveMasterKeys(masterKey);
  assert.deepEqual(deriveMasterKeys(Buffer.from(masterKey)), first);
  assert.notDeepEqual(first.wrappingKey, first.fingerprintKey);
  assert.notDeepEqual(first.wrappingKey, masterKey);
  assert.notDeepEqual(first.fingerprintKey, masterKey);
  assert.match(first.masterKeyId, /^[0-9a-f]{16}$/);
  assert.notEqual(deriveMasterKeys(crypto.randomBytes(32)).masterKeyId, first.masterKeyId);
  assert.throws(() => deriveMasterKeys(Buffer.alloc(31)), /32 bytes/);
});

test('fingerprints: same card and merchant match; another merchant, card or master key does not', () => {
  const { fingerprintKey } = deriveMasterKeys(crypto.randomBytes(32));
  const visa = '4242424242424242';
  const fingerprint = cardFingerprint(fingerprintKey, 'mch_a', visa);
  assert.match(fingerprint, /^[A-Za-z0-9_-]{16}$/);
  assert.equal(cardFingerprint(fingerprintKey, 'mch_a', visa), fingerprint);
  assert.notEqual(cardFingerprint(fingerprintKey, 'mch_b', visa), fingerprint);
  assert.notEqual(cardFingerprint(fingerprintKey, 'mch_a', '5555555555554444'), fingerprint);
  assert.notEqual(
    cardFingerprint(deriveMasterKeys(crypto.randomBytes(32)).fingerprintKey, 'mch_a', visa),
    fingerprint,
  );
});

test('card associated data is unambiguous: shifting text between fields changes it', () => {
  assert.notDeepEqual(cardAad('mch_a', 'pm_b', 'dk_c'), cardAad('mch_ap', 'm_b', 'dk_c'));
  assert.notDeepEqual(cardAad('mch_a', 'pm_b', 'dk_c'), cardAad('pm_b', 'mch_a', 'dk_c'));
  assert.notDeepEqual(cardAad('mch_a', 'pm_b', 'dk_c'), cardAad('mch_a', 'pm_b', 'dk_d'));
});
