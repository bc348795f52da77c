// The operator's reconciliation objects (architecture §13): a run and an exception (with its
// history). Amounts are minor units; dates of the outside world are YYYY-MM-DD strings.
import { Type, type Static } from 'typebox';
import { exceptionReasons } from './reconciliation-reasons.ts';
import type {
  ExceptionHistoryEntry,
  QuarantinedRow,
  ReconException,
  ReconFile,
  ReconRun,
} from '../reconciliation/tables.ts';
import type { ConnectorFeeSchedule } from '../reconciliation/fee-schedules.ts';
import { Enum, Int64, Nullable, Timestamp, unixSeconds, unixSecondsOrNull } from './json.ts';

const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });

export const ReconciliationRunSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('reconciliation_run'),
  dry_run: Type.Boolean(),
  status: Enum(['running', 'succeeded', 'failed'] as const),
  /** The day reconciled through: deadlines are judged against it. */
  as_of: Day,
  /** sha256 of the rules the run applied (tolerances, deadlines, fee schedules). */
  rules_hash: Type.String(),
  /** sha256 of the run's result: the same inputs and rules give the same hash. */
  result_hash: Nullable(Type.String()),
  /** Figures: records and expectations seen, matched per pass, match rate, raised per reason. */
  summary: Type.Record(Type.String(), Type.Unknown()),
  error: Nullable(Type.String()),
  created: Timestamp,
  finished_at: Nullable(Timestamp),
});

