// The API server: the runtime (runtime.ts) behind the HTTP app.
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { buildApp } from './http/app.ts';
import type { AppContext } from './http/context.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { openRuntime, type Runtime } from './runtime.ts';
import { EventLog } from './events/events.ts';
import { pendingWebhooksSql } from './webhooks/index.ts';
import { verifyLedger } from './ledger/index.ts';
import { PspWebhooks } from './payments/psp-webhooks.ts';
import { checkReadiness } from './storage/readiness.ts';
import { ApiRateLimits } from './http/rate-limit.ts';
import { openDashboard } from './dashboard/index.ts';

export { openServices } from './runtime.ts';

export type RunningServer = {
  readonly app: FastifyInstance;
  readonly context: AppContext;
  readonly runtime: Runtime;
  readonly url: string;
  /** Set only on the first start without PAYRAIL_ADMIN_KEY: print it once, it is not kept. */
  readonly generatedAdminKey: string | undefined;
  close(): Promise<void>;
};

export async function startServer(
  config: Config,
  logger: Logger = createLogger(config.logLevel),
): Promise<RunningServer> {
  const runtime = await openRuntime(config, logger, 'server');
  try {
    const context: AppContext = {
      config,
      database: runtime.database,
      ledger: runtime.ledger,
      merchants: runtime.merchants,
      adminKeys: runtime.adminKeys,
      logger,
      payments: runtime.payments,
      customers: runtime.customers,
      setupIntents: runtime.setupIntents,
      radar: runtime.radar,
      checkout: runtime.checkout,
      balances: runtime.balances.service,
      vault: runtime.vault,
      idempotency: runtime.idempotency,
      webhooks: runtime.webhooks,
      routing: runtime.routing,
      deadLetters: runtime.deadLetters,
      metrics: runtime.metrics,
      testClocks: runtime.testClocks,
      events: new EventLog(runtime.database, pendingWebhooksSql),
      pspWebhooks: new PspWebhooks({
        database: runtime.database,
        payments: runtime.payments,
        logger,
      }),
      verifyLedger: () => verifyLedger(runtime.database),
      readiness: () => checkReadiness(runtime.database),
      testMode: runtime.testMode,
      settlement: runtime.settlement,
      payouts: runtime.payouts,
      moneyOut: runtime.moneyOut,
      reconciliation: runtime.reconciliation.service,
      reconciliationFiles: runtime.reconciliation.files,
      reconciliationFeeSchedules: runtime.reconciliation.feeSchedules,
      redis: runtime.redis,
      rateLimitOverrides: runtime.rateLimitOverrides,
      apiKeys: runtime.apiKeys,
      connectorHealth: runtime.connectorHealth,
      rateLimits: new ApiRateLimits({
        config: config.rateLimits,
        redis: runtime.redis,
        overrides: runtime.rateLimitOverrides,
        logger,
      }),
      dashboard: openDashboard(runtime.database, runtime.clock, runtime.adminKeys),
    };
    const app = await buildApp(context);
    const address = await app.listen({ host: config.host, port: config.port });
    await runtime.start();
    return {
      app,
      context,
      runtime,
      url: address,
      generatedAdminKey: runtime.generatedAdminKey,
      async close() {
        await app.close();
        await runtime.close();
      },
    };
  } catch (error) {
    await runtime.close();
    throw error;
  }
}
