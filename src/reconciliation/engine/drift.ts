// Balance drift (issue 12 part 4), per connector and currency and per bank currency:
//   PSP receivable in the ledger  vs  what the PSP still owes by its reports: the net of the
//     lines of every ingested report, plus the gross of items no ingested report covers yet,
//     minus the settlement movements the bank booked (and the ledger posted)
//   bank account in the ledger    vs  the latest statement closing balance (CLBD) on or before
//     the run's as_of, less the balance before the first statement the pipeline read, plus the
//     movements booked after it that the ledger already posted
// A line-level difference the pipeline left in the ledger (a missing line's gross, an unexpected
// line's net, an amount off by one…) explains its part of the drift while its exception is open;
// what no open exception explains is a `balance_drift` exception of its own.
import type { Queryable } from '../../storage/database.ts';
import { acknowledgedStatusesSql } from '../../settlement/tables.ts';

export type Drift = {
  readonly account: string;
  readonly connector: string | null;
  readonly currency: string;
  readonly ledger: bigint;
  readonly reported: bigint;
  readonly explained: bigint;
  readonly unexplained: bigint;
};

const ingested = `SELECT id, connector, currency, settlement_reference FROM settlement_batches
                   WHERE psp_fee IS NOT NULL AND status IN ${acknowledgedStatusesSql}`;

const receivableDrift = `
  WITH ingested AS MATERIALIZED (${ingested}),
  unreported AS (
    SELECT i.connector, i.currency, sum(i.amount) AS amount FROM balance_transactions i
     WHERE i.type IN ('charge', 'refund')
       AND NOT (i.clearing_status = 'batched' AND i.batch_id IN (SELECT id FROM ingested))
     GROUP BY 1, 2),
  lines AS (
    SELECT b.connector, b.currency, sum(l.net) AS amount
      FROM ingested b JOIN settlement_report_lines l ON l.batch_id = b.id GROUP BY 1, 2),
  banked AS (
    SELECT b.connector, b.currency,
           sum(CASE WHEN s.direction = 'credit' THEN s.amount ELSE -s.amount END) AS amount
      FROM bank_statement_entries s JOIN settlement_batches b ON b.id = s.matched_id
     WHERE s.kind IN ('settlement_credit', 'settlement_debit')
       AND s.ledger_transaction_id IS NOT NULL GROUP BY 1, 2),
  effects AS (
    SELECT e.connector, e.currency,
           CASE x.reason WHEN 'missing' THEN e.amount
                         WHEN 'amount_mismatch' THEN -x.amount
                         ELSE e.amount - (r.amount - coalesce(r.fee, 0)) END AS amount
      FROM recon_exceptions x
      JOIN recon_expectations e ON e.key = x.expectation_key
      JOIN ingested b ON b.connector = e.connector AND b.settlement_reference = e.batch_reference
      LEFT JOIN recon_records r ON r.source = x.record_source AND r.row_key = x.record_key
     WHERE x.status = 'open' AND e.kind = 'psp_line'
       AND (x.reason IN ('missing', 'amount_mismatch')
            OR (x.reason = 'late' AND r.batch_reference IS DISTINCT FROM e.batch_reference))
    UNION ALL
    SELECT r.connector, r.currency, -(r.amount - coalesce(r.fee, 0))
      FROM recon_exceptions x
      JOIN recon_records r ON r.source = x.record_source AND r.row_key = x.record_key
      JOIN ingested b ON b.connector = r.connector AND b.settlement_reference = r.batch_reference
     WHERE x.status = 'open' AND x.reason IN ('unexpected', 'duplicate')
       AND x.source = 'psp_report'),
  explained AS (SELECT connector, currency, sum(amount) AS amount FROM effects GROUP BY 1, 2),
  pairs AS (SELECT connector, currency FROM unreported UNION SELECT connector, currency FROM lines)
  SELECT p.connector, p.currency, 'psp:' || p.connector || ':receivable:' || p.currency AS account,
         coalesce(a.posted_debits - a.posted_credits, 0)::bigint AS ledger,
         (coalesce(u.amount, 0) + coalesce(l.amount, 0) - coalesce(k.amount, 0))::bigint AS reported,
         coalesce(x.amount, 0)::bigint AS explained
    FROM pairs p
    LEFT JOIN ledger_accounts a ON a.id = 'psp:' || p.connector || ':receivable:' || p.currency
    LEFT JOIN unreported u ON u.connector = p.connector AND u.currency = p.currency
    LEFT JOIN lines l ON l.connector = p.connector AND l.currency = p.currency
    LEFT JOIN banked k ON k.connector = p.connector AND k.currency = p.currency
    LEFT JOIN explained x ON x.connector = p.connector AND x.currency = p.currency
   ORDER BY 1, 2`;

