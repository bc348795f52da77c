// Builds everything a Payrail process runs, from configuration: storage, the domain services,
// the connectors with their resilience policies, routing, the event bus and its consumers, and
// the workers (webhook deliveries, status sync, periodic chores). The API server (server.ts)
// and `payrail worker` (cli.ts) are two ways of running it.
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import { withResilience, type ResilientConnector } from './connectors/resilience.ts';
import { connectorRegistry } from './connectors/registry.ts';
import { createEventBus, DeadLetters, type BusHooks, type EventBus } from './events/bus/index.ts';
import type { EventConsumer } from './events/consumer.ts';
import { IdempotencyKeys } from './idempotency/keys.ts';
import { Ledger } from './ledger/index.ts';
import type { Balances } from './balances/index.ts';
import { AdminKeys, Merchants } from './merchants/merchants.ts';
import { ApiKeys } from './merchants/api-keys.ts';
import type { Logger } from './observability/logger.ts';
import { Metrics } from './observability/metrics.ts';
import { ConnectorHealth, ConnectorHealthRecorder } from './observability/connector-health.ts';
import { ConnectorHealthStore } from './observability/connector-health-store.ts';
import { MerchantSettings, setDefaultPrices } from './payments/merchant-settings.ts';
import { PaymentsService } from './payments/service.ts';
import { CustomersService } from './customers/service.ts';
import { SetupIntentsService } from './customers/setup-intents.ts';
import { StatusSync, statusSyncDefaults } from './payments/status-sync.ts';
import { RoutingStore, SuccessRateTracker } from './routing/index.ts';
import type { Database } from './storage/database.ts';
import { acquireDataDirectoryLock } from './storage/lock.ts';
import { migrate } from './storage/migrations.ts';
import { openDatabase } from './storage/open.ts';
import { DatabaseClock } from './testmode/clock.ts';
import { TestClocks } from './testmode/clock-service.ts';
import { resolveMasterKey, Vault } from './vault/index.ts';
import { secretBoxFor, secretBoxPurposes } from './vault/secret-box.ts';
import { createWebhooks, masterKeySecretBox, type Webhooks } from './webhooks/index.ts';
import { createTestMode, type TestMode } from './testmode/index.ts';
import type { SettlementService } from './settlement/service.ts';
import type { PayoutsService } from './payouts/payouts.ts';
import { createReconciliation, type Reconciliation } from './reconciliation/index.ts';
import { createMoneyOut, type MoneyOut } from './money-out/index.ts';
import { derivedKey } from './vault/secret-box.ts';
import {
  HttpThreeDSecureServer,
  simulatorThreeDSecureSettings,
  type ThreeDSecureServerSettings,
} from './risk/three-d-secure/index.ts';
import { paymentAuthentication } from './risk/three-d-secure/for-payments.ts';
import { closeRedis, openRedis, type Redis } from './storage/redis.ts';
import { RateLimitOverrides } from './merchants/rate-limits.ts';

/** Where a merchant's payments authenticate card holders: the simulator in test mode. */
function threeDSecureSettings(
  config: Config,
  livemode: boolean,
): ThreeDSecureServerSettings | undefined {
  if (!livemode) return simulatorThreeDSecureSettings(config.simulatorUrl, config.pspTimeoutMs);
  const server = config.threeDSecureServer;
  return server === undefined
    ? undefined
    : { baseUrl: server.url, apiKey: server.apiKey, timeoutMs: config.pspTimeoutMs };
}
import { CheckoutService } from './checkout/service.ts';
import { sessionCompletingConsumer } from './checkout/consumer.ts';
import { RiskService } from './risk/service.ts';
import { RiskAssessor } from './risk/assess.ts';
import { velocityConsumer, velocityStoreFor } from './risk/velocity/index.ts';
import { velocityEventsOf } from './payments/risk.ts';
import { reviewClosingConsumer } from './payments/reviews.ts';
import { compileRule } from './risk/rules/index.ts';

