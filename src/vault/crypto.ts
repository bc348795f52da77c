// Envelope encryption primitives for the vault (architecture §1 rule 8).
//
//   master key (32 bytes, from PAYRAIL_VAULT_MASTER_KEY or the development key file)
//     ├─ HKDF "wrap"        → wrapping key: AES-256-GCM over each 32-byte data key (AAD: data key id)
//     ├─ HKDF "fingerprint" → HMAC-SHA256 key for card fingerprints
//     └─ HKDF "key id"      → a public 8-byte id, stored with each data key, so that a wrong master
//                              key is reported as such instead of as "corrupt data"
//   data key (32 random bytes) → AES-256-GCM over the card payload (AAD: merchant, payment method
//                                and data key ids, so a ciphertext moved to another row fails)
//
// The master key itself is never used as a cipher key: each use gets its own derived key.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const keyBytes = 32;
export const ivBytes = 12;
export const authTagBytes = 16;

export type Sealed = { readonly ciphertext: Buffer; readonly iv: Buffer; readonly authTag: Buffer };

/** AES-256-GCM with a fresh random 96-bit IV. */
export function seal(key: Buffer, plaintext: Buffer, associatedData: Buffer): Sealed {
  assertKey(key);
  const iv = crypto.randomBytes(ivBytes);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv, { authTagLength: authTagBytes });
  cipher.setAAD(associatedData);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, iv, authTag: cipher.getAuthTag() };
}

/** Decrypts and authenticates; returns undefined when the key, data or associated data do not match. */
export function open(key: Buffer, sealed: Sealed, associatedData: Buffer): Buffer | undefined {
  assertKey(key);
  if (sealed.iv.length !== ivBytes || sealed.authTag.length !== authTagBytes) return undefined;
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, sealed.iv, {
    authTagLength: authTagBytes,
  });
  decipher.setAAD(associatedData);
  decipher.setAuthTag(sealed.authTag);
  try {
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    return undefined;
  }
}

function assertKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== keyBytes)
    throw new Error(`vault: a key must be ${keyBytes} bytes`);
}

function derive(masterKey: Buffer, purpose: string, length = keyBytes): Buffer {
  assertKey(masterKey);
  return Buffer.from(
    crypto.hkdfSync('sha256', masterKey, Buffer.alloc(0), `payrail.vault.${purpose}.v1`, length),
  );
}

/** The keys derived from one master key; build once per process. */
export type MasterKeys = {
  readonly wrappingKey: Buffer;
  readonly fingerprintKey: Buffer;
  /** 16 hex characters; safe to store and to print. */
  readonly masterKeyId: string;
};

export function deriveMasterKeys(masterKey: Buffer): MasterKeys {
  return {
    wrappingKey: derive(masterKey, 'wrap'),
    fingerprintKey: derive(masterKey, 'fingerprint'),
    masterKeyId: derive(masterKey, 'key-id', 8).toString('hex'),
  };
}

const dataKeyAad = (dataKeyId: string): Buffer =>
  Buffer.from(JSON.stringify(['payrail.vault.data-key.v1', dataKeyId]));

export function wrapDataKey(wrappingKey: Buffer, dataKeyId: string, dataKey: Buffer): Sealed {
  assertKey(dataKey);
  return seal(wrappingKey, dataKey, dataKeyAad(dataKeyId));
}

export function unwrapDataKey(
  wrappingKey: Buffer,
  dataKeyId: string,
  wrapped: Sealed,
): Buffer | undefined {
  const dataKey = open(wrappingKey, wrapped, dataKeyAad(dataKeyId));
  return dataKey?.length === keyBytes ? dataKey : undefined;
}

/** Binds a card ciphertext to its row: moving it to another id, merchant or data key breaks the tag. */
export function cardAad(merchantId: string, paymentMethodId: string, dataKeyId: string): Buffer {
  return Buffer.from(
    JSON.stringify(['payrail.vault.card.v1', merchantId, paymentMethodId, dataKeyId]),
  );
}

