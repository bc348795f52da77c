// Ingestion of the PSP settlement report of each acknowledged batch (architecture §12.3). The
// report is read page by page outside any database transaction and staged into
// settlement_report_lines (set-based inserts of thousands of lines; a report staged again after a
// crash lands on the same keys). Then ONE transaction locks the batch, matches the staged lines
// with the batch's accepted items in SQL (by type and PSP reference), records every difference as
// a discrepancy, sets the batch's psp_fee and posts the psp_fee:<batch> ledger transfer. Neither
// the report nor the batch's items are ever held in memory, and no item is rewritten. The batch's
// psp_fee being set is the mark of an ingested report: ingesting again changes nothing. Items the
// report has and Payrail does not, or the other way round, become discrepancies (never a blocker).
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../clock.ts';
import type { Ledger } from '../../ledger/index.ts';
import type { MoneyInMetrics } from '../../observability/money-in-metrics.ts';
import { connectorSettlementAccounts } from '../../accounts/index.ts';
import type { Database, Queryable } from '../../storage/database.ts';
import { lockBatchFunding, markFundedIfComplete } from '../funding.ts';
import { acknowledgedStatuses, acknowledgedStatusesSql, type BatchStatus } from '../tables.ts';
import type { SettlementReportSource } from './client.ts';
import {
  deleteStagedLines,
  matchStagedLines,
  sameTotals,
  stagedTotals,
  stageLines,
  type StagedTotals,
  type StageMode,
} from './lines.ts';
import { pspFeeTransfer } from './postings.ts';
import { ReportFormatError, ReportUnavailableError, type ReportItem } from './types.ts';

export type ReportIngestionOptions = {
  /** Batches looked at per ingestDue() call. */
  readonly batchesPerCallMax: number;
  /** Wait after a failed fetch: doubled per attempt up to the maximum. */
  readonly retryDelayMs: number;
  readonly retryDelayMsMax: number;
  /** Lines staged per insert statement. */
  readonly stageLinesMax?: number;
};

export const defaultReportIngestionOptions: ReportIngestionOptions = {
  batchesPerCallMax: 20,
  retryDelayMs: 60_000,
  retryDelayMsMax: 6 * 3_600_000,
  stageLinesMax: 5_000,
};

export type ReportIngestionDependencies = {
  readonly database: Database;
  readonly ledger: Ledger;
  readonly source: SettlementReportSource;
  readonly clock?: Clock;
  readonly metrics?: MoneyInMetrics;
  readonly logger?: Logger;
};

export type BatchReportResult =
  | {
      readonly status: 'ingested';
      readonly items: number;
      readonly matched: number;
      readonly pspFee: bigint;
      readonly discrepancies: number;
      readonly funded: boolean;
    }
  | { readonly status: 'already_ingested' }
  | { readonly status: 'not_found' | 'not_acknowledged' }
  | { readonly status: 'failed'; readonly error: string };

export type IngestDueResult = {
  readonly batches: number;
  readonly ingested: number;
  readonly failed: number;
  readonly items: number;
  readonly discrepancies: number;
};

type BatchRow = {
  readonly id: string;
  readonly connector: string;
  readonly currency: string;
  readonly settlementReference: string;
};

/** What #apply decided: the batch's result, or that the staged lines are not this report's. */
type Applied = BatchReportResult | { readonly status: 'restage' };

export class SettlementReportIngestion {
  readonly #database: Database;
  readonly #ledger: Ledger;
  readonly #source: SettlementReportSource;
  readonly #clock: Clock;
  readonly #metrics: MoneyInMetrics | undefined;
  readonly #logger: Logger | undefined;
  readonly #options: ReportIngestionOptions;

  constructor(
    dependencies: ReportIngestionDependencies,
    options: ReportIngestionOptions = defaultReportIngestionOptions,
  ) {
    this.#database = dependencies.database;
    this.#ledger = dependencies.ledger;
    this.#source = dependencies.source;
    this.#clock = dependencies.clock ?? systemClock;
    this.#metrics = dependencies.metrics;
    this.#logger = dependencies.logger;
    this.#options = options;
  }

