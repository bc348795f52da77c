// Ledger throughput benchmark against a real PostgreSQL.
//
//   npm run bench:ledger -- [--seconds 5] [--clients 16] [--batch-clients 3] [--batch-size 1000] [--json]
//   npm run bench -- ledger [same options]
//
// Creates a throw-away database (unique name) next to the one in --database-url / BENCH_DATABASE_URL
// (default postgres://postgres@127.0.0.1:5432/postgres), migrates it, funds liability accounts
// (`debits_must_not_exceed_credits`) from an asset account without a limit, then runs four
// scenarios, each bounded in time (--seconds) and in transfer count (--max-transfers):
//   single/hot     ledger.transfer from --clients concurrent clients, random pairs of --hot-accounts
//   single/spread  the same over --spread-accounts accounts
//   batch/hot      ledger.transferBatch of --batch-size from --batch-clients clients, hot accounts
//   batch/spread   the same over the spread accounts
// then runs verifyLedger and drops the database, also when something failed.
// With --json the last line on stdout is one JSON object with the figures (spread scenarios as
// the headline numbers, hot_* for the hot ones). Exit status: 0 ok, 1 verify failed or
// unexpected errors, 2 bad arguments, 130 interrupted.
import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  Ledger,
  LedgerError,
  verifyLedger,
  type AccountSpec,
  type Leg,
  type TransferRequest,
  type VerifyReport,
} from '../src/ledger/index.ts';
import type { Database, QueryResult, Queryable, Row } from '../src/storage/database.ts';
import { migrate } from '../src/storage/migrations.ts';
import { openPostgres } from '../src/storage/postgres.ts';
import {
  createScratchDatabase,
  integerOption,
  localDatabaseUrl,
  percentile,
  UsageError,
  type ScratchDatabase,
} from './support.ts';
import { seededRandom } from '../src/random.ts';

const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
const currency = 'usd';
const bankId = 'bench:bank:usd';
const fundingPerAccount = 1_000_000_000n;
const amountMax = 100;
/** A scenario stops early after this many unexpected (non-ledger) errors. */
const errorLimit = 20;

export type Options = {
  seconds: number;
  clients: number;
  batchClients: number;
  batchSize: number;
  hotAccounts: number;
  spreadAccounts: number;
  maxTransfers: number;
  databaseUrl: string;
  json: boolean;
  traceSql: boolean;
  scenarios: readonly ScenarioName[];
  seed: number;
};

const scenarioNames = ['single/hot', 'single/spread', 'batch/hot', 'batch/spread'] as const;
type ScenarioName = (typeof scenarioNames)[number];

const usage = `usage: node bench/ledger.ts [options]
  --seconds N          time bound of each scenario (default 5)
  --clients N          concurrent clients for single transfers (default 16)
  --batch-clients N    concurrent clients for batched transfers (default 3)
  --batch-size N       transfers per transferBatch call, 1-8192 (default 1000)
  --hot-accounts N     accounts every client hits in the hot scenarios (default 4)
  --spread-accounts N  accounts of the spread scenarios (default 10000)
  --max-transfers N    count bound of each scenario (default 2000000)
  --scenarios LIST     comma-separated subset of ${scenarioNames.join(',')}
  --database-url URL   server to create the throw-away database on (loopback only;
                       default $BENCH_DATABASE_URL or ${defaultDatabaseUrl})
  --seed N             seed of the pseudo-random account picks (default 1)
  --trace-sql          also print where each call's time goes, per SQL statement
  --json               end with one line of JSON
  --help`;

