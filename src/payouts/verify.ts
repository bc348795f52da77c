// What `payrail verify` can check of payouts (architecture §12): every payout's allocations add up
// to its amount; no balance transaction is paid out beyond its net; each payout's ledger transfers
// are exactly those its status implies, each of the payout's amount; and the in-transit account
// holds exactly the payouts the bank has not paid or given back.
import type { Queryable } from '../storage/database.ts';

export type PayoutProblem = {
  readonly check:
    | 'allocations_sum'
    | 'item_over_allocated'
    | 'ledger_transfers'
    | 'balance_transactions'
    | 'in_transit_balance';
  /** A payout id, balance transaction id or currency. */
  readonly subject: string;
  readonly detail: string;
};

/** Every problem found; empty when payouts, allocations, items and ledger agree. */
export async function verifyPayouts(queryable: Queryable): Promise<PayoutProblem[]> {
  const problems: PayoutProblem[] = [];
  const sums = await queryable.query<{ id: string; amount: bigint; allocated: bigint | null }>(
    `SELECT p.id, p.amount, (SELECT sum(a.amount)::bigint FROM payout_allocations a WHERE a.payout_id = p.id) AS allocated
       FROM payouts p
      WHERE p.amount IS DISTINCT FROM (SELECT sum(a.amount) FROM payout_allocations a WHERE a.payout_id = p.id)`,
  );
  for (const row of sums.rows)
    problems.push({
      check: 'allocations_sum',
      subject: row.id,
      detail: `allocations add up to ${row.allocated ?? 0}, the payout is ${row.amount}`,
    });

  const items = await queryable.query<{ id: string; net: bigint; allocated: bigint }>(
    `SELECT bt.id, bt.net, sum(a.amount)::bigint AS allocated
       FROM payout_allocations a JOIN balance_transactions bt ON bt.id = a.balance_transaction_id
      GROUP BY bt.id, bt.net
     HAVING bt.availability_id IS NULL OR bt.type = 'payout'
         OR (bt.net >= 0 AND (sum(a.amount) < 0 OR sum(a.amount) > bt.net))
         OR (bt.net < 0 AND (sum(a.amount) > 0 OR sum(a.amount) < bt.net))`,
  );
  for (const row of items.rows)
    problems.push({
      check: 'item_over_allocated',
      subject: row.id,
      detail: `payouts took ${row.allocated} of an item whose net is ${row.net} (or it is not payable)`,
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
