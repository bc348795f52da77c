// Settlement (money out) benchmark against a real PostgreSQL and the PSP simulator.
//
//   npm run bench:settlement -- [--items 1000000] [--merchants 1000] [--refund-percent 10] [--json]
//
// Creates a throw-away database on the local PostgreSQL (--database-url / BENCH_DATABASE_URL,
// default postgres://postgres@127.0.0.1:5432/postgres) and starts the simulator as its own child
// process. Seeding (not timed, but real, in a child process of its own so that its memory is not
// counted as the pipeline's; its peak is reported as seed_peak_rss_mb): merchants with payout settings and sealed bank accounts
// (through the payouts service), captured payments and refunds as plain rows (generate_series),
// their ledger postings (capture:/fee:/refund:) through the payments' ledger outbox and poster,
// which also writes the settlement items (balance_transactions), and the same captures and
// refunds bulk-seeded into the simulator's acquirer. Timed: the clock is moved past the cutoff and
// the availability delay, then the money-out pipeline (src/money-out/runner.ts) runs its steps to
// completion: close, submit (and acknowledgement), availability, reserves, payouts create + send.
// Then verify: verifyLedger, verifyPayouts and the money-out checks below. Items are streamed in
// chunks everywhere: nothing holds all of them in memory.
//
// With --json the last line on stdout is one JSON object:
//   {"bench":"settlement","items":…,"items_per_s":…,"peak_rss_mb":…,"payouts":…,"verify":"ok",…}
// Exit status: 0 ok, 1 verify failed or an error, 2 bad arguments.
import http from 'node:http';
import os from 'node:os';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { clockFrom, type Clock } from '../src/clock.ts';
import { Ledger, verifyLedger } from '../src/ledger/index.ts';
import type { EventBus } from '../src/events/bus/index.ts';
import { noFaults } from '../src/fault-points.ts';
import { inClearingGroupSql } from '../src/balances/index.ts';
import { createMoneyOut, type MoneyOut } from '../src/money-out/index.ts';
import { verifyMoneyOut as verifyMoneyOutRecords } from '../src/money-out/verify.ts';
import { createLogger } from '../src/observability/logger.ts';
import { Metrics } from '../src/observability/metrics.ts';
import { PaymentLedger, storedTransfers } from '../src/payments/payment-ledger.ts';
import {
  directCapture,
  feeFor,
  feeTransfer,
  refundTransfer,
  type Movement,
} from '../src/payments/postings.ts';
import { textArrayLiteral } from '../src/storage/arrays.ts';
import { acknowledgedStatusesSql } from '../src/settlement/tables.ts';
import type { Database } from '../src/storage/database.ts';
import { migrate } from '../src/storage/migrations.ts';
import { openPostgres } from '../src/storage/postgres.ts';
import { startSimulatorProcess, type SimulatorProcess } from '../src/testmode/simulator-process.ts';
import { derivedKey, secretBoxFor, secretBoxPurposes } from '../src/vault/secret-box.ts';
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
export const benchConnectors = ['stripe', 'adyen', 'razorpay'] as const;
const currency = 'usd';
/** Our price for captures in usd (src/payments/merchant-settings.ts defaults). */
const price = { percentBps: 290n, fixedAmount: 30n };
/** Payments posted per outbox chunk during seeding. */
const seedChunk = 5_000;
/** The test account number the simulated bank pays (sim/CONTRACT.md). */
const paidAccountNumber = '000123456789';

// Monday 2026-03-02 12:00 UTC: the payments are captured then; the pipeline runs on Wednesday
// 2026-03-04 12:00 UTC, after Monday's and Tuesday's 18:00 cutoffs and after T+2 availability.
export const capturedAt = new Date('2026-03-02T12:00:00Z');
const authorizedAt = new Date('2026-03-02T11:59:00Z');
export const settledAt = new Date('2026-03-04T12:00:00Z');

export type SettlementBenchOptions = {
  readonly items: number;
  readonly merchants: number;
  /** Share of the items that are refunds (of earlier captures), in percent. */
  readonly refundPercent: number;
  readonly databaseUrl: string;
  readonly json: boolean;
  /** Print progress lines on stderr. */
  readonly verbose: boolean;
  /** Keep the database afterwards (to look at its plans), and print its name. */
  readonly keep?: boolean;
};

