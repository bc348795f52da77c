// Money out, assembled (architecture §12): settlement with the acquirer, the PSPs' reports, the
// bank's statements, balances and payouts, and the pipeline that runs their steps. The acquirer,
// the PSPs' report endpoints and the bank are the simulator's (test mode); a live deployment needs
// their real addresses and credentials as configuration, which does not exist yet.
import type { Clock } from '../clock.ts';
import { createBalances, type Balances } from '../balances/index.ts';
import {
  HttpBankStatements,
  simulatorBankCredentials,
  StatementIngestion,
} from '../banking/index.ts';
import type { EventBus } from '../events/bus/index.ts';
import type { FaultInjector } from '../fault-points.ts';
import type { Ledger } from '../ledger/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { MoneyInMetrics } from '../observability/money-in-metrics.ts';
import { httpBankClient } from '../payouts/bank-client.ts';
import { PayoutsService } from '../payouts/payouts.ts';
import { HttpAcquirerClient } from '../settlement/acquirer.ts';
import {
  HttpSettlementReports,
  SettlementReportIngestion,
  simulatorReportCredentials,
} from '../settlement/reports/index.ts';
import { SettlementService } from '../settlement/service.ts';
import type { Database } from '../storage/database.ts';
import type { SecretBox } from '../vault/secret-box.ts';
import { moneyOutSteps, type PipelinePart } from './pipeline.ts';
import { runMoneyOut, type MoneyOutStep, type RunOptions, type RunReport } from './runner.ts';

export { moneyOutSteps, type PipelinePart } from './pipeline.ts';
export { runMoneyOut, type MoneyOutStep, type RunReport, type StepProgress } from './runner.ts';

export type MoneyOutDependencies = {
  readonly database: Database;
  readonly ledger: Ledger;
  readonly clock: Clock;
  readonly connectors: readonly string[];
  readonly simulatorUrl: string;
  readonly pspTimeoutMs: number;
  readonly bankAccountKeys: { readonly secretBox: SecretBox; readonly fingerprintKey: Buffer };
  readonly faults: FaultInjector;
  readonly metrics: Metrics;
  readonly events: EventBus;
  readonly logger: Logger;
};

export type MoneyOut = {
  readonly settlement: SettlementService;
  readonly reports: SettlementReportIngestion;
  readonly statements: StatementIngestion;
  readonly balances: Balances;
  readonly payouts: PayoutsService;
  steps(part?: PipelinePart): MoneyOutStep[];
  /** Runs the pipeline (or a part of it) once, each step until nothing more is due. */
  run(part?: PipelinePart, options?: RunOptions): Promise<RunReport>;
  /** Runs the whole pipeline every `intervalMs` (workers); runs never overlap. */
  startWorker(intervalMs: number): { stop(): Promise<void> };
};

export function createMoneyOut(dependencies: MoneyOutDependencies): MoneyOut {
  const { database, ledger, clock, metrics, logger } = dependencies;
  const acquirer = new HttpAcquirerClient({
    baseUrl: `${dependencies.simulatorUrl}/acquirer`,
    apiKey: 'acq_test_sim',
    timeoutMs: Math.max(dependencies.pspTimeoutMs, 120_000),
  });
  const settlement = new SettlementService({
    database,
    clock,
    connectors: dependencies.connectors,
    acquirer: () => acquirer,
    faults: dependencies.faults,
    metrics,
  });
  const payouts = new PayoutsService({
    database,
    ledger,
    clock,
    bankAccountKeys: dependencies.bankAccountKeys,
    bank: httpBankClient({ baseUrl: `${dependencies.simulatorUrl}/bank`, apiKey: 'bank_test_sim' }),
    faults: dependencies.faults,
    events: dependencies.events,
  });
  const moneyInMetrics = new MoneyInMetrics(metrics.registry);
  const reports = new SettlementReportIngestion({
    database,
    ledger,
    clock,
    logger,
    metrics: moneyInMetrics,
    source: new HttpSettlementReports(simulatorReportCredentials(dependencies.simulatorUrl)),
  });
  const statements = new StatementIngestion({
    database,
    ledger,
    clock,
    logger,
    metrics: moneyInMetrics,
    source: new HttpBankStatements(simulatorBankCredentials(dependencies.simulatorUrl)),
    payoutEvents: payouts,
  });
  const balances = createBalances({ database, ledger });
  const parts = { clock, settlement, reports, statements, balances, payouts, metrics };
  const steps = (part: PipelinePart = 'all') => moneyOutSteps(parts, part);
  const run = (part: PipelinePart = 'all', options?: RunOptions) =>
    runMoneyOut(steps(part), options);
  return {
    settlement,
    reports,
    statements,
    balances,
    payouts,
    steps,
    run,
    startWorker: (intervalMs) => startWorker(() => run('all'), intervalMs, logger),
  };
}

function startWorker(
  run: () => Promise<RunReport>,
  intervalMs: number,
  logger: Logger,
): { stop(): Promise<void> } {
  let current: Promise<void> | undefined;
  const tick = () => {
    if (current !== undefined) return;
    current = run()
      .then((report) => {
        if (Object.values(report).some((count) => count > 0))
          logger.info({ moneyOut: report }, 'money-out run');
      })
      .catch((error: unknown) => logger.error({ err: error }, 'money-out run failed'))
      .finally(() => {
        current = undefined;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await current;
    },
  };
}
