// Random, prefixed ids (pi_…, pay_…, txn_…). Bytes come from a crypto-random pool refilled in
// blocks, so an id costs well under a microsecond on the payment hot path.
import { randomFillSync } from 'node:crypto';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const DIGITS = '0123456789';
const pool = Buffer.alloc(8192);
let poolOffset = pool.length;

function randomString(alphabet: string, length: number): string {
  if (poolOffset + length > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  let text = '';
  for (let index = 0; index < length; index += 1) {
    // A byte modulo 62 is slightly biased; irrelevant for ids that only need to be unique.
    text += alphabet.charAt(pool.readUInt8(poolOffset + index) % alphabet.length);
  }
  poolOffset += length;
  return text;
}

/** prefix + 24 alphanumerics (about 143 bits): collisions are out of the question. */
export function randomId(prefix: string, length = 24): string {
  return prefix + randomString(ALPHANUMERIC, length);
}

export function randomDigits(length: number): string {
  return randomString(DIGITS, length);
}
