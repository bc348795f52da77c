// A chaos run, start to finish: processes up (scratch PostgreSQL database, private NATS, the
// simulator, Payrail's API and worker), merchants with webhook endpoints, the mixed load under PSP
// faults, kills and a NATS restart, then faults off, everything settled, and the checks. Used by
// `npm run chaos` (run.ts) and by the short version in `npm test` (chaos.test.ts).
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createScratchDatabase, type ScratchDatabase } from '../../bench/support.ts';
import { verifyLedger, type VerifyReport } from '../../src/ledger/index.ts';
import { configureSimulatorWebhooks } from '../../src/testmode/simulator.ts';
import type { Database } from '../../src/storage/database.ts';
import { openPostgres } from '../../src/storage/postgres.ts';
import {
  checkAnswers,
  checkMoney,
  checkMoneyOut,
  checkReconciliation,
  checkTerminal,
  doubleChargeKinds,
  doublePayoutKinds,
  doubleSubmissionKinds,
  expectedReconciliation,
  Findings,
  lateCredits,
  lostKinds,
  mismatchKinds,
  missingEvents,
  moneyOutLostKinds,
  payoutMismatchKinds,
  type AttemptRow,
  type ReconScore,
  type GroundTruth,
  type IntentRow,
  type RefundRow,
} from './checks.ts';
import { newClientStats, PayrailClient, type ClientStats, type Json } from './client.ts';
import {
  clearPspFaults,
  defaultPspFaults,
  planChaos,
  planStorms,
  runChaos,
  runStorms,
  setPspFaults,
  type ChaosLog,
} from './faults.ts';
import { newLoadStats, runLoad, type IntentRecord, type LoadStats } from './flows.ts';
import {
  moneyOutTruth,
  readMoneyOut,
  runMoneyOutDays,
  setUpPayouts,
  type MoneyOutStats,
} from './money-out.ts';
import {
  freePort,
  makeRunDirectory,
  natsProcess,
  payrailProcess,
  simulatorProcess,
  type ManagedProcess,
  type RunDirectory,
} from './processes.ts';
import { seededRandom, type Random } from './random.ts';
import { runReconciliation, type ReconciliationRead } from './reconciliation.ts';
import { addDays } from '../../sim/money-out/common.ts';
import { startWebhookReceiver, type WebhookReceiver } from './receiver.ts';
import { listAll, settleEverything, type MerchantHandle, type SettleStats } from './settle.ts';

export type ChaosOptions = {
  readonly seconds: number;
  readonly clients: number;
  readonly kills: number;
  readonly natsRestarts: number;
  readonly seed: number;
  readonly merchants: number;
  /** jetstream: API + `payrail worker` on a private NATS; embedded: the API alone, workers in-process. */
  readonly mode: 'jetstream' | 'embedded';
  readonly databaseUrl: string;
  /** Share of valid webhook deliveries the receiver answers 500 (retried by Payrail). */
  readonly webhookFailureRate: number;
  readonly settleTimeoutMs: number;
  readonly webhookTimeoutMs: number;
  /** Progress lines on stderr, and Payrail's error lines echoed. */
  readonly verbose: boolean;
  /** Keep the run directory (process logs) even when the run passes. */
  readonly keepLogs: boolean;
  /** Days the test clock moves through after the load (cutoffs, availability, payouts). */
  readonly moneyOutDays: number;
  /** SIGKILLs of the API or the worker during those days' pipeline runs. */
  readonly moneyOutKills: number;
  /** Acquirer and bank faults (lost answers, 5xx, split and late statement lines) during those days. */
  readonly moneyOutFaults: boolean;
  /**
   * The simulator's reconciliation seeding during those days; after the drain a reconciliation
   * run must raise exactly what it injected (the check `reconciliation`).
   */
  readonly reconciliationSeeding: boolean;
};

export const defaultChaosOptions: ChaosOptions = {
  seconds: 60,
  clients: 8,
  kills: 4,
  natsRestarts: 1,
  seed: 1,
  merchants: 2,
  mode: 'jetstream',
  databaseUrl:
    process.env.CHAOS_DATABASE_URL ??
    process.env.TEST_DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/postgres',
  webhookFailureRate: 0.05,
  settleTimeoutMs: 60_000,
  webhookTimeoutMs: 120_000,
  verbose: true,
  keepLogs: false,
  moneyOutDays: 6,
  moneyOutKills: 3,
  moneyOutFaults: true,
  reconciliationSeeding: true,
};

