// Pure balance arithmetic shared by the writer, the readers and `verify`.
import type { AccountType, Balance, Direction, Layer, LimitRule, Totals } from './types.ts';

export function zeroTotals(): Totals {
  return { postedDebits: 0n, postedCredits: 0n, pendingDebits: 0n, pendingCredits: 0n };
}

export function isDebitNormal(type: AccountType): boolean {
  return type === 'asset' || type === 'expense';
}

/** Adds one entry to running totals, in place. */
export function applyEntry(
  totals: Totals,
  layer: Layer,
  direction: Direction,
  amount: bigint,
): void {
  if (layer === 'posted') {
    if (direction === 'debit') totals.postedDebits += amount;
    else totals.postedCredits += amount;
  } else if (direction === 'debit') totals.pendingDebits += amount;
  else totals.pendingCredits += amount;
}

/** Posted, pending and available as the owner sees them (pending outflows reduce available). */
export function balanceOf(type: AccountType, totals: Readonly<Totals>): Balance {
  if (isDebitNormal(type)) {
    const posted = totals.postedDebits - totals.postedCredits;
    return {
      posted,
      pending: totals.pendingDebits - totals.pendingCredits,
      available: posted - totals.pendingCredits,
    };
  }
  const posted = totals.postedCredits - totals.postedDebits;
  return {
    posted,
    pending: totals.pendingCredits - totals.pendingDebits,
    available: posted - totals.pendingDebits,
  };
}

/** The same rule the database's CHECK constraints enforce. */
export function withinLimit(limit: LimitRule, totals: Readonly<Totals>): boolean {
  if (limit === 'debits_must_not_exceed_credits')
    return totals.postedDebits + totals.pendingDebits <= totals.postedCredits;
  if (limit === 'credits_must_not_exceed_debits')
    return totals.postedCredits + totals.pendingCredits <= totals.postedDebits;
  return true;
}

export function totalsInRange(totals: Readonly<Totals>, maximum: bigint): boolean {
  return [
    totals.postedDebits,
    totals.postedCredits,
    totals.pendingDebits,
    totals.pendingCredits,
  ].every((value) => value >= 0n && value <= maximum);
}
