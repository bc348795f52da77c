// Stripe's Review: a payment a review rule held (authorized, not captured) until the merchant
// approves it or closes it by a refund or a cancel (src/payments/reviews.ts).
import { Type, type Static } from 'typebox';
import { chargeIdOf } from '../ids.ts';
import type { Review, ReviewClosedReason } from '../payments/types.ts';
import { Enum, Nullable, Timestamp, testMode, unixSeconds } from './json.ts';

export const reviewClosedReasons = [
  'approved',
  'refunded',
  'refunded_as_fraud',
  'disputed',
  'redacted',
  'canceled',
] as const satisfies readonly ReviewClosedReason[];

export const ReviewSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('review'),
  billing_zip: Type.Null(),
  charge: Type.String({ description: 'The charge (payment attempt) held.' }),
  closed_reason: Nullable(Enum(reviewClosedReasons)),
  created: Timestamp,
  ip_address: Nullable(Type.String()),
  ip_address_location: Type.Null(),
  livemode: Type.Boolean(),
  open: Type.Boolean(),
  opened_reason: Enum(['rule', 'manual'] as const),
  payment_intent: Type.String(),
  reason: Type.String({
    description: "'rule' or 'manual' while open, then the reason it was closed.",
  }),
  session: Type.Null(),
  rule: Nullable(Type.String({ description: 'Payrail: the review rule that opened it.' })),
});

export function presentReview(review: Review, livemode = testMode): Static<typeof ReviewSchema> {
  return {
    id: review.id,
    object: 'review',
    billing_zip: null,
    charge: chargeIdOf(review.attemptId),
    closed_reason: review.closedReason,
    created: unixSeconds(review.createdAt),
    ip_address: review.ipAddress,
    ip_address_location: null,
    livemode,
    open: review.open,
    opened_reason: review.openedReason,
    payment_intent: review.paymentIntentId,
    reason: review.closedReason ?? review.openedReason,
    session: null,
    rule: review.ruleId,
  };
}