export type ChaosSummary = {
  chaos: 'ok' | 'failed';
  payments: number;
  kills: number;
  double_charges: number;
  lost: number;
  ledger: 'ok' | 'failed';
  webhooks_missing: number;
  non_terminal: number;
  mismatches: number;
  invalid_signatures: number;
  crashes: number;
  nats_restarts: number;
  refunds: number;
  events: number;
  /** Money out (issue 11): batches the acquirer executed more than once (or items accepted twice). */
  double_submissions: number;
  /** Payouts the bank executed more than once, or that Payrail never made. */
  double_payouts: number;
  /** Payouts whose outcome at the bank and in the ledger disagree (also in total per currency). */
  payout_mismatches: number;
  /** Batches, items or payouts left unfinished after the drain. */
  money_out_lost: number;
  /** Reconciliation (issue 12): exceptions the run should have raised and did not (recall < 100 %). */
  reconciliation_missed: number;
  /** Exceptions the run raised that nothing injected or faulted calls for (precision < 100 %). */
  reconciliation_unexpected: number;
  /** Discrepancies the simulator injected (splits included, which raise nothing). */
  reconciliation_injected: number;
  /** Open exceptions after the run. */
  reconciliation_exceptions: number;
  batches: number;
  payouts: number;
  money_out_kills: number;
  seed: number;
  seconds: number;
  clients: number;
  mode: ChaosOptions['mode'];
};

export type ChaosResult = {
  readonly summary: ChaosSummary;
  readonly findings: Findings;
  readonly ledger: VerifyReport | undefined;
  readonly chaos: ChaosLog;
  readonly load: LoadStats;
  readonly client: ClientStats;
  readonly settle: SettleStats | undefined;
  readonly moneyOut: MoneyOutStats | undefined;
  readonly reconciliation: ReconciliationRead | undefined;
  /** With the settlement credits the bank's lateRate fault booked late (expected `late` exceptions). */
  readonly reconciliationScore: (ReconScore & { lateCredits: number }) | undefined;
  readonly receiver: WebhookReceiver['stats'];
  readonly webhookWaitSeconds: number;
  readonly webhookLag: WebhookLag | undefined;
  /** Payrail's intents and attempts by final status (what the faults led to). */
  readonly statuses: {
    intents: Record<string, number>;
    attempts: Record<string, number>;
    syncedAttempts: number;
    pspWebhooks: number;
  };
  readonly logDirectory: string | undefined;
  readonly errors: string[];
};

type Processes = {
  nats: ManagedProcess | undefined;
  simulator: ManagedProcess;
  api: ManagedProcess;
  worker: ManagedProcess | undefined;
};

const stringId = (value: unknown) => String(value);

function payrailEnvironment(
  options: ChaosOptions,
  scratch: ScratchDatabase,
  simulatorUrl: string,
  natsUrl: string | undefined,
  adminKey: string,
  masterKey: string,
): Record<string, string> {
  return {
    DATABASE_URL: scratch.url,
    PAYRAIL_SIMULATOR_URL: simulatorUrl,
    PAYRAIL_ADMIN_KEY: adminKey,
    PAYRAIL_VAULT_MASTER_KEY: masterKey,
    LOG_LEVEL: 'warn',
    PAYRAIL_PSP_TIMEOUT_MS: '1500',
    PAYRAIL_IDEMPOTENCY_LEASE_MS: '4000',
    PAYRAIL_DB_POOL_SIZE: '10',
    // The chaos clients fire faster than a merchant may; 429s would only slow the run down.
    PAYRAIL_RATE_LIMITS: 'off',
    // Short schedules, so that what the faults leave unresolved is resolved within the run.
    PAYRAIL_WEBHOOK_RETRY_SCHEDULE_MS: '250,500,1000,1000,2000,2000,2000,2000,3000,3000,3000,3000',
    PAYRAIL_SYNC_SCHEDULE_MS: '3000,3000,5000',
    PAYRAIL_SYNC_INTERVAL_MS: '1000',
    // What a killed worker held comes back within seconds: its JetStream messages and its webhook leases.
    PAYRAIL_CONSUMER_ACK_WAIT_MS: '4000',
    PAYRAIL_WEBHOOK_TIMEOUT_MS: '2000',
    PAYRAIL_WEBHOOK_ALLOW_LOOPBACK: '1', // the webhook receiver is on 127.0.0.1
    // An authorization the PSP never received (three 5xx) is failed after 15 s, not 10 minutes.
    PAYRAIL_NEVER_SEEN_AFTER_MS: '15000',
    // The money-out days move the system's test clock; workers run the pipeline every second.
    PAYRAIL_TEST_CLOCKS: 'true',
    PAYRAIL_MONEY_OUT_INTERVAL_MS: '1000',
    ...(natsUrl === undefined
      ? {}
      : {
          NATS_URL: natsUrl,
          PAYRAIL_NATS_STREAM: `CHAOS_${crypto.randomBytes(4).toString('hex')}`,
        }),
  };
}

