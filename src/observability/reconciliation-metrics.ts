// Metrics of reconciliation (architecture §13): the match rate of the latest run, the open
// exceptions by reason and age, and runs and ingested files as counters. The gauges are read from
// the database when Prometheus scrapes (a grouped count over the open exceptions' partial index),
// so every process reports the same figures, whichever process ran the reconciliation.
import { Counter, Gauge, type Registry } from 'prom-client';

const PREFIX = 'payrail_reconciliation_';

/** Age buckets of open exceptions, by whole days since raised. */
export const exceptionAgeBuckets = ['0-1d', '1-3d', '3-7d', '7-30d', '30d+'] as const;
export type ExceptionAgeBucket = (typeof exceptionAgeBuckets)[number];

export type ReconciliationSnapshot = {
  /** Matched share (0–1) of what the latest real run saw, or undefined before the first run. */
  readonly matchRate: number | undefined;
  readonly open: readonly {
    readonly reason: string;
    readonly age: ExceptionAgeBucket;
    readonly count: number;
  }[];
};

export class ReconciliationMetrics {
  private readonly runs: Counter<'result'>;
  private readonly files: Counter<'format' | 'status'>;
  private readonly records: Counter<'source'>;

  constructor(registry: Registry, snapshot: () => Promise<ReconciliationSnapshot>) {
    const registers = [registry];
    let latest: Promise<ReconciliationSnapshot> | undefined;
    // One read per scrape for both gauges (the first gauge collected starts it).
    const read = (): Promise<ReconciliationSnapshot> => {
      latest ??= snapshot().finally(() => setImmediate(() => (latest = undefined)));
      return latest;
    };
    new Gauge({
      name: `${PREFIX}match_rate`,
      help: 'Share of expectations and records the latest reconciliation run matched (0-1)',
      registers,
      async collect() {
        const { matchRate } = await read();
        if (matchRate === undefined) this.reset();
        else this.set(matchRate);
      },
    });
    new Gauge({
      name: `${PREFIX}open_exceptions`,
      help: 'Open reconciliation exceptions by reason and age since raised',
      labelNames: ['reason', 'age'],
      registers,
      async collect() {
        const { open } = await read();
        this.reset();
        for (const group of open) this.set({ reason: group.reason, age: group.age }, group.count);
      },
    });
    this.runs = new Counter({
      name: `${PREFIX}runs_total`,
      help: 'Reconciliation runs by result (succeeded, failed, dry_run)',
      labelNames: ['result'],
      registers,
    });
    this.files = new Counter({
      name: `${PREFIX}files_total`,
      help: 'Reconciliation files taken in, by format and status (ingested, failed, duplicate)',
      labelNames: ['format', 'status'],
      registers,
    });
    this.records = new Counter({
      name: `${PREFIX}records_total`,
      help: 'External records taken in from reconciliation files, by source',
      labelNames: ['source'],
      registers,
    });
  }

  recordRun(result: 'succeeded' | 'failed' | 'dry_run'): void {
    this.runs.inc({ result });
  }

  recordFile(format: string, status: 'ingested' | 'failed' | 'duplicate', records = 0): void {
    this.files.inc({ format, status });
    if (records > 0) this.records.inc({ source: format }, records);
  }
}
