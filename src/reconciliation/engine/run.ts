// One reconciliation run inside the caller's transaction: import the pipeline's records, build the
// new expectations, match in passes, raise exceptions, measure balance drift, and hash the
// result. Everything is SQL over sets; TypeScript holds only counts, the aggregate pass's small
// remainder and one row per account of the drift.
import crypto from 'node:crypto';
import type { Queryable } from '../../storage/database.ts';
import type { ReconRules } from '../rules.ts';
import { aggregatePass } from './aggregate.ts';
import { driftDetails, measureDrift, raiseDrift } from './drift.ts';
import { raiseExceptions } from './exceptions.ts';
import { buildExpectations, type ExpectationCounts } from './expectations.ts';
import { importPipelineRecords } from './import.ts';
import { createLinksTable, exactPass, tolerancePass } from './passes.ts';

/** Serializes runs (pg_advisory_xact_lock): one run at a time, dry or real. */
export const runLockKey = 7_012_012;

export type RunContext = { readonly runId: string; readonly now: Date; readonly asOf: string };

export type RunSummary = {
  readonly imported: { pspLines: number; bankEntries: number };
  readonly expectationsCreated: ExpectationCounts;
  readonly expectations: number;
  readonly records: number;
  readonly matched: { exact: number; tolerance: number; aggregate: number };
  readonly unmatchedExpectations: number;
  readonly unmatchedRecords: number;
  /** Matched share of expectations, 0..1 (1 when there are none). */
  readonly matchRate: number;
  readonly raised: Readonly<Record<string, number>>;
  readonly closedBySystem: number;
  readonly openExceptions: number;
  readonly drift: readonly Readonly<Record<string, string | null>>[];
};

export async function reconcile(
  tx: Queryable,
  rules: ReconRules,
  context: RunContext,
): Promise<{ summary: RunSummary; resultHash: string }> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [runLockKey]);
  await createLinksTable(tx);
  const imported = await importPipelineRecords(tx, context.now);
  const expectationsCreated = await buildExpectations(tx, rules, context.now);
  // The planner's statistics are from before this run: records ingested moments ago and the
  // expectations just inserted would count as (nearly) none, and a million rows would be joined
  // by nested loops. A sampled ANALYZE costs well under a second.
  await analyze(tx);
  const exact = await exactPass(tx, context);
  await analyze(tx);
  const matched = {
    exact,
    tolerance: await tolerancePass(tx, rules, context),
    aggregate: await aggregatePass(tx, rules, context),
  };
  const { raised, closed } = await raiseExceptions(tx, rules, context);
  const drifts = await measureDrift(tx, context.asOf);
  const driftRaised = await raiseDrift(tx, drifts, context);
  if (driftRaised > 0) raised.balance_drift = driftRaised;
  const counts = await stateCounts(tx);
  const summary: RunSummary = {
    imported,
    expectationsCreated,
    ...counts,
    matched,
    matchRate:
      counts.expectations === 0
        ? 1
        : (counts.expectations - counts.unmatchedExpectations) / counts.expectations,
    raised,
    closedBySystem: closed,
    drift: drifts.map(driftDetails),
  };
  return { summary, resultHash: await resultHash(tx) };
}

async function analyze(tx: Queryable): Promise<void> {
  await tx.query('ANALYZE recon_records, recon_expectations');
}

async function stateCounts(tx: Queryable) {
  const result = await tx.query<{
    expectations: number;
    unmatched_expectations: number;
    records: number;
    unmatched_records: number;
    open_exceptions: number;
  }>(
    `SELECT (SELECT count(*) FROM recon_expectations)::int AS expectations,
            (SELECT count(*) FROM recon_expectations WHERE group_id IS NULL)::int
              AS unmatched_expectations,
            (SELECT count(*) FROM recon_records)::int AS records,
            (SELECT count(*) FROM recon_records WHERE group_id IS NULL)::int AS unmatched_records,
            (SELECT count(*) FROM recon_exceptions WHERE status = 'open')::int AS open_exceptions`,
  );
  const row = result.rows[0];
  if (row === undefined) throw new Error('reconciliation counts returned no row');
  return {
    expectations: row.expectations,
    unmatchedExpectations: row.unmatched_expectations,
    records: row.records,
    unmatchedRecords: row.unmatched_records,
    openExceptions: row.open_exceptions,
  };
}

/** An order-independent digest of a set of row texts: count and sum of 60-bit hash prefixes. */
const digestOf = (text: string, from: string) => `
  SELECT count(*)::text || '/' ||
         coalesce(sum(('x' || substr(md5(${text}), 1, 15))::bit(60)::bigint::numeric), 0)::text
    AS digest FROM ${from}`;

/**
 * The run's result: every expectation's and record's group, and every exception with its status
 * (closings by the system left out: whether a later line closed a `missing` depends on when runs
 * happened, not on the inputs). A multiset digest per part, so no sort of millions of rows; the
 * sha256 of the three digests is the result hash.
 */
export async function resultHash(tx: Queryable): Promise<string> {
  const parts = [
    digestOf(`key || '|' || coalesce(group_id, '')`, 'recon_expectations'),
    digestOf(`source || ':' || row_key || '|' || coalesce(group_id, '')`, 'recon_records'),
    digestOf(
      `key || '|' || status || '|' || coalesce(amount::text, '') || '|' || coalesce(resolution, '')`,
      `recon_exceptions WHERE NOT (status = 'resolved' AND resolution = 'matched'
                                  AND resolution_reason LIKE 'system:%')`,
    ),
  ];
  const digests: string[] = [];
  for (const part of parts) {
    const result = await tx.query<{ digest: string }>(part);
    digests.push(result.rows[0]?.digest ?? '');
  }
  return crypto.createHash('sha256').update(digests.join('\n')).digest('hex');
}