async function startProcesses(
  options: ChaosOptions,
  run: RunDirectory,
  scratch: ScratchDatabase,
  processes: Partial<Processes>,
): Promise<Processes> {
  if (options.mode === 'jetstream') {
    processes.nats = natsProcess(run, await freePort());
    await processes.nats.start();
  }
  processes.simulator = simulatorProcess(run);
  await processes.simulator.start();
  const natsUrl =
    processes.nats === undefined ? undefined : `nats://127.0.0.1:${processes.nats.spec.args[3]}`;
  const env = payrailEnvironment(
    options,
    scratch,
    processes.simulator.url,
    natsUrl,
    `chaos_${crypto.randomBytes(16).toString('hex')}`,
    crypto.randomBytes(32).toString('base64'),
  );
  const quiet = !options.verbose;
  // The API keeps its port across restarts: merchants, the webhook receiver's sender and the PSPs' webhooks use it.
  processes.api = payrailProcess(
    run,
    'api',
    {
      ...env,
      PORT: String(await freePort()),
      PAYRAIL_RUN_WORKERS: options.mode === 'jetstream' ? 'false' : 'true',
    },
    quiet,
  );
  await processes.api.start();
  if (options.mode === 'jetstream') {
    processes.worker = payrailProcess(run, 'worker', { ...env, PORT: '0' }, quiet);
    await processes.worker.start();
  }
  return processes as Processes;
}

function adminKeyOf(api: ManagedProcess): string {
  return String(api.spec.env?.PAYRAIL_ADMIN_KEY);
}

async function createMerchants(
  options: ChaosOptions,
  api: ManagedProcess,
  receiver: WebhookReceiver,
  random: Random,
  stats: ClientStats,
): Promise<{ handles: MerchantHandle[]; keys: string[] }> {
  const admin = new PayrailClient(
    { baseUrl: api.url, secretKey: adminKeyOf(api), random, stats, requestTimeoutMs: 30_000 },
    'admin',
  );
  const handles: MerchantHandle[] = [];
  const keys: string[] = [];
  for (let index = 0; index < options.merchants; index++) {
    const created = await admin.post('/v1/admin/merchants', { name: `Chaos shop ${index}` });
    if (created?.status !== 201)
      throw new Error(`creating a merchant: ${JSON.stringify(created?.body)}`);
    const key = String(created.body.secret_key);
    const client = new PayrailClient(
      { baseUrl: api.url, secretKey: key, random, stats, requestTimeoutMs: 30_000 },
      `m${index}-settle`,
    );
    const endpoint = await client.post('/v1/webhook_endpoints', {
      url: receiver.endpointUrl(`m${index}`),
      enabled_events: ['*'],
    });
    if (endpoint?.status !== 200)
      throw new Error(
        `creating a webhook endpoint: ${endpoint?.status} ${JSON.stringify(endpoint?.body)}`,
      );
    receiver.setSecret(`m${index}`, String(endpoint.body.secret));
    await setUpPayouts({ index, client });
    handles.push({ index, client });
    keys.push(key);
  }
  return { handles, keys };
}

const progress = (options: ChaosOptions, text: string) => {
  if (options.verbose) process.stderr.write(`[chaos] ${text}\n`);
};