export type SettlementBenchResult = {
  readonly bench: 'settlement';
  readonly items: number;
  readonly items_per_s: number;
  readonly peak_rss_mb: number;
  readonly payouts: number;
  readonly verify: 'ok' | 'failed';
  readonly problems: readonly string[];
  readonly captures: number;
  readonly refunds: number;
  readonly merchants: number;
  readonly connectors: number;
  readonly timed_s: number;
  readonly seed_s: number;
  /** The seeding child process's peak resident set. */
  readonly seed_peak_rss_mb: number;
  readonly steps: Readonly<Record<string, number>>;
  readonly step_s: Readonly<Record<string, number>>;
  readonly verify_s: number;
  readonly simulator_peak_rss_mb: number | null;
  readonly cpus: number;
  readonly postgres: string;
};

const usage = `usage: node bench/settlement.ts [options]
  --items N            settlement items (captures and refunds), default 1000000
  --merchants N        merchants, default 1000
  --refund-percent N   share of the items that are refunds, default 10
  --database-url URL   server for the throw-away database (loopback only;
                       default $BENCH_DATABASE_URL or ${defaultDatabaseUrl})
  --json               end with one line of JSON
  --quiet              no progress lines on stderr
  --keep               keep the throw-away database (to look at plans) and print its name
  --help`;