/** Opens the database (locking an embedded data directory) and applies migrations. */
export async function openServices(
  config: Config,
  logger: Logger,
): Promise<{ database: Database; release: () => void }> {
  const release =
    config.databaseUrl === undefined && config.dataDirectory !== 'memory://'
      ? acquireDataDirectoryLock(config.dataDirectory)
      : () => {};
  try {
    const database = await openDatabase(config);
    const applied = await migrate(database);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    return { database, release };
  } catch (error) {
    release();
    throw error;
  }
}

export type Role = 'server' | 'worker';

export type Runtime = {
  readonly config: Config;
  readonly logger: Logger;
  readonly database: Database;
  readonly ledger: Ledger;
  readonly vault: Vault;
  readonly merchants: Merchants;
  /** A merchant's API keys: list, create, roll, revoke (the dashboard's developers page). */
  readonly apiKeys: ApiKeys;
  readonly adminKeys: AdminKeys;
  readonly idempotency: IdempotencyKeys;
  readonly payments: PaymentsService;
  /** Customers, their saved cards and their erasure (src/customers). */
  readonly customers: CustomersService;
  /** Saving a card without a payment (src/customers/setup-intents.ts). */
  readonly setupIntents: SetupIntentsService;
  /** Radar: risk rules, value lists, settings and the cached rule set (src/risk/service.ts). */
  readonly radar: RiskService;
  /** Hosted checkout: Checkout Sessions and Payment Links; expireDue is a maintenance chore. */
  readonly checkout: CheckoutService;
  /** Availability, reserves and the merchant's balance (src/balances). */
  readonly balances: Balances;
  readonly webhooks: Webhooks;
  readonly routing: RoutingStore;
  readonly metrics: Metrics;
  readonly deadLetters: DeadLetters;
  readonly bus: EventBus;
  readonly statusSync: StatusSync;
  readonly connectors: ReadonlyMap<string, ResilientConnector>;
  /** Connector health per minute (success rate, latency, breaker), its sampler and its queries. */
  readonly connectorHealth: ConnectorHealth;
  /** The one source of business time (src/clock.ts). */
  readonly clock: Clock;
  /** Moving test clocks; undefined unless test clocks are enabled (PAYRAIL_TEST_CLOCKS). */
  readonly testClocks: TestClocks | undefined;
  /** The simulated PSPs of test merchants and the fault points (src/testmode). */
  readonly testMode: TestMode;
  /** Clearing batches with the acquirer (architecture §12). */
  readonly settlement: SettlementService;
  /** Payout settings, bank accounts and payouts; steps createDue and sendPending (src/payouts). */
  readonly payouts: PayoutsService;
  /** The money-out pipeline (settle, reports, statements, availability, payouts) and its steps. */
  readonly moneyOut: MoneyOut;
  /** Reconciliation files, runs and exceptions (architecture §13). */
  readonly reconciliation: Reconciliation;
  /** Set only when this start generated the operator key (first start without PAYRAIL_ADMIN_KEY). */
  readonly generatedAdminKey: string | undefined;
  /**
   * The one Redis client of this process (REDIS_URL; undefined without it): rate limits and risk
   * velocity share it. Closed by close().
   */
  readonly redis?: Redis;
  /** The operator's per-merchant API rate limits (migration 038). */
  readonly rateLimitOverrides: RateLimitOverrides;
  /** Starts the event bus and, where this process runs them, the workers. */
  start(): Promise<void>;
  close(): Promise<void>;
};

const maintenanceIntervalMs = 5_000;

function busHooks(metrics: Metrics): BusHooks {
  return {
    onRedelivery: (consumer) => metrics.recordRedelivery(consumer),
    onDeadLetter: (consumer) => metrics.recordDeadLetter(consumer),
    onHandled: (consumer, result) =>
      metrics.recordEventHandled(consumer, result === 'handled' ? 'succeeded' : 'skipped'),
  };
}