/** Waits (bounded) until the receiver has accepted every event Payrail has; returns the ones still missing. */
async function awaitWebhooks(
  merchants: readonly MerchantHandle[],
  receiver: WebhookReceiver,
  timeoutMs: number,
): Promise<{ missing: string[]; events: number; lag: WebhookLag }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all: Json[] = [];
    const missing: string[] = [];
    for (const merchant of merchants) {
      const events = await listAll(merchant.client, '/v1/events');
      all.push(...events);
      missing.push(
        ...missingEvents(
          events.map((event) => stringId(event.id)),
          receiver.accepted(`m${merchant.index}`),
        ).map((id) => `m${merchant.index}:${id}`),
      );
    }
    if (missing.length === 0 || Date.now() > deadline)
      return { missing, events: all.length, lag: webhookLag(all, receiver.acceptedAt) };
    await sleep(1_000);
  }
}

export type WebhookLag = { p50Ms: number; p99Ms: number; maxMs: number; slowest: string };

/** From an event's creation (whole seconds) to its first accepted delivery. */
function webhookLag(events: readonly Json[], acceptedAt: ReadonlyMap<string, number>): WebhookLag {
  const lags = events
    .flatMap((event) => {
      const at = acceptedAt.get(stringId(event.id));
      return at === undefined
        ? []
        : [{ ms: Math.max(0, at - Number(event.created) * 1000), event }];
    })
    .sort((a, b) => a.ms - b.ms);
  const at = (p: number) =>
    lags[Math.min(lags.length - 1, Math.max(0, Math.ceil(p * lags.length) - 1))]?.ms ?? 0;
  const last = lags[lags.length - 1];
  return {
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: last?.ms ?? 0,
    slowest:
      last === undefined
        ? '-'
        : `${stringId(last.event.id)} (${stringId(last.event.type)}, created ${new Date(Number(last.event.created) * 1000).toISOString()})`,
  };
}

async function readPayrail(
  database: Database,
): Promise<{ intents: IntentRow[]; attempts: AttemptRow[]; refunds: RefundRow[] }> {
  const intents = await database.query<{
    id: string;
    merchant_id: string;
    ref: string | null;
    status: string;
    amount_received: bigint;
    amount_refunded: bigint;
    amount_refunding: bigint;
    pending_operation: string | null;
    declined: boolean;
  }>(
    `SELECT id, merchant_id, metadata->>'chaos_ref' AS ref, status, amount_received, amount_refunded, amount_refunding, pending_operation,
            last_payment_error IS NOT NULL AS declined FROM payment_intents`,
  );
  const attempts = await database.query<{
    id: string;
    payment_intent_id: string;
    connector: string;
    status: string;
    amount_captured: bigint;
    abandoned: boolean;
    psp_code: string | null;
  }>(
    'SELECT id, payment_intent_id, connector, status, amount_captured, abandoned, psp_code FROM payment_attempts',
  );
  const refunds = await database.query<{
    id: string;
    payment_intent_id: string;
    attempt_id: string;
    amount: bigint;
    status: string;
  }>('SELECT id, payment_intent_id, attempt_id, amount, status FROM refunds');
  return {
    intents: intents.rows.map((row) => ({
      id: row.id,
      merchantId: row.merchant_id,
      ref: row.ref,
      status: row.status,
      amountReceived: Number(row.amount_received),
      amountRefunded: Number(row.amount_refunded),
      amountRefunding: Number(row.amount_refunding),
      pendingOperation: row.pending_operation,
      declined: row.declined,
    })),
    attempts: attempts.rows.map((row) => ({
      id: row.id,
      intentId: row.payment_intent_id,
      connector: row.connector,
      status: row.status,
      amountCaptured: Number(row.amount_captured),
      abandoned: row.abandoned,
      pspCode: row.psp_code,
    })),
    refunds: refunds.rows.map((row) => ({
      id: row.id,
      intentId: row.payment_intent_id,
      attemptId: row.attempt_id,
      amount: Number(row.amount),
      status: row.status,
    })),
  };
}

/** Where each missing event got stuck: outbox, consumer inbox, dead letters, webhook deliveries (detailed for the first few). */
async function explainMissingEvents(
  database: Database,
  missing: readonly string[],
): Promise<string[]> {
  const rowsOf = async (sql: string, id: string): Promise<unknown> => {
    try {
      return (await database.query(sql, [id])).rows;
    } catch (error) {
      return String(error);
    }
  };
  return Promise.all(
    missing.map(async (entry, index) => {
      if (index >= 5) return entry;
      const id = entry.slice(entry.indexOf(':') + 1);
      const facts = {
        event: await rowsOf('SELECT type, created_at FROM events WHERE id = $1', id),
        outbox: await rowsOf('SELECT claimed_until FROM event_outbox WHERE event_id = $1', id),
        inbox: await rowsOf('SELECT consumer, handled_at FROM event_inbox WHERE event_id = $1', id),
        deadLetters: await rowsOf(
          'SELECT consumer, attempts, last_error FROM event_dead_letters WHERE event_id = $1',
          id,
        ),
        deliveries: await rowsOf(
          'SELECT status, attempt_count, next_attempt_at, last_http_status, last_error FROM webhook_deliveries WHERE event_id = $1',
          id,
        ),
      };
      return `${entry} ${JSON.stringify(facts)}`;
    }),
  );
}

