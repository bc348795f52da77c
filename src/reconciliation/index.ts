// Reconciliation (architecture §13): files in, runs that match the ledger's expectations against
// them, exceptions resolved through the ledger. `createReconciliation` wires the services and
// their metrics for a process.
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Ledger } from '../ledger/index.ts';
import { ReconciliationMetrics } from '../observability/reconciliation-metrics.ts';
import type { Database } from '../storage/database.ts';
import { FeeSchedules } from './fee-schedules.ts';
import { ReconciliationFiles } from './ingest/service.ts';
import { readReconciliationSnapshot } from './metrics.ts';
import { ReconciliationService } from './service.ts';

export { ReconciliationFiles } from './ingest/service.ts';
export { ReconciliationService } from './service.ts';
export { FeeSchedules } from './fee-schedules.ts';

export type Reconciliation = {
  readonly service: ReconciliationService;
  readonly files: ReconciliationFiles;
  readonly feeSchedules: FeeSchedules;
};

export function createReconciliation(options: {
  readonly database: Database;
  readonly ledger: Ledger;
  readonly clock: Clock;
  readonly registry: Registry;
}): Reconciliation {
  const { database, ledger, clock } = options;
  const metrics = new ReconciliationMetrics(options.registry, () =>
    readReconciliationSnapshot(database, clock.now()),
  );
  return {
    service: new ReconciliationService({ database, ledger, clock, metrics }),
    files: new ReconciliationFiles({ database, clock, metrics }),
    feeSchedules: new FeeSchedules({ database, clock }),
  };
}
