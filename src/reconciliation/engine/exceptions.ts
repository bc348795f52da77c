// Exceptions of a run (RECON-SPEC.md), set-based, each with a deterministic key `<reason>:<subject>`
// and id `rex_<md5 of the key>`, so a run that finds a difference again records it once and the
// same inputs give the same exceptions whatever order they arrived in. Each new exception gets
// its history row ('raised' by 'system') in the same statement.
import type { Queryable } from '../../storage/database.ts';
import type { ReconRules } from '../rules.ts';
import { ackMissingExceptions, ackUnexpectedExceptions } from './acks.ts';

/** A found difference: the columns of recon_exceptions a finder selects, in this order. */
const foundColumns = `key, reason, source, connector, currency, amount, expectation_key,
  record_source, record_key, group_id, details`;

/** Inserts what `found` selects (columns `foundColumns`), with history; $1 run id, $2 now. */
function raiseSql(found: string): string {
  return `
    WITH found (${foundColumns}) AS (${found}),
    inserted AS (
      INSERT INTO recon_exceptions (id, ${foundColumns}, run_id, status, created_at)
      SELECT 'rex_' || md5(key), ${foundColumns}, $1::text, 'open', $2::timestamptz FROM found
      ON CONFLICT (key) DO NOTHING
      RETURNING id, reason
    ),
    history AS (
      INSERT INTO recon_exception_history (exception_id, seq, action, actor, details, at)
      SELECT id, 1, 'raised', 'system', jsonb_build_object('run', $1::text), $2::timestamptz
        FROM inserted
    )
    SELECT reason, count(*)::int AS count FROM inserted GROUP BY reason`;
}

// The groups made by this run, with their sums per side. $1 run id, $3 PSP band, $4 bank band.
const groupSides = `
  WITH groups AS MATERIALIZED (SELECT id FROM recon_groups WHERE run_id = $1::text),
  expected AS (
    SELECT e.group_id, min(e.key) AS ek, min(e.kind) AS kind, min(e.connector) AS connector,
           min(e.currency) AS currency, max(e.currency) AS currency_max,
           sum(e.amount)::bigint AS amount, sum(e.expected_fee)::bigint AS fee,
           bool_and(e.expected_fee IS NOT NULL) AS has_fee, max(e.deadline_on) AS deadline_on,
           min(e.batch_reference) AS batch_reference
      FROM recon_expectations e JOIN groups g ON g.id = e.group_id
     -- An acquirer answer's group has no money to compare (acks.ts): matched is all it says.
     WHERE e.kind IN ('psp_line', 'bank_credit', 'bank_debit')
     GROUP BY e.group_id
  ),
  reported AS (
    SELECT r.group_id, min(r.source) AS source, min(r.row_key) AS rk, count(*) AS records,
           min(r.currency) AS currency, max(r.currency) AS currency_max,
           sum(r.amount)::bigint AS amount, sum(r.fee)::bigint AS fee,
           bool_and(r.fee IS NOT NULL) AS has_fee, max(r.value_date) AS value_date,
           max(r.batch_reference) AS r_batch_reference
      FROM recon_records r JOIN groups g ON g.id = r.group_id GROUP BY r.group_id
  )
  SELECT e.*, r.source, r.rk, r.records, r.currency AS r_currency, r.currency_max AS r_currency_max,
         r.amount AS r_amount, r.fee AS r_fee, r.has_fee AS r_has_fee, r.value_date,
         r.r_batch_reference,
         e.currency <> e.currency_max OR r.currency <> r.currency_max
           OR e.currency <> r.currency AS currency_differs,
         abs(r.amount - e.amount) > CASE WHEN r.source = 'bank_statement' THEN $4::bigint
                                         ELSE $3::bigint END AS amount_differs
    FROM expected e JOIN reported r ON r.group_id = e.group_id`;

const sideDetails = `jsonb_build_object('expected_amount', s.amount::text,
  'reported_amount', s.r_amount::text, 'expected_currency', s.currency,
  'reported_currency', s.r_currency, 'records', s.records)`;

