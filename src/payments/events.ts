// The events of payments (architecture §1 rule 6): built from the state right after a change and
// written in the same transaction or statement as that change.
import { insertEvents, newEvent, type EventType, type NewEvent } from '../events/events.ts';
import { presentCharge } from '../api-objects/charge.ts';
import { presentIntent } from '../api-objects/payment-intent.ts';
import { presentRefund } from '../api-objects/refund.ts';
import type { Queryable } from '../storage/database.ts';
import { findIntentWithAttempts } from './repository.ts';
import type { Attempt, IntentWithAttempts, PaymentIntent, Refund } from './types.ts';

export function intentEvent(type: EventType, state: IntentWithAttempts): NewEvent {
  return newEvent(state.intent.merchantId, type, presentIntent(state));
}

export function refundEvent(type: EventType, refund: Refund): NewEvent {
  return newEvent(refund.merchantId, type, presentRefund(refund));
}

/** A charge event (Stripe's `charge.*`): the charge is the intent's attempt. */
export function chargeEvent(type: EventType, intent: PaymentIntent, attempt: Attempt): NewEvent {
  return newEvent(intent.merchantId, type, presentCharge(intent, attempt));
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
