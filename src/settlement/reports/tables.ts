// The stored entity of report ingestion (migration 021), one definition (storage/table.ts).
import { defineTable, integer, nullable, text, timestamptz } from '../../storage/table.ts';

/** The fetches of one batch's settlement report, until it is ingested. */
export type ReportFetch = {
  readonly batchId: string;
  readonly attempts: number;
  readonly nextAttemptAt: Date;
  readonly lastError: string | null;
  readonly itemCount: number | null;
  readonly ingestedAt: Date | null;
};

export const settlementReportFetches = defineTable<ReportFetch>({
  name: 'settlement_report_fetches',
  columns: {
    batchId: text('batch_id'),
    attempts: integer('attempts'),
    nextAttemptAt: timestamptz('next_attempt_at'),
    lastError: nullable(text('last_error')),
    itemCount: nullable(integer('item_count')),
    ingestedAt: nullable(timestamptz('ingested_at')),
  },
});
