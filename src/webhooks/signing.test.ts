// Our Standard Webhooks signatures against the reference implementation (the `standardwebhooks`
// npm package), both ways, and the verifier's refusals.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { masterKeySecretBox } from './secret-box.ts';
import { generateSecret, secretKey, sign, signatureHeaders, verify } from './signing.ts';

const body = JSON.stringify({
  id: 'evt_1',
  object: 'event',
  type: 'payment_intent.succeeded',
  data: { object: { amount: 1152921504606846977 } },
});

describe('Standard Webhooks signing', () => {
  test('a generated secret is whsec_ + base64 of 32 random bytes, accepted by the package', () => {
    const secret = generateSecret();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(secretKey(secret).length, 32);
    assert.notEqual(generateSecret(), secret);
    assert.doesNotThrow(() => new Webhook(secret));
  });

  test('the example from the Standard Webhooks reference implementation', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const signature = sign(
      secret,
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      '{"test": 2432232314}',
    );
    assert.equal(
      signature,
      new Webhook(secret).sign(
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        new Date(1614265330_000),
        '{"test": 2432232314}',
      ),
    );
    assert.equal(signature, 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  test('what we sign, the package verifies', () => {
    for (let round = 0; round < 20; round++) {
      const secret = generateSecret();
      const id = `evt_${crypto.randomBytes(8).toString('hex')}`;
      const payload =
        round === 0
          ? body
          : JSON.stringify({
              round,
              text: crypto.randomBytes(40).toString('base64'),
              unicode: 'Zürich ✓',
            });
      const headers = signatureHeaders(secret, id, new Date(), payload);
      assert.deepEqual(new Webhook(secret).verify(payload, { ...headers }), JSON.parse(payload));
    }
  });

  test('what the package signs, we verify', () => {
    for (let round = 0; round < 20; round++) {
      const secret = generateSecret();
      const now = new Date();
      const payload = JSON.stringify({ round, unicode: 'Zürich ✓' });
      const headers = {
        'webhook-id': `msg_${round}`,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign(`msg_${round}`, now, payload),
      };
      assert.deepEqual(verify(secret, headers, payload), {
        valid: true,
        timestampSeconds: Math.floor(now.getTime() / 1000),
      });
      // Headers as Fetch gives them, in any case.
      assert.equal(
        verify(
          secret,
          new Headers({
            'Webhook-Id': headers['webhook-id'],
            'Webhook-Timestamp': headers['webhook-timestamp'],
            'Webhook-Signature': headers['webhook-signature'],
          }),
          payload,
        ).valid,
        true,
      );
    }
  });

  test('refusals: tampered body, other secret, missing headers, stale or future timestamps', () => {
    const secret = generateSecret();
    const now = new Date('2026-01-01T00:00:00Z');
    const headers = signatureHeaders(secret, 'evt_1', now, body);
    const at = (offsetSeconds: number) => ({ now: new Date(now.getTime() + offsetSeconds * 1000) });
    assert.equal(verify(secret, headers, body, at(0)).valid, true);
    assert.deepEqual(verify(secret, headers, `${body} `, at(0)), {
      valid: false,
      reason: 'no_matching_signature',
    });
    assert.deepEqual(verify(generateSecret(), headers, body, at(0)), {
      valid: false,
      reason: 'no_matching_signature',
    });
    assert.deepEqual(verify(secret, { ...headers, 'webhook-id': 'evt_2' }, body, at(0)), {
      valid: false,
      reason: 'no_matching_signature',
    });
    assert.deepEqual(
      verify(
        secret,
        { 'webhook-id': 'evt_1', 'webhook-timestamp': headers['webhook-timestamp'] },
        body,
        at(0),
      ),
      { valid: false, reason: 'missing_headers' },
    );
    assert.deepEqual(verify(secret, { ...headers, 'webhook-timestamp': '12abc' }, body, at(0)), {
      valid: false,
      reason: 'invalid_timestamp',
    });
    assert.equal(verify(secret, headers, body, at(300)).valid, true);
    assert.deepEqual(verify(secret, headers, body, at(301)), {
      valid: false,
      reason: 'timestamp_too_old',
    });
    assert.deepEqual(verify(secret, headers, body, at(-301)), {
      valid: false,
      reason: 'timestamp_too_new',
    });
    assert.equal(verify(secret, headers, body, { ...at(600), toleranceSeconds: 600 }).valid, true);
    // The package refuses the same stale message.
    assert.throws(() => new Webhook(secret).verify(body, { ...headers }), /too old/);
  });

  test('several signatures (secret rotation): any matching v1 passes, other versions are ignored', () => {
    const oldSecret = generateSecret();
    const newSecret = generateSecret();
    const now = new Date();
    const signed = signatureHeaders(newSecret, 'evt_9', now, body);
    const older = signatureHeaders(oldSecret, 'evt_9', now, body)['webhook-signature'];
    const both = {
      ...signed,
      'webhook-signature': `v1a,${signed['webhook-signature'].slice(3)} ${older} ${signed['webhook-signature']}`,
    };
    assert.equal(verify(newSecret, both, body).valid, true);
    assert.equal(verify(oldSecret, both, body).valid, true);
    assert.doesNotThrow(() => new Webhook(newSecret).verify(body, both));
    const onlyV1a = {
      ...signed,
      'webhook-signature': `v1a,${signed['webhook-signature'].slice(3)}`,
    };
    assert.deepEqual(verify(newSecret, onlyV1a, body), {
      valid: false,
      reason: 'no_matching_signature',
    });
  });

  test('a malformed secret is a bug and throws', () => {
    assert.throws(() => secretKey('sk_nope'), /whsec_/);
    assert.throws(() => secretKey('whsec_c2hvcnQ='), /24 to 64 bytes/);
    assert.throws(() => secretKey('whsec_!!!!'), /base64/);
  });
});

describe('SecretBox from the vault master key', () => {
  const masterKey = crypto.randomBytes(32);

  test('seals and opens; the sealed text holds no trace of the secret', () => {
    const box = masterKeySecretBox(masterKey);
    const secret = generateSecret();
    const sealed = box.seal(secret, 'we_1');
    assert.ok(!sealed.includes(secret.slice(6, 20)));
    assert.notEqual(box.seal(secret, 'we_1'), sealed); // fresh IV every time
    assert.equal(box.open(sealed, 'we_1'), secret);
    assert.equal(masterKeySecretBox(Buffer.from(masterKey)).open(sealed, 'we_1'), secret);
  });

  test('another row, another master key or a changed byte does not open', () => {
    const box = masterKeySecretBox(masterKey);
    const sealed = box.seal('whsec_abc', 'we_1');
    assert.throws(() => box.open(sealed, 'we_2'), /does not decrypt/);
    assert.throws(
      () => masterKeySecretBox(crypto.randomBytes(32)).open(sealed, 'we_1'),
      /does not decrypt/,
    );
    const parts = sealed.split('.');
    const ciphertext = Buffer.from(parts[3] ?? '', 'base64url');
    ciphertext[0] = (ciphertext[0] ?? 0) ^ 1;
    assert.throws(
      () =>
        box.open(
          [parts[0], parts[1], parts[2], ciphertext.toString('base64url')].join('.'),
          'we_1',
        ),
      /does not decrypt/,
    );
    assert.throws(() => box.open('garbage', 'we_1'), /format/);
    assert.throws(() => masterKeySecretBox(Buffer.alloc(16)), /32 bytes/);
  });
});