/**
 * Recognizes the same card number without decrypting. Keyed (a plain hash of a card number is
 * brute-forced in minutes: the space is a known 6–8 digit prefix plus about 10^9 candidates) and
 * scoped per merchant, like Stripe's per-account fingerprints, so that merchants cannot correlate
 * their customers' cards with each other's. 96 bits, base64url: 16 characters.
 */
export function cardFingerprint(
  fingerprintKey: Buffer,
  merchantId: string,
  number: string,
): string {
  const mac = crypto
    .createHmac('sha256', fingerprintKey)
    .update(JSON.stringify([merchantId, number]))
    .digest();
  return mac.subarray(0, 12).toString('base64url');
}

export const developmentMasterKeyFile = 'vault-master.key';

export type DevelopmentMasterKey = {
  readonly key: Buffer;
  /** The key file, or undefined for 'memory://' (an in-memory database gets a throw-away key). */
  readonly path: string | undefined;
  /** True when this call generated the key (the caller prints a warning: development only). */
  readonly created: boolean;
};

/**
 * For development without PAYRAIL_VAULT_MASTER_KEY: the key lives in `<dataDirectory>/vault-master.key`
 * (32 raw bytes, mode 0600), generated on first use and reused afterwards. Creation is atomic: the
 * key is written and synced to a temporary file opened with 'wx', then hard-linked into place, so
 * a crash never leaves a short key file and two processes starting at once agree on one key.
 * Logs nothing; the caller decides what to print.
 */
export function loadOrCreateDevelopmentMasterKey(dataDirectory: string): DevelopmentMasterKey {
  if (dataDirectory === 'memory://')
    return { key: crypto.randomBytes(keyBytes), path: undefined, created: true };
  fs.mkdirSync(dataDirectory, { recursive: true, mode: 0o700 });
  const file = path.join(dataDirectory, developmentMasterKeyFile);
  if (fs.existsSync(file)) return { key: readKeyFile(file), path: file, created: false };
  const temporary = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
  const key = crypto.randomBytes(keyBytes);
  const descriptor = fs.openSync(temporary, 'wx', 0o600);
  try {
    fs.fchmodSync(descriptor, 0o600); // the umask may only have narrowed it, but be exact
    fs.writeSync(descriptor, key);
    fs.fsyncSync(descriptor);
  } finally {
    fs.closeSync(descriptor);
  }
  try {
    fs.linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { key: readKeyFile(file), path: file, created: false }; // another process won the race
  } finally {
    fs.rmSync(temporary, { force: true });
  }
  return { key, path: file, created: true };
}

function readKeyFile(file: string): Buffer {
  const stat = fs.statSync(file);
  if (!stat.isFile()) throw new Error(`vault: ${file} is not a regular file`);
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new Error(
      `vault: ${file} is readable by other users (mode ${(stat.mode & 0o777).toString(8)}); run chmod 600 on it`,
    );
  }
  const key = fs.readFileSync(file);
  if (key.length !== keyBytes)
    throw new Error(`vault: ${file} must hold exactly ${keyBytes} bytes, found ${key.length}`);
  return key;
}

export type MasterKeySource = {
  readonly vaultMasterKey: Buffer | undefined;
  readonly dataDirectory: string;
};

/**
 * The master key a process should use: the configured one, else the development key file
 * (`source: 'file'`, or `'ephemeral'` for an in-memory database). With a shared PostgreSQL
 * (DATABASE_URL) every process must use the same key: configure PAYRAIL_VAULT_MASTER_KEY there;
 * a process with another key is refused with a clear error when it touches card data.
 */
export function resolveMasterKey(config: MasterKeySource): {
  key: Buffer;
  source: 'config' | 'file' | 'ephemeral';
  path?: string;
  created: boolean;
} {
  if (config.vaultMasterKey !== undefined)
    return { key: config.vaultMasterKey, source: 'config', created: false };
  const development = loadOrCreateDevelopmentMasterKey(config.dataDirectory);
  if (development.path === undefined)
    return { key: development.key, source: 'ephemeral', created: true };
  return {
    key: development.key,
    source: 'file',
    path: development.path,
    created: development.created,
  };
}
