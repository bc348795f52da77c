// Three-way reconciliation benchmark (issue 12) against a real PostgreSQL.
//
//   npm run bench:recon -- [--items 1000000] [--merchants 1000] [--json]
//
// Creates a throw-away database on the local PostgreSQL (--database-url / BENCH_DATABASE_URL,
// default postgres://postgres@127.0.0.1:5432/postgres).
//
// Seeding (not timed; in a child process of its own, its peak RSS reported as seed_peak_rss_mb):
// the ledger side is seeded the way bench/settlement.ts seeds and settles, with its own code —
// merchants (payout settings, sealed bank accounts), captures and refunds as plain rows, their
// ledger postings through the payments' outbox and poster (which writes the settlement items), the
// simulator's acquirer bulk-seeded — then the real money-out steps run against the simulator:
// close, submit (acquirer acknowledgement: accepted items, settlement references), availability,
// payouts create and send (the bank's trace ids). The pipeline's own PSP-report and bank-statement
// steps are NOT run: the benchmark's files are the external side, and the pipeline's fetched
// copies would be imported by a run as records too. Instead the seeding process writes the files
// (bench/recon-files.ts: Adyen-style settlement CSV per batch, camt.053.001.08 statements per day,
// streamed, with 1 % seeded discrepancies and their ground truth) and posts what reading those
// reports posts (`psp_fee:<batch>` through the ledger with the product's pspFeeTransfer, the
// batch's psp_fee), as src/settlement/reports/ingestion.ts does. The simulator is stopped before
// anything is timed.
//
// Timed, separately: INGESTION (ReconciliationFiles.ingestFile of every file, src/reconciliation/
// ingest) and MATCHING (ReconciliationService.run({ asOf, dryRun: false }), src/reconciliation/
// service.ts). Then verify: every exception against the ground truth (precision and recall),
// verifyLedger. records = ledger items + report lines + statement entries;
// records_per_s = records / (ingest_s + match_s). peak_rss_mb is this process's maxRSS.
//
// BENCH_AUTO_EXPLAIN_MS=N logs the plans (EXPLAIN ANALYZE) of statements slower than N ms to the
// server's log (auto_explain), as bench/settlement.ts does.
//
// With --json the last line on stdout is one JSON object:
//   {"bench":"recon","records":…,"records_per_s":…,"peak_rss_mb":…,"precision":1,"recall":1,…}
// Exit status: 0 ok (precision and recall 1, ledger verified), 1 otherwise, 2 bad arguments.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { connectorSettlementAccounts } from '../src/accounts/index.ts';
import { clockFrom } from '../src/clock.ts';
import { verifyLedger } from '../src/ledger/index.ts';
import { runMoneyOut } from '../src/money-out/index.ts';
import { pspFeeTransfer } from '../src/settlement/reports/postings.ts';
import type { Database } from '../src/storage/database.ts';
import { migrate } from '../src/storage/migrations.ts';
import { openPostgres } from '../src/storage/postgres.ts';
import { startSimulatorProcess, type SimulatorProcess } from '../src/testmode/simulator-process.ts';
import {
  writeReports,
  writeStatements,
  type BatchReport,
  type GeneratedFile,
  type LateLineDate,
  type TruthEntry,
} from './recon-files.ts';
import { ingestAll, matchAll, scoreExceptions, type Score } from './recon-run.ts';
import {
  memoryNow,
  mixOf,
  peakRssMb,
  round2,
  seedMerchants,
  seedPaymentRows,
  seedPostings,
  seedSimulator,
  services,
} from './settlement.ts';
import {
  benchMain,
  createScratchDatabase,
  seedInChildProcess,
  integerOption,
  localDatabaseUrl,
  UsageError,
  type ScratchDatabase,
} from './support.ts';

const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
/** Tuesday noon: the second clearing day (bench/settlement.ts captures on Monday 2026-03-02). */
const secondDay = new Date('2026-03-03T12:00:00Z');
/** Thursday noon: both days' batches closed and acknowledged, their items available (T+2). */
const settledAt = new Date('2026-03-05T12:00:00Z');

