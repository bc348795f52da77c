// Expectations from the ledger side (RECON-SPEC.md), set-based and incremental:
//   item:<txn>      every accepted item of an acknowledged batch → its PSP report line, with the
//                   fee the connector's schedule says (rules.ts, computed in SQL)
//   batch:<batch>   a batch whose PSP report has been seen → the bank credit (debit when negative)
//                   of what the report says the PSP pays (Σ net of its lines), so a difference at
//                   a line is reported once, at the line
//   payout:<po>     every payout sent → the bank debit of its amount
// Batches are marked in recon_batch_progress once expected; payouts by an anti-join on the key.
import type { Queryable } from '../../storage/database.ts';
import { acknowledgedStatusesSql } from '../../settlement/tables.ts';
import { expectedFeeSql, feeSchedulesSql, type ReconRules } from '../rules.ts';
import { ackItemExpectations, ackRetriedExpectations } from './acks.ts';
import { plusDaysSql, settlementDaySql } from './dates.ts';

export type ExpectationCounts = {
  readonly items: number;
  readonly batches: number;
  readonly payouts: number;
  /** Payrail's view of items in batches whose acquirer answer was ingested (acks.ts). */
  readonly acks: number;
};

const expectationColumns = `key, kind, connector, currency, amount, expected_fee, our_reference,
  psp_reference, batch_reference, trace_id, due_on, deadline_on, created_at`;

// $1 now, $2 PSP deadline days, $3… fee schedules.
const itemExpectations = (fees: string) => `
  WITH batches AS MATERIALIZED (
    SELECT b.id, b.connector, b.settlement_reference, ${settlementDaySql('b.cutoff_at')} AS day
      FROM settlement_batches b
     WHERE b.status IN ${acknowledgedStatusesSql}
       AND NOT EXISTS (SELECT 1 FROM recon_batch_progress p
                        WHERE p.batch_id = b.id AND p.items_expected_at IS NOT NULL)
  ),
  inserted AS (
    INSERT INTO recon_expectations (${expectationColumns})
    SELECT 'item:' || i.id, 'psp_line', b.connector, i.currency, i.amount,
           ${expectedFeeSql('i.amount', 'f')}, i.id, i.psp_reference, b.settlement_reference,
           NULL, b.day, ${plusDaysSql('b.day', '$2')}, $1::timestamptz
      FROM batches b
      JOIN balance_transactions i ON i.batch_id = b.id AND i.clearing_status = 'batched'
      LEFT JOIN ${fees} f ON f.connector = b.connector
    ON CONFLICT (key) DO NOTHING
    RETURNING 1
  ),
  marked AS (
    INSERT INTO recon_batch_progress (batch_id, items_expected_at)
    SELECT id, $1::timestamptz FROM batches
    ON CONFLICT (batch_id) DO UPDATE SET items_expected_at = excluded.items_expected_at
  )
  SELECT count(*)::int AS count FROM inserted`;

// $1 now, $2 bank deadline days. A batch's report is seen once records name its reference.
const batchExpectations = `
  WITH batches AS MATERIALIZED (
    SELECT b.id, b.connector, b.currency, b.settlement_reference,
           ${settlementDaySql('b.cutoff_at')} AS day
      FROM settlement_batches b
     WHERE b.status IN ${acknowledgedStatusesSql} AND b.settlement_reference IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM recon_batch_progress p
                        WHERE p.batch_id = b.id AND p.credit_expected_at IS NOT NULL)
  ),
  reported AS MATERIALIZED (
    SELECT b.id, b.connector, b.currency, b.settlement_reference, b.day,
           sum(r.amount - coalesce(r.fee, 0))::bigint AS net
      FROM batches b
      JOIN recon_records r ON r.batch_reference = b.settlement_reference
                          AND r.source = 'psp_report' AND r.connector = b.connector
     GROUP BY 1, 2, 3, 4, 5
  ),
  inserted AS (
    INSERT INTO recon_expectations (${expectationColumns})
    SELECT 'batch:' || id, CASE WHEN net < 0 THEN 'bank_debit' ELSE 'bank_credit' END,
           connector, currency, abs(net), NULL, id, NULL, settlement_reference, NULL, day,
           ${plusDaysSql('day', '$2')}, $1::timestamptz
      FROM reported
    ON CONFLICT (key) DO NOTHING
    RETURNING 1
  ),
  marked AS (
    INSERT INTO recon_batch_progress (batch_id, credit_expected_at)
    SELECT id, $1::timestamptz FROM reported
    ON CONFLICT (batch_id) DO UPDATE SET credit_expected_at = excluded.credit_expected_at
  )
  SELECT count(*)::int AS count FROM inserted`;

// $1 now, $2 bank deadline days. Sent: the bank took it (a trace id), whatever happened since.
const payoutExpectations = `
  WITH inserted AS (
    INSERT INTO recon_expectations (${expectationColumns})
    SELECT 'payout:' || p.id, 'bank_debit', NULL, p.currency, p.amount, NULL, p.id, NULL, NULL,
           p.trace_id, to_char((p.arrival_date AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD'),
           ${plusDaysSql(`to_char((p.arrival_date AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD')`, '$2')},
           $1::timestamptz
      FROM payouts p
     WHERE (p.status IN ('in_transit', 'paid') OR (p.status = 'failed' AND p.trace_id IS NOT NULL))
       AND NOT EXISTS (SELECT 1 FROM recon_expectations e WHERE e.key = 'payout:' || p.id)
    ON CONFLICT (key) DO NOTHING
    RETURNING 1
  )
  SELECT count(*)::int AS count FROM inserted`;

export async function buildExpectations(
  tx: Queryable,
  rules: ReconRules,
  now: Date,
): Promise<ExpectationCounts> {
  const fees = feeSchedulesSql(rules, 3);
  const pspDays = rules.sources.psp_report.deadlineDays;
  const bankDays = rules.sources.bank_statement.deadlineDays;
  const items = await tx.query<{ count: number }>(itemExpectations(fees.sql), [
    now,
    pspDays,
    ...fees.parameters,
  ]);
  const batches = await tx.query<{ count: number }>(batchExpectations, [now, bankDays]);
  const payouts = await tx.query<{ count: number }>(payoutExpectations, [now, bankDays]);
  let acks = 0;
  for (const sql of [ackItemExpectations, ackRetriedExpectations])
    acks += (await tx.query<{ count: number }>(sql, [now])).rows[0]?.count ?? 0;
  return {
    items: items.rows[0]?.count ?? 0,
    batches: batches.rows[0]?.count ?? 0,
    payouts: payouts.rows[0]?.count ?? 0,
    acks,
  };
}
