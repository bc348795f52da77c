// A merchant's share of a settlement batch, as the settlement batch events carry it
// (architecture §12); the batch itself is the operator's (settlement-batch.ts).
import { Type, type Static } from 'typebox';
import type { SettlementBatch } from '../settlement/tables.ts';
import { settlementBatchStatuses } from './settlement-batch-status.ts';
import {
  Enum,
  Int64,
  Nullable,
  Timestamp,
  testMode,
  unixSeconds,
  unixSecondsOrNull,
} from './json.ts';

/**
 * What the `settlement_batch.acknowledged` and `settlement_batch.funded` events carry to a
 * merchant: its share of one clearing batch (the batch's own totals are the operator's).
 */
export const SettlementShareSchema = Type.Object({
  /** The settlement batch. */
  id: Type.String(),
  object: Type.Literal('settlement_share'),
  connector: Type.String(),
  currency: Type.String(),
  cutoff_at: Timestamp,
  status: Enum(settlementBatchStatuses),
  /** The merchant's captures and refunds the acquirer accepted in this batch. */
  accepted_count: Type.Integer(),
  /** Their net (amount less Payrail's fee; refunds negative). */
  accepted_net: Int64,
  /**
   * The merchant's items the acquirer rejected in this batch (retried in a later batch or made
   * exceptions); given when the batch is acknowledged, null in later events.
   */
  rejected_count: Nullable(Type.Integer()),
  acknowledged_at: Nullable(Timestamp),
  funded_at: Nullable(Timestamp),
  livemode: Type.Boolean(),
});

export type SettlementShare = {
  readonly batch: Pick<
    SettlementBatch,
    'id' | 'connector' | 'currency' | 'cutoffAt' | 'status' | 'acknowledgedAt' | 'fundedAt'
  >;
  readonly acceptedCount: number;
  readonly acceptedNet: bigint;
  readonly rejectedCount: number | null;
};

export function presentSettlementShare(
  share: SettlementShare,
  livemode = testMode,
): Static<typeof SettlementShareSchema> {
  return {
    id: share.batch.id,
    object: 'settlement_share',
    connector: share.batch.connector,
    currency: share.batch.currency,
    cutoff_at: unixSeconds(share.batch.cutoffAt),
    status: share.batch.status,
    accepted_count: share.acceptedCount,
    accepted_net: share.acceptedNet,
    rejected_count: share.rejectedCount,
    acknowledged_at: unixSecondsOrNull(share.batch.acknowledgedAt),
    funded_at: unixSecondsOrNull(share.batch.fundedAt),
    livemode,
  };
}