/** The stored figures with snake_case keys, as the API writes names (bounded: 4 levels). */
function snakeKeys(value: unknown, depth = 0): unknown {
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => snakeKeys(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`),
      snakeKeys(inner, depth + 1),
    ]),
  );
}

export function presentReconciliationRun(run: ReconRun): Static<typeof ReconciliationRunSchema> {
  return {
    id: run.id,
    object: 'reconciliation_run',
    dry_run: run.dryRun,
    status: run.status,
    as_of: run.asOf,
    rules_hash: run.rulesHash,
    result_hash: run.resultHash,
    summary: snakeKeys(run.summary) as Record<string, unknown>,
    error: run.error,
    created: unixSeconds(run.startedAt),
    finished_at: unixSecondsOrNull(run.finishedAt),
  };
}

export const ReconciliationHistoryEntrySchema = Type.Object({
  action: Enum(['raised', 'assigned', 'noted', 'resolved'] as const),
  actor: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
  at: Timestamp,
});

export const ReconciliationExceptionSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('reconciliation_exception'),
  reason: Enum(exceptionReasons),
  source: Enum(['psp_report', 'acquirer_ack', 'bank_statement', 'ledger'] as const),
  connector: Nullable(Type.String()),
  currency: Nullable(Type.String()),
  /** The money in question: the difference of a mismatch or variance, else the line's amount. */
  amount: Nullable(Int64),
  /** What Payrail expected (item:<txn>, batch:<batch>, payout:<po>), if anything. */
  expectation: Nullable(Type.String()),
  /** The external line, if any: its source and its key. */
  record: Nullable(Type.Object({ source: Type.String(), key: Type.String() })),
  details: Type.Record(Type.String(), Type.Unknown()),
  status: Enum(['open', 'resolved'] as const),
  assignee: Nullable(Type.String()),
  resolution: Nullable(Enum(['matched', 'written_off', 'adjusted', 'psp_error'] as const)),
  resolution_reason: Nullable(Type.String()),
  /** The ledger transaction the resolution posted (when money was involved). */
  ledger_transaction: Nullable(Type.String()),
  /** The run that raised it. */
  run: Type.String(),
  created: Timestamp,
  /** Whole days since it was raised (to the clock's now), or until it was resolved. */
  age_days: Type.Integer(),
  resolved_at: Nullable(Timestamp),
  history: Type.Optional(Type.Array(ReconciliationHistoryEntrySchema)),
});

export type ReconciliationExceptionJson = Static<typeof ReconciliationExceptionSchema>;

const dayMs = 86_400_000;

export function presentReconciliationException(
  exception: ReconException,
  now: Date,
  history?: readonly ExceptionHistoryEntry[],
): ReconciliationExceptionJson {
  const until = exception.resolvedAt ?? now;
  return {
    id: exception.id,
    object: 'reconciliation_exception',
    reason: exception.reason,
    source: exception.source,
    connector: exception.connector,
    currency: exception.currency,
    amount: exception.amount,
    expectation: exception.expectationKey,
    record:
      exception.recordSource === null || exception.recordKey === null
        ? null
        : { source: exception.recordSource, key: exception.recordKey },
    details: { ...exception.details },
    status: exception.status,
    assignee: exception.assignee,
    resolution: exception.resolution,
    resolution_reason: exception.resolutionReason,
    ledger_transaction: exception.ledgerTransactionId,
    run: exception.runId,
    created: unixSeconds(exception.createdAt),
    age_days: Math.max(0, Math.floor((until.getTime() - exception.createdAt.getTime()) / dayMs)),
    resolved_at: unixSecondsOrNull(exception.resolvedAt),
    ...(history === undefined
      ? {}
      : {
          history: history.map((entry) => ({
            action: entry.action,
            actor: entry.actor,
            details: { ...entry.details },
            at: unixSeconds(entry.at),
          })),
        }),
  };
}

/** The columns of the CSV export, in order: the exception's fields as the API names them. */
export const reconciliationExceptionCsvColumns = [
  'id',
  'reason',
  'source',
  'status',
  'connector',
  'currency',
  'amount',
  'expectation',
  'record_source',
  'record_key',
  'assignee',
  'resolution',
  'resolution_reason',
  'ledger_transaction',
  'run',
  'created',
  'age_days',
  'resolved_at',
] as const;

/** One exception as the cells of `reconciliationExceptionCsvColumns` (strings, '' for null). */
export function reconciliationExceptionCsvCells(json: ReconciliationExceptionJson): string[] {
  const cell = (value: string | number | bigint | null): string =>
    value === null ? '' : String(value);
  return [
    json.id,
    json.reason,
    json.source,
    json.status,
    cell(json.connector),
    cell(json.currency),
    cell(json.amount),
    cell(json.expectation),
    cell(json.record?.source ?? null),
    cell(json.record?.key ?? null),
    cell(json.assignee),
    cell(json.resolution),
    cell(json.resolution_reason),
    cell(json.ledger_transaction),
    json.run,
    new Date(json.created * 1000).toISOString(),
    cell(json.age_days),
    json.resolved_at === null ? '' : new Date(json.resolved_at * 1000).toISOString(),
  ];
}

export const ReconciliationFileSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('reconciliation_file'),
  name: Type.String(),
  format: Enum([
    'stripe_balance_transactions',
    'adyen_settlement_csv',
    'razorpay_recon',
    'acquirer_ack',
    'camt053',
    'unknown',
  ] as const),
  connector: Nullable(Type.String()),
  status: Enum(['ingesting', 'ingested', 'failed'] as const),
  /** sha256 of the bytes: the same content again is this file. */
  sha256: Type.String(),
  byte_count: Int64,
  /** Rows taken as new records. */
  record_count: Type.Integer(),
  /** Rows already known (the same line in an earlier file): nothing changed for them. */
  duplicate_count: Type.Integer(),
  /** Rows refused, each with its line and reason (GET …/quarantine). */
  quarantined_count: Type.Integer(),
  /** Why the file could not be read at all (it names the file and the line); nothing was kept. */
  error: Nullable(Type.String()),
  created: Timestamp,
  completed_at: Nullable(Timestamp),
});

type ReconciliationFileJson = Static<typeof ReconciliationFileSchema>;

export function presentReconciliationFile(file: ReconFile): ReconciliationFileJson {
  return {
    id: file.id,
    object: 'reconciliation_file',
    name: file.name,
    format: file.format,
    connector: file.connector,
    status: file.status,
    sha256: file.sha256,
    byte_count: file.byteCount,
    record_count: file.recordCount,
    duplicate_count: file.duplicateCount,
    quarantined_count: file.quarantinedCount,
    error: file.error,
    created: unixSeconds(file.createdAt),
    completed_at: unixSecondsOrNull(file.completedAt),
  };
}

export const ReconciliationQuarantinedRowSchema = Type.Object({
  object: Type.Literal('reconciliation_quarantined_row'),
  file: Type.String(),
  line: Type.Integer(),
  reason: Type.String(),
  /** The row's start (at most 200 characters). */
  excerpt: Type.String(),
});

export function presentQuarantinedRow(
  row: QuarantinedRow,
): Static<typeof ReconciliationQuarantinedRowSchema> {
  return {
    object: 'reconciliation_quarantined_row',
    file: row.fileId,
    line: row.line,
    reason: row.reason,
    excerpt: row.excerpt,
  };
}

export const ReconciliationFeeScheduleSchema = Type.Object({
  object: Type.Literal('reconciliation_fee_schedule'),
  connector: Type.String(),
  /** 'default' (Payrail's built-in schedule for the connector) until the operator sets one. */
  source: Enum(['default', 'configured'] as const),
  /** Basis points of the gross (1 bp = 0.01 %), each component rounded half up. */
  commission_bps: Type.Integer(),
  /** Minor units per capture. */
  commission_fixed: Int64,
  markup_bps: Type.Integer(),
  scheme_fee_bps: Type.Integer(),
  interchange_bps: Type.Integer(),
  /** Tax on the sum of the components (GST), basis points. */
  tax_bps: Type.Integer(),
  /** Minor units per refund. */
  refund_fixed: Int64,
  updated_at: Nullable(Timestamp),
});

export function presentReconciliationFeeSchedule(
  entry: ConnectorFeeSchedule,
): Static<typeof ReconciliationFeeScheduleSchema> {
  const schedule = entry.schedule;
  return {
    object: 'reconciliation_fee_schedule',
    connector: entry.connector,
    source: entry.source,
    commission_bps: schedule.commissionBps,
    commission_fixed: schedule.commissionFixed,
    markup_bps: schedule.markupBps,
    scheme_fee_bps: schedule.schemeFeeBps,
    interchange_bps: schedule.interchangeBps,
    tax_bps: schedule.taxBps,
    refund_fixed: schedule.refundFixed,
    updated_at: unixSecondsOrNull(entry.updatedAt),
  };
}
