// The events of payments (architecture §1 rule 6): built from the state right after a change and
// written in the same transaction or statement as that change. Stripe's `charge.*` events are
// written beside the `payment_intent.*` and `refund.*` ones of the same change.
import { insertEvents, newEvent, type EventType, type NewEvent } from '../events/events.ts';
import { presentCharge } from '../api-objects/charge.ts';
import { presentIntent } from '../api-objects/payment-intent.ts';
import { presentRefund } from '../api-objects/refund.ts';
import type { Queryable } from '../storage/database.ts';
import { chargeViews } from './charges.ts';
import { attemptsOf, findIntentWithAttempts } from './repository.ts';
import type { Attempt, ChargeCard, ChargeView, IntentWithAttempts, Refund } from './types.ts';

export type ChargeEventType = Extract<EventType, `charge.${string}`>;

export function intentEvent(type: EventType, state: IntentWithAttempts): NewEvent {
  return newEvent(state.intent.merchantId, type, presentIntent(state));
}

/** A refund's event; a `refund.updated` is told as `charge.refund.updated` too (Stripe sends both). */
export function refundEvents(type: EventType, refund: Refund): NewEvent[] {
  const object = presentRefund(refund);
  const events = [newEvent(refund.merchantId, type, object)];
  if (type === 'refund.updated')
    events.push(newEvent(refund.merchantId, 'charge.refund.updated', object));
  return events;
}

export function refundEvent(type: EventType, refund: Refund): NewEvent {
  return newEvent(refund.merchantId, type, presentRefund(refund));
}

/** A charge event (Stripe's `charge.*`): the charge is the intent's attempt. */
export function chargeEvent(type: ChargeEventType, view: ChargeView): NewEvent {
  return newEvent(view.intent.merchantId, type, presentCharge(view));
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

/**
 * Inside a transaction that changed an attempt: reads its charge back (locked rows, so current)
 * and writes the charge event. `card` was read before the transaction (src/payments/charges.ts).
 */
export async function writeChargeEvent(
  tx: Queryable,
  attempt: Attempt,
  type: ChargeEventType,
  card: ChargeCard | undefined,
  now: Date,
): Promise<void> {
  const [current] = await attemptsOf(tx, [attempt.paymentIntentId]).then((attempts) =>
    attempts.filter((candidate) => candidate.id === attempt.id),
  );
  if (current === undefined) throw new Error(`attempt ${attempt.id} vanished`);
  const [view] = await chargeViews(tx, current.merchantId, [current], async () => card);
  if (view === undefined) throw new Error(`no charge for attempt ${attempt.id}`);
  await insertEvents(tx, [chargeEvent(type, view)], now);
}
