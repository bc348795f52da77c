// Settlement (architecture §12): the entry points workers, the CLI and the operator routes call,
// one per step, each doing bounded work and returning counts (progress bars, metrics).
//
//   closeDue(now)     close the intake batches due at the connectors' cutoffs and finish them
//   submitPending()   submit closed batches (and resubmit ones whose worker died) and record answers
//   run(now)          both, until nothing is left within the budget
import type { Clock } from '../clock.ts';
import { noFaults, type FaultInjector } from '../fault-points.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Database } from '../storage/database.ts';
import { keysetPage, type PageRequest } from '../storage/pagination.ts';
import type { AcquirerClient } from './acquirer.ts';
import { BatchCloser, type CloseOptions, type CloseResult } from './batches.ts';
import { nextCutoffAfter, SettlementCutoffs, type CutoffSetting } from './cutoffs.ts';
import {
  BatchSubmitter,
  defaultSubmissionOptions,
  type SubmissionOptions,
  type SubmitResult,
} from './submission.ts';
import { settlementBatches, type BatchStatus, type SettlementBatch } from './tables.ts';

export type SettlementDependencies = {
  readonly database: Database;
  readonly clock: Clock;
  /** The registered connectors (each has a cutoff, the default one without a row). */
  readonly connectors: readonly string[];
  /** The acquirer that clears a connector's batches. */
  readonly acquirer: (connector: string) => AcquirerClient;
  readonly faults?: FaultInjector;
  readonly metrics?: Metrics;
  readonly submission?: Partial<SubmissionOptions>;
};

export type SubmitPendingResult = {
  readonly submitted: number;
  readonly acknowledged: number;
  readonly failed: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly retried: number;
  readonly exceptions: number;
  readonly batches: readonly SubmitResult[];
};

/** One step of the money-out pipeline (the shape of src/money-out/runner.ts's MoneyOutStep). */
export type SettlementStep = {
  readonly name: string;
  readonly unit: string;
  run(): Promise<number>;
  due?(): Promise<number>;
};

export type RunResult = { readonly close: CloseResult; readonly submit: SubmitPendingResult };

/** A settlement item of a batch as the operator's dashboard lists it. */
export type BatchItem = {
  readonly id: string;
  readonly merchantId: string;
  readonly type: 'charge' | 'refund';
  readonly source: string;
  readonly currency: string;
  readonly amount: bigint;
  readonly net: bigint;
  /** As stored: an item still 'batched' in an acknowledged batch is accepted. */
  readonly clearingStatus: string;
  readonly rejectReason: string | null;
  readonly pspReference: string | null;
  readonly createdAt: Date;
};

type BatchItemRow = {
  id: string;
  merchant_id: string;
  type: 'charge' | 'refund';
  source: string;
  currency: string;
  amount: bigint;
  net: bigint;
  clearing_status: string;
  reject_reason: string | null;
  psp_reference: string | null;
  created_at: Date;
};

export class SettlementService {
  readonly cutoffs: SettlementCutoffs;
  readonly #database: Database;
  readonly #closer: BatchCloser;
  readonly #submitter: BatchSubmitter;
  readonly #clock: Clock;