/**
 * Payment postings still waiting in the ledger outbox (a crash left them, or the ledger refused
 * them): the worker's sweeper posts them within seconds; any left after `timeoutMs` means the
 * ledger does not show every payment, however well it verifies.
 */
async function awaitLedgerOutbox(database: Database, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await database.query<{
      id: bigint;
      transfers: { id: string; kind: string }[];
      created_at: Date;
    }>('SELECT id, transfers, created_at FROM ledger_outbox ORDER BY id');
    if (left.rows.length === 0 || Date.now() > deadline) {
      return left.rows.map(
        (row) =>
          `outbox row ${row.id} (${row.created_at.toISOString()}): ${row.transfers.map((transfer) => `${transfer.kind} ${transfer.id}`).join(', ')}`,
      );
    }
    await sleep(1_000);
  }
}

/** Traces the faults left in Payrail: attempts whose outcome had to be synced, PSP webhooks received. */
async function faultTraces(
  database: Database,
): Promise<{ syncedAttempts: number; pspWebhooks: number }> {
  const synced = await database.query<{ count: number }>(
    'SELECT count(*)::int AS count FROM payment_attempts WHERE sync_count > 0',
  );
  const webhooks = await database
    .query<{ count: number }>('SELECT count(*)::int AS count FROM psp_webhook_events')
    .catch(() => ({ rows: [{ count: 0 }] }));
  return { syncedAttempts: synced.rows[0]?.count ?? 0, pspWebhooks: webhooks.rows[0]?.count ?? 0 };
}

async function groundTruth(simulatorUrl: string): Promise<GroundTruth> {
  const response = await fetch(`${simulatorUrl}/_sim/ground-truth`, {
    signal: AbortSignal.timeout(60_000),
  });
  if (!response.ok) throw new Error(`simulator ground truth: ${response.status}`);
  return (await response.json()) as GroundTruth;
}

async function stopAll(processes: Partial<Processes>): Promise<void> {
  // The worker and the API first (they talk to the others), each bounded.
  await Promise.allSettled([processes.worker?.stop(), processes.api?.stop()]);
  await Promise.allSettled([processes.simulator?.stop(), processes.nats?.stop()]);
}

type LoadControl = { stopped: boolean; aborted: boolean };

type Running = Processes & { merchants: { handles: MerchantHandle[]; keys: string[] } };

/** The load for options.seconds, with the kills, the NATS restart and the PSP storms; on until every planned action is done. */
async function loadPhase(
  options: ChaosOptions,
  random: Random,
  running: Running,
  control: LoadControl,
  state: { records: Map<string, IntentRecord>; load: LoadStats; client: ClientStats },
): Promise<ChaosLog> {
  const { api, worker, nats, simulator, merchants } = running;
  const loadStarted = Date.now();
  const clients = Array.from({ length: options.clients }, (_, index) => ({
    merchant: index % options.merchants,
    random: random.fork(`client-${index}`),
    client: new PayrailClient(
      {
        baseUrl: api.url,
        secretKey: merchants.keys[index % options.merchants] as string,
        random: random.fork(`retry-${index}`),
        stats: state.client,
        requestTimeoutMs: 45_000,
        aborted: () => control.aborted,
      },
      `c${index}`,
    ),
  }));
  progress(
    options,
    `load: ${options.clients} clients for ${options.seconds} s, ${options.kills} kills, ${options.natsRestarts} NATS restart(s), seed ${options.seed}`,
  );
  const plan = planChaos(
    random.fork('chaos'),
    options.seconds * 1000,
    options.kills,
    options.mode === 'jetstream' ? options.natsRestarts : 0,
  );
  let loadError: unknown;
  const loadDone = runLoad({
    clients,
    records: state.records,
    stats: state.load,
    stopped: () => control.stopped,
  }).catch((error: unknown) => {
    loadError = error;
  });
  const chaosDone = runChaos(
    plan,
    { api, worker, nats },
    random.fork('pauses'),
    loadStarted,
    () => control.stopped,
  );
  const stormsDone = runStorms(
    planStorms(random.fork('storms'), options.seconds * 1000),
    simulator.url,
    options.seed,
    loadStarted,
    () => control.stopped,
  );
  // Whichever fails first ends the wait; the other is still observed, so that no rejection goes unhandled.
  chaosDone.catch(() => {});
  stormsDone.catch(() => {});
  const [, chaos, storms] = await Promise.all([
    sleep(options.seconds * 1000),
    chaosDone,
    stormsDone,
  ]);
  control.stopped = true;
  // Flows in progress finish their current request; after a bounded grace, retries stop.
  const grace = setTimeout(() => (control.aborted = true), 30_000);
  await loadDone;
  clearTimeout(grace);
  if (loadError !== undefined) throw loadError;
  progress(
    options,
    `load done in ${((Date.now() - loadStarted) / 1000).toFixed(1)} s: ${state.records.size} flows; ${chaos.kills.api + chaos.kills.worker} kills`,
  );
  return { ...chaos, timeline: [...chaos.timeline, ...storms].sort() };
}

