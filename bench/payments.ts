// Payments throughput: create-and-confirm payments (automatic capture) over HTTP against a real
// Payrail process on the local PostgreSQL and the PSP simulator process, at a fixed concurrency,
// once with 50 ms of PSP latency and once with 0 ms; after each run, a check that Payrail's
// records, its ledger and the simulator's ground truth agree.
//
//   npm run bench:payments -- [--seconds 10] [--clients 32] [--pool N] [--latencies 50,0] [--warmup 3] [--risk on|off] [--json] [--profile DIR]
//
// Before the measured runs, --warmup seconds of the same load (0 ms PSP latency), then ANALYZE,
// as autovacuum would have done within a minute in any running system: PostgreSQL caches the plan
// of each prepared statement per connection, and a plan made while the tables were empty (a
// sequential scan of a then one-page table) is otherwise kept for the whole short run.
// --profile writes a CPU profile of the Payrail process (node --cpu-prof) into DIR.
// --risk on (the default, as for every merchant) decides every payment with the merchant's rules
// (two of them, one reading velocity) and in-process velocity; --risk off turns the merchant's
// risk settings off, for the comparison the risk issue asks for.
//
// With --json the last line is one JSON object for the 0 ms run (the other run's line precedes it).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { verifyLedger } from '../src/ledger/index.ts';
import { openPostgres } from '../src/storage/postgres.ts';
import type { Database } from '../src/storage/database.ts';
import { startChild, type RunningChild } from '../src/child-process.ts';
import { startSimulatorProcess, type SimulatorProcess } from '../src/testmode/simulator-process.ts';
import { createScratchDatabase, percentile } from './support.ts';

const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
const amount = 1_999;

type Options = {
  seconds: number;
  clients: number;
  json: boolean;
  databaseUrl: string;
  latencies: number[];
  pool: number;
  profile: string | undefined;
  warmup: number;
  risk: boolean;
};

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seconds: { type: 'string', default: '10' },
      clients: { type: 'string', default: '32' },
      json: { type: 'boolean', default: false },
      'database-url': { type: 'string' },
      latencies: { type: 'string', default: '50,0' },
      pool: { type: 'string' },
      profile: { type: 'string' },
      warmup: { type: 'string', default: '3' },
      risk: { type: 'string', default: 'on' },
    },
    strict: true,
  });
  const seconds = Number(values.seconds);
  const clients = Number(values.clients);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600)
    throw new Error('--seconds must be a number in (0, 600]');
  if (!Number.isInteger(clients) || clients < 1 || clients > 512)
    throw new Error('--clients must be an integer from 1 to 512');
  const latencies = String(values.latencies).split(',').map(Number);
  if (latencies.some((latency) => !Number.isInteger(latency) || latency < 0 || latency > 5000))
    throw new Error('--latencies must be integers from 0 to 5000');
  const databaseUrl =
    values['database-url'] ?? process.env.BENCH_DATABASE_URL ?? defaultDatabaseUrl;
  if (!['127.0.0.1', 'localhost'].includes(new URL(databaseUrl).hostname))
    throw new Error('the benchmark only runs against a local PostgreSQL');
  const pool = values.pool === undefined ? Math.min(64, clients + 8) : Number(values.pool);
  if (!Number.isInteger(pool) || pool < 1 || pool > 500)
    throw new Error('--pool must be an integer from 1 to 500');
  const warmup = Number(values.warmup);
  if (!Number.isFinite(warmup) || warmup < 0 || warmup > 600)
    throw new Error('--warmup must be a number of seconds in [0, 600]');
  if (values.risk !== 'on' && values.risk !== 'off') throw new Error('--risk must be on or off');
  return {
    risk: values.risk === 'on',
    seconds,
    clients,
    json: values.json,
    databaseUrl,
    latencies,
    pool,
    profile: values.profile,
    warmup,
  };
}

type Payrail = RunningChild;

