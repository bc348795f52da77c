// Secrets are 256 random bits, shown once; only their SHA-256 is stored. A fast hash is the
// right tool here: with that much entropy there is no dictionary to slow down.
import crypto from 'node:crypto';

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Unbiased base62 from random bytes (rejection sampling). */
export function randomBase62(length: number): string {
  let output = '';
  while (output.length < length) {
    for (const byte of crypto.randomBytes(length * 2)) {
      if (byte < 248 && output.length < length) output += alphabet[byte % 62];
    }
  }
  return output;
}

export function newId(prefix: string, length = 16): string {
  return `${prefix}_${randomBase62(length)}`;
}

export function newSecret(prefix: string): string {
  return `${prefix}${randomBase62(43)}`;
}

export function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

/** How a key is shown after creation: its prefix and last four characters. */
export function secretHint(secret: string): string {
  const prefixEnd = secret.lastIndexOf('_') + 1;
  return `${secret.slice(0, prefixEnd)}…${secret.slice(-4)}`;
}

// ASCII order, so that ids compare like their creation times.
const sortableAlphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `prefix_` + 8 characters of milliseconds (sorts by time) + 14 random characters. */
export function newSortableId(prefix: string, now: number = Date.now()): string {
  let time = '';
  let rest = Math.floor(now);
  for (let index = 0; index < 8; index++) {
    time = sortableAlphabet[rest % 62] + time;
    rest = Math.floor(rest / 62);
  }
  return `${prefix}_${time}${randomBase62(14)}`;
}