const groupColumns = (reason: string, amount: string, details: string) => `
  '${reason}:' || s.ek, '${reason}', s.source, s.connector, s.r_currency, ${amount}, s.ek,
  CASE WHEN s.records = 1 THEN s.source END, CASE WHEN s.records = 1 THEN s.rk END, s.group_id,
  ${details}`;

// One difference per group: the currency first, else the amount, else (a PSP line) the fee; and
// independently, a record later than the expectation's deadline, or a PSP line reported in
// another settlement than its batch's (a later report carried it: its own date may be the item's,
// as an Adyen line's Creation Date is, so the settlement tells, not the date).
const groupExceptions = `
  WITH sides AS MATERIALIZED (${groupSides})
  SELECT ${groupColumns('currency_mismatch', 's.r_amount', sideDetails)}
    FROM sides s WHERE s.currency_differs
  UNION ALL
  SELECT ${groupColumns('amount_mismatch', 's.r_amount - s.amount', sideDetails)}
    FROM sides s WHERE NOT s.currency_differs AND s.amount_differs
  UNION ALL
  SELECT ${groupColumns(
    'fee_variance',
    's.r_fee - s.fee',
    `jsonb_build_object('expected_fee', s.fee::text, 'reported_fee', s.r_fee::text)`,
  )}
    FROM sides s
   WHERE NOT s.currency_differs AND NOT s.amount_differs AND s.kind = 'psp_line'
     AND s.has_fee AND s.r_has_fee AND s.r_fee <> s.fee
  UNION ALL
  SELECT ${groupColumns(
    'late',
    's.r_amount',
    `jsonb_build_object('deadline_on', s.deadline_on, 'value_date', s.value_date,
                        'expected_in', s.batch_reference, 'reported_in', s.r_batch_reference)`,
  )}
    FROM sides s
   WHERE s.value_date > s.deadline_on
      OR (s.kind = 'psp_line' AND s.batch_reference <> s.r_batch_reference)`;

/** Unmatched records: a payout's return, a second line for a matched expectation, the rest. */
const unmatchedRecords = `
  SELECT r.* FROM recon_records r
   WHERE r.group_id IS NULL AND r.source IN ('psp_report', 'bank_statement')`;

const recordColumns = (reason: string, subject: string, expectation: string) => `
  '${reason}:' || ${subject}, '${reason}', r.source, r.connector, r.currency, r.amount,
  ${expectation}, r.source, r.row_key, NULL::text,
  jsonb_build_object('value_date', r.value_date, 'psp_reference', r.psp_reference,
                     'batch_reference', r.batch_reference, 'our_reference', r.our_reference)`;

const returnedExceptions = `
  SELECT ${recordColumns('returned', 'r.our_reference', 'e.key')}
    FROM (${unmatchedRecords}) r
    JOIN recon_expectations e ON e.key = 'payout:' || r.our_reference
   WHERE r.kind = 'return'`;

// Each identifier an equi-join (an OR of joins would be a nested loop over every expectation).
const duplicateOf = `
  SELECT r.source, r.row_key, e.key AS ek FROM (${unmatchedRecords}) r
    JOIN recon_expectations e ON e.kind = 'psp_line' AND e.psp_reference = r.psp_reference
     AND e.connector = r.connector AND r.kind = CASE WHEN e.amount < 0 THEN 'refund' ELSE 'charge' END
   WHERE r.source = 'psp_report' AND e.group_id IS NOT NULL
  UNION ALL
  SELECT r.source, r.row_key, e.key FROM (${unmatchedRecords}) r
    JOIN recon_expectations e ON e.batch_reference = r.batch_reference AND e.key LIKE 'batch:%'
     AND r.kind = CASE WHEN e.kind = 'bank_credit' THEN 'credit' ELSE 'debit' END
   WHERE r.source = 'bank_statement' AND e.group_id IS NOT NULL
  UNION ALL
  SELECT r.source, r.row_key, e.key FROM (${unmatchedRecords}) r
    JOIN recon_expectations e ON e.key = 'payout:' || r.our_reference
   WHERE r.source = 'bank_statement' AND r.kind = 'debit' AND e.group_id IS NOT NULL`;