type Checked = {
  counts: { payments: number; refunds: number; batches: number; payouts: number };
  reconciliation: (ReconScore & { lateCredits: number }) | undefined;
  statuses: ChaosResult['statuses'];
  ledger: VerifyReport;
};

/** Reads Payrail's records and the PSPs' ground truth, and compares them with the answers. */
async function checkPhase(
  database: Database,
  running: Running,
  records: ReadonlyMap<string, IntentRecord>,
  reconciliation: ReconciliationRead | undefined,
  findings: Findings,
): Promise<Checked> {
  const rows = await readPayrail(database);
  const statuses: ChaosResult['statuses'] = {
    intents: {},
    attempts: {},
    ...(await faultTraces(database)),
  };
  for (const intent of rows.intents)
    statuses.intents[intent.status] = (statuses.intents[intent.status] ?? 0) + 1;
  for (const attempt of rows.attempts) {
    const key = `${attempt.status}${attempt.abandoned ? ' (abandoned)' : ''}`;
    statuses.attempts[key] = (statuses.attempts[key] ?? 0) + 1;
  }
  checkAnswers(records.values(), rows.intents, rows.refunds, findings);
  checkMoney(
    rows.intents,
    rows.attempts,
    rows.refunds,
    await groundTruth(running.simulator.url),
    findings,
  );
  checkTerminal(rows.intents, rows.attempts, rows.refunds, findings);
  const moneyOut = await readMoneyOut(database);
  const truth = await moneyOutTruth(running.simulator.url);
  checkMoneyOut(truth, moneyOut, findings);
  const score =
    reconciliation === undefined
      ? undefined
      : {
          ...checkReconciliation(
            expectedReconciliation(reconciliation.injected, truth),
            reconciliation.raised,
            findings,
          ),
          lateCredits: lateCredits(truth).length,
        };
  const ledger = await verifyLedger(database);
  for (const left of await awaitLedgerOutbox(database, 20_000))
    findings.add('ledger_outbox_left', left);
  for (const process of [running.nats, running.simulator, running.api, running.worker])
    for (const exit of process?.unexpectedExits ?? []) findings.add('crash', exit);
  return {
    counts: {
      payments: rows.intents.length,
      refunds: rows.refunds.length,
      batches: moneyOut.batches.length,
      payouts: moneyOut.payouts.length,
    },
    reconciliation: score,
    statuses,
    ledger,
  };
}

