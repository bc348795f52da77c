import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import { masterKeySecretBox as webhookSecretBox } from '../webhooks/secret-box.ts';
import { seal } from './crypto.ts';
import { secretBoxFor, secretBoxPurposes } from './secret-box.ts';

describe('SecretBox per purpose', () => {
  const masterKey = crypto.randomBytes(32);

  test('webhook secrets sealed before the box was generalized still open', () => {
    // The derivation and format endpoint secrets in existing databases were sealed with, written out.
    const info = 'payrail.webhooks.endpoint-secret.v1';
    const key = Buffer.from(crypto.hkdfSync('sha256', masterKey, Buffer.alloc(0), info, 32));
    const sealed = seal(
      key,
      Buffer.from('whsec_old_secret', 'utf8'),
      Buffer.from(JSON.stringify([info, 'we_1'])),
    );
    const text = [
      'v1',
      sealed.iv.toString('base64url'),
      sealed.authTag.toString('base64url'),
      sealed.ciphertext.toString('base64url'),
    ].join('.');
    assert.equal(webhookSecretBox(masterKey).open(text, 'we_1'), 'whsec_old_secret');
    assert.equal(
      secretBoxFor(masterKey, secretBoxPurposes.webhookEndpointSecret).open(text, ['we_1']),
      'whsec_old_secret',
    );
  });

  test('a value sealed for one purpose does not open for another, even with the same associated data', () => {
    const credentials = secretBoxFor(masterKey, secretBoxPurposes.connectorCredentials);
    const sealed = credentials.seal('{"apiKey":"sk_live_x"}', ['mch_1', 'stripe']);
    assert.equal(credentials.open(sealed, ['mch_1', 'stripe']), '{"apiKey":"sk_live_x"}');
    assert.throws(
      () =>
        secretBoxFor(masterKey, secretBoxPurposes.webhookEndpointSecret).open(sealed, [
          'mch_1',
          'stripe',
        ]),
      /does not decrypt/,
    );
  });

  test('associated data binds every part, and parts cannot be regrouped', () => {
    const box = secretBoxFor(masterKey, secretBoxPurposes.connectorCredentials);
    const sealed = box.seal('secret', ['mch_1', 'stripe']);
    assert.ok(!sealed.includes('secret'));
    for (const other of [
      ['mch_2', 'stripe'],
      ['mch_1', 'razorpay'],
      ['mch_1stripe'],
      ['mch_1', 'stripe', ''],
      ['stripe', 'mch_1'],
    ]) {
      assert.throws(
        () => box.open(sealed, other),
        /connectors\.credentials: the sealed secret does not decrypt/,
        other.join('|'),
      );
    }
    assert.throws(
      () =>
        secretBoxFor(crypto.randomBytes(32), secretBoxPurposes.connectorCredentials).open(sealed, [
          'mch_1',
          'stripe',
        ]),
      /does not decrypt/,
    );
  });

  test('refuses a master key of the wrong size and a sealed text of the wrong shape', () => {
    assert.throws(
      () => secretBoxFor(Buffer.alloc(16), secretBoxPurposes.connectorCredentials),
      /connectors\.credentials: the master key must be 32 bytes/,
    );
    assert.throws(
      () =>
        secretBoxFor(masterKey, secretBoxPurposes.connectorCredentials).open('v1.a.b', [
          'mch_1',
          'stripe',
        ]),
      /not in the expected format/,
    );
  });
});