const duplicateExceptions = `
  SELECT DISTINCT ON (r.source, r.row_key) ${recordColumns(
    'duplicate',
    `r.source || ':' || r.row_key`,
    'd.ek',
  )}
    FROM (${duplicateOf}) d
    JOIN recon_records r ON r.source = d.source AND r.row_key = d.row_key
   ORDER BY r.source, r.row_key, d.ek`;

const unexpectedExceptions = `
  SELECT ${recordColumns('unexpected', `r.source || ':' || r.row_key`, 'NULL::text')}
    FROM (${unmatchedRecords}) r
   WHERE NOT EXISTS (SELECT 1 FROM recon_exceptions x
                      WHERE x.record_source = r.source AND x.record_key = r.row_key)`;

// $3 as_of: an expectation past its deadline with nothing matched.
const missingExceptions = `
  SELECT 'missing:' || e.key, 'missing',
         CASE WHEN e.kind = 'psp_line' THEN 'psp_report' ELSE 'bank_statement' END,
         e.connector, e.currency, e.amount, e.key, NULL, NULL, NULL,
         jsonb_build_object('due_on', e.due_on, 'deadline_on', e.deadline_on,
                            'psp_reference', e.psp_reference,
                            'batch_reference', e.batch_reference, 'our_reference', e.our_reference)
    FROM recon_expectations e
   WHERE e.group_id IS NULL AND e.deadline_on < $3::text
     AND e.kind IN ('psp_line', 'bank_credit', 'bank_debit')`;

/**
 * Open `missing` exceptions whose expectation is matched now, and open `unexpected` ones whose
 * record is: closed by the system as matched (a `late` line closes its `missing`).
 */
const closeMatched = `
  WITH closing AS (
    SELECT x.id FROM recon_exceptions x
      JOIN recon_expectations e ON e.key = x.expectation_key
     WHERE x.reason = 'missing' AND x.status = 'open' AND e.group_id IS NOT NULL
    UNION
    SELECT x.id FROM recon_exceptions x
      JOIN recon_records r ON r.source = x.record_source AND r.row_key = x.record_key
     WHERE x.reason = 'unexpected' AND x.status = 'open' AND r.group_id IS NOT NULL
  ),
  closed AS (
    UPDATE recon_exceptions x SET status = 'resolved', resolution = 'matched',
           resolution_reason = 'system: matched by run ' || $1::text, resolved_at = $2::timestamptz
      FROM closing c WHERE x.id = c.id AND x.status = 'open'
    RETURNING x.id
  ),
  history AS (
    INSERT INTO recon_exception_history (exception_id, seq, action, actor, details, at)
    SELECT c.id, (SELECT coalesce(max(h.seq), 0) + 1 FROM recon_exception_history h
                   WHERE h.exception_id = c.id),
           'resolved', 'system', jsonb_build_object('run', $1::text, 'resolution', 'matched'),
           $2::timestamptz
      FROM closed c
  )
  SELECT count(*)::int AS count FROM closed`;

export type RaisedCounts = Record<string, number>;

export async function raiseExceptions(
  tx: Queryable,
  rules: ReconRules,
  context: { runId: string; now: Date; asOf: string },
): Promise<{ raised: RaisedCounts; closed: number }> {
  const raised: RaisedCounts = {};
  const base = [context.runId, context.now];
  const closedResult = await tx.query<{ count: number }>(closeMatched, base);
  const bands = [rules.sources.psp_report.amountBand, rules.sources.bank_statement.amountBand];
  const steps: [string, unknown[]][] = [
    [groupExceptions, [...base, ...bands]],
    [returnedExceptions, base],
    [duplicateExceptions, base],
    [unexpectedExceptions, base],
    // Before the answer's lines: a rejected line of an accepted item belongs to its `missing`.
    [ackMissingExceptions, base],
    [ackUnexpectedExceptions, base],
    [missingExceptions, [...base, context.asOf]],
  ];
  for (const [found, parameters] of steps) {
    const result = await tx.query<{ reason: string; count: number }>(raiseSql(found), parameters);
    for (const row of result.rows) raised[row.reason] = (raised[row.reason] ?? 0) + row.count;
  }
  return { raised, closed: closedResult.rows[0]?.count ?? 0 };
}
