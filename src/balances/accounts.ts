// The ledger accounts of a merchant's balance in one currency, and their locked balances.
import { balanceOf, type AccountSpec, type AccountType, type Totals } from '../ledger/index.ts';
import { accountIds, merchantMoneyOutAccounts, paymentAccounts } from '../accounts/index.ts';
import { textArrayLiteral } from '../storage/arrays.ts';
import type { Queryable } from '../storage/database.ts';

export type BalanceAccountIds = {
  readonly pending: string;
  readonly available: string;
  readonly receivable: string;
  readonly reserve: string;
};

export function balanceAccountIds(merchantId: string, currency: string): BalanceAccountIds {
  return {
    pending: accountIds.merchantPending(merchantId, currency),
    available: accountIds.merchantAvailable(merchantId, currency),
    receivable: accountIds.merchantReceivable(merchantId, currency),
    reserve: accountIds.merchantReserve(merchantId, currency),
  };
}

/**
 * The specs of the merchant's own accounts (pending and available as payments makes them, with
 * available's debit limit; receivable and reserve of money out) plus the platform's money-out
 * accounts: created idempotently before the first availability of a currency.
 */
export function balanceAccountSpecs(merchantId: string, currency: string): AccountSpec[] {
  const merchantsOwn = paymentAccounts(merchantId, 'none', currency).filter(
    (spec) => spec.owner === merchantId,
  );
  return [...merchantsOwn, ...merchantMoneyOutAccounts(merchantId, currency)];
}

/** What the availability step needs to know of the merchant's accounts, under lock. */
export type LockedBalances = {
  /** What available can still give (posted credits − posted debits − held debits). */
  readonly available: bigint;
  /** What the merchant owes the platform after negative days. */
  readonly receivable: bigint;
};

type TotalsRow = {
  id: string;
  type: AccountType;
  posted_debits: bigint;
  posted_credits: bigint;
  pending_debits: bigint;
  pending_credits: bigint;
};

/** The key of a merchant's balance in one currency. */
export function balanceKey(merchantId: string, currency: string): string {
  return `${merchantId}\u0000${currency}`;
}

/**
 * Locks the balance accounts of these merchants' currencies in id order (the ledger's own order,
 * so the transfers that follow in the same transaction take no new lock and cannot deadlock
 * against another writer) and reads available and receivable, by balanceKey.
 */
export async function lockBalances(
  tx: Queryable,
  balances: readonly { readonly merchantId: string; readonly currency: string }[],
): Promise<Map<string, LockedBalances>> {
  const ids = new Map<string, BalanceAccountIds>();
  for (const { merchantId, currency } of balances)
    ids.set(balanceKey(merchantId, currency), balanceAccountIds(merchantId, currency));
  const sorted = [...ids.values()]
    .flatMap((of) => [of.available, of.pending, of.receivable, of.reserve])
    .sort();
  const result = await tx.query<TotalsRow>(
    `SELECT id, type, posted_debits, posted_credits, pending_debits, pending_credits
       FROM ledger_accounts WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
    [textArrayLiteral(sorted)],
  );
  const read = new Map(
    result.rows.map((row) => [row.id, balanceOf(row.type, totalsOf(row))] as const),
  );
  const locked = new Map<string, LockedBalances>();
  for (const [key, of] of ids)
    locked.set(key, {
      available: read.get(of.available)?.available ?? 0n,
      receivable: read.get(of.receivable)?.posted ?? 0n,
    });
  return locked;
}

export function totalsOf(row: {
  posted_debits: bigint;
  posted_credits: bigint;
  pending_debits: bigint;
  pending_credits: bigint;
}): Totals {
  return {
    postedDebits: row.posted_debits,
    postedCredits: row.posted_credits,
    pendingDebits: row.pending_debits,
    pendingCredits: row.pending_credits,
  };
}
