// The reconciliation tables (migration 029, architecture §13), one definition each: every read of a
// whole row maps through it, and the schema test compares it with the migrated table.
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

export type ReconFileFormat =
  | 'stripe_balance_transactions'
  | 'adyen_settlement_csv'
  | 'razorpay_recon'
  | 'acquirer_ack'
  | 'camt053'
  /** A failed file whose format could not be told (its row only). */
  | 'unknown';

export type ReconFileStatus = 'ingesting' | 'ingested' | 'failed';

export type ReconFile = {
  readonly id: string;
  readonly sha256: string;
  readonly name: string;
  readonly format: ReconFileFormat;
  readonly connector: string | null;
  readonly status: ReconFileStatus;
  readonly byteCount: bigint;
  readonly recordCount: number;
  readonly duplicateCount: number;
  readonly quarantinedCount: number;
  readonly error: string | null;
  readonly createdAt: Date;
  readonly completedAt: Date | null;
};

export const reconFiles = defineTable<ReconFile>({
  name: 'recon_files',
  columns: {
    id: text('id'),
    sha256: text('sha256'),
    name: text('name'),
    format: text<ReconFileFormat>('format'),
    connector: nullable(text('connector')),
    status: text<ReconFileStatus>('status'),
    byteCount: bigint('byte_count'),
    recordCount: integer('record_count'),
    duplicateCount: integer('duplicate_count'),
    quarantinedCount: integer('quarantined_count'),
    error: nullable(text('error')),
    createdAt: timestamptz('created_at'),
    completedAt: nullable(timestamptz('completed_at')),
  },
});

export type QuarantinedRow = {
  readonly fileId: string;
  readonly line: number;
  readonly reason: string;
  readonly excerpt: string;
};

export const reconQuarantine = defineTable<QuarantinedRow>({
  name: 'recon_quarantine',
  columns: {
    fileId: text('file_id'),
    line: integer('line'),
    reason: text('reason'),
    excerpt: text('excerpt'),
  },
});

export type RecordSource = 'psp_report' | 'acquirer_ack' | 'bank_statement';
export type RecordKind =
  'charge' | 'refund' | 'accepted' | 'rejected' | 'credit' | 'debit' | 'return';

/** One external line (architecture §13): its identity is (source, rowKey), from its content. */
export type ReconRecord = {
  readonly source: RecordSource;
  readonly rowKey: string;
  readonly fileId: string | null;
  readonly line: number;
  readonly kind: RecordKind;
  readonly connector: string | null;
  readonly ourReference: string | null;
  readonly pspReference: string | null;
  readonly batchReference: string | null;
  readonly traceId: string | null;
  readonly currency: string;
  /** Minor units: PSP lines signed like balance transactions, bank lines positive. */
  readonly amount: bigint;
  readonly fee: bigint | null;
  /** YYYY-MM-DD: the day the line is about. */
  readonly valueDate: string;
  /** YYYY-MM-DD: the day it was first seen. */
  readonly seenOn: string;
  readonly groupId: string | null;
};

/**
 * A record's row key, derived from the line's own content: one definition for the readers of
 * uploaded files (TypeScript) and for the import of the pipeline's own tables (SQL), so that the
 * same line seen both ways is one record.
 *   psp_report      <connector>:<settlement reference>:<line in the report>
 *   acquirer_ack    <batch id>:<item id>
 *   bank_statement  <entry reference>:<credit|debit>
 */
export const recordKeys = {
  pspLine: (connector: string, settlementReference: string, line: number): string =>
    `${connector}:${settlementReference}:${line}`,
  /** The same over SQL expressions. */
  pspLineSql: (connector: string, settlementReference: string, line: string): string =>
    `${connector} || ':' || ${settlementReference} || ':' || ${line}`,
  ackLine: (batchId: string, itemId: string): string => `${batchId}:${itemId}`,
  bankEntry: (entryReference: string, direction: 'credit' | 'debit'): string =>
    `${entryReference}:${direction}`,
  bankEntrySql: (entryReference: string, direction: string): string =>
    `${entryReference} || ':' || ${direction}`,
  /** A bank record's entry reference and direction, back from its key. */
  bankEntryOf(
    rowKey: string,
  ): { readonly reference: string; readonly direction: 'credit' | 'debit' } | undefined {
    const separator = rowKey.lastIndexOf(':');
    const direction = rowKey.slice(separator + 1);
    if (separator <= 0 || (direction !== 'credit' && direction !== 'debit')) return undefined;
    return { reference: rowKey.slice(0, separator), direction };
  },
};

