// Payout allocation (architecture §12.4): which payout units a payout takes, FIFO, and what is
// left of each. A unit is an available clearing group or an available balance transaction other
// than a payout (migration 028); `?payout=` lists what the allocations name.
import { integerArrayLiteral, textArrayLiteral } from '../storage/arrays.ts';
import type { Queryable } from '../storage/database.ts';

/**
 * The payout units of a merchant and currency (SQL expressions) not yet fully paid out, each with
 * its FIFO keys and what remains of it (`unpaid`, set when it became available): available
 * clearing groups and available balance transactions other than payouts, through the partial
 * indexes that hold only unpaid units (migration 028).
 */
export function unpaidUnitsSql(merchant: string, currency: string): string {
  return `
       SELECT true AS grouped, g.batch_id AS key, g.available_on, g.created_at, g.unpaid AS remaining
         FROM clearing_groups g
        WHERE g.merchant_id = ${merchant} AND g.currency = ${currency} AND g.unpaid IS NOT NULL
       UNION ALL
       SELECT false, bt.id, bt.available_on, bt.created_at, bt.unpaid
         FROM balance_transactions bt
        WHERE bt.merchant_id = ${merchant} AND bt.currency = ${currency} AND bt.unpaid IS NOT NULL`;
}

// Allocation in one statement of many payouts, each of another merchant or currency ($1 payout
// ids, $2 merchants, $3 currencies, $4 amounts); see allocate.
const allocateSql = `
  WITH wanted AS MATERIALIZED (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
      AS w (payout_id, merchant_id, currency, amount)
  ), units AS MATERIALIZED (
    SELECT w.payout_id, w.merchant_id, w.amount AS payout_amount, u.*
      FROM wanted w CROSS JOIN LATERAL (${unpaidUnitsSql('w.merchant_id', 'w.currency')}) AS u
  ), running AS MATERIALIZED (
    SELECT payout_id, merchant_id, payout_amount, grouped, key, available_on, remaining,
           sum(remaining) OVER w AS cumulative, row_number() OVER w AS position
      FROM units
    WINDOW w AS (PARTITION BY payout_id ORDER BY remaining > 0, available_on, created_at, key
                 ROWS UNBOUNDED PRECEDING)
  ), cut AS MATERIALIZED (
    SELECT payout_id, min(position) AS last FROM running WHERE cumulative >= payout_amount
     GROUP BY payout_id
  ), taken AS MATERIALIZED (
    SELECT r.payout_id, r.merchant_id, r.grouped, r.key, r.available_on,
           CASE WHEN r.position = cut.last THEN r.payout_amount - (r.cumulative - r.remaining)
                ELSE r.remaining END AS amount
      FROM running r JOIN cut ON cut.payout_id = r.payout_id
     WHERE r.position <= cut.last
  ), of_items AS (
    INSERT INTO payout_allocations (payout_id, balance_transaction_id, amount)
    SELECT payout_id, key, amount FROM taken WHERE NOT grouped
    RETURNING payout_id, amount
  ), of_groups AS (
    INSERT INTO payout_group_allocations (payout_id, batch_id, merchant_id, available_on, amount)
    SELECT payout_id, key, merchant_id, available_on, amount FROM taken WHERE grouped
    RETURNING payout_id, amount
  ), items_paid AS (
    UPDATE balance_transactions bt SET unpaid = nullif(bt.unpaid - taken.amount, 0)
      FROM taken WHERE NOT taken.grouped AND bt.id = taken.key
  ), groups_paid AS (
    UPDATE clearing_groups g SET unpaid = nullif(g.unpaid - taken.amount, 0)
      FROM taken
     WHERE taken.grouped AND g.batch_id = taken.key AND g.merchant_id = taken.merchant_id
       AND g.available_on = taken.available_on
  )
  SELECT payout_id, sum(amount)::bigint AS total
    FROM (SELECT payout_id, amount FROM of_items UNION ALL SELECT payout_id, amount FROM of_groups) AS made
   GROUP BY payout_id`;

export type Allocation = {
  readonly payoutId: string;
  readonly merchantId: string;
  readonly currency: string;
  readonly amount: bigint;
};

/**
 * Allocates each payout's amount over its merchant's payout units not yet fully paid out, in one
 * statement for any number of payouts (each of another merchant or currency: a unit is taken by
 * one payout of the statement at most). A
 * unit is an available clearing group (the accepted settlement items of one batch, merchant and
 * day, made available together; migration 025) or an available balance transaction that is no
 * settlement item of a group (a payout's failure or cancel, a reserve hold or release, an item made
 * available one by one before migration 025); payouts' own rows are not units. Each unit keeps
 * what payouts have not yet taken of it (`unpaid`, NULL once paid in full), and a partial index
 * holds only those not fully paid, so a payout reads a few rows whatever the merchant's history. First every unpaid negative unit
 * (refunds over captures on a day, reserve holds), then the positive ones FIFO in (available_on,
 * created_at, key) order; every unit up to the first at which the running sum reaches the amount
 * is paid in full, that one (a positive unit) in part (the rest goes with the next payout).
 * Negatives first, because a negative unit taken "as it came" after the cut would be left out of
 * a payout of the whole balance: it would belong to no payout, and a positive unit's part that it
 * cancels would stay unpaid forever (`?payout=` must list everything a payout contains). The
 * allocations add up to the amount exactly, or the payout is not made.
 */
export async function allocate(tx: Queryable, payouts: readonly Allocation[]): Promise<void> {
  if (payouts.length === 0) return;
  // Fresh allocations make the planner's estimates stale at once (a bulk run of payouts), and a
  // high estimate switches JIT compilation on: ~130 ms to compile a statement that runs in 3.
  await tx.query('SET LOCAL jit = off');
  const result = await tx.query<{ payout_id: string; total: bigint }>(allocateSql, [
    textArrayLiteral(payouts.map((payout) => payout.payoutId)),
    textArrayLiteral(payouts.map((payout) => payout.merchantId)),
    textArrayLiteral(payouts.map((payout) => payout.currency)),
    integerArrayLiteral(payouts.map((payout) => payout.amount)),
  ]);
  const totals = new Map(result.rows.map((row) => [row.payout_id, BigInt(row.total)]));
  for (const payout of payouts) {
    const total = totals.get(payout.payoutId) ?? 0n;
    if (total !== payout.amount)
      throw new Error(
        `payout ${payout.payoutId}: the available payout units of ${payout.merchantId} in ${payout.currency} add up to ${total}, not the payout's ${payout.amount} (the itemization disagrees with the ledger)`,
      );
  }
}
