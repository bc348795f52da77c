// Shared by the benchmark scripts: throw-away databases, percentiles, the command line and the
// seeding child process.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import pg from 'pg';

// ---------------------------------------------------------------------------------------------
// Throw-away database

export type ScratchDatabase = { name: string; url: string; drop(): Promise<void> };

async function withAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: adminUrl,
    application_name: 'payrail-bench-admin',
    connectionTimeoutMillis: 10_000,
  });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createScratchDatabase(adminUrl: string): Promise<ScratchDatabase> {
  const name = `payrail_bench_${crypto.randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, async (client) => {
    await client.query(`CREATE DATABASE ${name}`);
    // Safety nets: no statement or idle transaction of the benchmark can hang a scenario forever.
    await client.query(`ALTER DATABASE ${name} SET statement_timeout = '120s'`);
    await client.query(`ALTER DATABASE ${name} SET idle_in_transaction_session_timeout = '120s'`);
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () =>
      withAdmin(adminUrl, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }),
  };
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** A bad command-line option: the benchmark prints it with its usage and exits 2. */
export class UsageError extends Error {}

/** An integer option within its bounds, or its default when not given. */
export function integerOption(
  value: string | undefined,
  name: string,
  fallback: number,
  minimum: number,
  maximum: number,
): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < minimum || parsed > maximum)
    throw new UsageError(`--${name} must be an integer from ${minimum} to ${maximum}`);
  return parsed;
}

/** The database URL, checked to name a server on this machine (benchmarks never leave it). */
export function localDatabaseUrl(databaseUrl: string): string {
  let host: string;
  try {
    host = new URL(databaseUrl).hostname;
  } catch {
    throw new UsageError('--database-url must be a postgres:// URL');
  }
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host))
    throw new UsageError(`the benchmark only runs against a local server (127.0.0.1), not ${host}`);
  return databaseUrl;
}

/**
 * A benchmark's command line, one shape for all: a child process given `seedJobVariable` seeds and
 * prints its result (the parent reads it); otherwise the options are parsed (a usage error exits
 * 2, `--help` prints the usage), the benchmark runs (a failure exits 1 with its stack) and
 * `report` prints the result and says the exit code.
 */
export async function benchMain<Options extends { readonly verbose: boolean }, Result>(spec: {
  readonly name: string;
  readonly argv: readonly string[];
  readonly seedJobVariable: string;
  readonly seed: (job: string, log: (line: string) => void) => Promise<unknown>;
  readonly parseOptions: (argv: readonly string[]) => Options | 'help';
  readonly usage: string;
  readonly run: (options: Options, log: (line: string) => void) => Promise<Result>;
  readonly report: (result: Result, options: Options) => number;
}): Promise<number> {
  const logTo = (prefix: string, verbose: boolean) =>
    verbose ? (line: string) => process.stderr.write(`[${prefix}] ${line}\n`) : () => {};
  const seedJob = process.env[spec.seedJobVariable];
  if (seedJob !== undefined) {
    const verbose = (JSON.parse(seedJob) as { verbose?: boolean }).verbose === true;
    console.log(JSON.stringify(await spec.seed(seedJob, logTo(`${spec.name} seed`, verbose))));
    return 0;
  }
  let options: Options | 'help';
  try {
    options = spec.parseOptions(spec.argv);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE')) {
      console.error(`${(error as Error).message}\n${spec.usage}`);
      return 2;
    }
    throw error;
  }
  if (options === 'help') {
    console.log(spec.usage);
    return 0;
  }
  let result: Result;
  try {
    result = await spec.run(options, logTo(spec.name, options.verbose));
  } catch (error) {
    console.error(
      `[${spec.name}] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return 1;
  }
  return spec.report(result, options);
}

/**
 * Runs a benchmark's seeding in a child process of its own (`script` with `variable` set to the
 * job, which `benchMain` answers), so its peak memory is not the measured process's; returns what
 * the child printed last, parsed.
 */
export async function seedInChildProcess<Result>(
  script: string,
  variable: string,
  job: unknown,
  log: (line: string) => void,
): Promise<Result> {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, [variable]: JSON.stringify(job) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text: string) => (output += text));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  const last = output.trim().split('\n').at(-1) ?? '';
  if (code !== 0) throw new Error(`seeding failed (exit ${code}): ${last.slice(0, 500)}`);
  log('seeding process done');
  return JSON.parse(last) as Result;
}
