// Ingestion of the PSP settlement report of each acknowledged batch (architecture §12). The report
// is fetched outside any database transaction; then, in ONE transaction: its items are matched by
// PSP reference to the batch's accepted balance transactions, each item's psp_fee is stored, the
// batch's psp_fee is set, and the psp_fee:<batch> ledger transfer is posted. The batch's psp_fee
// being set is the mark of an ingested report: ingesting again changes nothing. Items the report
// has and Payrail does not, or the other way round, become discrepancies (never a blocker).
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../clock.ts';
import type { Ledger } from '../../ledger/index.ts';
import type { MoneyInMetrics } from '../../observability/money-in-metrics.ts';
import { connectorSettlementAccounts } from '../../accounts/index.ts';
import { recordDiscrepancies, type NewDiscrepancy } from '../../reconciliation/discrepancies.ts';
import type { Database, Queryable } from '../../storage/database.ts';
import { lockBatchFunding, markFundedIfComplete } from '../funding.ts';
import type { SettlementReportSource } from './client.ts';
import { pspFeeTransfer } from './postings.ts';
import {
  ReportFormatError,
  ReportUnavailableError,
  type ReportItem,
  type SettlementReport,
} from './types.ts';

export type ReportIngestionOptions = {
  /** Batches looked at per ingestDue() call. */
  readonly batchesPerCallMax: number;
  /** Wait after a failed fetch: doubled per attempt up to the maximum. */
  readonly retryDelayMs: number;
  readonly retryDelayMsMax: number;
};

export const defaultReportIngestionOptions: ReportIngestionOptions = {
  batchesPerCallMax: 20,
  retryDelayMs: 60_000,
  retryDelayMsMax: 6 * 3_600_000,
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

type PayrailItem = {
  readonly id: string;
  readonly type: 'charge' | 'refund';
  readonly amount: bigint;
  readonly currency: string;
  readonly pspReference: string | null;
};

const ingestibleStatuses = `('acknowledged', 'partially_acknowledged', 'funded')`;

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
          AND b.status IN ${ingestibleStatuses}
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
    if (row.settlement_reference === null || !isIngestible(row.status))
      return { status: 'not_acknowledged' };
    return this.#ingest({
      id: row.id,
      connector: row.connector,
      currency: row.currency,
      settlementReference: row.settlement_reference,
    });
  }

  async #ingest(batch: BatchRow): Promise<BatchReportResult> {
    let report: SettlementReport;
    try {
      report = await this.#source.fetch(batch.connector, batch.settlementReference);
    } catch (error) {
      if (!(error instanceof ReportUnavailableError) && !(error instanceof ReportFormatError))
        throw error;
      await this.#recordFailure(batch, error.message);
      return { status: 'failed', error: error.message };
    }
    const result = await this.#database.transaction((tx) => this.#apply(tx, batch, report), {
      // Another writer of the same new ledger id: run again, and find the batch ingested.
      retryOn: (error) => error.code === '23505',
    });
    if (result.status === 'ingested') {
      this.#metrics?.recordReportItems(batch.connector, result.items);
      this.#metrics?.recordDiscrepancies('psp_report', result.discrepancies);
    }
    return result;
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

  async #apply(
    tx: Queryable,
    batch: BatchRow,
    report: SettlementReport,
  ): Promise<BatchReportResult> {
    const now = this.#clock.now();
    const funding = await lockBatchFunding(tx, batch.id);
    if (funding === undefined) return { status: 'not_found' };
    if (funding.pspFee !== null) return { status: 'already_ingested' };
    const payrailItems = await loadAcceptedItems(tx, batch.id);
    const matching = matchItems(batch, report.items, payrailItems);
    await storeItemFees(tx, matching.fees);
    await this.#ledger.ensureAccountsWithin(
      tx,
      connectorSettlementAccounts(batch.connector, batch.currency),
    );
    const transfer = pspFeeTransfer(batch.id, batch.connector, batch.currency, matching.totalFee);
    if (transfer !== undefined) {
      const [posted] = await this.#ledger.transferBatchWithin(tx, [transfer], { now });
      if (posted?.status === 'rejected') throw posted.error;
    }
    await tx.query(`UPDATE settlement_batches SET psp_fee = $2 WHERE id = $1`, [
      batch.id,
      matching.totalFee,
    ]);
    await tx.query(
      `INSERT INTO settlement_report_fetches (batch_id, attempts, next_attempt_at, item_count, ingested_at)
       VALUES ($1, 1, $2, $3, $2)
       ON CONFLICT (batch_id) DO UPDATE SET attempts = settlement_report_fetches.attempts + 1,
         item_count = $3, ingested_at = $2, last_error = NULL`,
      [batch.id, now, report.items.length],
    );
    const discrepancies = await recordDiscrepancies(tx, matching.discrepancies, now);
    const funded = await markFundedIfComplete(tx, { ...funding, pspFee: matching.totalFee }, now);
    return {
      status: 'ingested',
      items: report.items.length,
      matched: matching.fees.length,
      pspFee: matching.totalFee,
      discrepancies,
      funded,
    };
  }
}