export async function openRuntime(config: Config, logger: Logger, role: Role): Promise<Runtime> {
  const { database, release } = await openServices(config, logger);
  // A Redis that is down at start is not an error: its users fall back (storage/redis.ts).
  const redis =
    config.redisUrl === undefined ? undefined : await openRedis(config.redisUrl, { logger });
  try {
    return await assemble(config, logger, role, { database, redis }, release);
  } catch (error) {
    if (redis !== undefined) await closeRedis(redis);
    await database.close();
    release();
    throw error;
  }
}

async function assemble(
  config: Config,
  logger: Logger,
  role: Role,
  stores: { database: Database; redis: Redis | undefined },
  release: () => void,
): Promise<Runtime> {
  const { database, redis } = stores;
  const databaseClock = config.testClocks ? new DatabaseClock(database) : undefined;
  await databaseClock?.start();
  const clock: Clock = databaseClock ?? systemClock;
  const adminKeys = new AdminKeys(database, config.adminKey);
  const { generatedKey } =
    role === 'server' ? await adminKeys.bootstrap() : { generatedKey: undefined };
  const masterKey = resolveMasterKey(config);
  if (masterKey.created && masterKey.source === 'file') {
    logger.warn(
      { path: masterKey.path },
      'generated a development vault master key; set PAYRAIL_VAULT_MASTER_KEY in production',
    );
  }
  const metrics = new Metrics({ processMetrics: true });
  const ledger = new Ledger(database, { clock });
  const healthRecorder = new ConnectorHealthRecorder();
  const connectorHealth = new ConnectorHealth(new ConnectorHealthStore(database), {
    clock,
    recorder: healthRecorder,
    logger,
  });
  const connectors = new Map(
    [...connectorRegistry].map(([name, connector]) => [
      name,
      withResilience(
        connector,
        {
          maxAttempts: config.pspAttempts,
          breakerThreshold: config.breakerThreshold,
          halfOpenAfterMs: config.breakerHalfOpenMs,
          bulkheadLimit: config.bulkheadLimit,
          bulkheadQueue: config.bulkheadLimit,
        },
        metrics,
        healthRecorder,
      ),
    ]),
  );
  const webhooks = createWebhooks(database, {
    secretBox: masterKeySecretBox(masterKey.key),
    logger,
    clock,
    retryDelaysMs: config.webhookRetryScheduleMs,
    // The lease outlives the request by enough to record its outcome; a worker that died holding
    // it lets another send the delivery once it runs out.
    timeoutMs: config.webhookTimeoutMs,
    leaseMs: config.webhookTimeoutMs + 15_000,
    allowLoopback: config.webhookAllowLoopback,
    // Live merchants' endpoints must be public addresses (SSRF); `merchants` is built below.
    livemodeOf: async (merchantId) => (await merchants.livemodeOf(merchantId)) === true,
    onResult: (result) => {
      const outcome =
        result.outcome === 'succeeded'
          ? 'succeeded'
          : result.outcome === 'dead'
            ? 'dead'
            : result.outcome === 'endpoint_disabled'
              ? 'disabled'
              : 'failed';
      if (result.outcome !== 'lease_lost')
        metrics.recordWebhookDelivery(outcome, result.durationMs / 1000);
    },
  });
  // Velocity in Redis when configured (every process counts together), else in this process.
  const velocity = velocityStoreFor(redis, {
    onUnavailable: (reason) => metrics.recordVelocityUnavailable(reason),
  });
  const consumers: EventConsumer[] = [
    webhooks.fanout,
    velocityConsumer(velocity, velocityEventsOf),
    reviewClosingConsumer(),
    sessionCompletingConsumer(clock),
  ];
  const runWorkers = role === 'worker' || config.runWorkers;
  const hooks = busHooks(metrics);
  const bus = createEventBus({
    database,
    consumers,
    natsUrl: config.natsUrl,
    streamName: config.natsStream,
    maxAttempts: config.consumerAttemptsMax,
    hooks,
    logger,
    // The API process relays the outbox to JetStream; the consumers run wherever workers run.
    roles: role === 'worker' ? ['workers'] : runWorkers ? ['relay', 'workers'] : ['relay'],
    clock,
    tuning: { ackWaitMs: config.consumerAckWaitMs },
  });
  const routing = new RoutingStore(database);
  // PSP credentials are sealed at rest; rows written in plaintext (before migration 016) are sealed here.
  const connectorBox = secretBoxFor(masterKey.key, secretBoxPurposes.connectorCredentials);
  const settings = new MerchantSettings(database, { secretBox: connectorBox });
  const testMode = createTestMode({
    simulatorUrl: config.simulatorUrl,
    secretBox: connectorBox,
    faultPoint: config.faultPoint,
  });
  // Every new merchant: the default prices; a test merchant also the simulated PSPs.
  const merchants = new Merchants(database, {
    setUp: async (tx, merchant) => {
      await setDefaultPrices(tx, merchant.id);
      await testMode.setUpMerchant(tx, merchant);
    },
    clock,
  });
  // Stripe's test payment method ids (pm_card_visa …) are test mode's: a live merchant has none.
  const vault = new Vault(database, {
    masterKey: masterKey.key,
    isTestMerchant: async (merchantId) => (await merchants.livemodeOf(merchantId)) === false,
    now: (merchantId) => clock.now(merchantId),
  });
  const customers = new CustomersService({
    database,
    vault,
    clock,
    onSaveFailure: (error, context) =>
      logger.warn({ ...context, err: error }, 'a card could not be saved after its payment'),
  });
  const radar = new RiskService({
    database,
    compile: compileRule,
    clock,
    onError: (error, context) =>
      logger.warn({ ...context, err: error }, 'a risk rule set could not be read or compiled'),
  });
  const sealed = await settings.sealPlaintextCredentials();
  if (sealed > 0) logger.info({ sealed }, 'sealed connector credentials stored in plaintext');
  const payments = new PaymentsService({
    database,
    ledger,
    vault,
    connector: (name) => connectors.get(name),
    settings,
    pspTimeoutMs: config.pspTimeoutMs,
    neverSeenAfterMs: config.neverSeenAfterMs,
    faults: testMode.faults,
    logger,
    clock,
    events: bus,
    customers,
    routing: {
      store: routing,
      tracker: new SuccessRateTracker(),
      random: Math.random,
      isAvailable: (name) => connectors.get(name)?.breakerState() !== 'open',
    },
    risk: new RiskAssessor({
      policy: async (merchantId) => ({
        ...(await radar.ruleSetFor(merchantId)),
        livemode: await merchants.livemodeOf(merchantId),
      }),
      velocity,
      onDecision: (record) => metrics.recordRiskDecision(record.action, record.riskLevel),
    }),
    threeDSecure: paymentAuthentication(new HttpThreeDSecureServer(), async (merchantId) =>
      threeDSecureSettings(config, (await merchants.livemodeOf(merchantId)) === true),
    ),
  });
  const setupIntents = new SetupIntentsService({
    database,
    customers,
    vault,
    connector: (name) => connectors.get(name),
    settings,
    pspTimeoutMs: config.pspTimeoutMs,
    logger,
    clock,
  });
  const checkout = new CheckoutService({
    database,
    payments,
    vault,
    customers,
    merchantName: async (merchantId) => (await merchants.get(merchantId))?.name,
    livemode: (merchantId) => merchants.livemodeOf(merchantId),
    clock,
    events: bus,
  });
  const statusSync = new StatusSync(
    payments,
    database,
    {
      ...statusSyncDefaults(config.pspTimeoutMs),
      ...(config.syncScheduleMs === undefined ? {} : { scheduleMs: config.syncScheduleMs }),
      intervalMs: config.syncIntervalMs,
      voidAuthorizationsAfterMs: config.voidAuthorizationsAfterDays * 24 * 3_600_000,
    },
    logger,
    clock,
  );
  const idempotency = new IdempotencyKeys(
    database,
    config.idempotencyLeaseMs,
    masterKey.key,
    clock,
  );
  // Settlement, PSP reports, bank statements, balances and payouts (architecture §12).
  const moneyOut = createMoneyOut({
    database,
    ledger,
    clock,
    connectors: [...connectorRegistry.keys()],
    simulatorUrl: config.simulatorUrl,
    pspTimeoutMs: config.pspTimeoutMs,
    bankAccountKeys: {
      secretBox: secretBoxFor(masterKey.key, secretBoxPurposes.bankAccountNumber),
      fingerprintKey: derivedKey(masterKey.key, 'payouts.bank-account-fingerprint'),
    },
    faults: testMode.faults,
    metrics,
    events: bus,
    logger,
  });
  const reconciliation = createReconciliation({
    database,
    ledger,
    clock,
    registry: metrics.registry,
  });
  let moneyOutWorker: { stop(): Promise<void> } | undefined;
  let maintenance: { stop(): void } | undefined;
  return {
    config,
    logger,
    database,
    ledger,
    vault,
    merchants,
    apiKeys: new ApiKeys({ database, merchants, clock }),
    adminKeys,
    idempotency,
    payments,
    customers,
    setupIntents,
    radar,
    checkout,
    balances: moneyOut.balances,
    webhooks,
    routing,
    metrics,
    deadLetters: new DeadLetters(database, consumers, hooks),
    bus,
    statusSync,
    connectors,
    connectorHealth,
    clock,
    testClocks: databaseClock === undefined ? undefined : new TestClocks(database, databaseClock),
    testMode,
    settlement: moneyOut.settlement,
    payouts: moneyOut.payouts,
    moneyOut,
    reconciliation,
    generatedAdminKey: generatedKey,
    redis,
    rateLimitOverrides: new RateLimitOverrides(database),
    async start() {
      await bus.start();
      // Every process that calls PSPs writes its own health rows, workers or not.
      if (config.connectorHealthSampler) connectorHealth.start();
      if (!runWorkers) return;
      webhooks.deliverer.start();
      statusSync.start();
      maintenance = startMaintenance({
        payments,
        checkout,
        clock,
        idempotency,
        database,
        metrics,
        logger,
      });
      moneyOutWorker = moneyOut.startWorker(config.moneyOutIntervalMs);
    },
    async close() {
      maintenance?.stop();
      await moneyOutWorker?.stop();
      await statusSync.stop();
      await webhooks.deliverer.stop();
      await bus.stop();
      await connectorHealth.stop();
      databaseClock?.stop();
      if (redis !== undefined) await closeRedis(redis);
      await database.close();
      release();
    },
  };
}

