import { Type, type Static } from 'typebox';
import type { Refund } from '../payments/types.ts';
import { Int64, Nullable, StringMap, Timestamp, testMode, unixSeconds } from './json.ts';

export const RefundSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('refund'),
  amount: Int64,
  currency: Type.String(),
  payment_intent: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
  reason: Nullable(Type.String()),
  failure_reason: Nullable(Type.String()),
  metadata: StringMap,
  created: Timestamp,
  livemode: Type.Boolean(),
});

export function presentRefund(refund: Refund, livemode = testMode): Static<typeof RefundSchema> {
  return {
    id: refund.id,
    object: 'refund',
    amount: refund.amount,
    currency: refund.currency,
    payment_intent: refund.paymentIntentId,
    status: refund.status,
    reason: refund.reason,
    failure_reason: refund.failureReason,
    metadata: refund.metadata,
    created: unixSeconds(refund.createdAt),
    livemode,
  };
}