export type ReconBenchOptions = {
  readonly items: number;
  readonly merchants: number;
  readonly refundPercent: number;
  readonly databaseUrl: string;
  readonly json: boolean;
  readonly verbose: boolean;
  /** Keep the database and the files afterwards, and print where they are. */
  readonly keep?: boolean;
  /** The Creation Date of a carried late line (bench/recon-files.ts LateLineDate). */
  readonly lateLineDate?: LateLineDate;
};

export type ReconBenchResult = {
  readonly bench: 'recon';
  readonly records: number;
  readonly records_per_s: number;
  readonly peak_rss_mb: number;
  readonly precision: number;
  readonly recall: number;
  readonly ingest_s: number;
  readonly match_s: number;
  readonly seed_s: number;
  readonly seed_peak_rss_mb: number;
  readonly ledger_items: number;
  readonly report_lines: number;
  readonly statement_entries: number;
  readonly files: number;
  readonly file_mb: number;
  readonly discrepancies: number;
  readonly exceptions: number;
  readonly exceptions_by_reason: Readonly<Record<string, number>>;
  readonly recall_by_kind: Readonly<Record<string, string>>;
  readonly late_line_date: LateLineDate;
  readonly problems: readonly string[];
  readonly ledger: 'ok' | 'failed';
  readonly run_summary: unknown;
  readonly verify_s: number;
  readonly cpus: number;
  readonly postgres: string;
};

const usage = `usage: node bench/recon.ts [options]
  --items N            ledger items (captures and refunds), default 1000000
  --merchants N        merchants, default min(1000, items / 100)
  --refund-percent N   share of the items that are refunds, default 10
  --database-url URL   server for the throw-away database (loopback only;
                       default $BENCH_DATABASE_URL or ${defaultDatabaseUrl})
  --json               end with one line of JSON
  --quiet              no progress lines on stderr
  --keep               keep the throw-away database and the files, and print where
  --late-line-date D   Creation Date of a late line in the report that carries it: own (its
                       own batch's cutoff, as the simulator writes it; default) or carrier
  --help`;

export function parseOptions(argv: readonly string[]): ReconBenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      items: { type: 'string' },
      merchants: { type: 'string' },
      'refund-percent': { type: 'string' },
      'database-url': { type: 'string' },
      json: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'late-line-date': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const databaseUrl =
    values['database-url'] ?? process.env.BENCH_DATABASE_URL ?? defaultDatabaseUrl;
  localDatabaseUrl(databaseUrl);
  const items = integerOption(values.items, 'items', 1_000_000, 100, 4_000_000);
  const fallbackMerchants = Math.max(1, Math.min(1_000, Math.floor(items / 100)));
  const merchants = integerOption(values.merchants, 'merchants', fallbackMerchants, 1, 100_000);
  if (merchants > items) throw new UsageError('--merchants must not exceed --items');
  const lateLineDate = values['late-line-date'] ?? 'own';
  if (lateLineDate !== 'own' && lateLineDate !== 'carrier')
    throw new UsageError('--late-line-date must be own or carrier');
  return {
    lateLineDate,
    items,
    merchants,
    refundPercent: integerOption(values['refund-percent'], 'refund-percent', 10, 0, 50),
    databaseUrl,
    json: values.json,
    verbose: !values.quiet,
    keep: values.keep,
  };
}

// ---------------------------------------------------------------------------------------------
// Seeding (child process)

type SeedJob = {
  readonly items: number;
  readonly merchants: number;
  readonly refundPercent: number;
  readonly databaseUrl: string;
  readonly simulatorUrl: string;
  readonly directory: string;
  readonly verbose: boolean;
  readonly lateLineDate: LateLineDate;
};

/** What the seeding process hands back (its last stdout line). */
export type SeedResult = {
  readonly seed_s: number;
  readonly peak_rss_mb: number;
  readonly ledgerItems: number;
  readonly reportLines: number;
  readonly statementEntries: number;
  readonly files: GeneratedFile[];
  readonly truthFile: string;
  readonly asOf: string;
};
const seedJobVariable = 'PAYRAIL_BENCH_RECON_SEED_JOB';

