// What `payrail verify` checks of balances (architecture §12): the balance transactions are the
// ledger itemized, never a second truth. Per merchant and currency, the items not yet available
// add up to the merchant's pending account, and the available ones (charges and refunds made
// available, payouts and their reversals, reserve holds and releases) add up to what the merchant
// can draw: the available account net of held reserves, less what the merchant owes (receivable).
// An item is available when it names its transfer or, a settlement item, when its clearing group
// does (migration 025); each clearing group is what it aggregates: the count and net of its
// items. And every item names a ledger transaction that exists, and so does every availability
// transfer named (except one whose items net to zero, which posted nothing).
import { acknowledgedStatusesSql } from '../settlement/tables.ts';
import type { Queryable } from '../storage/database.ts';
import { inClearingGroupSql } from './balance-transactions.ts';

export type BalanceProblem = {
  readonly check:
    'pending_items' | 'available_items' | 'clearing_group_items' | 'item_ledger_transaction';
  /** `<merchant> <currency>`, a balance transaction id or a clearing group. */
  readonly subject: string;
  readonly detail: string;
};

const problemsMax = 100;

// Each item's availability: its own availability_id, or its clearing group's (joined, not looked
// up per item: verify reads every item once).
const sums = `
  WITH items AS (
    SELECT bt.merchant_id, bt.currency,
           coalesce(sum(bt.net) FILTER (WHERE bt.availability_id IS NULL AND g.availability_id IS NULL), 0)::bigint
             AS pending_items,
           coalesce(sum(bt.net) FILTER (WHERE bt.availability_id IS NOT NULL OR g.availability_id IS NOT NULL), 0)::bigint
             AS available_items
      FROM balance_transactions bt
      LEFT JOIN clearing_groups g ON ${inClearingGroupSql('bt', 'g')}
     GROUP BY bt.merchant_id, bt.currency
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

// A clearing group whose count or net is not that of its items (its batch's accepted items for
// its merchant and day, not made available one by one before migration 025), or accepted items
// of an acknowledged batch that no group holds (they would stay pending for ever).
const groupItems = `
  SELECT coalesce(g.batch_id, i.batch_id) AS batch_id, coalesce(g.merchant_id, i.merchant_id) AS merchant_id,
         coalesce(g.available_on, i.available_on) AS available_on, g.item_count, g.net,
         coalesce(i.count, 0)::int AS items, coalesce(i.net, 0)::bigint AS items_net
    FROM clearing_groups g
    FULL JOIN (SELECT bt.batch_id, bt.merchant_id, bt.available_on, count(*) AS count, sum(bt.net) AS net
                 FROM balance_transactions bt JOIN settlement_batches b ON b.id = bt.batch_id
                WHERE bt.clearing_status = 'batched' AND bt.availability_id IS NULL
                  AND b.status IN ${acknowledgedStatusesSql}
                GROUP BY bt.batch_id, bt.merchant_id, bt.available_on) i
      ON i.batch_id = g.batch_id AND i.merchant_id = g.merchant_id AND i.available_on = g.available_on
   WHERE g.item_count IS DISTINCT FROM i.count OR g.net IS DISTINCT FROM i.net
   LIMIT ${problemsMax}`;

// Items whose ledger transaction is missing; an availability id (an item's or a clearing
// group's) with no transaction is allowed only when what it made available nets to zero.
const missing = `
  SELECT b.id, b.ledger_transaction_id AS missing
    FROM balance_transactions b
   WHERE NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.id = b.ledger_transaction_id)
  UNION ALL
  SELECT min(made.subject), made.availability_id
    FROM (SELECT b.id AS subject, b.availability_id, b.net FROM balance_transactions b
           WHERE b.availability_id IS NOT NULL AND b.availability_id <> b.ledger_transaction_id
          UNION ALL
          SELECT 'clearing group ' || g.batch_id || ' ' || g.merchant_id, g.availability_id, g.net
            FROM clearing_groups g WHERE g.availability_id IS NOT NULL) AS made
   WHERE NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.id = made.availability_id)
   GROUP BY made.availability_id
  HAVING sum(made.net) <> 0
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
  const groups = await queryable.query<{
    batch_id: string;
    merchant_id: string;
    available_on: Date;
    item_count: number | null;
    net: bigint | null;
    items: number;
    items_net: bigint;
  }>(groupItems);
  for (const row of groups.rows)
    problems.push({
      check: 'clearing_group_items',
      subject: `clearing group ${row.batch_id} ${row.merchant_id} ${row.available_on.toISOString().slice(0, 10)}`,
      detail:
        row.item_count === null
          ? `${row.items} accepted items netting ${row.items_net} are in no clearing group`
          : `says ${row.item_count} items netting ${row.net}, its items are ${row.items} netting ${row.items_net}`,
    });
  const absent = await queryable.query<{ id: string; missing: string }>(missing);
  for (const row of absent.rows)
    problems.push({
      check: 'item_ledger_transaction',
      subject: row.id,
      detail: `names ledger transaction ${row.missing}, which does not exist`,
    });
  return problems;
}