export const reconRecords = defineTable<ReconRecord>({
  name: 'recon_records',
  columns: {
    source: text<RecordSource>('source'),
    rowKey: text('row_key'),
    fileId: nullable(text('file_id')),
    line: integer('line'),
    kind: text<RecordKind>('kind'),
    connector: nullable(text('connector')),
    ourReference: nullable(text('our_reference')),
    pspReference: nullable(text('psp_reference')),
    batchReference: nullable(text('batch_reference')),
    traceId: nullable(text('trace_id')),
    currency: text('currency'),
    amount: bigint('amount'),
    fee: nullable(bigint('fee')),
    valueDate: text('value_date'),
    seenOn: text('seen_on'),
    groupId: nullable(text('group_id')),
  },
});

export type ExpectationKind =
  'psp_line' | 'bank_credit' | 'bank_debit' | 'ack_accepted' | 'ack_rejected';

export type ReconExpectation = {
  readonly key: string;
  readonly kind: ExpectationKind;
  readonly connector: string | null;
  readonly currency: string;
  readonly amount: bigint;
  readonly expectedFee: bigint | null;
  readonly ourReference: string | null;
  readonly pspReference: string | null;
  readonly batchReference: string | null;
  readonly traceId: string | null;
  readonly dueOn: string;
  readonly deadlineOn: string;
  readonly groupId: string | null;
  readonly createdAt: Date;
};

export const reconExpectations = defineTable<ReconExpectation>({
  name: 'recon_expectations',
  columns: {
    key: text('key'),
    kind: text<ExpectationKind>('kind'),
    connector: nullable(text('connector')),
    currency: text('currency'),
    amount: bigint('amount'),
    expectedFee: nullable(bigint('expected_fee')),
    ourReference: nullable(text('our_reference')),
    pspReference: nullable(text('psp_reference')),
    batchReference: nullable(text('batch_reference')),
    traceId: nullable(text('trace_id')),
    dueOn: text('due_on'),
    deadlineOn: text('deadline_on'),
    groupId: nullable(text('group_id')),
    createdAt: timestamptz('created_at'),
  },
});

export type FeeScheduleRow = {
  readonly connector: string;
  readonly commissionBps: number;
  readonly commissionFixed: bigint;
  readonly markupBps: number;
  readonly schemeFeeBps: number;
  readonly interchangeBps: number;
  readonly taxBps: number;
  readonly refundFixed: bigint;
  readonly updatedAt: Date;
};

export const reconFeeSchedules = defineTable<FeeScheduleRow>({
  name: 'recon_fee_schedules',
  columns: {
    connector: text('connector'),
    commissionBps: integer('commission_bps'),
    commissionFixed: bigint('commission_fixed'),
    markupBps: integer('markup_bps'),
    schemeFeeBps: integer('scheme_fee_bps'),
    interchangeBps: integer('interchange_bps'),
    taxBps: integer('tax_bps'),
    refundFixed: bigint('refund_fixed'),
    updatedAt: timestamptz('updated_at'),
  },
});

export type RunStatus = 'running' | 'succeeded' | 'failed';

export type ReconRun = {
  readonly id: string;
  readonly dryRun: boolean;
  readonly status: RunStatus;
  readonly asOf: string;
  readonly rulesHash: string;
  readonly resultHash: string | null;
  readonly summary: Readonly<Record<string, unknown>>;
  readonly error: string | null;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
};

export const reconRuns = defineTable<ReconRun>({
  name: 'recon_runs',
  columns: {
    id: text('id'),
    dryRun: boolean('dry_run'),
    status: text<RunStatus>('status'),
    asOf: text('as_of'),
    rulesHash: text('rules_hash'),
    resultHash: nullable(text('result_hash')),
    summary: jsonb<Readonly<Record<string, unknown>>>('summary'),
    error: nullable(text('error')),
    startedAt: timestamptz('started_at'),
    finishedAt: nullable(timestamptz('finished_at')),
  },
});

export type MatchPass = 'exact' | 'tolerance' | 'aggregate' | 'manual';

export type ReconGroup = {
  readonly id: string;
  readonly runId: string;
  readonly pass: MatchPass;
  readonly createdAt: Date;
};

export const reconGroups = defineTable<ReconGroup>({
  name: 'recon_groups',
  columns: {
    id: text('id'),
    runId: text('run_id'),
    pass: text<MatchPass>('pass'),
    createdAt: timestamptz('created_at'),
  },
});

