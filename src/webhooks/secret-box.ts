// Endpoint signing secrets at rest. The secret must be readable again (every delivery is signed
// with it), so it is encrypted, not hashed: AES-256-GCM from the vault's primitives, under a key
// derived from the vault master key for this purpose only, with the endpoint id as associated
// data so that a sealed secret copied to another row does not open.
import crypto from 'node:crypto';
import { keyBytes, open, seal } from '../vault/crypto.ts';

/** Encrypts and decrypts short texts; `associatedData` binds the ciphertext to its owner. */
export interface SecretBox {
  seal(plaintext: string, associatedData: string): string;
  /** Throws when the sealed text, key or associated data do not match. */
  open(sealed: string, associatedData: string): string;
}

const format = 'v1';

/** A SecretBox keyed by the vault master key (32 bytes); the master key itself is never the cipher key. */
export function masterKeySecretBox(masterKey: Buffer): SecretBox {
  if (!Buffer.isBuffer(masterKey) || masterKey.length !== keyBytes) throw new Error(`webhooks: the master key must be ${keyBytes} bytes`);
  const key = Buffer.from(crypto.hkdfSync('sha256', masterKey, Buffer.alloc(0), 'payrail.webhooks.endpoint-secret.v1', keyBytes));
  const aad = (associatedData: string) => Buffer.from(JSON.stringify(['payrail.webhooks.endpoint-secret.v1', associatedData]));
  return {
    seal(plaintext, associatedData) {
      const sealed = seal(key, Buffer.from(plaintext, 'utf8'), aad(associatedData));
      return [format, sealed.iv, sealed.authTag, sealed.ciphertext].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
    },
    open(text, associatedData) {
      const [version, iv, authTag, ciphertext, ...rest] = text.split('.');
      if (version !== format || iv === undefined || authTag === undefined || ciphertext === undefined || rest.length > 0) {
        throw new Error('webhooks: the sealed secret is not in the expected format');
      }
      const plaintext = open(key, { iv: Buffer.from(iv, 'base64url'), authTag: Buffer.from(authTag, 'base64url'), ciphertext: Buffer.from(ciphertext, 'base64url') }, aad(associatedData));
      if (plaintext === undefined) throw new Error('webhooks: the signing secret does not decrypt (another master key, or a secret moved to another endpoint)');
      return plaintext.toString('utf8');
    },
  };
}
