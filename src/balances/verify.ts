// What `payrail verify` checks of balances (architecture §12): the balance transactions are the
// ledger itemized, never a second truth. Per merchant and currency, the items not yet available
// add up to the merchant's pending account, and the available ones (charges and refunds made
// available, payouts and their reversals, reserve holds and releases) add up to what the merchant
// can draw: the available account net of held reserves, less what the merchant owes (receivable).
// And every item names a ledger transaction that exists (except a zero-net availability group,
// whose id names the group and posted nothing).
import type { Queryable } from '../storage/database.ts';

export type BalanceProblem = {
  readonly check: 'pending_items' | 'available_items' | 'item_ledger_transaction';
  /** `<merchant> <currency>` or a balance transaction id. */
  readonly subject: string;
  readonly detail: string;
};

const problemsMax = 100;

const sums = `
  WITH items AS (
    SELECT merchant_id, currency,
           coalesce(sum(net) FILTER (WHERE availability_id IS NULL), 0)::bigint AS pending_items,
           coalesce(sum(net) FILTER (WHERE availability_id IS NOT NULL), 0)::bigint AS available_items
      FROM balance_transactions GROUP BY merchant_id, currency
  ), ledger AS (
    SELECT i.merchant_id, i.currency, i.pending_items, i.available_items,
           coalesce(p.posted_credits - p.posted_debits, 0)::bigint AS pending_account,
           coalesce(a.posted_credits - a.posted_debits - a.pending_debits, 0)::bigint AS available_account,
           coalesce(r.posted_debits - r.posted_credits, 0)::bigint AS receivable_account
      FROM items i
      LEFT JOIN ledger_accounts p ON p.id = 'merchant:' || i.merchant_id || ':pending:' || i.currency
      LEFT JOIN ledger_accounts a ON a.id = 'merchant:' || i.merchant_id || ':available:' || i.currency
      LEFT JOIN ledger_accounts r ON r.id = 'merchant:' || i.merchant_id || ':receivable:' || i.currency
  )
  SELECT * FROM ledger
   WHERE pending_items <> pending_account OR available_items <> available_account - receivable_account
   LIMIT ${problemsMax}`;

// Items whose ledger transaction is missing; an availability id with no transaction is allowed
// only for a group whose items net to zero.
const missing = `
  SELECT b.id, b.ledger_transaction_id AS missing
    FROM balance_transactions b
   WHERE NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.id = b.ledger_transaction_id)
  UNION ALL
  SELECT min(b.id), b.availability_id
    FROM balance_transactions b
   WHERE b.availability_id IS NOT NULL AND b.availability_id <> b.ledger_transaction_id
     AND NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.id = b.availability_id)
   GROUP BY b.availability_id
  HAVING sum(b.net) <> 0
   LIMIT ${problemsMax}`;

type SumRow = {
  merchant_id: string;
  currency: string;
  pending_items: bigint;
  available_items: bigint;
  pending_account: bigint;
  available_account: bigint;
  receivable_account: bigint;
};

/** Every problem found (at most 100 of each kind); empty when the items and the ledger agree. */
export async function verifyBalances(queryable: Queryable): Promise<BalanceProblem[]> {
  const problems: BalanceProblem[] = [];
  for (const row of (await queryable.query<SumRow>(sums)).rows) {
    const subject = `${row.merchant_id} ${row.currency}`;
    if (row.pending_items !== row.pending_account)
      problems.push({
        check: 'pending_items',
        subject,
        detail: `items not yet available net ${row.pending_items}, the pending account holds ${row.pending_account}`,
      });
    const drawable = row.available_account - row.receivable_account;
    if (row.available_items !== drawable)
      problems.push({
        check: 'available_items',
        subject,
        detail: `available items net ${row.available_items}, the ledger says ${drawable} (available ${row.available_account} less receivable ${row.receivable_account})`,
      });
  }
  const absent = await queryable.query<{ id: string; missing: string }>(missing);
  for (const row of absent.rows)
    problems.push({
      check: 'item_ledger_transaction',
      subject: row.id,
      detail: `names ledger transaction ${row.missing}, which does not exist`,
    });
  return problems;
}