function isIngestible(status: string): boolean {
  return status === 'acknowledged' || status === 'partially_acknowledged' || status === 'funded';
}

/**
 * The batch's accepted items with the PSP reference clearing submitted: the attempt's PSP payment
 * id for a charge, the refund's PSP refund id for a refund.
 */
async function loadAcceptedItems(tx: Queryable, batchId: string): Promise<PayrailItem[]> {
  const result = await tx.query<{
    id: string;
    type: 'charge' | 'refund';
    amount: bigint;
    currency: string;
    psp_reference: string | null;
  }>(
    `SELECT bt.id, bt.type, bt.amount, bt.currency,
            CASE WHEN bt.type = 'charge' THEN a.psp_reference ELSE r.psp_reference END AS psp_reference
       FROM balance_transactions bt
       LEFT JOIN payment_attempts a ON a.id = bt.attempt_id
       LEFT JOIN refunds r ON bt.type = 'refund' AND r.id = bt.source
      WHERE bt.batch_id = $1 AND bt.clearing_status = 'batched'`,
    [batchId],
  );
  return result.rows.map((row) => ({
    id: row.id,
    type: row.type,
    amount: BigInt(row.amount),
    currency: row.currency,
    pspReference: row.psp_reference,
  }));
}

type Matching = {
  readonly fees: readonly { readonly id: string; readonly fee: bigint }[];
  readonly totalFee: bigint;
  readonly discrepancies: readonly NewDiscrepancy[];
};

/** Pure: which report item is which Payrail item, their fees, and every difference. */
export function matchItems(
  batch: BatchRow,
  reported: readonly ReportItem[],
  payrail: readonly PayrailItem[],
): Matching {
  const byKey = new Map<string, PayrailItem>();
  for (const item of payrail)
    if (item.pspReference !== null) byKey.set(`${item.type}:${item.pspReference}`, item);
  const seen = new Set<string>();
  const fees: { id: string; fee: bigint }[] = [];
  const found: NewDiscrepancy[] = [];
  let totalFee = 0n;
  const discrepancy = (
    kind: NewDiscrepancy['kind'],
    reference: string,
    amount: bigint | null,
    details: Record<string, unknown>,
  ) =>
    found.push({
      key: `psp_report:${batch.id}:${kind}:${reference}`,
      source: 'psp_report',
      kind,
      connector: batch.connector,
      batchId: batch.id,
      reference,
      currency: batch.currency,
      amount,
      details,
    });
  for (const item of reported) {
    const key = `${item.type}:${item.pspReference}`;
    const reportDetails = {
      line: item.line,
      type: item.type,
      amount: item.amount.toString(),
      fee: item.fee.toString(),
      currency: item.currency,
    };
    if (seen.has(key)) {
      discrepancy('report_duplicate_item', `${key}:${item.line}`, item.amount, reportDetails);
      continue;
    }
    seen.add(key);
    const match = byKey.get(key);
    if (match === undefined) {
      discrepancy('report_unknown_item', key, item.amount, reportDetails);
      continue;
    }
    if (item.currency !== batch.currency) {
      discrepancy('report_currency_mismatch', key, item.amount, {
        ...reportDetails,
        item: match.id,
      });
      continue;
    }
    if (item.amount !== match.amount)
      discrepancy('report_amount_mismatch', key, item.amount - match.amount, {
        ...reportDetails,
        item: match.id,
        payrail_amount: match.amount.toString(),
      });
    fees.push({ id: match.id, fee: item.fee });
    totalFee += item.fee;
  }
  for (const item of payrail) {
    const key = `${item.type}:${item.pspReference ?? '?'}`;
    if (item.pspReference === null || !seen.has(key))
      discrepancy('report_missing_item', item.id, item.amount, {
        type: item.type,
        psp_reference: item.pspReference,
      });
  }
  return { fees, totalFee, discrepancies: found };
}

async function storeItemFees(
  tx: Queryable,
  fees: readonly { readonly id: string; readonly fee: bigint }[],
): Promise<void> {
  const chunk = 10_000;
  for (let start = 0; start < fees.length; start += chunk) {
    const part = fees.slice(start, start + chunk);
    await tx.query(
      `UPDATE balance_transactions bt SET psp_fee = input.fee
         FROM unnest($1::text[], $2::bigint[]) AS input (id, fee)
        WHERE bt.id = input.id`,
      [part.map((item) => item.id), part.map((item) => item.fee.toString())],
    );
  }
}
