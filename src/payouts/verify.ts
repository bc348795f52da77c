// What `payrail verify` can check of payouts (architecture §12): every payout's allocations (of
// clearing groups and of balance transactions) add up to its amount; no unit is paid out beyond
// its net, only an available one, and what it says is left to pay out of it (unpaid) is its net
// less what its allocations add up to; each payout's ledger transfers are exactly those its status implies,
// each of the payout's amount; and the in-transit account holds exactly the payouts the bank has
// not paid or given back.
import type { Queryable } from '../storage/database.ts';

export type PayoutProblem = {
  readonly check:
    | 'allocations_sum'
    | 'item_over_allocated'
    | 'group_over_allocated'
    | 'ledger_transfers'
    | 'balance_transactions'
    | 'in_transit_balance';
  /** A payout id, balance transaction id, clearing group or currency. */
  readonly subject: string;
  readonly detail: string;
};

// A unit's allocations against its net and what it says is left (unpaid): beyond the net, of
// the wrong sign, or not what is left; what is no unit has neither allocations nor anything left.
const misallocated = (isUnit: string, net: string, allocated: string, unpaid: string) =>
  `CASE WHEN ${isUnit}
        THEN (${net} >= 0 AND (${allocated} < 0 OR ${allocated} > ${net}))
          OR (${net} < 0 AND (${allocated} > 0 OR ${allocated} < ${net}))
          OR ${net} - coalesce(${unpaid}, 0) <> ${allocated}
        ELSE ${allocated} <> 0 OR ${unpaid} IS NOT NULL END`;

const problemsMax = 100;

