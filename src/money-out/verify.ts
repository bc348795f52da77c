// Money out's part of `payrail verify` (architecture §12): the balance transactions add up to the
// merchants' ledger accounts, and the payouts to their allocations, ledger transfers and the
// in-transit account. The ledger's own invariants are verifyLedger's.
import { verifyBalances } from '../balances/verify.ts';
import { verifyPayouts } from '../payouts/verify.ts';
import type { Queryable } from '../storage/database.ts';

export type MoneyOutReport = { readonly ok: boolean; readonly problems: readonly string[] };

export async function verifyMoneyOut(queryable: Queryable): Promise<MoneyOutReport> {
  const problems = [...(await verifyBalances(queryable)), ...(await verifyPayouts(queryable))].map(
    (problem) => `${problem.check} ${problem.subject}: ${problem.detail}`,
  );
  return { ok: problems.length === 0, problems };
}
