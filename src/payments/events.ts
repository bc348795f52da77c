// The events of payments (DESIGN §1 rule 6): built from the state right after a change and
// written in the same transaction or statement as that change.
import { insertEvents, newEvent, type EventType, type NewEvent } from '../events/events.ts';
import { presentIntent, presentRefund } from '../http/presenters.ts';
import type { Queryable } from '../storage/database.ts';
import { findIntentWithAttempts } from './repository.ts';
import type { Attempt, IntentWithAttempts, PaymentIntent, Refund } from './types.ts';
import { unixSeconds } from '../http/serialize.ts';

export function intentEvent(type: EventType, state: IntentWithAttempts): NewEvent {
  return newEvent(state.intent.merchantId, type, presentIntent(state));
}

export function refundEvent(type: EventType, refund: Refund): NewEvent {
  return newEvent(refund.merchantId, type, presentRefund(refund));
}

/**
 * A charge as Stripe's charge events carry it. Payrail's charges are the attempts of an intent;
 * the amounts refunded are the intent's (one captured attempt per intent).
 */
export function chargeEvent(type: EventType, intent: PaymentIntent, attempt: Attempt): NewEvent {
  return newEvent(intent.merchantId, type, {
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
    livemode: false,
    metadata: intent.metadata,
  });
}

/** Inside a transaction that changed the intent: reads it back (locked rows, so current) and writes the event. */
export async function writeIntentEvent(
  tx: Queryable,
  merchantId: string,
  intentId: string,
  type: EventType,
  now: Date,
): Promise<void> {
  const state = await findIntentWithAttempts(tx, merchantId, intentId);
  if (state === undefined) throw new Error(`payment intent ${intentId} vanished`);
  await insertEvents(tx, [intentEvent(type, state)], now);
}