// The reasons are part of the public API (api-objects owns the list).
export { exceptionReasons, type ExceptionReason } from '../api-objects/reconciliation-reasons.ts';
import type { ExceptionReason } from '../api-objects/reconciliation-reasons.ts';

export type ExceptionSource = RecordSource | 'ledger';
export type ExceptionStatus = 'open' | 'resolved';
export type ExceptionResolution = 'matched' | 'written_off' | 'adjusted' | 'psp_error';

export type ReconException = {
  readonly id: string;
  readonly key: string;
  readonly runId: string;
  readonly reason: ExceptionReason;
  readonly source: ExceptionSource;
  readonly connector: string | null;
  readonly currency: string | null;
  readonly amount: bigint | null;
  readonly expectationKey: string | null;
  readonly recordSource: RecordSource | null;
  readonly recordKey: string | null;
  readonly groupId: string | null;
  readonly details: Readonly<Record<string, unknown>>;
  readonly status: ExceptionStatus;
  readonly assignee: string | null;
  readonly resolution: ExceptionResolution | null;
  readonly resolutionReason: string | null;
  readonly ledgerTransactionId: string | null;
  readonly createdAt: Date;
  readonly resolvedAt: Date | null;
};

export const reconExceptions = defineTable<ReconException>({
  name: 'recon_exceptions',
  columns: {
    id: text('id'),
    key: text('key'),
    runId: text('run_id'),
    reason: text<ExceptionReason>('reason'),
    source: text<ExceptionSource>('source'),
    connector: nullable(text('connector')),
    currency: nullable(text('currency')),
    amount: nullable(bigint('amount')),
    expectationKey: nullable(text('expectation_key')),
    recordSource: nullable(text<RecordSource>('record_source')),
    recordKey: nullable(text('record_key')),
    groupId: nullable(text('group_id')),
    details: jsonb<Readonly<Record<string, unknown>>>('details'),
    status: text<ExceptionStatus>('status'),
    assignee: nullable(text('assignee')),
    resolution: nullable(text<ExceptionResolution>('resolution')),
    resolutionReason: nullable(text('resolution_reason')),
    ledgerTransactionId: nullable(text('ledger_transaction_id')),
    createdAt: timestamptz('created_at'),
    resolvedAt: nullable(timestamptz('resolved_at')),
  },
});

export type HistoryAction = 'raised' | 'assigned' | 'noted' | 'resolved';

export type ExceptionHistoryEntry = {
  readonly exceptionId: string;
  readonly seq: number;
  readonly action: HistoryAction;
  readonly actor: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly at: Date;
};

export const reconExceptionHistory = defineTable<ExceptionHistoryEntry>({
  name: 'recon_exception_history',
  columns: {
    exceptionId: text('exception_id'),
    seq: integer('seq'),
    action: text<HistoryAction>('action'),
    actor: text('actor'),
    details: jsonb<Readonly<Record<string, unknown>>>('details'),
    at: timestamptz('at'),
  },
});

/** What a run took from a batch so far (added by the matching engine). */
export type BatchProgress = {
  readonly batchId: string;
  readonly linesImportedAt: Date | null;
  readonly itemsExpectedAt: Date | null;
  readonly creditExpectedAt: Date | null;
  readonly acksExpectedAt: Date | null;
};

export const reconBatchProgress = defineTable<BatchProgress>({
  name: 'recon_batch_progress',
  columns: {
    batchId: text('batch_id'),
    linesImportedAt: nullable(timestamptz('lines_imported_at')),
    itemsExpectedAt: nullable(timestamptz('items_expected_at')),
    creditExpectedAt: nullable(timestamptz('credit_expected_at')),
    acksExpectedAt: nullable(timestamptz('acks_expected_at')),
  },
});

/** A bank statement's closing balance (camt.053 CLBD) for one currency and booking date. */
export type StatementBalance = {
  readonly currency: string;
  readonly bookingDate: string;
  /** Signed minor units. */
  readonly closingBalance: bigint;
  readonly fileId: string | null;
  readonly createdAt: Date;
};

export const reconStatementBalances = defineTable<StatementBalance>({
  name: 'recon_statement_balances',
  columns: {
    currency: text('currency'),
    bookingDate: text('booking_date'),
    closingBalance: bigint('closing_balance'),
    fileId: nullable(text('file_id')),
    createdAt: timestamptz('created_at'),
  },
});
