// Identifiers of every object: `prefix_` + random base62, or time-sortable ones for objects that
// are listed newest first. Any module may make ids, so this sits at the floor, importing nothing
// of the project.
import crypto from 'node:crypto';

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

// Random bytes are drawn from the CSPRNG 4 KiB at a time and each is used once: a payment makes
// several ids, and one randomBytes call per id was a measurable share of its CPU.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomByte(): number {
  if (poolOffset === pool.length) {
    crypto.randomFillSync(pool);
    poolOffset = 0;
  }
  return pool[poolOffset++] as number;
}

/** Unbiased base62 from random bytes (rejection sampling). */
export function randomBase62(length: number): string {
  let output = '';
  while (output.length < length) {
    const byte = randomByte();
    if (byte < 248) output += alphabet[byte % 62];
  }
  return output;
}

export function newId(prefix: string, length = 16): string {
  return `${prefix}_${randomBase62(length)}`;
}

// ASCII order, so that ids compare like their creation times.
const sortableAlphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function sortable(value: number, length: number): string {
  let text = '';
  let rest = Math.floor(value);
  for (let index = 0; index < length; index++) {
    text = sortableAlphabet[rest % 62] + text;
    rest = Math.floor(rest / 62);
  }
  return text;
}

const sequenceLimit = 62 ** 4;
let sequence = 0;

/**
 * `prefix_` + 8 characters of milliseconds + 4 of a per-process sequence + 10 random characters:
 * ids sort by creation time, and ids made by one process in the same millisecond (the events of
 * one change, say) sort in the order they were made.
 */
export function newSortableId(prefix: string, now: number = Date.now()): string {
  sequence = (sequence + 1) % sequenceLimit;
  return `${prefix}_${sortable(now, 8)}${sortable(sequence, 4)}${randomBase62(10)}`;
}

// A charge is the view of one payment attempt (issue 13, src/payments/charges.ts): its id is the
// attempt's with Stripe's `ch_` prefix instead of `pa_`, so a charge id maps back to exactly one
// attempt and no second record is kept. Here, at the floor, because presenters and payments
// both derive it.
const attemptPrefix = 'pa_';
const chargePrefix = 'ch_';

export function chargeIdOf(attemptId: string): string {
  if (!attemptId.startsWith(attemptPrefix)) throw new Error(`not an attempt id: ${attemptId}`);
  return chargePrefix + attemptId.slice(attemptPrefix.length);
}

/** The attempt a charge id names, or undefined when it is no charge id at all. */
export function attemptIdOf(chargeId: string): string | undefined {
  if (!chargeId.startsWith(chargePrefix) || chargeId.length === chargePrefix.length)
    return undefined;
  return attemptPrefix + chargeId.slice(chargePrefix.length);
}

/** The charge of an intent's latest attempt (Stripe's `latest_charge`), or null before any. */
export function latestChargeId(attempts: readonly { readonly id: string }[]): string | null {
  const latest = attempts.at(-1);
  return latest === undefined ? null : chargeIdOf(latest.id);
}

// A review holds one attempt (a review rule matched it): its id is the attempt's with Stripe's
// `prv_` prefix, so the charge shows its review without reading it.
const reviewPrefix = 'prv_';

export function reviewIdOf(attemptId: string): string {
  if (!attemptId.startsWith(attemptPrefix)) throw new Error(`not an attempt id: ${attemptId}`);
  return reviewPrefix + attemptId.slice(attemptPrefix.length);
}