export function parseOptions(argv: readonly string[]): SettlementBenchOptions | 'help' {
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
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const databaseUrl =
    values['database-url'] ?? process.env.BENCH_DATABASE_URL ?? defaultDatabaseUrl;
  localDatabaseUrl(databaseUrl);
  const items = integerOption(values.items, 'items', 1_000_000, 10, 4_000_000);
  const merchants = integerOption(values.merchants, 'merchants', 1_000, 1, 100_000);
  if (merchants > items) throw new UsageError('--merchants must not exceed --items');
  return {
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
// The item mix: payment k (1…captures) is captured; refund j (1…refunds) refunds payment j in
// part. Payment k belongs to merchant (k mod M) and connector (k mod 3). Amounts are a function
// of k, computed the same way in SQL and here.

export type Mix = { captures: number; refunds: number; merchants: number };

export function mixOf(
  options: Pick<SettlementBenchOptions, 'items' | 'merchants' | 'refundPercent'>,
): Mix {
  const refunds = Math.floor((options.items * options.refundPercent) / 100);
  return { captures: options.items - refunds, refunds, merchants: options.merchants };
}

const merchantIdSql = (k: string) => `'mch_bench' || lpad((${k} % $1)::text, 8, '0')`;
const connectorSql = (k: string) =>
  `(ARRAY['${benchConnectors.join("','")}'])[(${k} % ${benchConnectors.length}) + 1]`;
const amountSql = (k: string) => `(500 + (${k}::bigint * 7919) % 99500)`;
const refundAmountSql = (k: string) => `(${amountSql(k)} / 2)`;

function merchantId(k: number, merchants: number): string {
  return `mch_bench${String(k % merchants).padStart(8, '0')}`;
}
function connectorOf(k: number): string {
  return benchConnectors[k % benchConnectors.length] as string;
}
function amountOf(k: number): bigint {
  return 500n + ((BigInt(k) * 7919n) % 99500n);
}
function refundAmountOf(k: number): bigint {
  return amountOf(k) / 2n;
}
const attemptId = (k: number) => `pa_bench${k}`;
const refundId = (j: number) => `re_bench${j}`;
/** The PSP's payment id of payment k (what the acquirer knows it by). */
function pspPaymentId(k: number): string {
  return `${pspPrefix(connectorOf(k)).payment}bench${k}`;
}
function pspRefundId(j: number): string {
  return `${pspPrefix(connectorOf(j)).refund}bench${j}`;
}
function pspPrefix(connector: string): { payment: string; refund: string } {
  switch (connector) {
    case 'stripe':
      return { payment: 'pi_', refund: 're_' };
    case 'razorpay':
      return { payment: 'pay_', refund: 'rfnd_' };
    default:
      return { payment: 'ADY', refund: 'ADYR' };
  }
}
const pspPaymentIdSql = (k: string) =>
  `(CASE ${k} % 3 WHEN 0 THEN 'pi_' WHEN 1 THEN 'ADY' ELSE 'pay_' END) || 'bench' || ${k}`;
const pspRefundIdSql = (k: string) =>
  `(CASE ${k} % 3 WHEN 0 THEN 're_' WHEN 1 THEN 'ADYR' ELSE 'rfnd_' END) || 'bench' || ${k}`;

// ---------------------------------------------------------------------------------------------
// Seeding

export type Services = {
  database: Database;
  clock: Clock;
  setNow: (now: Date) => void;
  ledger: Ledger;
  paymentLedger: PaymentLedger;
  /** Settlement, PSP reports, bank statements, balances and payouts, as the runtime wires them. */
  moneyOut: MoneyOut;
};

// Events (payout.created …) are written to the outbox in the product's transactions; nothing
// consumes them here, so the bus is only ever told that some may be waiting.
const quietBus = { notify: () => {} } as unknown as EventBus;

export function services(database: Database, simulatorUrl: string): Services {
  let now = capturedAt;
  const clock = clockFrom(() => now);
  const ledger = new Ledger(database, { clock });
  const problems: string[] = [];
  const paymentLedger = new PaymentLedger(ledger, database, {
    clock,
    onProblem: (problem) => problems.push(`${problem.transferId}: ${problem.message}`),
  });
  const masterKey = Buffer.alloc(32, 7);
  const moneyOut = createMoneyOut({
    database,
    ledger,
    clock,
    connectors: [...benchConnectors],
    simulatorUrl,
    pspTimeoutMs: 600_000,
    bankAccountKeys: {
      secretBox: secretBoxFor(masterKey, secretBoxPurposes.bankAccountNumber),
      fingerprintKey: derivedKey(masterKey, 'payouts.bank-account-fingerprint'),
    },
    faults: noFaults,
    metrics: new Metrics(),
    events: quietBus,
    logger: createLogger('warn'),
  });
  return {
    database,
    clock,
    setNow: (next) => {
      now = next;
    },
    ledger,
    paymentLedger,
    moneyOut,
  };
}

export async function seedMerchants(parts: Services, mix: Mix): Promise<void> {
  await parts.database.query(
    `INSERT INTO merchants (id, name, created_at)
     SELECT ${merchantIdSql('i')}, 'Bench merchant ' || i, $2 FROM generate_series(0, $1 - 1) AS i`,
    [mix.merchants, capturedAt],
  );
  // Through the payouts service: settings validated, bank account numbers sealed.
  const queue = Array.from({ length: mix.merchants }, (_, index) => index);
  const worker = async () => {
    for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
      const id = merchantId(index, mix.merchants);
      await parts.moneyOut.payouts.updateSettingsAsOperator(id, {
        delayDays: 2,
        schedule: 'daily',
      });
      await parts.moneyOut.payouts.createBankAccount(id, {
        currency,
        country: 'US',
        accountHolderName: `Bench merchant ${index}`,
        routingNumber: '110000000',
        accountNumber: paidAccountNumber,
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** The payments and refunds as the payments module leaves them: plain rows, set-based. */
export async function seedPaymentRows(parts: Services, mix: Mix): Promise<void> {
  const chunk = 200_000;
  for (let from = 1; from <= mix.captures; from += chunk) {
    const to = Math.min(mix.captures, from + chunk - 1);
    const refunded = `(CASE WHEN k <= $4 THEN ${refundAmountSql('k')} ELSE 0 END)`;
    await parts.database.query(
      `INSERT INTO payment_intents (id, merchant_id, amount, currency, status, capture_method, connector,
          amount_received, amount_refunded, client_secret, created_at, updated_at)
       SELECT 'pi_bench' || k, ${merchantIdSql('k')}, ${amountSql('k')}, '${currency}', 'succeeded', 'automatic',
              ${connectorSql('k')}, ${amountSql('k')}, ${refunded}, 'pi_bench' || k || '_secret_bench', $5, $5
         FROM generate_series($2::int, $3::int) AS k`,
      [mix.merchants, from, to, mix.refunds, authorizedAt],
    );
    await parts.database.query(
      `INSERT INTO payment_attempts (id, payment_intent_id, merchant_id, connector, status, amount, currency,
          capture_method, psp_idempotency_key, psp_reference, amount_authorized, amount_captured, created_at, updated_at)
       SELECT 'pa_bench' || k, 'pi_bench' || k, ${merchantIdSql('k')}, ${connectorSql('k')}, 'captured',
              ${amountSql('k')}, '${currency}', 'automatic', 'bench-' || k, ${pspPaymentIdSql('k')},
              ${amountSql('k')}, ${amountSql('k')}, $4, $4
         FROM generate_series($2::int, $3::int) AS k`,
      [mix.merchants, from, to, authorizedAt],
    );
  }
  for (let from = 1; from <= mix.refunds; from += chunk) {
    const to = Math.min(mix.refunds, from + chunk - 1);
    await parts.database.query(
      `INSERT INTO refunds (id, merchant_id, payment_intent_id, attempt_id, amount, currency, status,
          psp_idempotency_key, psp_reference, created_at, updated_at)
       SELECT 're_bench' || k, ${merchantIdSql('k')}, 'pi_bench' || k, 'pa_bench' || k, ${refundAmountSql('k')},
              '${currency}', 'succeeded', 'bench-refund-' || k, ${pspRefundIdSql('k')}, $4, $4
         FROM generate_series($2::int, $3::int) AS k`,
      [mix.merchants, from, to, capturedAt],
    );
  }
}

/**
 * The ledger postings, as the payments module makes them: written to the ledger outbox (one row
 * per capture with its fee, one per refund), then posted by the group-committing poster, which
 * writes the settlement items in the same transaction.
 */
export async function seedPostings(
  parts: Services,
  mix: Mix,
  log: (line: string) => void,
  /** Runs once after the chunk that posts capture `afterCapture` (bench/recon.ts: the next day). */
  between?: { readonly afterCapture: number; readonly run: () => Promise<void> },
): Promise<void> {
  const total = mix.captures + mix.refunds;
  let done = 0;
  let lastLog = performance.now();
  const postChunk = async (
    rows: { movement: Movement; transfers: ReturnType<typeof storedTransfers> }[],
  ) => {
    const inserted = await parts.database.query<{ id: bigint }>(
      `INSERT INTO ledger_outbox (merchant_id, connector, currency, transfers, created_at)
       SELECT merchant_id, connector, currency, transfers::jsonb, $5
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
           WITH ORDINALITY AS input (merchant_id, connector, currency, transfers, position)
        ORDER BY position
       RETURNING id`,
      [
        textArrayLiteral(rows.map((row) => row.movement.merchantId)),
        textArrayLiteral(rows.map((row) => row.movement.connector)),
        textArrayLiteral(rows.map((row) => row.movement.currency)),
        textArrayLiteral(rows.map((row) => JSON.stringify(row.transfers))),
        parts.clock.now(),
      ],
    );
    await parts.paymentLedger.afterCommit(
      inserted.rows.map((row, index) => ({
        id: row.id,
        movement: (rows[index] as { movement: Movement }).movement,
      })),
    );
    done += rows.length;
    if (performance.now() - lastLog > 10_000) {
      lastLog = performance.now();
      log(`  posted ${done}/${total}`);
    }
  };
  // As in a running system, where the money-out worker keeps an intake batch open per connector
  // and currency: the first capture of each connector comes before any intake batch (it is written
  // 'unbatched'), a close at the time of the captures opens the intake batches, and every later
  // item goes straight into one.
  const first = Math.min(benchConnectors.length, mix.captures);
  for (let from = 1; from <= mix.captures;) {
    const rows = [];
    let to = from === 1 ? first + 1 : Math.min(mix.captures + 1, from + seedChunk);
    if (between !== undefined && from <= between.afterCapture)
      to = Math.min(to, between.afterCapture + 1);
    for (let k = from; k < to; k++) {
      const movement = {
        merchantId: merchantId(k, mix.merchants),
        connector: connectorOf(k),
        currency,
      };
      const amount = amountOf(k);
      rows.push({
        movement,
        transfers: storedTransfers([
          directCapture(attemptId(k), movement, amount),
          feeTransfer(attemptId(k), movement, feeFor(amount, price)),
        ]),
      });
    }
    await postChunk(rows);
    if (from === 1) await parts.moneyOut.settlement.closeDue(capturedAt);
    if (between !== undefined && to === between.afterCapture + 1) await between.run();
    from = to;
  }
  for (let from = 1; from <= mix.refunds; from += seedChunk) {
    const rows = [];
    for (let j = from; j < Math.min(mix.refunds + 1, from + seedChunk); j++) {
      const movement = {
        merchantId: merchantId(j, mix.merchants),
        connector: connectorOf(j),
        currency,
      };
      rows.push({
        movement,
        transfers: storedTransfers([refundTransfer(refundId(j), movement, refundAmountOf(j))]),
      });
    }
    await postChunk(rows);
  }
}

/** The captures and refunds, streamed to the simulator's acquirer (POST /_sim/ground_truth/bulk). */
export async function seedSimulator(simulatorUrl: string, mix: Mix): Promise<number> {
  const url = new URL(`${simulatorUrl}/_sim/ground_truth/bulk`);
  return new Promise<number>((resolve, reject) => {
    const request = http.request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/x-ndjson' } },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (text: string) => (body += text));
        response.on('end', () => {
          if (response.statusCode !== 200)
            reject(new Error(`bulk seeding: ${response.statusCode} ${body.slice(0, 300)}`));
          else resolve((JSON.parse(body) as { seeded: number }).seeded);
        });
      },
    );
    request.on('error', reject);
    const authorized = authorizedAt.toISOString();
    function* lines(): Generator<string> {
      let buffer = '';
      for (let k = 1; k <= mix.captures; k++) {
        buffer += `{"psp":"${connectorOf(k)}","psp_reference":"${pspPaymentId(k)}","type":"capture","amount":${amountOf(k)},"currency":"${currency}","authorized_at":"${authorized}","reference":"${attemptId(k)}"}\n`;
        if (buffer.length > 65_536) {
          yield buffer;
          buffer = '';
        }
      }
      for (let j = 1; j <= mix.refunds; j++) {
        buffer += `{"psp":"${connectorOf(j)}","psp_reference":"${pspRefundId(j)}","type":"refund","amount":${refundAmountOf(j)},"currency":"${currency}","reference":"${refundId(j)}","payment_reference":"${pspPaymentId(j)}"}\n`;
        if (buffer.length > 65_536) {
          yield buffer;
          buffer = '';
        }
      }
      if (buffer !== '') yield buffer;
    }
    const source = lines();
    const pump = () => {
      for (;;) {
        const next = source.next();
        if (next.done === true) {
          request.end();
          return;
        }
        if (!request.write(next.value)) {
          request.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

type SeedJob = {
  readonly items: number;
  readonly merchants: number;
  readonly refundPercent: number;
  readonly databaseUrl: string;
  readonly simulatorUrl: string;
  readonly verbose: boolean;
};
type SeedResult = { readonly seed_s: number; readonly peak_rss_mb: number };
const seedJobVariable = 'PAYRAIL_BENCH_SEED_JOB';

/** Seeds the database and the simulator (merchants, payments, their postings and items). */
async function seedAll(job: SeedJob, log: (line: string) => void): Promise<SeedResult> {
  const mix = mixOf(job);
  const database = openPostgres({
    connectionString: job.databaseUrl,
    poolSize: 8,
    applicationName: 'payrail-bench-seed',
  });
  try {
    const parts = services(database, job.simulatorUrl);
    const started = performance.now();
    await seedMerchants(parts, mix);
    log(`seeded ${mix.merchants} merchants (settings, bank accounts) (${memoryNow()})`);
    await seedPaymentRows(parts, mix);
    log(`seeded ${mix.captures} payments, ${mix.refunds} refunds`);
    const seeded = await seedSimulator(job.simulatorUrl, mix);
    log(`simulator knows ${seeded} captures and refunds (${memoryNow()})`);
    await seedPostings(parts, mix, log);
    await database.query('ANALYZE');
    log(`seeded (${memoryNow()})`);
    return { seed_s: round2((performance.now() - started) / 1000), peak_rss_mb: peakRssMb() };
  } finally {
    await database.close();
  }
}

/** Runs `seedAll` in a child process (this script, with the job in its environment). */
async function seedInChild(
  options: SettlementBenchOptions,
  databaseUrl: string,
  simulatorUrl: string,
  log: (line: string) => void,
): Promise<SeedResult> {
  const job: SeedJob = {
    items: options.items,
    merchants: options.merchants,
    refundPercent: options.refundPercent,
    databaseUrl,
    simulatorUrl,
    verbose: options.verbose,
  };
  return seedInChildProcess<SeedResult>(import.meta.filename, seedJobVariable, job, log);
}

// ---------------------------------------------------------------------------------------------
// The timed part: the money-out pipeline's steps, run to completion

// ---------------------------------------------------------------------------------------------
// Verify

type Truth = {
  bank: {
    payouts: Record<string, { executions: number; amount: number; status: string }>;
  };
  acquirer: { batches: Record<string, { executions: number; accepted_count: number }> };
};

async function verifyMoneyOut(
  database: Database,
  simulatorUrl: string,
  mix: Mix,
): Promise<{ problems: string[]; payouts: number }> {
  const problems: string[] = [];
  const one = async <R extends Record<string, unknown>>(sql: string, values: unknown[] = []) =>
    (await database.query<R>(sql, values)).rows[0] as R;
  // Per currency the ledger's entries sum to zero.
  const sums = await database.query<{ currency: string; debits: bigint; credits: bigint }>(
    `SELECT currency, sum(posted_debits)::bigint AS debits, sum(posted_credits)::bigint AS credits
       FROM ledger_accounts GROUP BY currency`,
  );
  for (const row of sums.rows)
    if (BigInt(row.debits) !== BigInt(row.credits))
      problems.push(`${row.currency}: debits ${row.debits} ≠ credits ${row.credits}`);
  // Every item exists, was accepted (still 'batched' in an acknowledged batch) and is available
  // (its own availability_id or its clearing group's, as src/balances availabilityIdSql reads it).
  const items = await one<{ items: number; accepted: number; available: number }>(
    `SELECT count(*)::int AS items,
            (count(*) FILTER (WHERE bt.clearing_status = 'batched'
                                AND batch.status IN ${acknowledgedStatusesSql}))::int AS accepted,
            (count(*) FILTER (WHERE coalesce(bt.availability_id, g.availability_id) IS NOT NULL))::int AS available
       FROM balance_transactions bt
       LEFT JOIN settlement_batches batch ON batch.id = bt.batch_id
       LEFT JOIN clearing_groups g ON ${inClearingGroupSql('bt', 'g')}
      WHERE bt.type IN ('charge', 'refund')`,
  );
  const expected = mix.captures + mix.refunds;
  if (items.items !== expected) problems.push(`${items.items} items, expected ${expected}`);
  if (items.accepted !== expected) problems.push(`${items.accepted} of ${expected} items accepted`);
  if (items.available !== expected)
    problems.push(`${items.available} of ${expected} items available`);
  // Payouts: their sum is what the ledger moved to in-transit, and the merchants' available
  // balances are empty (no reserve, no minimum: every payable unit was paid out).
  const payouts = await one<{ count: number; amount: bigint | null; in_transit: number }>(
    `SELECT count(*)::int AS count, sum(amount)::bigint AS amount,
            (count(*) FILTER (WHERE status IN ('in_transit', 'paid')))::int AS in_transit FROM payouts`,
  );
  const moved = await one<{ credits: bigint | null }>(
    `SELECT sum(posted_credits)::bigint AS credits FROM ledger_accounts WHERE id LIKE 'platform:payouts_in_transit:%'`,
  );
  const payoutSum = BigInt(payouts.amount ?? 0n);
  if (payoutSum !== BigInt(moved.credits ?? 0n))
    problems.push(`payouts sum to ${payoutSum}, the ledger moved ${moved.credits} to in transit`);
  if (payouts.count !== mix.merchants)
    problems.push(`${payouts.count} payouts for ${mix.merchants} merchants`);
  if (payouts.in_transit !== payouts.count)
    problems.push(`${payouts.count - payouts.in_transit} payouts neither in transit nor paid`);
  // The PSPs' reports were read (their fee posted) and the bank's statement funded every batch
  // (but the intake batches the close opened for the next cutoff).
  const batches = await one<{ count: number; unreported: number; unfunded: number }>(
    `SELECT count(*)::int AS count, (count(*) FILTER (WHERE psp_fee IS NULL))::int AS unreported,
            (count(*) FILTER (WHERE status <> 'funded'))::int AS unfunded
       FROM settlement_batches WHERE NOT intake_open`,
  );
  if (batches.count === 0) problems.push('no settlement batch');
  if (batches.unreported > 0) problems.push(`${batches.unreported} batches without a PSP report`);
  if (batches.unfunded > 0) problems.push(`${batches.unfunded} batches not funded`);
  const left = await one<{ available: bigint | null }>(
    `SELECT sum(posted_credits - posted_debits - pending_debits)::bigint AS available
       FROM ledger_accounts WHERE id LIKE 'merchant:%:available:%'`,
  );
  if (BigInt(left.available ?? 0n) !== 0n)
    problems.push(`${left.available} left in the merchants' available balances`);
  // What merchants were paid is what their items netted (amount − our fee, less refunds).
  const nets = await one<{ net: bigint | null }>(
    `SELECT sum(net)::bigint AS net FROM balance_transactions WHERE type IN ('charge', 'refund')`,
  );
  if (BigInt(nets.net ?? 0n) !== payoutSum)
    problems.push(`the items net ${nets.net}, the payouts sum to ${payoutSum}`);
  // The simulator: every batch and payout executed once; its payouts are ours.
  const response = await fetch(`${simulatorUrl}/_sim/ground_truth/money_out?items=false`);
  if (!response.ok) problems.push(`ground truth: ${response.status}`);
  else {
    const truth = (await response.json()) as Truth;
    let accepted = 0;
    for (const [id, batch] of Object.entries(truth.acquirer.batches)) {
      if (batch.executions !== 1) problems.push(`batch ${id} executed ${batch.executions} times`);
      accepted += batch.accepted_count;
    }
    if (accepted !== expected) problems.push(`the acquirer accepted ${accepted} of ${expected}`);
    let bankSum = 0n;
    let bankCount = 0;
    for (const [id, payout] of Object.entries(truth.bank.payouts)) {
      bankCount++;
      bankSum += BigInt(payout.amount);
      if (payout.executions !== 1)
        problems.push(`payout ${id} executed ${payout.executions} times`);
      if (payout.status !== 'paid') problems.push(`payout ${id} is ${payout.status} at the bank`);
    }
    if (bankCount !== payouts.count)
      problems.push(`the bank has ${bankCount} payouts, Payrail ${payouts.count}`);
    if (bankSum !== payoutSum)
      problems.push(`the bank's payouts sum to ${bankSum}, ours to ${payoutSum}`);
  }
  return { problems, payouts: payouts.count };
}

// ---------------------------------------------------------------------------------------------

/** The process's memory now (resident, V8 heap, buffers) and its peak resident set so far. */
export function memoryNow(): string {
  const usage = process.memoryUsage();
  const mb = (bytes: number) => Math.round(bytes / 1_048_576);
  return `rss ${mb(usage.rss)} MB, heap ${mb(usage.heapUsed)}/${mb(usage.heapTotal)} MB, external ${mb(usage.external)} MB, buffers ${mb(usage.arrayBuffers)} MB, peak ${peakRssMb()} MB`;
}

export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** The child's peak resident set (VmHWM), where /proc exists. */
export function childPeakRssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match === null ? null : Math.round(Number(match[1]) / 1024);
  } catch {
    return null;
  }
}

export async function runSettlementBench(
  options: SettlementBenchOptions,
  log: (line: string) => void = () => {},
): Promise<SettlementBenchResult> {
  const mix = mixOf(options);
  let scratch: ScratchDatabase | undefined;
  let database: Database | undefined;
  let simulator: SimulatorProcess | undefined;
  try {
    scratch = await createScratchDatabase(options.databaseUrl);
    log(`database ${scratch.name}`);
    if (process.env.BENCH_AUTO_EXPLAIN_MS !== undefined) {
      const admin = openPostgres({ connectionString: scratch.url, poolSize: 1 });
      await admin.query(
        `ALTER DATABASE ${scratch.name} SET session_preload_libraries = 'auto_explain'`,
      );
      await admin.query(
        `ALTER DATABASE ${scratch.name} SET auto_explain.log_min_duration = '${Number(process.env.BENCH_AUTO_EXPLAIN_MS)}ms'`,
      );
      await admin.query(`ALTER DATABASE ${scratch.name} SET auto_explain.log_analyze = on`);
      await admin.close();
    }
    database = openPostgres({
      connectionString: scratch.url,
      poolSize: 8,
      applicationName: 'payrail-bench',
    });
    await migrate(database);
    simulator = await startSimulatorProcess(0);
    log(`simulator ${simulator.url}`);
    // Seeding runs in a child process of its own: it is the fixture, not the work measured, and
    // the memory it leaves behind (V8 grows its heap for the posting burst) is not the pipeline's.
    const seed = await seedInChild(options, scratch.url, simulator.url, log);
    log(`seeding took ${seed.seed_s} s (seeding process peak ${seed.peak_rss_mb} MB)`);
    const parts = services(database, simulator.url);

    parts.setNow(settledAt);
    const stepSeconds: Record<string, number> = {};
    let stepStarted = performance.now();
    const started = performance.now();
    const steps = await parts.moneyOut.run('all', {
      onProgress: (progress) => {
        if (!progress.finished) return;
        stepSeconds[progress.step] = (performance.now() - stepStarted) / 1000;
        log(
          `  ${progress.step}: ${progress.done} ${progress.unit} in ${stepSeconds[progress.step]?.toFixed(1)} s (${memoryNow()})`,
        );
        stepStarted = performance.now();
      },
    });
    const timedSeconds = (performance.now() - started) / 1000;
    log(`pipeline took ${timedSeconds.toFixed(1)} s`);

    const verifyStarted = performance.now();
    const ledgerReport = await verifyLedger(database);
    const records = await verifyMoneyOutRecords(database);
    const moneyOut = await verifyMoneyOut(database, simulator.url, mix);
    const problems = [...ledgerReport.problems, ...records.problems, ...moneyOut.problems];
    const verifySeconds = (performance.now() - verifyStarted) / 1000;
    const version = await database.query<{ version: string }>(
      `SELECT current_setting('server_version') AS version`,
    );
    const items = mix.captures + mix.refunds;
    return {
      bench: 'settlement',
      items,
      items_per_s: Math.round(items / timedSeconds),
      peak_rss_mb: peakRssMb(),
      payouts: moneyOut.payouts,
      verify: problems.length === 0 && ledgerReport.ok ? 'ok' : 'failed',
      problems: problems.slice(0, 20),
      captures: mix.captures,
      refunds: mix.refunds,
      merchants: mix.merchants,
      connectors: benchConnectors.length,
      timed_s: round2(timedSeconds),
      seed_s: seed.seed_s,
      seed_peak_rss_mb: seed.peak_rss_mb,
      steps,
      step_s: Object.fromEntries(
        Object.entries(stepSeconds).map(([step, seconds]) => [step, round2(seconds)]),
      ),
      verify_s: round2(verifySeconds),
      simulator_peak_rss_mb: childPeakRssMb(simulator.child.pid),
      cpus: os.cpus().length,
      postgres: version.rows[0]?.version ?? 'unknown',
    };
  } finally {
    await simulator?.stop().catch(() => {});
    await database?.close().catch(() => {});
    if (options.keep === true) log(`kept database ${scratch?.name}`);
    else
      await scratch?.drop().catch((error: unknown) => {
        log(`could not drop ${scratch?.name}: ${String(error)}`);
      });
  }
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

export function main(argv: readonly string[]): Promise<number> {
  return benchMain({
    name: 'bench:settlement',
    argv,
    seedJobVariable,
    seed: (job, log) => seedAll(JSON.parse(job) as SeedJob, log),
    parseOptions,
    usage,
    run: runSettlementBench,
    report: printResult,
  });
}

function printResult(result: SettlementBenchResult, options: SettlementBenchOptions): number {
  console.log(
    `settlement: ${result.items} items (${result.captures} captures, ${result.refunds} refunds), ` +
      `${result.merchants} merchants, ${result.connectors} connectors`,
  );
  console.log(`  pipeline   ${result.timed_s} s, ${result.items_per_s} items/s`);
  for (const [step, seconds] of Object.entries(result.step_s))
    console.log(`    ${step.padEnd(18)} ${String(result.steps[step]).padStart(9)}  ${seconds} s`);
  console.log(`  payouts    ${result.payouts}`);
  console.log(
    `  peak RSS   ${result.peak_rss_mb} MB (simulator ${result.simulator_peak_rss_mb ?? '?'} MB)`,
  );
  console.log(`  verify     ${result.verify} in ${result.verify_s} s`);
  for (const problem of result.problems) console.log(`             ${problem}`);
  if (options.json) {
    const { bench, items, items_per_s, peak_rss_mb, payouts, verify, ...rest } = result;
    console.log(
      JSON.stringify({ bench, items, items_per_s, peak_rss_mb, payouts, verify, ...rest }),
    );
  }
  return result.verify === 'ok' ? 0 : 1;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
