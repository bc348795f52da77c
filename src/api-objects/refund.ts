import { Type, type Static } from 'typebox';
import { chargeIdOf } from '../ids.ts';
import type { Refund } from '../payments/types.ts';
import { Enum, Int64, Nullable, StringMap, Timestamp, testMode, unixSeconds } from './json.ts';

export const RefundSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('refund'),
  amount: Int64,
  balance_transaction: Nullable(Type.String()),
  charge: Type.String({ description: 'The charge (payment attempt) refunded.' }),
  currency: Type.String(),
  payment_intent: Type.String(),
  // Stripe's statuses but requires_action (no Payrail refund needs the customer).
  status: Enum(['pending', 'succeeded', 'failed', 'canceled'] as const),
  reason: Nullable(Type.String()),
  failure_reason: Type.Optional(
    Type.String({
      description: "Why the refund failed or was canceled; absent otherwise, as on Stripe's.",
    }),
  ),
  receipt_number: Nullable(Type.String()),
  source_transfer_reversal: Type.Null(),
  transfer_reversal: Type.Null(),
  metadata: StringMap,
  created: Timestamp,
  livemode: Type.Boolean(),
});

/** `balanceTransaction`: the id of the refund's balance transaction, when the caller read it. */
export function presentRefund(
  refund: Refund,
  livemode = testMode,
  balanceTransaction: string | null = null,
): Static<typeof RefundSchema> {
  return {
    id: refund.id,
    object: 'refund',
    amount: refund.amount,
    balance_transaction: balanceTransaction,
    charge: chargeIdOf(refund.attemptId),
    currency: refund.currency,
    payment_intent: refund.paymentIntentId,
    status: refund.status,
    reason: refund.reason,
    ...(refund.failureReason === null ? {} : { failure_reason: refund.failureReason }),
    receipt_number: null,
    source_transfer_reversal: null,
    transfer_reversal: null,
    metadata: refund.metadata,
    created: unixSeconds(refund.createdAt),
    livemode,
  };
}
