// Stripe's `event.pending_webhooks`: how many webhook endpoints have not yet received the event
// successfully. Derived, never stored: once the fan-out has handled the event (its inbox row), it
// is the number of the event's deliveries that have not succeeded (pending, failed or dead; a
// deleted endpoint's deliveries go with it); before that, the number of endpoints the fan-out will
// create deliveries for (enabled ones subscribed to the type). So it falls to 0 as deliveries
// succeed, with no counter to keep in step, and the event row is never updated.
import { webhookFanoutConsumerName } from './fanout.ts';

/** SQL (an integer) for the event row `alias` (its id, merchant_id and type). */
export function pendingWebhooksSql(alias: string): string {
  return `(CASE WHEN EXISTS (SELECT 1 FROM event_inbox pw_i WHERE pw_i.consumer = '${webhookFanoutConsumerName}' AND pw_i.event_id = ${alias}.id)
     THEN (SELECT count(*) FROM webhook_deliveries pw_d WHERE pw_d.event_id = ${alias}.id AND pw_d.status <> 'succeeded')
     ELSE (SELECT count(*) FROM webhook_endpoints pw_w WHERE pw_w.merchant_id = ${alias}.merchant_id AND pw_w.status = 'enabled'
             AND pw_w.enabled_events && ARRAY[${alias}.type, '*']::text[]) END)::integer`;
}
