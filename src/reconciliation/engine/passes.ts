// The matching passes of a run (RECON-SPEC.md), in SQL over what is still unmatched:
//   1 exact      identifiers: a PSP line by (connector, PSP reference, type); a batch's bank
//                movement by its settlement reference; a payout's debit by its id or trace id;
//                an acquirer answer's line by batch, item and verdict (acks.ts)
//   2 tolerance  lines without the identifier the exact pass uses: same currency, amount within
//                the source's band, day within its window (a line WITH a PSP reference that names
//                nothing is unexpected, never matched by amount)
//   3 aggregate  bounded one-to-many / many-to-one (aggregate.ts)
// A pass writes its links (one row per member of a group) into the run's temporary table, then
// `applyLinks` stamps the group on every member. Group ids derive from the members' keys: the
// same inputs give the same groups whatever order they arrived in. Pairs are chosen by ranks on
// content (line, value date, key), each side's best, so no choice depends on physical order.
import type { Queryable } from '../../storage/database.ts';
import type { MatchPass } from '../tables.ts';
import type { ReconRules } from '../rules.ts';
import { ackCandidates } from './acks.ts';

export const linksTable = 'recon_run_links';

export async function createLinksTable(tx: Queryable): Promise<void> {
  await tx.query(
    `CREATE TEMPORARY TABLE IF NOT EXISTS ${linksTable} (
       group_id text NOT NULL, pass text NOT NULL, member text NOT NULL,
       source text, key text NOT NULL) ON COMMIT DROP`,
  );
}

/**
 * Candidates are rows (ek, rk, src, preference, allowed): an expectation key, a record's key and
 * source, a rank (smaller is better) and whether the pair may match at all. Each expectation takes
 * its best allowed record, each record the best expectation that chose it.
 */
function pairsSql(candidates: string, pass: MatchPass): string {
  return `
    WITH cand AS (${candidates}),
    ranked AS (
      SELECT ek, rk, src, preference,
             row_number() OVER (PARTITION BY ek ORDER BY preference, rk) AS by_expectation
        FROM cand WHERE allowed
    ),
    chosen AS (
      SELECT ek, rk, src,
             row_number() OVER (PARTITION BY src, rk ORDER BY preference, ek) AS by_record
        FROM ranked WHERE by_expectation = 1
    ),
    pairs AS (
      SELECT ek, rk, src, 'rcg_' || md5(ek || '|' || src || ':' || rk) AS g
        FROM chosen WHERE by_record = 1
    ),
    inserted AS (
      INSERT INTO ${linksTable} (group_id, pass, member, source, key)
      SELECT g, '${pass}', 'e', NULL, ek FROM pairs
      UNION ALL SELECT g, '${pass}', 'r', src, rk FROM pairs
      RETURNING member
    )
    SELECT count(*) FILTER (WHERE member = 'e')::int AS count FROM inserted`;
}

const pspKind = (e: string) => `CASE WHEN ${e}.amount < 0 THEN 'refund' ELSE 'charge' END`;
const bankKind = (e: string) =>
  `CASE WHEN ${e}.kind = 'bank_credit' THEN 'credit' ELSE 'debit' END`;

const exactPspCandidates = `
  SELECT e.key AS ek, r.row_key AS rk, 'psp_report' AS src,
         r.line::bigint AS preference, true AS allowed
    FROM recon_expectations e
    JOIN recon_records r ON r.source = 'psp_report' AND r.group_id IS NULL
     AND r.psp_reference = e.psp_reference AND r.connector = e.connector AND r.kind = ${pspKind('e')}
   WHERE e.kind = 'psp_line' AND e.group_id IS NULL`;

// A batch's movement: a record of its amount first; any record only when it is the only one (two
// or more that do not hit the amount are for the aggregate pass: a settlement paid in parts).
const exactBatchCandidates = `
  SELECT ek, rk, src, preference, equal OR candidates = 1 AS allowed FROM (
    SELECT e.key AS ek, r.row_key AS rk, 'bank_statement' AS src,
           CASE WHEN r.amount = e.amount THEN 0 ELSE 1 END::bigint AS preference,
           r.amount = e.amount AS equal, count(*) OVER (PARTITION BY e.key) AS candidates
      FROM recon_expectations e
      JOIN recon_records r ON r.source = 'bank_statement' AND r.group_id IS NULL
       AND r.batch_reference = e.batch_reference AND r.kind = ${bankKind('e')}
     WHERE e.kind IN ('bank_credit', 'bank_debit') AND e.key LIKE 'batch:%'
       AND e.group_id IS NULL) AS c`;

