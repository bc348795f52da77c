// The timed parts of the reconciliation benchmark (bench/recon.ts) and its check: ingestion of the
// generated files through the ingestion service, one reconciliation run through the
// reconciliation service, and the exceptions scored against the seeded ground truth.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../src/clock.ts';
import { Ledger } from '../src/ledger/index.ts';
import { ReconciliationFiles } from '../src/reconciliation/ingest/index.ts';
import { ReconciliationService } from '../src/reconciliation/service.ts';
import type { Database } from '../src/storage/database.ts';
import type { GeneratedFile, TruthEntry } from './recon-files.ts';

/** Files ingested at once (each is one database transaction: parsing overlaps the inserts). */
const ingestConcurrency = 2;

export type IngestOutcome = {
  readonly seconds: number;
  readonly records: number;
  readonly problems: string[];
};

/** Ingests every file (biggest first, `ingestConcurrency` at a time); timed. */
export async function ingestAll(
  database: Database,
  clock: Clock,
  files: readonly GeneratedFile[],
  log: (line: string) => void,
): Promise<IngestOutcome> {
  const service = new ReconciliationFiles({ database, clock });
  const queue = [...files].sort((a, b) => b.bytes - a.bytes);
  const problems: string[] = [];
  let records = 0;
  const started = performance.now();
  const worker = async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const fileStarted = performance.now();
      const { file: stored } = await service.ingestFile({
        name: file.name,
        format: file.format,
        ...(file.connector === null ? {} : { connector: file.connector }),
        body: fs.createReadStream(file.path),
      });
      records += stored.recordCount;
      if (stored.status !== 'ingested') problems.push(`${file.name}: ${stored.error}`);
      else if (stored.recordCount !== file.records || stored.quarantinedCount !== 0)
        problems.push(
          `${file.name}: ${stored.recordCount} records, ${stored.quarantinedCount} quarantined, ${stored.duplicateCount} duplicates; ${file.records} lines written`,
        );
      log(
        `  ingested ${file.name}: ${stored.recordCount} records in ${((performance.now() - fileStarted) / 1000).toFixed(1)} s`,
      );
    }
  };
  await Promise.all(Array.from({ length: ingestConcurrency }, worker));
  return { seconds: (performance.now() - started) / 1000, records, problems };
}

export type MatchOutcome = { readonly seconds: number; readonly summary: unknown };

/** One reconciliation run through the service, as of the last statement day; timed. */
export async function matchAll(
  database: Database,
  clock: Clock,
  asOf: string,
): Promise<MatchOutcome> {
  const service = new ReconciliationService({
    database,
    ledger: new Ledger(database, { clock }),
    clock,
  });
  const started = performance.now();
  const run = await service.run({ asOf, dryRun: false });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 'succeeded') throw new Error(`reconciliation run ${run.id}: ${run.error}`);
  return { seconds, summary: run.summary };
}

export type Score = {
  readonly precision: number;
  readonly recall: number;
  /** Seeded discrepancies that must raise an exception. */
  readonly truth: number;
  readonly exceptions: number;
  readonly byReason: Record<string, number>;
  /** Per seeded kind: found / seeded. */
  readonly recallByKind: Record<string, string>;
  /** The first false positives and misses, for the report. */
  readonly problems: string[];
};

type ExceptionRow = {
  key: string;
  reason: string;
  ids: (string | null)[];
};

/**
 * Each exception against the ground truth: it is a true positive when it has the reason of a
 * seeded discrepancy not yet claimed and names its subject (a PSP reference, payout id or
 * settlement reference, in the exception's key, its expectation or its record). Precision =
 * true positives / exceptions, recall = true positives / seeded discrepancies with a reason.
 */
export async function scoreExceptions(
  database: Database,
  truth: readonly TruthEntry[],
): Promise<Score> {
  const rows = await database.query<ExceptionRow>(
    `SELECT x.key, x.reason,
            ARRAY[e.psp_reference, e.our_reference, e.batch_reference, e.trace_id,
                  r.psp_reference, r.our_reference, r.batch_reference, r.trace_id] AS ids
       FROM recon_exceptions x
       LEFT JOIN recon_expectations e ON e.key = x.expectation_key
       LEFT JOIN recon_records r ON r.source = x.record_source AND r.row_key = x.record_key
      ORDER BY x.key`,
  );
  const open = new Map<string, number>();
  const kindOf = new Map<string, string>();
  const seeded: Record<string, number> = {};
  const found: Record<string, number> = {};
  for (const entry of truth)
    if (entry.reason !== null) {
      const key = `${entry.reason} ${entry.subject}`;
      open.set(key, (open.get(key) ?? 0) + 1);
      kindOf.set(key, entry.kind);
      seeded[entry.kind] = (seeded[entry.kind] ?? 0) + 1;
    }
  const wanted = [...open.values()].reduce((sum, n) => sum + n, 0);
  const byReason: Record<string, number> = {};
  const problems: string[] = [];
  let truePositives = 0;
  for (const row of rows.rows) {
    byReason[row.reason] = (byReason[row.reason] ?? 0) + 1;
    const subjects = [row.key.slice(row.key.indexOf(':') + 1), ...row.ids];
    const hit = subjects
      .filter((id): id is string => id !== null)
      .map((id) => `${row.reason} ${id}`)
      .find((key) => (open.get(key) ?? 0) > 0);
    if (hit === undefined) {
      if (problems.length < 10) problems.push(`false positive: ${row.key}`);
      continue;
    }
    open.set(hit, (open.get(hit) ?? 0) - 1);
    const kind = kindOf.get(hit) ?? '?';
    found[kind] = (found[kind] ?? 0) + 1;
    truePositives++;
  }
  for (const [key, left] of open)
    if (left > 0 && problems.length < 20) problems.push(`not found: ${key}`);
  const ratio = (part: number, whole: number) =>
    whole === 0 ? 1 : Math.round((part / whole) * 1e6) / 1e6;
  return {
    precision: ratio(truePositives, rows.rows.length),
    recall: ratio(truePositives, wanted),
    truth: wanted,
    exceptions: rows.rows.length,
    byReason,
    recallByKind: Object.fromEntries(
      Object.entries(seeded).map(([kind, n]) => [kind, `${found[kind] ?? 0}/${n}`]),
    ),
    problems,
  };
}
