// Dashboard passwords, kept as scrypt hashes (node:crypto: no native addon, memory-hard, with a
// random salt per password). The stored form names its parameters, so they can be raised later
// and old hashes still verify: `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64url).
import crypto from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(crypto.scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: crypto.ScryptOptions,
) => Promise<Buffer>;

/** OWASP's scrypt floor is N=2^17 with r=8; 2^15 with r=8 and p=1 costs 32 MiB and ~50 ms here. */
const current = { logN: 15, r: 8, p: 1 } as const;
const keyLength = 32;

export const passwordLengthMin = 12;
export const passwordLengthMax = 200;

async function derive(
  password: string,
  salt: Buffer,
  logN: number,
  r: number,
  p: number,
): Promise<Buffer> {
  const N = 2 ** logN;
  return scrypt(password.normalize('NFC'), salt, keyLength, {
    N,
    r,
    p,
    maxmem: 128 * N * r * p + 1024 * 1024,
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const hash = await derive(password, salt, current.logN, current.r, current.p);
  return [
    'scrypt',
    current.logN,
    current.r,
    current.p,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$');
}

/** Compares in constant time; a malformed stored hash never verifies. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [logN, r, p] = parts.slice(1, 4).map(Number);
  if (logN === undefined || r === undefined || p === undefined) return false;
  if (!(logN >= 10 && logN <= 20 && r >= 1 && r <= 32 && p >= 1 && p <= 16)) return false;
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  if (expected.length !== keyLength) return false;
  const actual = await derive(password, Buffer.from(parts[4] ?? '', 'base64url'), logN, r, p);
  return crypto.timingSafeEqual(actual, expected);
}

/** A hash of no one's password: verifying against it costs what a real check costs. */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(crypto.randomBytes(16).toString('hex'));
  return decoy;
}