export function parseOptions(argv: readonly string[]): Options | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seconds: { type: 'string' },
      clients: { type: 'string' },
      'batch-clients': { type: 'string' },
      'batch-size': { type: 'string' },
      'hot-accounts': { type: 'string' },
      'spread-accounts': { type: 'string' },
      'max-transfers': { type: 'string' },
      scenarios: { type: 'string' },
      'database-url': { type: 'string' },
      seed: { type: 'string' },
      'trace-sql': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const seconds = values.seconds === undefined ? 5 : Number(values.seconds);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600)
    throw new UsageError('--seconds must be a number above 0 and at most 3600');
  const scenarios =
    values.scenarios === undefined
      ? [...scenarioNames]
      : values.scenarios.split(',').map((name) => name.trim());
  for (const name of scenarios) {
    if (!(scenarioNames as readonly string[]).includes(name))
      throw new UsageError(`unknown scenario ${name}; known: ${scenarioNames.join(', ')}`);
  }
  const databaseUrl =
    values['database-url'] ?? process.env.BENCH_DATABASE_URL ?? defaultDatabaseUrl;
  localDatabaseUrl(databaseUrl);
  return {
    seconds,
    clients: integerOption(values.clients, 'clients', 16, 1, 256),
    batchClients: integerOption(values['batch-clients'], 'batch-clients', 3, 1, 64),
    batchSize: integerOption(values['batch-size'], 'batch-size', 1000, 1, 8192),
    hotAccounts: integerOption(values['hot-accounts'], 'hot-accounts', 4, 2, 1000),
    spreadAccounts: integerOption(
      values['spread-accounts'],
      'spread-accounts',
      10_000,
      2,
      1_000_000,
    ),
    maxTransfers: integerOption(
      values['max-transfers'],
      'max-transfers',
      2_000_000,
      1,
      100_000_000,
    ),
    databaseUrl,
    json: values.json,
    traceSql: values['trace-sql'],
    scenarios: scenarios as ScenarioName[],
    seed: integerOption(values.seed, 'seed', 1, 0, 2 ** 31 - 1),
  };
}

// ---------------------------------------------------------------------------------------------
// Optional SQL timing: wraps the Database the ledger uses and adds up the time of each statement.

type StatementStats = { count: number; ms: number };

class SqlTrace {
  readonly statements = new Map<string, StatementStats>();

  add(label: string, ms: number): void {
    const stats = this.statements.get(label) ?? { count: 0, ms: 0 };
    stats.count++;
    stats.ms += ms;
    this.statements.set(label, stats);
  }

  reset(): void {
    this.statements.clear();
  }

  static label(sql: string): string {
    const flat = sql.replace(/\s+/g, ' ').trim();
    if (flat.startsWith('WITH new_transactions')) return 'writeBatch (WITH … INSERT/UPDATE)';
    if (/FROM ledger_accounts WHERE id = ANY.*FOR UPDATE/.test(flat))
      return 'lockAccounts (SELECT … FOR UPDATE)';
    if (/FROM ledger_transactions WHERE id = ANY/.test(flat))
      return 'selectTransactions (SELECT by id)';
    if (/FROM ledger_holds h JOIN/.test(flat)) return 'lockHolds';
    return flat.length > 60 ? `${flat.slice(0, 57)}…` : flat;
  }

  wrap(database: Database): Database {
    const timed = (queryable: Queryable): Queryable => ({
      query: async <R extends Row = Row>(
        sql: string,
        parameters?: readonly unknown[],
      ): Promise<QueryResult<R>> => {
        const started = performance.now();
        try {
          return await queryable.query<R>(sql, parameters);
        } finally {
          this.add(SqlTrace.label(sql), performance.now() - started);
        }
      },
      exec: (sql: string) => queryable.exec(sql),
    });
    const outer = timed(database);
    return {
      kind: database.kind,
      query: outer.query,
      exec: outer.exec,
      transaction: async (work, options) => {
        const started = performance.now();
        try {
          return await database.transaction(async (tx) => {
            const workStarted = performance.now();
            try {
              return await work(timed(tx));
            } finally {
              this.add('[work(): queries + JS between them]', performance.now() - workStarted);
            }
          }, options);
        } finally {
          this.add(
            '[whole transaction(): + pool, BEGIN, COMMIT, retries]',
            performance.now() - started,
          );
        }
      },
      close: () => database.close(),
    };
  }