/** The ledger side: bench/settlement.ts's seeding, then the money-out steps but reports/statements. */
async function seedLedgerSide(
  database: Database,
  job: SeedJob,
  log: (line: string) => void,
): Promise<ReturnType<typeof services>> {
  const mix = mixOf(job);
  const parts = services(database, job.simulatorUrl);
  await seedMerchants(parts, mix);
  await seedPaymentRows(parts, mix);
  const seeded = await seedSimulator(job.simulatorUrl, mix);
  log(`simulator knows ${seeded} captures and refunds`);
  // Two clearing days: the first half of the captures on Monday, the rest and the refunds on
  // Tuesday (a close at Tuesday noon closes Monday's intake batches and opens Tuesday's), so that
  // each PSP has a later report to carry a late line.
  await seedPostings(parts, mix, log, {
    afterCapture: Math.floor(mix.captures / 2),
    run: async () => {
      parts.setNow(secondDay);
      await parts.moneyOut.settlement.closeDue(secondDay);
    },
  });
  await analyzeSeeded(database);
  log(`posted ${mix.captures} captures, ${mix.refunds} refunds (${memoryNow()})`);
  parts.setNow(settledAt);
  const skipped = new Set(['psp_reports', 'bank_statements']);
  const steps = parts.moneyOut.steps('all').filter((step) => !skipped.has(step.name));
  const report = await runMoneyOut(steps);
  log(`money-out steps: ${JSON.stringify(report)}`);
  return parts;
}

/** Posts what reading each report posts: the PSP's fee of the batch, and the batch's psp_fee. */
async function postPspFees(
  parts: ReturnType<typeof services>,
  reports: readonly BatchReport[],
): Promise<void> {
  for (const report of reports) {
    await parts.database.transaction(async (tx) => {
      await parts.ledger.ensureAccountsWithin(
        tx,
        connectorSettlementAccounts(report.connector, report.currency),
      );
      const transfer = pspFeeTransfer(
        report.batchId,
        report.connector,
        report.currency,
        report.matchedFee,
      );
      if (transfer !== undefined) {
        const [posted] = await parts.ledger.transferBatchWithin(tx, [transfer], {
          now: parts.clock.now(),
        });
        if (posted?.status === 'rejected') throw posted.error;
      }
      await tx.query(`UPDATE settlement_batches SET psp_fee = $2 WHERE id = $1`, [
        report.batchId,
        report.matchedFee,
      ]);
    });
  }
}

/**
 * ANALYZE of what seeding wrote, not of the reconciliation tables: analyzed while empty, they would
 * tell the planner "0 rows" for the timed part (a fresh installation has never analyzed them).
 */
async function analyzeSeeded(database: Database): Promise<void> {
  const tables = await database.query<{ name: string }>(
    `SELECT quote_ident(tablename) AS name FROM pg_tables
      WHERE schemaname = current_schema() AND tablename NOT LIKE 'recon\\_%' ORDER BY tablename`,
  );
  await database.query(`ANALYZE ${tables.rows.map((row) => row.name).join(', ')}`);
}

/** The ledger's bank balance per currency (the statements' opening balances continue from it). */
async function bankBalances(database: Database): Promise<Map<string, bigint>> {
  const rows = await database.query<{ currency: string; balance: bigint }>(
    `SELECT currency, (posted_debits - posted_credits)::bigint AS balance
       FROM ledger_accounts WHERE id LIKE 'bank:%'`,
  );
  return new Map(rows.rows.map((row) => [row.currency, BigInt(row.balance)]));
}