function summarize(
  options: ChaosOptions,
  startedAt: number,
  findings: Findings,
  parts: {
    chaos: ChaosLog;
    moneyOut: MoneyOutStats | undefined;
    reconciliation: ReconciliationRead | undefined;
    checked: Checked | undefined;
    events: number;
    invalidSignatures: number;
    errors: readonly string[];
  },
): ChaosSummary {
  const { chaos, checked } = parts;
  const summary: ChaosSummary = {
    chaos: 'failed',
    payments: checked?.counts.payments ?? 0,
    kills: chaos.kills.api + chaos.kills.worker,
    double_charges: findings.total(...doubleChargeKinds),
    lost: findings.total(...lostKinds),
    ledger:
      checked?.ledger.ok === true && findings.total('ledger_outbox_left') === 0 ? 'ok' : 'failed',
    webhooks_missing: findings.total('webhook_missing'),
    non_terminal: findings.total('non_terminal'),
    mismatches: findings.total(...mismatchKinds),
    invalid_signatures: parts.invalidSignatures,
    crashes: findings.total('crash'),
    nats_restarts: chaos.natsRestarts,
    refunds: checked?.counts.refunds ?? 0,
    events: parts.events,
    double_submissions: findings.total(...doubleSubmissionKinds),
    double_payouts: findings.total(...doublePayoutKinds),
    payout_mismatches: findings.total(...payoutMismatchKinds),
    money_out_lost: findings.total(...moneyOutLostKinds),
    reconciliation_missed: findings.total('recon_missed'),
    reconciliation_unexpected: findings.total('recon_unexpected'),
    reconciliation_injected: parts.reconciliation?.injected.length ?? 0,
    reconciliation_exceptions: parts.reconciliation?.raised.length ?? 0,
    batches: checked?.counts.batches ?? 0,
    payouts: checked?.counts.payouts ?? 0,
    money_out_kills: (parts.moneyOut?.kills.api ?? 0) + (parts.moneyOut?.kills.worker ?? 0),
    seed: options.seed,
    seconds: Math.round((Date.now() - startedAt) / 100) / 10,
    clients: options.clients,
    mode: options.mode,
  };
  const passed =
    parts.errors.length === 0 &&
    summary.double_charges === 0 &&
    summary.lost === 0 &&
    summary.ledger === 'ok' &&
    summary.webhooks_missing === 0 &&
    summary.non_terminal === 0 &&
    summary.mismatches === 0 &&
    summary.invalid_signatures === 0 &&
    summary.crashes === 0 &&
    summary.double_submissions === 0 &&
    summary.double_payouts === 0 &&
    summary.payout_mismatches === 0 &&
    summary.money_out_lost === 0 &&
    summary.reconciliation_missed === 0 &&
    summary.reconciliation_unexpected === 0 &&
    summary.payments > 0 &&
    (options.moneyOutDays === 0 || (summary.batches > 0 && checked?.reconciliation !== undefined));
  summary.chaos = passed ? 'ok' : 'failed';
  return summary;
}

const noReceiverStats: WebhookReceiver['stats'] = {
  deliveries: 0,
  accepted: 0,
  duplicates: 0,
  injectedFailures: 0,
  invalidSignatures: 0,
  invalidSamples: [],
};

