// Secrets are 256 random bits, shown once; only their SHA-256 is stored. A fast hash is the
// right tool here: with that much entropy there is no dictionary to slow down.
import crypto from 'node:crypto';
import { randomBase62 } from '../ids.ts';

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
