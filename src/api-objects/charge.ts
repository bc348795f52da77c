// A charge as Stripe's charge events carry it. Payrail's charges are the attempts of an intent;
// the amounts refunded are the intent's (one captured attempt per intent).
import { Type, type Static } from 'typebox';
import type { Attempt, PaymentIntent } from '../payments/types.ts';
import { Int64, Nullable, StringMap, Timestamp, testMode, unixSeconds } from './json.ts';

export const ChargeSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('charge'),
  amount: Int64,
  amount_captured: Int64,
  amount_refunded: Int64,
  currency: Type.String(),
  captured: Type.Boolean(),
  refunded: Type.Boolean(),
  payment_intent: Type.String(),
  payment_method: Nullable(Type.String()),
  status: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
  connector: Type.String(),
  created: Timestamp,
  livemode: Type.Boolean(),
  metadata: StringMap,
});

export function presentCharge(
  intent: PaymentIntent,
  attempt: Attempt,
  livemode = testMode,
): Static<typeof ChargeSchema> {
  return {
    id: attempt.id,
    object: 'charge',
    amount: attempt.amount,
    amount_captured: attempt.amountCaptured,
    amount_refunded: intent.amountRefunded,
    currency: attempt.currency,
    captured: attempt.amountCaptured > 0n,
    refunded: attempt.amountCaptured > 0n && intent.amountRefunded >= attempt.amountCaptured,
    payment_intent: intent.id,
    payment_method: intent.paymentMethodId,
    status: attempt.status === 'failed' ? 'failed' : 'succeeded',
    connector: attempt.connector,
    created: unixSeconds(attempt.createdAt),
    livemode,
    metadata: intent.metadata,
  };
}
