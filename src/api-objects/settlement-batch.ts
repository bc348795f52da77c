// Settlement batches and connector cutoffs as the operator API shows them (architecture §12).
import { Type, type Static } from 'typebox';
import type { CutoffSetting } from '../settlement/cutoffs.ts';
import type { RunResult } from '../settlement/service.ts';
import type { SettlementBatch } from '../settlement/tables.ts';
import { settlementBatchStatuses } from './settlement-batch-status.ts';
import { Enum, Int64, Nullable, Timestamp, unixSeconds, unixSecondsOrNull } from './json.ts';

export { settlementBatchStatuses } from './settlement-batch-status.ts';

export const SettlementBatchSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('settlement_batch'),
  connector: Type.String(),
  currency: Type.String(),
  cutoff_at: Timestamp,
  status: Enum(settlementBatchStatuses),
  item_count: Type.Integer(),
  net_amount: Int64,
  accepted_count: Type.Integer(),
  rejected_count: Type.Integer(),
  accepted_amount: Int64,
  acquirer_reference: Nullable(Type.String()),
  settlement_reference: Nullable(Type.String()),
  psp_fee: Nullable(Int64),
  funded_amount: Int64,
  submission_attempts: Type.Integer(),
  last_error: Nullable(Type.String()),
  created: Timestamp,
  closed_at: Nullable(Timestamp),
  submitted_at: Nullable(Timestamp),
  acknowledged_at: Nullable(Timestamp),
  funded_at: Nullable(Timestamp),
  /** The intake batch of its pair: new items go into it until the cutoff (counted at close). */
  intake_open: Type.Boolean(),
});

export function presentSettlementBatch(
  batch: SettlementBatch,
): Static<typeof SettlementBatchSchema> {
  return {
    id: batch.id,
    object: 'settlement_batch',
    connector: batch.connector,
    currency: batch.currency,
    cutoff_at: unixSeconds(batch.cutoffAt),
    status: batch.status,
    item_count: batch.itemCount,
    net_amount: batch.netAmount,
    accepted_count: batch.acceptedCount,
    rejected_count: batch.rejectedCount,
    accepted_amount: batch.acceptedAmount,
    acquirer_reference: batch.acquirerReference,
    settlement_reference: batch.settlementReference,
    psp_fee: batch.pspFee,
    funded_amount: batch.fundedAmount,
    submission_attempts: batch.submissionAttempts,
    last_error: batch.lastError,
    created: unixSeconds(batch.createdAt),
    closed_at: unixSecondsOrNull(batch.closedAt),
    submitted_at: unixSecondsOrNull(batch.submittedAt),
    acknowledged_at: unixSecondsOrNull(batch.acknowledgedAt),
    funded_at: unixSecondsOrNull(batch.fundedAt),
    intake_open: batch.intakeOpen,
  };
}

export const SettlementCutoffSchema = Type.Object({
  object: Type.Literal('settlement_cutoff'),
  connector: Type.String(),
  cutoff_time: Type.String({ description: 'HH:MM:SS, wall-clock time in `timezone`.' }),
  timezone: Type.String({ description: 'IANA time zone.' }),
  capture_window_days: Type.Integer(),
  next_cutoff_at: Timestamp,
  updated: Nullable(Timestamp),
});

export function presentSettlementCutoff(
  setting: CutoffSetting,
  nextCutoffAt: Date,
): Static<typeof SettlementCutoffSchema> {
  return {
    object: 'settlement_cutoff',
    connector: setting.connector,
    cutoff_time: setting.cutoffTime,
    timezone: setting.timezone,
    capture_window_days: setting.captureWindowDays,
    next_cutoff_at: unixSeconds(nextCutoffAt),
    updated: unixSecondsOrNull(setting.updatedAt),
  };
}

export const SettlementRunSchema = Type.Object({
  object: Type.Literal('settlement_run'),
  batches_opened: Type.Integer(),
  items_batched: Type.Integer(),
  exceptions: Type.Integer(),
  batches_closed: Type.Integer(),
  batches_submitted: Type.Integer(),
  batches_failed: Type.Integer(),
  items_accepted: Type.Integer(),
  items_rejected: Type.Integer(),
  items_retried: Type.Integer(),
  more: Type.Boolean(),
});

export function presentSettlementRun(run: RunResult): Static<typeof SettlementRunSchema> {
  return {
    object: 'settlement_run',
    batches_opened: run.close.batchesOpened,
    items_batched: run.close.itemsBatched,
    exceptions: run.close.exceptions + run.submit.exceptions,
    batches_closed: run.close.closed.length,
    batches_submitted: run.submit.submitted,
    batches_failed: run.submit.failed,
    items_accepted: run.submit.accepted,
    items_rejected: run.submit.rejected,
    items_retried: run.submit.retried,
    more: run.close.more,
  };
}
