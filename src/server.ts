// Wires configuration, storage, domain services and the HTTP app into a running server.
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { buildApp } from './http/app.ts';
import type { AppContext } from './http/context.ts';
import { Ledger } from './ledger/index.ts';
import { AdminKeys, Merchants } from './merchants/merchants.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import type { Database } from './storage/database.ts';
import { migrate } from './storage/migrations.ts';
import { openDatabase } from './storage/open.ts';
import { acquireDataDirectoryLock } from './storage/lock.ts';
import { connectorRegistry } from './connectors/registry.ts';
import { IdempotencyKeys } from './idempotency/keys.ts';
import { PaymentsService } from './payments/service.ts';
import { MerchantSettings } from './payments/merchant-settings.ts';
import { resolveMasterKey, Vault } from './vault/index.ts';

export type RunningServer = {
  readonly app: FastifyInstance;
  readonly context: AppContext;
  readonly url: string;
  /** Set only on the first start without PAYRAIL_ADMIN_KEY: print it once, it is not kept. */
  readonly generatedAdminKey: string | undefined;
  close(): Promise<void>;
};

/** Opens the database (locking an embedded data directory) and applies migrations. */
export async function openServices(config: Config, logger: Logger): Promise<{ database: Database; release: () => void }> {
  const release = config.databaseUrl === undefined && config.dataDirectory !== 'memory://'
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

const maintenanceIntervalMs = 5_000;

/**
 * Periodic chores of every server process: post ledger postings a crash left in the outbox,
 * and delete idempotency keys past their retention. Each run is bounded; none overlaps itself.
 */
function startMaintenance(context: AppContext): { stop(): void } {
  let running = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      const posted = await context.payments.sweepLedgerOutbox();
      if (posted > 0) context.logger.warn({ posted }, 'posted ledger postings left in the outbox');
      await context.idempotency.deleteExpired();
    } catch (error) {
      context.logger.error({ err: error }, 'maintenance run failed');
    } finally {
      running = false;
    }
  };
  void run();
  const timer = setInterval(() => void run(), maintenanceIntervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

export async function startServer(config: Config, logger: Logger = createLogger(config.logLevel)): Promise<RunningServer> {
  const { database, release } = await openServices(config, logger);
  const adminKeys = new AdminKeys(database, config.adminKey);
  const { generatedKey } = await adminKeys.bootstrap();
  const masterKey = resolveMasterKey(config);
  if (masterKey.created && masterKey.source === 'file') {
    logger.warn({ path: masterKey.path }, 'generated a development vault master key; set PAYRAIL_VAULT_MASTER_KEY in production');
  }
  const ledger = new Ledger(database);
  const vault = new Vault(database, { masterKey: masterKey.key });
  const payments = new PaymentsService({
    database, ledger, vault, connector: (name) => connectorRegistry.get(name), settings: new MerchantSettings(database), pspTimeoutMs: config.pspTimeoutMs,
    neverSeenAfterMs: 10 * 60_000, faultPoint: config.faultPoint, logger,
  });
  const idempotency = new IdempotencyKeys(database, config.idempotencyLeaseMs);
  const context: AppContext = { config, database, ledger, merchants: new Merchants(database), adminKeys, logger, payments, vault, idempotency };
  const app = await buildApp(context);
  const address = await app.listen({ host: config.host, port: config.port });
  const maintenance = startMaintenance(context);
  return {
    app,
    context,
    url: address,
    generatedAdminKey: generatedKey,
    async close() {
      maintenance.stop();
      await app.close();
      await database.close();
      release();
    },
  };
}