type MaintenanceParts = {
  payments: PaymentsService;
  checkout: CheckoutService;
  clock: Clock;
  idempotency: IdempotencyKeys;
  database: Database;
  metrics: Metrics;
  logger: Logger;
};

/**
 * Periodic chores of every worker process: post ledger postings a crash left in the outbox,
 * delete idempotency keys past their retention, expire Checkout Sessions that are due, and sample
 * the outboxes for the metrics. Each
 * run is bounded; none overlaps itself.
 */
function startMaintenance(parts: MaintenanceParts): { stop(): void } {
  let running = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      const posted = await parts.payments.sweepLedgerOutbox();
      if (posted > 0) parts.logger.warn({ posted }, 'posted ledger postings left in the outbox');
      await parts.idempotency.deleteExpired();
      // Checkout Sessions past expires_at (their merchant's clock) end, a bounded batch a run.
      await parts.checkout.expireDue();
      // The event outbox is stamped by the database (real time), the ledger outbox by the clock.
      for (const [name, table, now] of [
        ['events', 'event_outbox', new Date()],
        ['ledger', 'ledger_outbox', parts.clock.now()],
      ] as const) {
        const sample = await parts.database.query<{ pending: number; lag: number | null }>(
          `SELECT count(*)::int AS pending, extract(epoch FROM $1::timestamptz - min(created_at))::float8 AS lag FROM ${table}`,
          [now],
        );
        const row = sample.rows[0];
        parts.metrics.setOutbox(name, row?.pending ?? 0, row?.lag ?? 0);
      }
    } catch (error) {
      parts.logger.error({ err: error }, 'maintenance run failed');
    } finally {
      running = false;
    }
  };
  void run();
  const timer = setInterval(() => void run(), maintenanceIntervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
