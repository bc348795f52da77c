// Netting of one availability group (architecture §12), pure: given a group's net and the
// merchant's locked balances, the legs of its one ledger transfer and the reserve to hold.
//
//   net > 0   pending → receivable (what the merchant owes, recovered first) and → available
//   net < 0   available (what it can give) and receivable (the shortfall) → pending:
//             a negative day never overdraws available (its debit limit would refuse it anyway);
//             the merchant's negative position is an asset the platform recovers from later days
//   reserve   of a positive net, percent_bps (half up), never more than available will hold
import type { Leg } from '../ledger/index.ts';
import { percentageOf } from '../money/index.ts';
import type { BalanceAccountIds, LockedBalances } from './accounts.ts';

export type GroupNetting = {
  /** The legs of the availability transfer; empty for a zero net. */
  readonly legs: Leg[];
  /** Owed before, recovered now (net > 0). */
  readonly recovered: bigint;
  /** Put on the receivable (net < 0). */
  readonly shortfall: bigint;
  /** The rolling reserve to hold on available (0 when none). */
  readonly reserve: bigint;
  /** The balances after the transfer and the hold (the next group of the merchant starts there). */
  readonly after: LockedBalances;
};

function leg(
  accountId: string,
  direction: Leg['direction'],
  amount: bigint,
  currency: string,
): Leg {
  return { accountId, direction, amount, currency };
}

const minimum = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const atLeastZero = (a: bigint): bigint => (a < 0n ? 0n : a);

export function netGroup(
  net: bigint,
  currency: string,
  accounts: BalanceAccountIds,
  balances: LockedBalances,
  reservePercentBps: bigint,
): GroupNetting {
  if (net === 0n) return { legs: [], recovered: 0n, shortfall: 0n, reserve: 0n, after: balances };
  const legs: Leg[] = [];
  if (net < 0n) {
    const owed = -net;
    const fromAvailable = minimum(atLeastZero(balances.available), owed);
    const shortfall = owed - fromAvailable;
    if (fromAvailable > 0n) legs.push(leg(accounts.available, 'debit', fromAvailable, currency));
    if (shortfall > 0n) legs.push(leg(accounts.receivable, 'debit', shortfall, currency));
    legs.push(leg(accounts.pending, 'credit', owed, currency));
    const after = {
      available: balances.available - fromAvailable,
      receivable: balances.receivable + shortfall,
    };
    return { legs, recovered: 0n, shortfall, reserve: 0n, after };
  }
  const recovered = minimum(atLeastZero(balances.receivable), net);
  const toAvailable = net - recovered;
  legs.push(leg(accounts.pending, 'debit', net, currency));
  if (recovered > 0n) legs.push(leg(accounts.receivable, 'credit', recovered, currency));
  if (toAvailable > 0n) legs.push(leg(accounts.available, 'credit', toAvailable, currency));
  const wanted = reservePercentBps > 0n ? percentageOf(net, reservePercentBps) : 0n;
  const reserve = minimum(wanted, atLeastZero(balances.available + toAvailable));
  const after = {
    available: balances.available + toAvailable - reserve,
    receivable: balances.receivable - recovered,
  };
  return { legs, recovered, shortfall: 0n, reserve, after };
}