function startPayrail(
  env: Record<string, string>,
  profileDirectory: string | undefined,
): Promise<Payrail> {
  return startChild({
    script: 'src/cli.ts',
    args: ['serve'],
    env,
    nodeFlags:
      profileDirectory === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`],
    ready: /Payrail listening on (http:\/\/127\.0\.0\.1:\d+)/,
    timeoutMs: 30_000,
    // Payrail logs at warn: pass its errors through, they explain any failed payment.
    onOutput: (text) => {
      for (const line of text.split('\n'))
        if (line.includes('"level":50') || line.includes('"level":60'))
          process.stderr.write(`[payrail] ${line.slice(0, 2000)}\n`);
    },
  });
}

type RunResult = {
  pspLatencyMs: number;
  payments: number;
  failures: number;
  seconds: number;
  p50: number;
  p99: number;
  consistent: boolean;
  problems: string[];
  cpu: CpuShares | undefined;
};

/** CPU milliseconds (user + system) per process group, read from /proc (Linux). */
type CpuShares = { payrail: number; simulator: number; postgres: number; load: number };
const ticksPerSecond = 100;

function processTicks(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function postgresTicks(): number {
  let total = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres')
        total += processTicks(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}

function cpuSample(
  payrail: number | undefined,
  simulator: number | undefined,
): CpuShares | undefined {
  if (!fs.existsSync('/proc/self/stat') || payrail === undefined || simulator === undefined)
    return undefined;
  const toMs = (ticks: number) => (ticks * 1000) / ticksPerSecond;
  const own = process.cpuUsage();
  return {
    payrail: toMs(processTicks(payrail)),
    simulator: toMs(processTicks(simulator)),
    postgres: toMs(postgresTicks()),
    load: (own.user + own.system) / 1000,
  };
}

function cpuPerPayment(
  before: CpuShares | undefined,
  after: CpuShares | undefined,
  payments: number,
): CpuShares | undefined {
  if (before === undefined || after === undefined || payments === 0) return undefined;
  const per = (key: keyof CpuShares) => (after[key] - before[key]) / payments;
  return {
    payrail: per('payrail'),
    simulator: per('simulator'),
    postgres: per('postgres'),
    load: per('load'),
  };
}

async function runLoad(
  payrailUrl: string,
  secretKey: string,
  options: Options,
  pspLatencyMs: number,
): Promise<{ latencies: number[]; failures: number; seconds: number; ids: string[] }> {
  const latencies: number[] = [];
  const ids: string[] = [];
  let failures = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const body = JSON.stringify({
    amount,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
    connector: 'stripe',
    metadata: { bench: String(pspLatencyMs) },
  });
  // node:http with one kept-alive connection per client: the load generator shares the two cores
  // with what it measures, and fetch costs it about twice the CPU per request.
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.clients });
  const headers = {
    authorization: `Bearer ${secretKey}`,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
  };
  const post = () =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const request = http.request(
        `${payrailUrl}/v1/payment_intents`,
        { method: 'POST', agent, headers },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  const client = async () => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      const response = await post();
      const answer = JSON.parse(response.text) as { id?: string; status?: string };
      latencies.push(performance.now() - sent);
      if (response.status === 200 && answer.status === 'succeeded' && answer.id !== undefined)
        ids.push(answer.id);
      else {
        failures++;
        if (failures <= 3)
          console.error(
            `[bench:payments] failed: ${response.status} ${response.text.slice(0, 300)}`,
          );
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, client));
  agent.destroy();
  return {
    latencies: latencies.sort((a, b) => a - b),
    failures,
    seconds: (performance.now() - started) / 1000,
    ids,
  };
}

/** Payrail's records, its ledger and the simulator's ground truth must agree, payment by payment. */
async function checkConsistency(
  database: Database,
  simulatorUrl: string,
  ids: readonly string[],
): Promise<string[]> {
  const problems: string[] = [];
  const rows = await database.query<{
    id: string;
    status: string;
    amount_received: bigint;
    attempt: string;
    attempt_status: string;
  }>(
    `SELECT i.id, i.status, i.amount_received, a.id AS attempt, a.status AS attempt_status
       FROM payment_intents i JOIN payment_attempts a ON a.payment_intent_id = i.id WHERE i.id = ANY($1::text[])`,
    [ids],
  );
  const truth = (await (await fetch(`${simulatorUrl}/_sim/ground-truth?psp=stripe`)).json()) as {
    payments: { reference: string; captured: number; refunded: number }[];
  };
  const captured = new Map(truth.payments.map((payment) => [payment.reference, payment.captured]));
  if (rows.rows.length !== ids.length)
    problems.push(
      `${ids.length} payments answered succeeded, ${rows.rows.length} attempts recorded`,
    );
  for (const row of rows.rows) {
    if (
      row.status !== 'succeeded' ||
      row.attempt_status !== 'captured' ||
      row.amount_received !== BigInt(amount)
    )
      problems.push(`${row.id}: recorded ${row.status}/${row.attempt_status}`);
    if (captured.get(row.attempt) !== amount)
      problems.push(
        `${row.id}: the simulator captured ${captured.get(row.attempt)} for ${row.attempt}`,
      );
  }
  const postings = await database.query<{ count: bigint; total: bigint }>(
    "SELECT count(*)::bigint AS count, coalesce(sum(amount), 0)::bigint AS total FROM ledger_entries WHERE transaction_id = ANY($1::text[]) AND direction = 'credit'",
    [rows.rows.map((row) => `capture:${row.attempt}`)],
  );
  if (
    postings.rows[0]?.count !== BigInt(rows.rows.length) ||
    postings.rows[0]?.total !== BigInt(rows.rows.length * amount)
  ) {
    problems.push(
      `ledger: ${postings.rows[0]?.count} capture postings totalling ${postings.rows[0]?.total} for ${rows.rows.length} payments`,
    );
  }
  return problems.slice(0, 20);
}

const round3 = (value: number) => Number(value.toFixed(3));

/** Risk on: two rules (one on velocity) the bench's payments never match; off: risk settings off. */
async function setUpRisk(payrailUrl: string, secretKey: string, on: boolean): Promise<void> {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${payrailUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  };
  if (!on) return post('/v1/radar/settings', { enabled: false });
  await post('/v1/radar/rules', {
    rule: 'block if :card_country: != :ip_country: and :amount_in_usd: > 5000',
  });
  await post('/v1/radar/rules', {
    rule: 'review if :declined_charges_per_card_number_daily: > 1000000',
  });
}

export async function main(argv: readonly string[]): Promise<number> {
  const options = parseOptions(argv);
  const scratch = await createScratchDatabase(options.databaseUrl);
  const database = openPostgres({ connectionString: scratch.url, poolSize: 2 });
  let simulator: SimulatorProcess | undefined;
  let payrail: Payrail | undefined;
  const results: RunResult[] = [];
  try {
    simulator = await startSimulatorProcess(0);
    const adminKey = `bench_${crypto.randomBytes(16).toString('hex')}`;
    payrail = await startPayrail(
      {
        DATABASE_URL: scratch.url,
        PAYRAIL_SIMULATOR_URL: simulator.url,
        PAYRAIL_ADMIN_KEY: adminKey,
        LOG_LEVEL: 'warn',
        PORT: '0',
        PAYRAIL_DB_POOL_SIZE: String(options.pool),
        PAYRAIL_VAULT_MASTER_KEY: crypto.randomBytes(32).toString('base64'),
        // The benchmark measures payments, not the limiter refusing its one test merchant.
        PAYRAIL_RATE_LIMITS: 'off',
      },
      options.profile,
    );
    const merchant = (await (
      await fetch(`${payrail.url}/v1/admin/merchants`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Bench shop' }),
      })
    ).json()) as { secret_key: string };
    await setUpRisk(payrail.url, merchant.secret_key, options.risk);
    const warmupProblems: string[] = [];
    if (options.warmup > 0) {
      console.error(`[bench:payments] warming up for ${options.warmup} s, then ANALYZE …`);
      const warm = await runLoad(
        payrail.url,
        merchant.secret_key,
        { ...options, seconds: options.warmup },
        0,
      );
      warmupProblems.push(
        ...(await checkConsistency(database, simulator.url, warm.ids)).map(
          (problem) => `warm-up: ${problem}`,
        ),
      );
      if (warm.failures > 0) warmupProblems.push(`warm-up: ${warm.failures} payments failed`);
      await database.query('ANALYZE');
    }
    for (const pspLatencyMs of options.latencies) {
      await fetch(`${simulator.url}/_sim/faults/stripe`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ latency: { distribution: 'fixed', meanMs: pspLatencyMs } }),
      });
      console.error(
        `[bench:payments] ${options.clients} clients, PSP latency ${pspLatencyMs} ms, ${options.seconds} s …`,
      );
      const cpuBefore = cpuSample(payrail.child.pid, simulator.child.pid);
      const load = await runLoad(payrail.url, merchant.secret_key, options, pspLatencyMs);
      const cpu = cpuPerPayment(
        cpuBefore,
        cpuSample(payrail.child.pid, simulator.child.pid),
        load.latencies.length,
      );
      const problems = [
        ...warmupProblems.splice(0),
        ...(await checkConsistency(database, simulator.url, load.ids)),
      ];
      results.push({
        pspLatencyMs,
        payments: load.ids.length,
        failures: load.failures,
        seconds: load.seconds,
        p50: percentile(load.latencies, 50),
        p99: percentile(load.latencies, 99),
        consistent: problems.length === 0 && load.failures === 0,
        problems,
        cpu,
      });
    }
    const report = await verifyLedger(database);
    console.log(
      `\nPayrail payments benchmark — ${os.cpus().length} CPUs, Node ${process.version}, ${options.clients} clients, ${options.seconds} s per run, log level warn`,
    );
    console.log('  psp latency  payments  failures  payments/s  p50 ms  p99 ms  consistent');
    for (const result of results) {
      console.log(
        `  ${String(result.pspLatencyMs).padStart(8)} ms  ${String(result.payments).padStart(8)}  ${String(result.failures).padStart(8)}  ${(result.payments / result.seconds).toFixed(0).padStart(10)}  ${result.p50.toFixed(1).padStart(6)}  ${result.p99.toFixed(1).padStart(6)}  ${result.consistent}`,
      );
      for (const problem of result.problems) console.log(`      ${problem}`);
    }
    console.log(
      '  CPU ms per payment (user + system): payrail  simulator  postgres  load generator',
    );
    for (const { pspLatencyMs, cpu } of results) {
      if (cpu === undefined) continue;
      console.log(
        `  ${String(pspLatencyMs).padStart(8)} ms ${cpu.payrail.toFixed(3).padStart(26)}  ${cpu.simulator.toFixed(3).padStart(9)}  ${cpu.postgres.toFixed(3).padStart(8)}  ${cpu.load.toFixed(3).padStart(14)}`,
      );
    }
    console.log(`  ledger verify: ${report.ok ? 'ok' : 'FAILED'} (${report.entries} entries)`);
    if (options.json) {
      for (const result of results) {
        console.log(
          JSON.stringify({
            bench: 'payments',
            payments_per_s: Math.round(result.payments / result.seconds),
            p50_ms: Number(result.p50.toFixed(1)),
            p99_ms: Number(result.p99.toFixed(1)),
            psp_latency_ms: result.pspLatencyMs,
            consistent: result.consistent && report.ok,
            clients: options.clients,
            seconds: options.seconds,
            risk: options.risk ? 'on' : 'off',
            cpus: os.cpus().length,
            ...(result.cpu === undefined
              ? {}
              : {
                  cpu_ms_per_payment: {
                    payrail: round3(result.cpu.payrail),
                    simulator: round3(result.cpu.simulator),
                    postgres: round3(result.cpu.postgres),
                    load: round3(result.cpu.load),
                  },
                }),
          }),
        );
      }
    }
    return results.every((result) => result.consistent) && report.ok ? 0 : 1;
  } finally {
    await payrail?.stop();
    await simulator?.stop();
    await database.close();
    await scratch.drop();
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