async function seedAll(job: SeedJob, log: (line: string) => void): Promise<SeedResult> {
  const database = openPostgres({
    connectionString: job.databaseUrl,
    poolSize: 8,
    applicationName: 'payrail-bench-recon-seed',
  });
  try {
    const started = performance.now();
    const parts = await seedLedgerSide(database, job, log);
    const reports = await writeReports(database, job.directory, job.lateLineDate);
    log(`wrote ${reports.files.length} report files (${memoryNow()})`);
    await postPspFees(parts, reports.reports);
    const statements = await writeStatements(
      database,
      job.directory,
      reports.reports,
      reports.truth,
      await bankBalances(database),
    );
    const truthFile = path.join(job.directory, 'ground-truth.json');
    fs.writeFileSync(truthFile, JSON.stringify(reports.truth));
    const items = await database.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM balance_transactions WHERE type IN ('charge', 'refund')`,
    );
    await analyzeSeeded(database);
    return {
      seed_s: round2((performance.now() - started) / 1000),
      peak_rss_mb: peakRssMb(),
      ledgerItems: items.rows[0]?.count ?? 0,
      reportLines: reports.files.reduce((sum, file) => sum + file.records, 0),
      statementEntries: statements.entries,
      files: [...reports.files, ...statements.files],
      truthFile,
      asOf: statements.lastDay,
    };
  } finally {
    await database.close();
  }
}

async function seedInChild(job: SeedJob, log: (line: string) => void): Promise<SeedResult> {
  return seedInChildProcess<SeedResult>(import.meta.filename, seedJobVariable, job, log);
}

// ---------------------------------------------------------------------------------------------
// The benchmark

async function scratchWithDatabase(
  options: ReconBenchOptions,
): Promise<{ scratch: ScratchDatabase; database: Database }> {
  const scratch = await createScratchDatabase(options.databaseUrl);
  const explainMs = process.env.BENCH_AUTO_EXPLAIN_MS;
  if (explainMs !== undefined) {
    // Plans of the statements slower than this, with their actual figures, in the server's log.
    const admin = openPostgres({ connectionString: scratch.url, poolSize: 1 });
    const name = scratch.name;
    await admin.query(`ALTER DATABASE ${name} SET session_preload_libraries = 'auto_explain'`);
    await admin.query(
      `ALTER DATABASE ${name} SET auto_explain.log_min_duration = '${Number(explainMs)}ms'`,
    );
    await admin.query(`ALTER DATABASE ${name} SET auto_explain.log_analyze = on`);
    await admin.query(`ALTER DATABASE ${name} SET auto_explain.log_nested_statements = on`);
    await admin.close();
  }
  const database = openPostgres({
    connectionString: scratch.url,
    poolSize: 8,
    applicationName: 'payrail-bench',
  });
  await migrate(database);
  return { scratch, database };
}

async function seedWithSimulator(
  options: ReconBenchOptions,
  scratch: ScratchDatabase,
  directory: string,
  log: (line: string) => void,
): Promise<SeedResult> {
  let simulator: SimulatorProcess | undefined;
  try {
    simulator = await startSimulatorProcess(0);
    log(`simulator ${simulator.url}`);
    return await seedInChild(
      {
        items: options.items,
        merchants: options.merchants,
        refundPercent: options.refundPercent,
        databaseUrl: scratch.url,
        simulatorUrl: simulator.url,
        directory,
        verbose: options.verbose,
        lateLineDate: options.lateLineDate ?? 'own',
      },
      log,
    );
  } finally {
    await simulator?.stop().catch(() => {});
  }
}

export async function runReconBench(
  options: ReconBenchOptions,
  log: (line: string) => void = () => {},
): Promise<ReconBenchResult> {
  let scratch: ScratchDatabase | undefined;
  let database: Database | undefined;
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'payrail-bench-recon-'));
  try {
    ({ scratch, database } = await scratchWithDatabase(options));
    log(`database ${scratch.name}, files in ${directory}`);
    const seed = await seedWithSimulator(options, scratch, directory, log);
    log(`seeding took ${seed.seed_s} s (seeding process peak ${seed.peak_rss_mb} MB)`);
    const truth = JSON.parse(fs.readFileSync(seed.truthFile, 'utf8')) as TruthEntry[];
    // The run's clock: the evening of the last statement day, moving with real time.
    const base = Date.parse(`${seed.asOf}T20:00:00Z`);
    const startedAt = performance.now();
    const clock = clockFrom(() => new Date(base + (performance.now() - startedAt)));

    const ingest = await ingestAll(database, clock, seed.files, log);
    log(`ingestion took ${ingest.seconds.toFixed(1)} s (${memoryNow()})`);
    const match = await matchAll(database, clock, seed.asOf);
    log(`matching took ${match.seconds.toFixed(1)} s (${memoryNow()})`);

    const verifyStarted = performance.now();
    const score = await scoreExceptions(database, truth);
    log(`scored: precision ${score.precision}, recall ${score.recall}`);
    const ledger = await verifyLedger(database);
    log(`ledger verified: ${ledger.ok ? 'ok' : 'failed'}`);
    const verifySeconds = (performance.now() - verifyStarted) / 1000;
    return await result(options, seed, ingest, match, score, ledger, verifySeconds, database);
  } finally {
    await database?.close().catch(() => {});
    if (options.keep === true) log(`kept database ${scratch?.name} and files in ${directory}`);
    else {
      fs.rmSync(directory, { recursive: true, force: true });
      await scratch?.drop().catch((error: unknown) => {
        log(`could not drop ${scratch?.name}: ${String(error)}`);
      });
    }
  }
}

async function result(
  options: ReconBenchOptions,
  seed: SeedResult,
  ingest: Awaited<ReturnType<typeof ingestAll>>,
  match: Awaited<ReturnType<typeof matchAll>>,
  score: Score,
  ledger: Awaited<ReturnType<typeof verifyLedger>>,
  verifySeconds: number,
  database: Database,
): Promise<ReconBenchResult> {
  const version = await database.query<{ version: string }>(
    `SELECT current_setting('server_version') AS version`,
  );
  const records = seed.ledgerItems + seed.reportLines + seed.statementEntries;
  const timed = ingest.seconds + match.seconds;
  const problems = [...ingest.problems, ...score.problems, ...ledger.problems].slice(0, 20);
  return {
    bench: 'recon',
    records,
    records_per_s: Math.round(records / timed),
    peak_rss_mb: peakRssMb(),
    precision: score.precision,
    recall: score.recall,
    ingest_s: round2(ingest.seconds),
    match_s: round2(match.seconds),
    seed_s: seed.seed_s,
    seed_peak_rss_mb: seed.peak_rss_mb,
    ledger_items: seed.ledgerItems,
    report_lines: seed.reportLines,
    statement_entries: seed.statementEntries,
    files: seed.files.length,
    file_mb: Math.round(seed.files.reduce((sum, file) => sum + file.bytes, 0) / 1_048_576),
    discrepancies: score.truth,
    exceptions: score.exceptions,
    exceptions_by_reason: score.byReason,
    recall_by_kind: score.recallByKind,
    late_line_date: options.lateLineDate ?? 'own',
    problems,
    ledger: ledger.ok ? 'ok' : 'failed',
    run_summary: match.summary,
    verify_s: round2(verifySeconds),
    cpus: os.cpus().length,
    postgres: version.rows[0]?.version ?? 'unknown',
  };
  void options;
}

function printResult(result: ReconBenchResult, json: boolean): void {
  console.log(
    `recon: ${result.ledger_items} ledger items, ${result.report_lines} report lines, ` +
      `${result.statement_entries} statement entries in ${result.files} files (${result.file_mb} MB)`,
  );
  console.log(`  ingestion  ${result.ingest_s} s`);
  console.log(`  matching   ${result.match_s} s`);
  console.log(`  throughput ${result.records_per_s} records/s`);
  console.log(
    `  peak RSS   ${result.peak_rss_mb} MB (seeding process ${result.seed_peak_rss_mb} MB)`,
  );
  console.log(
    `  exceptions ${result.exceptions} for ${result.discrepancies} seeded discrepancies: ` +
      `precision ${result.precision}, recall ${result.recall}`,
  );
  console.log(`  ledger     ${result.ledger}`);
  for (const problem of result.problems) console.log(`             ${problem}`);
  if (json) {
    const { bench, records, records_per_s, peak_rss_mb, precision, recall, ...rest } = result;
    console.log(
      JSON.stringify({ bench, records, records_per_s, peak_rss_mb, precision, recall, ...rest }),
    );
  }
}

export function main(argv: readonly string[]): Promise<number> {
  return benchMain({
    name: 'bench:recon',
    argv,
    seedJobVariable,
    seed: (job, log) => seedAll(JSON.parse(job) as SeedJob, log),
    parseOptions,
    usage,
    run: runReconBench,
    report: (result, options) => {
      printResult(result, options.json);
      const ok = result.precision === 1 && result.recall === 1 && result.ledger === 'ok';
      return ok && result.problems.length === 0 ? 0 : 1;
    },
  });
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