// $1 as_of. Only days the pipeline read count (its entries are what moves the ledger's bank
// account): per currency the latest closing balance on or before as_of, and the baseline, the
// balance before the first day read (its closing balance less its entries: what the bank held
// before Payrail saw anything). The ledger holds now what the bank held at the closing, less the
// baseline, plus what it posted for entries booked after the closing; an entry it never posted
// (kind 'unmatched') explains its amount while a line-level exception on it is open.
const bankDrift = `
  WITH read AS MATERIALIZED (
    SELECT b.currency, b.booking_date, b.closing_balance FROM recon_statement_balances b
      JOIN bank_statement_days d ON d.booking_date = b.booking_date),
  closing AS (
    SELECT DISTINCT ON (currency) currency, booking_date, closing_balance FROM read
     WHERE booking_date <= $1::text ORDER BY currency, booking_date DESC),
  first AS (
    SELECT DISTINCT ON (currency) currency, booking_date, closing_balance FROM read
     ORDER BY currency, booking_date),
  signed AS (
    SELECT s.currency, s.booking_date, s.kind,
           CASE WHEN s.direction = 'credit' THEN s.amount ELSE -s.amount END AS amount
      FROM bank_statement_entries s),
  baseline AS (
    SELECT f.currency, f.closing_balance - coalesce(sum(s.amount), 0) AS amount
      FROM first f LEFT JOIN signed s ON s.currency = f.currency AND s.booking_date = f.booking_date
     GROUP BY f.currency, f.closing_balance),
  after AS (
    SELECT s.currency, sum(s.amount) AS amount FROM signed s JOIN closing c USING (currency)
     WHERE s.booking_date > c.booking_date AND s.kind <> 'unmatched' GROUP BY 1),
  explaining AS (
    SELECT r.currency, r.row_key, r.kind, r.amount,
           CASE WHEN r.kind = 'debit' THEN 'debit' ELSE 'credit' END AS direction
      FROM recon_records r
      JOIN closing c ON c.currency = r.currency
      JOIN first f ON f.currency = r.currency
     WHERE r.source = 'bank_statement'
       AND r.value_date >= f.booking_date AND r.value_date <= c.booking_date
       AND EXISTS (SELECT 1 FROM recon_exceptions x
                    WHERE x.record_source = 'bank_statement' AND x.record_key = r.row_key
                      AND x.status = 'open')),
  unposted AS (
    SELECT e.currency, sum(CASE WHEN e.direction = 'debit' THEN -e.amount ELSE e.amount END)
             AS amount
      FROM explaining e
     WHERE NOT EXISTS (
       SELECT 1 FROM bank_statement_entries s
        WHERE s.entry_reference = left(e.row_key, length(e.row_key) - length(e.direction) - 1)
          AND s.direction = e.direction AND s.kind <> 'unmatched')
     GROUP BY 1)
  SELECT NULL::text AS connector, c.currency, 'bank:' || c.currency AS account,
         coalesce(a.posted_debits - a.posted_credits, 0)::bigint AS ledger,
         (c.closing_balance - coalesce(b.amount, 0) + coalesce(f.amount, 0))::bigint AS reported,
         (-coalesce(u.amount, 0))::bigint AS explained
    FROM closing c
    LEFT JOIN ledger_accounts a ON a.id = 'bank:' || c.currency
    LEFT JOIN baseline b ON b.currency = c.currency
    LEFT JOIN after f ON f.currency = c.currency
    LEFT JOIN unposted u ON u.currency = c.currency
   ORDER BY c.currency`;

type DriftRow = {
  connector: string | null;
  currency: string;
  account: string;
  ledger: bigint;
  reported: bigint;
  explained: bigint;
};

export async function measureDrift(tx: Queryable, asOf: string): Promise<Drift[]> {
  const receivables = await tx.query<DriftRow>(receivableDrift);
  const banks = await tx.query<DriftRow>(bankDrift, [asOf]);
  return [...receivables.rows, ...banks.rows].map((row) => ({
    ...row,
    unexplained: row.ledger - row.reported - row.explained,
  }));
}

/** A `balance_drift` exception for each drift no open exception explains; $1 run, $2 now. */
export async function raiseDrift(
  tx: Queryable,
  drifts: readonly Drift[],
  context: { runId: string; now: Date; asOf: string },
): Promise<number> {
  const open = drifts.filter((drift) => drift.unexplained !== 0n);
  if (open.length === 0) return 0;
  const result = await tx.query(
    `WITH found AS (
       SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::bigint[], $7::jsonb[])
         AS input (account, connector, currency, amount, details)),
     inserted AS (
       INSERT INTO recon_exceptions (id, key, run_id, reason, source, connector, currency, amount,
         details, status, created_at)
       SELECT 'rex_' || md5(k), k, $1::text, 'balance_drift', 'ledger', connector, currency,
              amount, details, 'open', $2::timestamptz
         FROM (SELECT 'balance_drift:' || account || ':' || $8::text AS k, * FROM found) f
        -- One open drift per account: while one is open (and not yet resolved by a posting that
        -- corrects the account), a later run does not raise the same difference again, so it
        -- cannot be written off twice.
        WHERE NOT EXISTS (SELECT 1 FROM recon_exceptions x
                           WHERE x.reason = 'balance_drift' AND x.status = 'open'
                             AND x.details ->> 'account' = f.account)
       ON CONFLICT (key) DO NOTHING
       RETURNING id)
     INSERT INTO recon_exception_history (exception_id, seq, action, actor, details, at)
     SELECT id, 1, 'raised', 'system', jsonb_build_object('run', $1::text), $2::timestamptz
       FROM inserted RETURNING 1`,
    [
      context.runId,
      context.now,
      open.map((drift) => drift.account),
      open.map((drift) => drift.connector),
      open.map((drift) => drift.currency),
      open.map((drift) => drift.unexplained),
      open.map((drift) => JSON.stringify(driftDetails(drift))),
      context.asOf,
    ],
  );
  return result.rows.length;
}

export function driftDetails(drift: Drift): Record<string, string | null> {
  return {
    account: drift.account,
    connector: drift.connector,
    currency: drift.currency,
    ledger: drift.ledger.toString(),
    reported: drift.reported.toString(),
    explained: drift.explained.toString(),
    unexplained: drift.unexplained.toString(),
  };
}