/** Every problem found; empty when payouts, allocations, items and ledger agree. */
export async function verifyPayouts(queryable: Queryable): Promise<PayoutProblem[]> {
  const problems: PayoutProblem[] = [];
  const sums = await queryable.query<{ id: string; amount: bigint; allocated: bigint | null }>(
    `SELECT id, amount, allocated FROM (
       SELECT p.id, p.amount,
              ((SELECT coalesce(sum(a.amount), 0) FROM payout_allocations a WHERE a.payout_id = p.id)
               + (SELECT coalesce(sum(ga.amount), 0) FROM payout_group_allocations ga WHERE ga.payout_id = p.id))::bigint
                AS allocated
         FROM payouts p) AS totals
      WHERE amount IS DISTINCT FROM allocated`,
  );
  for (const row of sums.rows)
    problems.push({
      check: 'allocations_sum',
      subject: row.id,
      detail: `allocations add up to ${row.allocated ?? 0}, the payout is ${row.amount}`,
    });

  // A unit: an available balance transaction other than a payout's own (a settlement item of a
  // clearing group is never available on its own: it is paid out with its group).
  const items = await queryable.query<{
    id: string;
    net: bigint;
    allocated: bigint;
    unpaid: bigint | null;
  }>(
    `SELECT bt.id, bt.net, coalesce(a.allocated, 0)::bigint AS allocated, bt.unpaid
       FROM balance_transactions bt
       LEFT JOIN (SELECT balance_transaction_id, sum(amount) AS allocated FROM payout_allocations
                   GROUP BY balance_transaction_id) a ON a.balance_transaction_id = bt.id
      WHERE ${misallocated("bt.availability_id IS NOT NULL AND bt.type <> 'payout'", 'bt.net', 'coalesce(a.allocated, 0)', 'bt.unpaid')}
      LIMIT ${problemsMax}`,
  );
  for (const row of items.rows)
    problems.push({
      check: 'item_over_allocated',
      subject: row.id,
      detail: `payouts took ${row.allocated} of an item whose net is ${row.net}, ${row.unpaid ?? 0} said left (or it is not payable)`,
    });

  const groups = await queryable.query<{
    batch_id: string;
    merchant_id: string;
    available_on: Date;
    net: bigint;
    allocated: bigint;
    unpaid: bigint | null;
  }>(
    `SELECT g.batch_id, g.merchant_id, g.available_on, g.net, coalesce(a.allocated, 0)::bigint AS allocated,
            g.unpaid
       FROM clearing_groups g
       LEFT JOIN (SELECT batch_id, merchant_id, available_on, sum(amount) AS allocated
                    FROM payout_group_allocations GROUP BY batch_id, merchant_id, available_on) a
         ON a.batch_id = g.batch_id AND a.merchant_id = g.merchant_id AND a.available_on = g.available_on
      WHERE ${misallocated('g.availability_id IS NOT NULL', 'g.net', 'coalesce(a.allocated, 0)', 'g.unpaid')}
      LIMIT ${problemsMax}`,
  );
  for (const row of groups.rows)
    problems.push({
      check: 'group_over_allocated',
      subject: `clearing group ${row.batch_id} ${row.merchant_id} ${row.available_on.toISOString().slice(0, 10)}`,
      detail: `payouts took ${row.allocated} of a clearing group whose net is ${row.net}, ${row.unpaid ?? 0} said left (or it is not available)`,
    });

  // Per payout: which of its transfers exist, and with which amounts (the debit leg's).
  const transfers = await queryable.query<{
    id: string;
    status: string;
    amount: bigint;
    found: string[] | null;
    wrong: string[] | null;
  }>(
    `WITH expected AS (
       SELECT p.id, p.status, p.amount, k.kind, k.kind || ':' || p.id AS transaction_id
         FROM payouts p, unnest(ARRAY['payout', 'payout_paid', 'payout_failed', 'payout_cancel', 'payout_returned']) AS k(kind)
     ), posted AS (
       SELECT e.id, e.status, e.amount, e.kind,
              (SELECT sum(le.amount) FROM ledger_entries le
                WHERE le.transaction_id = e.transaction_id AND le.direction = 'debit') AS moved
         FROM expected e
     )
     SELECT id, status, amount,
            array_agg(kind ORDER BY kind) FILTER (WHERE moved IS NOT NULL) AS found,
            array_agg(kind ORDER BY kind) FILTER (WHERE moved IS NOT NULL AND moved <> amount) AS wrong
       FROM posted GROUP BY id, status, amount`,
  );
  const expectedKinds: Record<string, string[][]> = {
    pending: [['payout']],
    in_transit: [['payout']],
    paid: [['payout', 'payout_paid']],
    failed: [
      ['payout', 'payout_failed'],
      ['payout', 'payout_paid', 'payout_returned'],
    ],
    canceled: [['payout', 'payout_cancel']],
  };
  for (const row of transfers.rows) {
    const found = (row.found ?? []).join(',');
    const allowed = (expectedKinds[row.status] ?? []).map((kinds) => [...kinds].sort().join(','));
    if (!allowed.includes(found))
      problems.push({
        check: 'ledger_transfers',
        subject: row.id,
        detail: `a ${row.status} payout has the transfers [${found}]`,
      });
    if ((row.wrong ?? []).length > 0)
      problems.push({
        check: 'ledger_transfers',
        subject: row.id,
        detail: `transfers [${(row.wrong ?? []).join(',')}] do not move the payout's ${row.amount}`,
      });
  }

  // Its own balance transaction, and one per reversal, each of the payout's amount.
  const rows = await queryable.query<{ id: string; detail: string }>(
    `SELECT p.id, 'the balance transaction of ' || t.transaction_id || ' is missing or wrong' AS detail
       FROM payouts p
       JOIN LATERAL (SELECT k || ':' || p.id AS transaction_id, CASE WHEN k = 'payout' THEN -p.amount ELSE p.amount END AS amount,
                            CASE k WHEN 'payout' THEN 'payout' WHEN 'payout_cancel' THEN 'payout_cancel' ELSE 'payout_failure' END AS type
                       FROM unnest(ARRAY['payout', 'payout_failed', 'payout_cancel', 'payout_returned']) AS k
                      WHERE EXISTS (SELECT 1 FROM ledger_transactions lt WHERE lt.id = k || ':' || p.id)) t ON true
      WHERE NOT EXISTS (SELECT 1 FROM balance_transactions bt
                         WHERE bt.ledger_transaction_id = t.transaction_id AND bt.type = t.type
                           AND bt.net = t.amount AND bt.source = p.id AND bt.merchant_id = p.merchant_id
                           AND bt.availability_id = t.transaction_id)`,
  );
  for (const row of rows.rows)
    problems.push({ check: 'balance_transactions', subject: row.id, detail: row.detail });

  const inTransit = await queryable.query<{ currency: string; ledger: bigint; open: bigint }>(
    `SELECT a.currency, a.posted_credits - a.posted_debits AS ledger,
            coalesce((SELECT sum(p.amount) FROM payouts p
                       WHERE p.currency = a.currency AND p.status IN ('pending', 'in_transit')), 0)::bigint AS open
       FROM ledger_accounts a WHERE a.id = 'platform:payouts_in_transit:' || a.currency`,
  );
  for (const row of inTransit.rows)
    if (BigInt(row.ledger) !== BigInt(row.open))
      problems.push({
        check: 'in_transit_balance',
        subject: row.currency,
        detail: `payouts in transit hold ${row.ledger}, open payouts add up to ${row.open}`,
      });
  return problems;
}