export async function runChaosScenario(options: ChaosOptions): Promise<ChaosResult> {
  const startedAt = Date.now();
  const random = seededRandom(options.seed);
  const run = makeRunDirectory('payrail-chaos-');
  const processes: Partial<Processes> = {};
  const findings = new Findings();
  const errors: string[] = [];
  const state = {
    records: new Map<string, IntentRecord>(),
    load: newLoadStats(),
    client: newClientStats(),
  };
  const control: LoadControl = { stopped: false, aborted: false };
  let chaos: ChaosLog = { kills: { api: 0, worker: 0 }, natsRestarts: 0, timeline: [] };
  let settle: SettleStats | undefined;
  let moneyOut: MoneyOutStats | undefined;
  let reconciliation: ReconciliationRead | undefined;
  let checked: Checked | undefined;
  let webhooks: (Awaited<ReturnType<typeof awaitWebhooks>> & { waitSeconds: number }) | undefined;
  let scratch: ScratchDatabase | undefined;
  let database: Database | undefined;
  let receiver: WebhookReceiver | undefined;
  try {
    scratch = await createScratchDatabase(options.databaseUrl);
    database = openPostgres({
      connectionString: scratch.url,
      poolSize: 2,
      applicationName: 'payrail-chaos',
    });
    receiver = await startWebhookReceiver(random.fork('receiver'), options.webhookFailureRate);
    progress(options, `processes starting (${options.mode}); logs in ${run.path}`);
    const started = await startProcesses(options, run, scratch, processes);
    const running: Running = {
      ...started,
      merchants: await createMerchants(
        options,
        started.api,
        receiver,
        random.fork('admin'),
        state.client,
      ),
    };
    await configureSimulatorWebhooks(running.simulator.url, running.api.url, {
      seed: options.seed,
      duplicateRate: 0.1,
      outOfOrderRate: 0.1,
      maxAttempts: 10,
      retryBackoffMs: 250,
    });
    await setPspFaults(running.simulator.url, options.seed, defaultPspFaults);
    chaos = await loadPhase(options, random, running, control, state);

    // Faults off, everything settled, webhooks awaited, then the checks.
    await clearPspFaults(running.simulator.url);
    settle = await settleEverything(
      running.merchants.handles,
      state.records,
      options.settleTimeoutMs,
    );
    progress(
      options,
      `settled in ${settle.seconds.toFixed(1)} s (${settle.rounds} rounds, ${settle.syncs} syncs, ${settle.resends} resends, ${settle.captures} captures, ${settle.cancels} cancels, ${settle.left} left)`,
    );
    if (options.moneyOutDays > 0) {
      progress(
        options,
        `money out: ${options.moneyOutDays} days of the test clock, ${options.moneyOutKills} kills`,
      );
      const admin = new PayrailClient(
        {
          baseUrl: running.api.url,
          secretKey: adminKeyOf(running.api),
          random: random.fork('money-out-admin'),
          stats: state.client,
          requestTimeoutMs: 120_000,
          tryTimeoutMs: 90_000,
        },
        'money-out',
      );
      moneyOut = await runMoneyOutDays(
        {
          api: running.api,
          worker: running.worker,
          simulatorUrl: running.simulator.url,
          admin,
          merchants: running.merchants.handles,
        },
        database,
        {
          days: options.moneyOutDays,
          kills: options.moneyOutKills,
          faults: options.moneyOutFaults,
          reconciliationSeeding: options.reconciliationSeeding,
          drainDaysMax: 6,
        },
        random.fork('money-out'),
        options.seed,
        adminKeyOf(running.api),
        (text) => progress(options, text),
      );
      // As of the day after the drain's last: every line due by the last day is past its deadline.
      const startedRun = Date.now();
      reconciliation = await runReconciliation(
        admin,
        running.simulator.url,
        database,
        addDays(moneyOut.lastDate, 1),
      );
      progress(
        options,
        `reconciliation as of ${reconciliation.asOf}: ${reconciliation.injected.length} injected, ${reconciliation.raised.length} open exceptions in ${((Date.now() - startedRun) / 1000).toFixed(1)} s`,
      );
    }
    const waitStarted = Date.now();
    const awaited = await awaitWebhooks(
      running.merchants.handles,
      receiver,
      options.webhookTimeoutMs,
    );
    webhooks = { ...awaited, waitSeconds: (Date.now() - waitStarted) / 1000 };
    for (const missing of await explainMissingEvents(database, awaited.missing))
      findings.add('webhook_missing', missing);
    progress(
      options,
      `webhooks: ${awaited.events} events, ${awaited.missing.length} missing after ${webhooks.waitSeconds.toFixed(1)} s`,
    );
    checked = await checkPhase(database, running, state.records, reconciliation, findings);
  } catch (error) {
    errors.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
  } finally {
    control.stopped = true;
    control.aborted = true;
    await stopAll(processes);
    await receiver?.close();
    await database?.close();
    await scratch
      ?.drop()
      .catch((error: unknown) => errors.push(`dropping the scratch database: ${String(error)}`));
  }
  const summary = summarize(options, startedAt, findings, {
    chaos,
    moneyOut,
    reconciliation,
    checked,
    events: webhooks?.events ?? 0,
    invalidSignatures: receiver?.stats.invalidSignatures ?? 0,
    errors,
  });
  const keep = summary.chaos !== 'ok' || options.keepLogs;
  if (!keep) run.remove();
  return {
    summary,
    findings,
    ledger: checked?.ledger,
    chaos,
    load: state.load,
    client: state.client,
    settle,
    moneyOut,
    reconciliation,
    reconciliationScore: checked?.reconciliation,
    receiver: receiver?.stats ?? noReceiverStats,
    webhookWaitSeconds: webhooks?.waitSeconds ?? 0,
    webhookLag: webhooks?.lag,
    statuses: checked?.statuses ?? { intents: {}, attempts: {}, syncedAttempts: 0, pspWebhooks: 0 },
    logDirectory: keep ? run.path : undefined,
    errors,
  };
}
