// Completes a Checkout Session when its PaymentIntent is authorized however that happens: the
// hosted page completes it when the buyer is there, but a payment that was processing (and ends
// through the status sync or a PSP's webhook) or a buyer who closed the browser on the way back
// from 3-D Secure leaves it to this consumer, so checkout.session.completed is never late by
// more than the bus. The same UPDATE … WHERE status = 'open' as the page's: once, whoever is first.
import type { Clock } from '../clock.ts';
import type { EventConsumer } from '../events/consumer.ts';
import { insertEvents, newEvent } from '../events/events.ts';
import { presentCheckoutSession } from '../api-objects/checkout-session.ts';
import { checkoutSessions } from './tables.ts';

const completeByIntentSql = `UPDATE checkout_sessions
    SET status = 'complete', payment_status = $2, completed_at = $3, updated_at = $3
  WHERE payment_intent_id = $1 AND status = 'open'
  RETURNING *`;

export function sessionCompletingConsumer(clock: Clock): EventConsumer {
  return {
    name: 'checkout_completes',
    eventTypes: new Set(['payment_intent.succeeded', 'payment_intent.amount_capturable_updated']),
    async handle(tx, event) {
      const intentId = event.data.object.id;
      if (typeof intentId !== 'string') return;
      const now = clock.now(event.merchantId);
      const paid = event.type === 'payment_intent.succeeded' ? 'paid' : 'unpaid';
      const updated = await tx.query(completeByIntentSql, [intentId, paid, now]);
      const row = updated.rows[0];
      if (row === undefined) return;
      const session = checkoutSessions.fromRow(row);
      await insertEvents(
        tx,
        [
          newEvent(
            session.merchantId,
            'checkout.session.completed',
            presentCheckoutSession(session),
          ),
        ],
        now,
      );
    },
  };
}