  print(write: (line: string) => void): void {
    const rows = [...this.statements.entries()].sort((a, b) => b[1].ms - a[1].ms);
    write(
      `    ${'statement'.padEnd(56)} ${'calls'.padStart(8)} ${'total ms'.padStart(11)} ${'mean ms'.padStart(9)}`,
    );
    for (const [label, stats] of rows) {
      write(
        `    ${label.padEnd(56)} ${String(stats.count).padStart(8)} ${stats.ms.toFixed(0).padStart(11)} ${(stats.ms / stats.count).toFixed(3).padStart(9)}`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

function legs(from: string, to: string, amount: bigint): Leg[] {
  return [
    { accountId: from, direction: 'debit', amount, currency },
    { accountId: to, direction: 'credit', amount, currency },
  ];
}

function randomTransfer(
  next: () => number,
  accounts: readonly string[],
  id: string,
): TransferRequest {
  const from = Math.floor(next() * accounts.length);
  let to = Math.floor(next() * (accounts.length - 1));
  if (to >= from) to++;
  const amount = BigInt(1 + Math.floor(next() * amountMax));
  return {
    kind: 'posted',
    id,
    legs: legs(accounts[from] as string, accounts[to] as string, amount),
  };
}

export type ScenarioResult = {
  readonly name: ScenarioName;
  readonly clients: number;
  readonly batchSize: number;
  readonly calls: number;
  readonly committed: number;
  readonly rejected: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly wallSeconds: number;
  readonly transfersPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly rejectedByCode: Readonly<Record<string, number>>;
  /** CPU time of this Node process, as a share of all cores over the scenario. */
  readonly nodeCpu: number;
  /** CPU time of the benchmark database's Postgres backends (Linux /proc), as a share of all cores. */
  readonly postgresCpu: number;
  /** Busy share of all the host's cores (Postgres, Node and whatever else runs on the machine). */
  readonly hostCpu: number;
};

/** Linux clock ticks per second: /proc/<pid>/stat counts CPU time in these. */
const clockTicksPerSecond = 100;

/** CPU seconds so far of every backend connected to the benchmark database; undefined when /proc is not readable. */
async function backendCpuSeconds(database: Database): Promise<Map<number, number> | undefined> {
  const result = await database.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
  );
  const seconds = new Map<number, number>();
  for (const { pid } of result.rows) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the parenthesized command name: state is field 3, utime 14 and stime 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      seconds.set(pid, (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond);
    } catch {
      return undefined;
    }
  }
  return seconds;
}

function backendCpuShare(
  before: Map<number, number> | undefined,
  after: Map<number, number> | undefined,
  wallSeconds: number,
): number {
  if (before === undefined || after === undefined || wallSeconds <= 0) return Number.NaN;
  let used = 0;
  for (const [pid, seconds] of after) used += seconds - (before.get(pid) ?? 0);
  return used / (wallSeconds * os.cpus().length);
}

type CpuSample = { process: NodeJS.CpuUsage; busy: number; total: number; at: number };

function sampleCpu(): CpuSample {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const { user, nice, sys, idle, irq } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + irq + idle;
  }
  return { process: process.cpuUsage(), busy, total, at: performance.now() };
}

function cpuShares(from: CpuSample, to: CpuSample): { nodeCpu: number; hostCpu: number } {
  const processMs =
    (to.process.user - from.process.user + to.process.system - from.process.system) / 1000;
  const wallMs = to.at - from.at;
  const cores = os.cpus().length;
  return {
    nodeCpu: wallMs > 0 ? processMs / (wallMs * cores) : Number.NaN,
    hostCpu: to.total > from.total ? (to.busy - from.busy) / (to.total - from.total) : Number.NaN,
  };
}

type ScenarioPlan = {
  name: ScenarioName;
  accounts: readonly string[];
  clients: number;
  batchSize: number;
  single: boolean;
};

async function runScenario(
  ledger: Ledger,
  database: Database,
  plan: ScenarioPlan,
  options: Options,
  stopped: () => boolean,
): Promise<ScenarioResult> {
  const latencies: number[] = [];
  const rejectedByCode: Record<string, number> = {};
  let committed = 0;
  let rejected = 0;
  let errors = 0;
  let calls = 0;
  let reserved = 0;
  let firstError: string | undefined;
  const tag = plan.name.replace('/', '-');
  const backendsBefore = await backendCpuSeconds(database);
  const cpuBefore = sampleCpu();
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const keepGoing = (): boolean =>
    !stopped() &&
    errors < errorLimit &&
    reserved < options.maxTransfers &&
    performance.now() < deadline;
  const reject = (error: LedgerError): void => {
    rejected++;
    rejectedByCode[error.code] = (rejectedByCode[error.code] ?? 0) + 1;
  };
  const fail = (error: unknown): void => {
    errors++;
    firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  };

  const client = async (clientIndex: number): Promise<void> => {
    const next = seededRandom(
      options.seed * 1000 + clientIndex + scenarioNames.indexOf(plan.name) * 100,
    );
    let sequence = 0;
    while (keepGoing()) {
      const size = Math.min(plan.batchSize, options.maxTransfers - reserved);
      reserved += size;
      const requests: TransferRequest[] = [];
      for (let i = 0; i < size; i++)
        requests.push(randomTransfer(next, plan.accounts, `${tag}-${clientIndex}-${sequence++}`));
      const callStarted = performance.now();
      try {
        if (plan.single) {
          try {
            await ledger.transfer(requests[0] as TransferRequest);
            committed++;
          } catch (error) {
            if (!(error instanceof LedgerError)) throw error;
            reject(error);
          }
        } else {
          for (const result of await ledger.transferBatch(requests)) {
            if (result.status === 'created') committed++;
            else if (result.status === 'rejected') reject(result.error);
            else fail(new Error(`transfer ${result.transaction.id} unexpectedly already existed`));
          }
        }
        latencies.push(performance.now() - callStarted);
        calls++;
      } catch (error) {
        fail(error);
      }
    }
  };

  await Promise.all(Array.from({ length: plan.clients }, (_, index) => client(index)));
  const wallSeconds = (performance.now() - started) / 1000;
  const cpu = cpuShares(cpuBefore, sampleCpu());
  const postgresCpu = backendCpuShare(
    backendsBefore,
    await backendCpuSeconds(database),
    wallSeconds,
  );
  latencies.sort((a, b) => a - b);
  return {
    name: plan.name,
    clients: plan.clients,
    batchSize: plan.batchSize,
    calls,
    committed,
    rejected,
    errors,
    firstError,
    wallSeconds,
    transfersPerSecond: committed / wallSeconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.length === 0 ? Number.NaN : (latencies[latencies.length - 1] as number),
    rejectedByCode,
    ...cpu,
    postgresCpu,
  };
}

// ---------------------------------------------------------------------------------------------
// Setup

function liability(id: string): AccountSpec {
  return {
    id,
    type: 'liability',
    currency,
    owner: 'bench',
    limit: 'debits_must_not_exceed_credits',
  };
}

async function createAndFund(ledger: Ledger, accountIds: readonly string[]): Promise<void> {
  await ledger.createAccount({ id: bankId, type: 'asset', currency, owner: 'bench' });
  const chunk = 1000;
  for (let start = 0; start < accountIds.length; start += chunk) {
    const ids = accountIds.slice(start, start + chunk);
    await ledger.createAccounts(ids.map(liability));
    const results = await ledger.transferBatch(
      ids.map((id): TransferRequest => ({
        kind: 'posted',
        id: `fund:${id}`,
        legs: legs(bankId, id, fundingPerAccount),
      })),
    );
    const failed = results.find((result) => result.status !== 'created');
    if (failed !== undefined)
      throw new Error(
        `funding failed: ${failed.status === 'rejected' ? failed.error.message : failed.status}`,
      );
  }
}

type Facts = {
  cpus: number;
  cpuModel: string;
  node: string;
  platform: string;
  postgres: string;
  fsync: string;
  synchronousCommit: string;
  sharedBuffers: string;
};

async function readFacts(database: Database): Promise<Facts> {
  const show = async (setting: string): Promise<string> => {
    const result = await database.query<Record<string, string>>(`SHOW ${setting}`);
    return Object.values(result.rows[0] ?? {})[0] ?? '?';
  };
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? '?',
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    postgres: await show('server_version'),
    fsync: await show('fsync'),
    synchronousCommit: await show('synchronous_commit'),
    sharedBuffers: await show('shared_buffers'),
  };
}