  /** Ingests the reports of acknowledged batches that have none yet and are due (bounded). */
  async ingestDue(): Promise<IngestDueResult> {
    const due = await this.#database.query<{
      id: string;
      connector: string;
      currency: string;
      settlement_reference: string;
    }>(
      `SELECT b.id, b.connector, b.currency, b.settlement_reference
         FROM settlement_batches b
         LEFT JOIN settlement_report_fetches f ON f.batch_id = b.id
        WHERE b.settlement_reference IS NOT NULL AND b.psp_fee IS NULL
          AND b.status IN ${acknowledgedStatusesSql}
          AND (f.batch_id IS NULL OR (f.ingested_at IS NULL AND f.next_attempt_at <= $1))
        ORDER BY b.cutoff_at, b.id
        LIMIT $2`,
      [this.#clock.now(), this.#options.batchesPerCallMax],
    );
    let ingested = 0;
    let failed = 0;
    let items = 0;
    let discrepancies = 0;
    for (const row of due.rows) {
      const result = await this.#ingest({
        id: row.id,
        connector: row.connector,
        currency: row.currency,
        settlementReference: row.settlement_reference,
      });
      if (result.status === 'ingested') {
        ingested++;
        items += result.items;
        discrepancies += result.discrepancies;
      } else if (result.status === 'failed') failed++;
    }
    return { batches: due.rows.length, ingested, failed, items, discrepancies };
  }

  /** Ingests one batch's report now, whatever its retry schedule (operators, tests). */
  async ingestBatch(batchId: string): Promise<BatchReportResult> {
    const found = await this.#database.query<{
      id: string;
      connector: string;
      currency: string;
      settlement_reference: string | null;
      status: string;
      psp_fee: bigint | null;
    }>(
      `SELECT id, connector, currency, settlement_reference, status, psp_fee
         FROM settlement_batches WHERE id = $1`,
      [batchId],
    );
    const row = found.rows[0];
    if (row === undefined) return { status: 'not_found' };
    if (row.psp_fee !== null) return { status: 'already_ingested' };
    if (
      row.settlement_reference === null ||
      !acknowledgedStatuses.includes(row.status as BatchStatus)
    )
      return { status: 'not_acknowledged' };
    return this.#ingest({
      id: row.id,
      connector: row.connector,
      currency: row.currency,
      settlementReference: row.settlement_reference,
    });
  }

  async #ingest(batch: BatchRow): Promise<BatchReportResult> {
    // Twice at most: lines left by an earlier attempt at a different report (the PSP corrected
    // it) are found by the totals check, deleted, and the report staged again.
    for (let attempt = 1; ; attempt++) {
      let staged: StagedTotals;
      try {
        staged = await this.#stage(batch);
      } catch (error) {
        if (!(error instanceof ReportUnavailableError) && !(error instanceof ReportFormatError))
          throw error;
        await this.#recordFailure(batch, error.message);
        return { status: 'failed', error: error.message };
      }
      const result = await this.#database.transaction((tx) => this.#apply(tx, batch, staged), {
        // Another writer of the same new ledger id: run again, and find the batch ingested.
        retryOn: (error) => error.code === '23505',
      });
      if (result.status === 'restage') {
        if (attempt < 2) continue;
        const message = 'the staged lines differ from the report read (read again later)';
        await this.#recordFailure(batch, message);
        return { status: 'failed', error: message };
      }
      if (result.status === 'ingested') {
        this.#metrics?.recordReportItems(batch.connector, result.items);
        this.#metrics?.recordDiscrepancies('psp_report', result.discrepancies);
      }
      return result;
    }
  }

  /**
   * Reads the report page by page into settlement_report_lines: one insert per stageLinesMax
   * lines, the next pages read while it runs. Returns what it staged, to be checked by #apply.
   */
  async #stage(batch: BatchRow): Promise<StagedTotals> {
    const chunk = this.#options.stageLinesMax ?? 5_000;
    let lines = 0;
    let amount = 0n;
    let fee = 0n;
    let lastLine = 0;
    let buffer: ReportItem[] = [];
    let mode: StageMode = 'insert';
    let inserting: Promise<void> | undefined;
    const flush = async () => {
      const rows = buffer;
      buffer = [];
      if (inserting !== undefined) await inserting;
      inserting = stageLines(this.#database, batch.id, rows, mode).then((next) => {
        mode = next;
      });
      // Awaited before the next insert or at the end; until then its failure must not go unhandled.
      inserting.catch(() => undefined);
    };
    try {
      for await (const page of this.#source.pages(batch.connector, batch.settlementReference)) {
        for (const item of page) {
          if (item.line <= lastLine)
            throw new ReportFormatError(
              batch.connector,
              `line ${item.line} comes after line ${lastLine}: lines must increase`,
              item.line,
            );
          lastLine = item.line;
          lines++;
          amount += item.amount;
          fee += item.fee;
          buffer.push(item);
        }
        if (buffer.length >= chunk) await flush();
      }
      await flush();
      await inserting;
    } catch (error) {
      await inserting?.catch(() => undefined);
      throw error;
    }
    return { lines, amount, fee };
  }

  async #recordFailure(batch: BatchRow, message: string): Promise<void> {
    this.#metrics?.recordReportFailure(batch.connector);
    this.#logger?.warn(
      { batch: batch.id, connector: batch.connector, err: message },
      'settlement report not ingested; retried later',
    );
    const now = this.#clock.now();
    await this.#database.query(
      `INSERT INTO settlement_report_fetches (batch_id, attempts, next_attempt_at, last_error)
       VALUES ($1, 1, $2::timestamptz + make_interval(secs => $3::double precision / 1000), $4)
       ON CONFLICT (batch_id) DO UPDATE SET
         attempts = settlement_report_fetches.attempts + 1,
         next_attempt_at = $2::timestamptz + make_interval(secs =>
           least($5::double precision,
                 $3::double precision * power(2, least(settlement_report_fetches.attempts, 30))) / 1000),
         last_error = $4`,
      [
        batch.id,
        now,
        this.#options.retryDelayMs,
        message.slice(0, 1000),
        this.#options.retryDelayMsMax,
      ],
    );
  }

  async #apply(tx: Queryable, batch: BatchRow, staged: StagedTotals): Promise<Applied> {
    const now = this.#clock.now();
    const funding = await lockBatchFunding(tx, batch.id);
    if (funding === undefined) return { status: 'not_found' };
    if (funding.pspFee !== null) return { status: 'already_ingested' };
    // Exactly the lines this attempt read must be staged: a line left by an attempt at a longer
    // or different report would otherwise be taken for the PSP's word.
    if (!sameTotals(await stagedTotals(tx, batch.id), staged)) {
      await deleteStagedLines(tx, batch.id);
      return { status: 'restage' };
    }
    const matching = await matchStagedLines(tx, batch, staged.lines, now);
    await this.#ledger.ensureAccountsWithin(
      tx,
      connectorSettlementAccounts(batch.connector, batch.currency),
    );
    const transfer = pspFeeTransfer(batch.id, batch.connector, batch.currency, matching.fee);
    if (transfer !== undefined) {
      const [posted] = await this.#ledger.transferBatchWithin(tx, [transfer], { now });
      if (posted?.status === 'rejected') throw posted.error;
    }
    await tx.query(`UPDATE settlement_batches SET psp_fee = $2 WHERE id = $1`, [
      batch.id,
      matching.fee,
    ]);
    await tx.query(
      `INSERT INTO settlement_report_fetches (batch_id, attempts, next_attempt_at, item_count, ingested_at)
       VALUES ($1, 1, $2, $3, $2)
       ON CONFLICT (batch_id) DO UPDATE SET attempts = settlement_report_fetches.attempts + 1,
         item_count = $3, ingested_at = $2, last_error = NULL`,
      [batch.id, now, staged.lines],
    );
    const funded = await markFundedIfComplete(tx, { ...funding, pspFee: matching.fee }, now);
    return {
      status: 'ingested',
      items: staged.lines,
      matched: matching.matched,
      pspFee: matching.fee,
      discrepancies: matching.discrepancies,
      funded,
    };
  }
}
