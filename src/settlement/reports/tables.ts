// The stored entities of report ingestion (migrations 021 and 027), one definition each
// (storage/table.ts).
import { bigint, defineTable, integer, nullable, text, timestamptz } from '../../storage/table.ts';
import type { ReportItemType } from './types.ts';

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

/**
 * One line of a batch's PSP report as staged by ingestion and kept afterwards: what the PSP said
 * of one item (amounts signed like balance transactions).
 */
export type ReportLine = {
  readonly batchId: string;
  readonly line: number;
  readonly type: ReportItemType;
  readonly pspReference: string;
  readonly currency: string;
  readonly amount: bigint;
  readonly fee: bigint;
  readonly net: bigint;
};

export const settlementReportLines = defineTable<ReportLine>({
  name: 'settlement_report_lines',
  columns: {
    batchId: text('batch_id'),
    line: integer('line'),
    type: text<ReportItemType>('type'),
    pspReference: text('psp_reference'),
    currency: text('currency'),
    amount: bigint('amount'),
    fee: bigint('fee'),
    net: bigint('net'),
  },
});
