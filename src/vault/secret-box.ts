// Short secrets at rest that Payrail must read again (webhook signing secrets, PSP credentials),
// so encrypted rather than hashed: AES-256-GCM from the vault's primitives, under a key derived
// from the vault master key for one purpose only (HKDF info `payrail.<purpose>.v1`), with
// associated data naming the owner, so a sealed value copied to another row or read for another
// purpose does not open.
import crypto from 'node:crypto';
import { keyBytes, open, seal } from './crypto.ts';

/** Encrypts and decrypts short texts; `associatedData` (one string or several) binds the ciphertext to its owner. */
export interface SecretBox {
  seal(plaintext: string, associatedData: AssociatedData): string;
  /** Throws when the sealed text, key, purpose or associated data do not match. */
  open(sealed: string, associatedData: AssociatedData): string;
}

export type AssociatedData = string | readonly string[];

/** Every purpose a master key seals for; each gets its own derived key. */
export const secretBoxPurposes = {
  webhookEndpointSecret: 'webhooks.endpoint-secret',
  connectorCredentials: 'connectors.credentials',
  bankAccountNumber: 'payouts.bank-account-number',
} as const;

export type SecretBoxPurpose = (typeof secretBoxPurposes)[keyof typeof secretBoxPurposes];

const format = 'v1';

/**
 * A key derived from the vault master key (32 bytes) for one purpose only (HKDF-SHA256, info
 * `payrail.<purpose>.v1`): the master key itself never encrypts or hashes anything but data keys.
 */
export function derivedKey(masterKey: Buffer, purpose: string): Buffer {
  if (!Buffer.isBuffer(masterKey) || masterKey.length !== keyBytes)
    throw new Error(`${purpose}: the master key must be ${keyBytes} bytes`);
  return Buffer.from(
    crypto.hkdfSync('sha256', masterKey, Buffer.alloc(0), `payrail.${purpose}.v1`, keyBytes),
  );
}

/** A SecretBox keyed by the vault master key (32 bytes); the master key itself is never the cipher key. */
export function secretBoxFor(masterKey: Buffer, purpose: SecretBoxPurpose): SecretBox {
  const info = `payrail.${purpose}.v1`;
  const key = derivedKey(masterKey, purpose);
  // A single string encodes as [info, string]: the encoding webhook secrets were sealed with.
  const aad = (associatedData: AssociatedData) =>
    Buffer.from(
      JSON.stringify([
        info,
        ...(typeof associatedData === 'string' ? [associatedData] : associatedData),
      ]),
    );
  return {
    seal(plaintext, associatedData) {
      const sealed = seal(key, Buffer.from(plaintext, 'utf8'), aad(associatedData));
      return [format, sealed.iv, sealed.authTag, sealed.ciphertext]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join('.');
    },
    open(text, associatedData) {
      const [version, iv, authTag, ciphertext, ...rest] = text.split('.');
      if (
        version !== format ||
        iv === undefined ||
        authTag === undefined ||
        ciphertext === undefined ||
        rest.length > 0
      ) {
        throw new Error(`${purpose}: the sealed secret is not in the expected format`);
      }
      const plaintext = open(
        key,
        {
          iv: Buffer.from(iv, 'base64url'),
          authTag: Buffer.from(authTag, 'base64url'),
          ciphertext: Buffer.from(ciphertext, 'base64url'),
        },
        aad(associatedData),
      );
      if (plaintext === undefined)
        throw new Error(
          `${purpose}: the sealed secret does not decrypt (another master key, or a secret moved to another owner)`,
        );
      return plaintext.toString('utf8');
    },
  };
}
