// The settlement batch, one definition (src/storage/table.ts): every read of a whole batch maps
// through it, and the schema test compares it with the migrated table.
import {
  bigint,
  boolean,
  defineTable,
  integer,
  jsonb,
  nullable,
  text,
  timestamptz,
} from '../storage/table.ts';

export type BatchStatus =
  'open' | 'closed' | 'submitted' | 'acknowledged' | 'partially_acknowledged' | 'funded';

/**
 * The statuses of a batch the acquirer has answered: its items still 'batched' are accepted (an
 * accepted item is not rewritten, architecture §12.2), and its PSP report can be ingested.
 */
export const acknowledgedStatuses: readonly BatchStatus[] = [
  'acknowledged',
  'partially_acknowledged',
  'funded',
];

/** `acknowledgedStatuses` as an SQL list, for `status IN …`. */
export const acknowledgedStatusesSql = `(${acknowledgedStatuses.map((status) => `'${status}'`).join(', ')})`;

/** The first line of an acquirer's answer (SPEC-11 wire contract). */
export type AcquirerHeader = {
  readonly batch_id: string;
  readonly acquirer_reference: string;
  readonly status: string;
  readonly accepted_count: number;
  readonly rejected_count: number;
  readonly accepted_amount: number;
  readonly settlement_reference: string;
};

export type SettlementBatch = {
  readonly id: string;
  readonly connector: string;
  readonly currency: string;
  readonly cutoffAt: Date;
  readonly status: BatchStatus;
  readonly itemCount: number;
  /** Captures minus refunds, as submitted. */
  readonly netAmount: bigint;
  readonly acceptedCount: number;
  readonly rejectedCount: number;
  readonly acceptedAmount: bigint;
  readonly acquirerReference: string | null;
  readonly pspFee: bigint | null;
  readonly settlementReference: string | null;
  readonly fundedAmount: bigint;
  readonly closedAt: Date | null;
  readonly submittedAt: Date | null;
  readonly acknowledgedAt: Date | null;
  readonly fundedAt: Date | null;
  readonly createdAt: Date;
  readonly submissionAttempts: number;
  readonly submissionLeaseUntil: Date | null;
  readonly lastError: string | null;
  readonly acquirerHeader: AcquirerHeader | null;
  /** The intake batch of its connector and currency: postings go into it (status 'open'). */
  readonly intakeOpen: boolean;
};

export const settlementBatches = defineTable<SettlementBatch>({
  name: 'settlement_batches',
  columns: {
    id: text('id'),
    connector: text('connector'),
    currency: text('currency'),
    cutoffAt: timestamptz('cutoff_at'),
    status: text<BatchStatus>('status'),
    itemCount: integer('item_count'),
    netAmount: bigint('net_amount'),
    acceptedCount: integer('accepted_count'),
    rejectedCount: integer('rejected_count'),
    acceptedAmount: bigint('accepted_amount'),
    acquirerReference: nullable(text('acquirer_reference')),
    pspFee: nullable(bigint('psp_fee')),
    settlementReference: nullable(text('settlement_reference')),
    fundedAmount: bigint('funded_amount'),
    closedAt: nullable(timestamptz('closed_at')),
    submittedAt: nullable(timestamptz('submitted_at')),
    acknowledgedAt: nullable(timestamptz('acknowledged_at')),
    fundedAt: nullable(timestamptz('funded_at')),
    createdAt: timestamptz('created_at'),
    submissionAttempts: integer('submission_attempts'),
    submissionLeaseUntil: nullable(timestamptz('submission_lease_until')),
    lastError: nullable(text('last_error')),
    acquirerHeader: nullable(jsonb<AcquirerHeader>('acquirer_header')),
    intakeOpen: boolean('intake_open'),
  },
});