  constructor(dependencies: SettlementDependencies) {
    const faults = dependencies.faults ?? noFaults;
    const metrics = dependencies.metrics;
    this.#database = dependencies.database;
    this.#clock = dependencies.clock;
    this.cutoffs = new SettlementCutoffs(
      dependencies.database,
      dependencies.clock,
      dependencies.connectors,
    );
    this.#closer = new BatchCloser(dependencies.database, dependencies.clock, this.cutoffs, () =>
      faults.reach('settlement_after_close'),
    );
    this.#submitter = new BatchSubmitter(
      dependencies.database,
      dependencies.clock,
      dependencies.acquirer,
      { ...defaultSubmissionOptions, ...dependencies.submission },
      {
        faults,
        onRecorded: (batch, result) => {
          metrics?.recordSettlementBatch(batch.connector, batch.itemCount, result.rejectsByReason);
        },
      },
    );
  }

  /** Opens, fills and closes the batches due at `now` (system time), within a budget of items. */
  async closeDue(now: Date = this.#clock.now(), options: CloseOptions = {}): Promise<CloseResult> {
    return this.#closer.closeDue(now, options);
  }

  /**
   * Submits up to `maxBatches` batches (closed, or in flight with a lapsed lease), `concurrency`
   * at a time: batches of different connectors go to different acquirers, and each is claimed by
   * one worker (SKIP LOCKED) and submitted under its own lease.
   */
  async submitPending(
    options: { maxBatches?: number; concurrency?: number } = {},
  ): Promise<SubmitPendingResult> {
    const batches: SubmitResult[] = [];
    const maxBatches = options.maxBatches ?? 10;
    let claimed = 0;
    const worker = async (): Promise<void> => {
      while (claimed < maxBatches) {
        claimed++;
        const batch = await this.#submitter.claim();
        if (batch === undefined) return;
        batches.push(await this.#submitter.submit(batch));
      }
    };
    const concurrency = Math.max(1, Math.min(options.concurrency ?? 3, maxBatches));
    // Every worker finishes its batch before a failure is thrown (none is left running).
    const settled = await Promise.allSettled(Array.from({ length: concurrency }, worker));
    for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;
    const sum = (field: 'accepted' | 'rejected' | 'retried' | 'exceptions') =>
      batches.reduce((total, batch) => total + batch[field], 0);
    return {
      submitted: batches.length,
      acknowledged: batches.filter((batch) => batch.status !== 'failed').length,
      failed: batches.filter((batch) => batch.status === 'failed').length,
      accepted: sum('accepted'),
      rejected: sum('rejected'),
      retried: sum('retried'),
      exceptions: sum('exceptions'),
      batches,
    };
  }

  /** Closes what is due and submits it (the operator's run, `payrail settle`). */
  async run(now: Date = this.#clock.now()): Promise<RunResult> {
    const close = await this.closeDue(now);
    const submit = await this.submitPending();
    return { close, submit };
  }

  /**
   * The settlement steps of the money-out pipeline (src/money-out/runner.ts shape): each call does
   * bounded work and returns how many units it handled, 0 when nothing was due.
   */
  steps(): SettlementStep[] {
    return [
      {
        name: 'settlement_close',
        unit: 'items',
        run: async () => {
          const result = await this.closeDue();
          return result.itemsBatched + result.exceptions;
        },
        due: async () => {
          // Items waiting for a close: unbatched, or in an open (intake or closing) batch.
          const due = await this.#database.query<{ count: number }>(
            `SELECT (SELECT count(*) FROM balance_transactions WHERE clearing_status = 'unbatched')::int
                  + (SELECT count(*) FROM balance_transactions item JOIN settlement_batches batch
                        ON batch.id = item.batch_id AND batch.status = 'open'
                      WHERE item.clearing_status = 'batched')::int AS count`,
          );
          return due.rows[0]?.count ?? 0;
        },
      },
      {
        name: 'settlement_submit',
        unit: 'batches',
        // Counts acknowledged batches only: one the acquirer could not take stays in flight, is
        // retried after its lease, and must not keep the runner calling (src/money-out/pipeline.ts).
        run: async () => (await this.submitPending({ maxBatches: 3, concurrency: 3 })).acknowledged,
        due: async () => {
          const due = await this.#database.query<{ count: number }>(
            `SELECT count(*)::int AS count FROM settlement_batches WHERE status IN ('closed', 'submitted')`,
          );
          return due.rows[0]?.count ?? 0;
        },
      },
    ];
  }

  async getBatch(id: string): Promise<SettlementBatch | undefined> {
    const found = await this.#database.query('SELECT * FROM settlement_batches WHERE id = $1', [
      id,
    ]);
    const row = found.rows[0];
    return row === undefined ? undefined : settlementBatches.fromRow(row);
  }

  /** The items a batch holds (every merchant's), newest first, keyset by id (index on batch, id). */
  async listBatchItems(
    batchId: string,
    page: PageRequest,
  ): Promise<{ items: BatchItem[]; hasMore: boolean }> {
    const { rows, hasMore } = await keysetPage<BatchItemRow, string>(
      this.#database,
      {
        select:
          'id, merchant_id, type, source, currency, amount, net, clearing_status, reject_reason, ' +
          'psp_reference, created_at',
        from: 'balance_transactions',
        scope: 'batch_id = $1',
        scopeParameters: [batchId],
        key: 'id',
        keyType: 'text',
        order: 'newest_first',
        noun: 'settlement item',
      },
      page,
    );
    return {
      items: rows.map((row) => ({
        id: row.id,
        merchantId: row.merchant_id,
        type: row.type,
        source: row.source,
        currency: row.currency,
        amount: BigInt(row.amount),
        net: BigInt(row.net),
        clearingStatus: row.clearing_status,
        rejectReason: row.reject_reason,
        pspReference: row.psp_reference,
        createdAt: row.created_at,
      })),
      hasMore,
    };
  }

  /** Newest first; optionally of one connector or status. */
  async listBatches(
    options: PageRequest & { readonly connector?: string; readonly status?: BatchStatus },
  ): Promise<{ batches: SettlementBatch[]; hasMore: boolean }> {
    const { rows, hasMore } = await keysetPage<Record<string, unknown>, string>(
      this.#database,
      {
        select: '*',
        from: 'settlement_batches',
        scope: 'true',
        scopeParameters: [],
        filter: '($1::text IS NULL OR connector = $1) AND ($2::text IS NULL OR status = $2)',
        filterParameters: [options.connector ?? null, options.status ?? null],
        key: 'id',
        keyType: 'text',
        order: 'newest_first',
        noun: 'settlement batch',
      },
      options,
    );
    return { batches: rows.map(settlementBatches.fromRow), hasMore };
  }

  /** Every connector's cutoff with its next instant after the system time. */
  async listCutoffs(): Promise<ScheduledCutoff[]> {
    const now = this.#clock.now();
    return (await this.cutoffs.list()).map((setting) => scheduled(setting, now));
  }

  async getCutoff(connector: string): Promise<ScheduledCutoff> {
    return scheduled(await this.cutoffs.get(connector), this.#clock.now());
  }

  async setCutoff(
    connector: string,
    change: { cutoffTime: string; timezone: string; captureWindowDays?: number },
  ): Promise<ScheduledCutoff> {
    return scheduled(await this.cutoffs.set(connector, change), this.#clock.now());
  }
}

export type ScheduledCutoff = { readonly setting: CutoffSetting; readonly nextCutoffAt: Date };

function scheduled(setting: CutoffSetting, now: Date): ScheduledCutoff {
  return { setting, nextCutoffAt: nextCutoffAfter(now, setting) };
}