const exactPayoutCandidates = `
  SELECT e.key AS ek, r.row_key AS rk, 'bank_statement' AS src, 0::bigint AS preference,
         true AS allowed
    FROM recon_expectations e
    JOIN recon_records r ON r.source = 'bank_statement' AND r.group_id IS NULL
     AND r.kind = 'debit' AND r.our_reference = e.our_reference
   WHERE e.key LIKE 'payout:%' AND e.group_id IS NULL
  UNION ALL
  SELECT e.key, r.row_key, 'bank_statement', 1::bigint, true
    FROM recon_expectations e
    JOIN recon_records r ON r.source = 'bank_statement' AND r.group_id IS NULL
     AND r.kind = 'debit' AND r.trace_id = e.trace_id
   WHERE e.key LIKE 'payout:%' AND e.group_id IS NULL AND e.trace_id IS NOT NULL`;

// $1 PSP band, $2 PSP window, $3 bank band, $4 bank window (days).
const dayDistance = `abs(r.value_date::date - e.due_on::date)`;
const toleranceCandidates = `
  SELECT e.key AS ek, r.row_key AS rk, r.source AS src,
         abs(r.amount - e.amount) * 100 + ${dayDistance} AS preference, true AS allowed
    FROM recon_expectations e
    JOIN recon_records r ON r.source = 'psp_report' AND r.group_id IS NULL
     AND r.psp_reference IS NULL AND r.currency = e.currency AND r.kind = ${pspKind('e')}
     AND (r.connector IS NULL OR r.connector = e.connector)
     AND abs(r.amount - e.amount) <= $1::bigint AND ${dayDistance} <= $2::int
   WHERE e.kind = 'psp_line' AND e.group_id IS NULL
  UNION ALL
  SELECT e.key, r.row_key, r.source, abs(r.amount - e.amount) * 100 + ${dayDistance}, true
    FROM recon_expectations e
    JOIN recon_records r ON r.source = 'bank_statement' AND r.group_id IS NULL
     AND r.batch_reference IS NULL AND r.our_reference IS NULL
     AND r.currency = e.currency AND r.kind = ${bankKind('e')}
     AND abs(r.amount - e.amount) <= $3::bigint AND ${dayDistance} <= $4::int
   WHERE e.kind IN ('bank_credit', 'bank_debit') AND e.group_id IS NULL`;

/** Stamps this pass's groups on their members and records the groups; empties the links. */
export async function applyLinks(tx: Queryable, runId: string, now: Date): Promise<void> {
  await tx.query(
    `UPDATE recon_expectations e SET group_id = l.group_id
       FROM ${linksTable} l WHERE l.member = 'e' AND e.key = l.key`,
  );
  await tx.query(
    `UPDATE recon_records r SET group_id = l.group_id
       FROM ${linksTable} l WHERE l.member = 'r' AND r.source = l.source AND r.row_key = l.key`,
  );
  // Every group has an expectation among its members; a group of several expectations (one credit
  // for several batches) is written by its first and skipped by the others, without sorting the
  // links for a DISTINCT.
  await tx.query(
    `INSERT INTO recon_groups (id, run_id, pass, created_at)
     SELECT group_id, $1::text, pass, $2::timestamptz FROM ${linksTable} WHERE member = 'e'
     ON CONFLICT (id) DO NOTHING`,
    [runId, now],
  );
  await tx.query(`TRUNCATE ${linksTable}`);
}

/** Rounds of a pass: a round can free a second-best pair only when two sides tied for one. */
const roundsMax = 4;

async function runPairs(
  tx: Queryable,
  candidates: string,
  pass: MatchPass,
  parameters: readonly unknown[],
  context: { runId: string; now: Date },
): Promise<number> {
  let total = 0;
  for (let round = 0; round < roundsMax; round++) {
    const result = await tx.query<{ count: number }>(pairsSql(candidates, pass), parameters);
    const count = result.rows[0]?.count ?? 0;
    if (count > 0) await applyLinks(tx, context.runId, context.now);
    total += count;
    if (count === 0) break;
  }
  return total;
}

export async function exactPass(
  tx: Queryable,
  context: { runId: string; now: Date },
): Promise<number> {
  let matched = 0;
  const exact = [exactPspCandidates, exactBatchCandidates, exactPayoutCandidates, ackCandidates];
  for (const candidates of exact) matched += await runPairs(tx, candidates, 'exact', [], context);
  return matched;
}

export async function tolerancePass(
  tx: Queryable,
  rules: ReconRules,
  context: { runId: string; now: Date },
): Promise<number> {
  const { psp_report: psp, bank_statement: bank } = rules.sources;
  return runPairs(
    tx,
    toleranceCandidates,
    'tolerance',
    [psp.amountBand, psp.dateWindowDays, bank.amountBand, bank.dateWindowDays],
    context,
  );
}