// ---------------------------------------------------------------------------------------------
// Output

function round(value: number, digits: number): number | null {
  if (!Number.isFinite(value)) return null;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function formatMs(value: number): string {
  return Number.isFinite(value) ? value.toFixed(value < 10 ? 2 : 1) : '-';
}

function percent(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(0)}%` : '-';
}

function table(results: readonly ScenarioResult[]): string[] {
  const header = [
    'scenario',
    'clients',
    'batch',
    'calls',
    'committed',
    'rejected',
    'errors',
    'seconds',
    'transfers/s',
    'p50 ms',
    'p99 ms',
    'max ms',
    'node cpu',
    'pg cpu',
    'host cpu',
  ];
  const rows = results.map((r) => [
    r.name,
    String(r.clients),
    String(r.batchSize),
    String(r.calls),
    String(r.committed),
    String(r.rejected),
    String(r.errors),
    r.wallSeconds.toFixed(2),
    r.transfersPerSecond.toFixed(0),
    formatMs(r.p50Ms),
    formatMs(r.p99Ms),
    formatMs(r.maxMs),
    percent(r.nodeCpu),
    percent(r.postgresCpu),
    percent(r.hostCpu),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] as string).length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) =>
        column === 0
          ? cell.padEnd(widths[column] as number)
          : cell.padStart(widths[column] as number),
      )
      .join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)];
}

function jsonSummary(
  results: readonly ScenarioResult[],
  verify: VerifyReport | undefined,
  verifyMs: number,
  facts: Facts | undefined,
  options: Options,
): Record<string, unknown> {
  const find = (name: ScenarioName): ScenarioResult | undefined =>
    results.find((result) => result.name === name);
  const figures = (prefix: string, name: ScenarioName): Record<string, unknown> => {
    const result = find(name);
    const per = name.startsWith('single') ? 'single' : 'batch';
    const kind = name.startsWith('single') ? 'single' : 'batched';
    return {
      [`${prefix}${kind}_transfers_per_s`]:
        result === undefined ? null : round(result.transfersPerSecond, 0),
      [`${prefix}${per}_p50_ms`]: result === undefined ? null : round(result.p50Ms, 2),
      [`${prefix}${per}_p99_ms`]: result === undefined ? null : round(result.p99Ms, 2),
      [`${prefix}${kind}_rejected`]: result?.rejected ?? null,
    };
  };
  return {
    bench: 'ledger',
    ...figures('', 'single/spread'),
    ...figures('', 'batch/spread'),
    ...figures('hot_', 'single/hot'),
    ...figures('hot_', 'batch/hot'),
    errors: results.reduce((sum, result) => sum + result.errors, 0),
    verify: verify?.ok === true ? 'ok' : 'failed',
    verify_ms: round(verifyMs, 0),
    verify_entries: verify?.entries ?? null,
    seconds: options.seconds,
    clients: options.clients,
    batch_clients: options.batchClients,
    batch_size: options.batchSize,
    cpus: facts?.cpus ?? os.cpus().length,
    postgres: facts?.postgres ?? null,
    fsync: facts?.fsync ?? null,
    synchronous_commit: facts?.synchronousCommit ?? null,
  };
}

// ---------------------------------------------------------------------------------------------

export async function main(argv: readonly string[]): Promise<number> {
  let options: Options;
  try {
    const parsed = parseOptions(argv);
    if (parsed === 'help') {
      console.log(usage);
      return 0;
    }
    options = parsed;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error(usage);
    return 2;
  }

  const out = (line = ''): void => console.log(line);
  const progress = (line: string): void => console.error(`[bench:ledger] ${line}`);

  let interrupted = false;
  const onSignal = (signal: string): void => {
    interrupted = true;
    progress(
      `${signal}: stopping the scenarios and dropping the database (signal again to quit at once)`,
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const results: ScenarioResult[] = [];
  let verify: VerifyReport | undefined;
  let verifyMs = Number.NaN;
  let facts: Facts | undefined;
  let failure: unknown;
  let scratch: ScratchDatabase | undefined;
  let database: Database | undefined;
  const trace = new SqlTrace();
  try {
    scratch = await createScratchDatabase(options.databaseUrl);
    progress(`created database ${scratch.name}`);
    const poolSize = Math.max(options.clients, options.batchClients) + 1;
    const pool = openPostgres({
      connectionString: scratch.url,
      poolSize,
      applicationName: 'payrail-bench',
    });
    database = pool;
    await migrate(pool);
    facts = await readFacts(pool);

    const ledger = new Ledger(options.traceSql ? trace.wrap(pool) : pool);
    const hot = Array.from({ length: options.hotAccounts }, (_, index) => `bench:hot:${index}`);
    const spread = Array.from(
      { length: options.spreadAccounts },
      (_, index) => `bench:spread:${index}`,
    );
    const setupStarted = performance.now();
    await createAndFund(ledger, [...hot, ...spread]);
    await pool.query('ANALYZE');
    progress(
      `created and funded ${hot.length + spread.length + 1} accounts in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s`,
    );

    const plans: ScenarioPlan[] = [
      { name: 'single/hot', accounts: hot, clients: options.clients, batchSize: 1, single: true },
      {
        name: 'single/spread',
        accounts: spread,
        clients: options.clients,
        batchSize: 1,
        single: true,
      },
      {
        name: 'batch/hot',
        accounts: hot,
        clients: options.batchClients,
        batchSize: options.batchSize,
        single: false,
      },
      {
        name: 'batch/spread',
        accounts: spread,
        clients: options.batchClients,
        batchSize: options.batchSize,
        single: false,
      },
    ];
    const traces = new Map<ScenarioName, SqlTrace['statements']>();
    for (const plan of plans) {
      if (!options.scenarios.includes(plan.name) || interrupted) continue;
      progress(`running ${plan.name} for ${options.seconds} s`);
      trace.reset();
      const result = await runScenario(ledger, pool, plan, options, () => interrupted);
      results.push(result);
      traces.set(plan.name, new Map(trace.statements));
      progress(
        `${plan.name}: ${result.transfersPerSecond.toFixed(0)} transfers/s, p99 ${formatMs(result.p99Ms)} ms`,
      );
    }

    if (!interrupted) {
      progress('verifying the ledger');
      const verifyStarted = performance.now();
      verify = await verifyLedger(pool);
      verifyMs = performance.now() - verifyStarted;
    }

    out();
    out('Payrail ledger benchmark');
    out(
      `  machine    ${facts.cpus} CPUs (${facts.cpuModel}), ${facts.platform}, Node ${facts.node}`,
    );
    out(
      `  postgres   ${facts.postgres}, fsync=${facts.fsync}, synchronous_commit=${facts.synchronousCommit}, shared_buffers=${facts.sharedBuffers}`,
    );
    out(
      `  settings   ${options.seconds} s per scenario (at most ${options.maxTransfers} transfers), single: ${options.clients} clients, ` +
        `batched: ${options.batchClients} clients x ${options.batchSize}, hot: ${options.hotAccounts} accounts, spread: ${options.spreadAccounts} accounts, pool ${poolSize}`,
    );
    out(
      `  transfers  posted, liability -> liability (debits_must_not_exceed_credits), 1-${amountMax} minor units; latency is per call;`,
    );
    out(
      `             cpu columns are shares of all ${facts.cpus} cores (pg cpu: this database's backends; host cpu: everything, other work included)`,
    );
    out();
    for (const line of table(results)) out(`  ${line}`);
    for (const result of results) {
      if (result.rejected > 0)
        out(`  ${result.name} rejections: ${JSON.stringify(result.rejectedByCode)}`);
      if (result.firstError !== undefined)
        out(`  ${result.name} first unexpected error: ${result.firstError}`);
    }
    if (options.traceSql) {
      for (const [name, statements] of traces) {
        out();
        out(`  SQL time of ${name} (summed over clients)`);
        const view = new SqlTrace();
        for (const [label, stats] of statements) view.statements.set(label, stats);
        view.print((line) => out(line));
      }
    }
    out();
    if (verify === undefined) {
      out('  verify     skipped (interrupted)');
    } else {
      out(
        `  verify     ${verify.ok ? 'ok' : 'FAILED'} in ${(verifyMs / 1000).toFixed(2)} s: ${verify.accounts} accounts, ${verify.entries} entries, ${verify.transactions} transactions`,
      );
      for (const problem of verify.problems.slice(0, 10)) out(`             ${problem}`);
    }
  } catch (error) {
    failure = error;
    console.error(
      `[bench:ledger] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  } finally {
    if (database !== undefined) await database.close().catch(() => {});
    if (scratch !== undefined) {
      try {
        await scratch.drop();
        progress(`dropped database ${scratch.name}`);
      } catch (error) {
        failure ??= error;
        console.error(
          `[bench:ledger] could not drop database ${scratch.name}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }

  if (options.json) out(JSON.stringify(jsonSummary(results, verify, verifyMs, facts, options)));
  if (interrupted) return 130;
  if (failure !== undefined) return 1;
  const errors = results.reduce((sum, result) => sum + result.errors, 0);
  return verify?.ok === true && errors === 0 ? 0 : 1;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
