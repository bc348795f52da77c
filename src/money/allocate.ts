// Splitting an amount (a fee share, a refund across captures, a payout across accounts) must
// neither lose nor invent a minor unit, or the ledger stops balancing.
import { MoneyError } from './errors.ts';

/**
 * Splits `amount` into parts proportional to `ratios` by the largest-remainder method: every
 * part starts at the floor of its exact share, and the units left over go one each to the
 * largest fractional remainders, the earlier index winning ties. The parts sum to `amount`
 * exactly, each is within one unit of its exact share, and a zero ratio always gets 0.
 * A negative amount is split as its absolute value, then negated, so results mirror.
 */
export function allocate(amount: bigint, ratios: readonly bigint[]): bigint[] {
  const total = assertValidRatios(ratios);
  if (amount < 0n) return allocate(-amount, ratios).map((part) => -part);

  const floors = ratios.map((ratio) => (amount * ratio) / total);
  const remainders = ratios.map((ratio) => (amount * ratio) % total);
  const leftover = amount - floors.reduce((sum, part) => sum + part, 0n);
  // Leftover < number of positive remainders, so zero ratios (remainder 0) never get a unit.
  for (const index of indexesByRemainderDescending(remainders).slice(0, Number(leftover))) {
    floors[index] = (floors[index] ?? 0n) + 1n;
  }
  return floors;
}

/** Splits `amount` into `count` parts differing by at most one unit, larger parts first. */
export function allocateEvenly(amount: bigint, count: number): bigint[] {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new MoneyError('invalid_ratios', `count must be a positive integer, got ${count}`);
  }
  if (amount < 0n) return allocateEvenly(-amount, count).map((part) => -part);
  const base = amount / BigInt(count);
  const extra = Number(amount % BigInt(count));
  return Array.from({ length: count }, (_, index) => (index < extra ? base + 1n : base));
}

function assertValidRatios(ratios: readonly bigint[]): bigint {
  let total = 0n;
  for (const ratio of ratios) {
    if (typeof ratio !== 'bigint' || ratio < 0n) {
      throw new MoneyError('invalid_ratios', 'ratios must be non-negative bigints');
    }
    total += ratio;
  }
  if (total <= 0n) throw new MoneyError('invalid_ratios', 'ratios must have a positive sum');
  return total;
}

function indexesByRemainderDescending(remainders: readonly bigint[]): number[] {
  const indexes = remainders.map((_, index) => index);
  // Array.prototype.sort is stable, so equal remainders keep index order: earlier index first.
  return indexes.sort((left, right) =>
    compareDescending(remainders[left] ?? 0n, remainders[right] ?? 0n),
  );
}

function compareDescending(left: bigint, right: bigint): number {
  if (left === right) return 0;
  return left > right ? -1 : 1;
}
