// The event bus consumer that turns each event into one pending delivery per enabled endpoint of
// its merchant that subscribed to it. It runs in the bus's transaction (with the inbox row), and
// the UNIQUE (endpoint_id, event_id) makes a redelivered event change nothing.
import type { EventConsumer } from '../events/consumer.ts';
import type { StoredEvent } from '../events/events.ts';
import { newSortableId } from '../merchants/keys.ts';
import type { Queryable } from '../storage/database.ts';
import { textArrayLiteral } from '../storage/arrays.ts';

export const webhookFanoutConsumerName = 'webhook_fanout';

export async function fanOutEvent(tx: Queryable, event: StoredEvent): Promise<number> {
  const endpoints = await tx.query<{ id: string }>(
    `SELECT id FROM webhook_endpoints
      WHERE merchant_id = $1 AND status = 'enabled' AND enabled_events && ARRAY[$2, '*']::text[]
      ORDER BY id`,
    [event.merchantId, event.type],
  );
  if (endpoints.rows.length === 0) return 0;
  const endpointIds = endpoints.rows.map((row) => row.id);
  const inserted = await tx.query(
    `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, merchant_id, next_attempt_at)
     SELECT d.id, d.endpoint_id, $3, $4, now()
       FROM unnest($1::text[], $2::text[]) AS d (id, endpoint_id)
     ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
    [textArrayLiteral(endpointIds.map(() => newSortableId('wd'))), textArrayLiteral(endpointIds), event.id, event.merchantId],
  );
  return inserted.rowCount;
}

/** Register with the event bus; stateless, so one object serves every process. */
export const webhookFanout: EventConsumer = {
  name: webhookFanoutConsumerName,
  async handle(tx, event) {
    await fanOutEvent(tx, event);
  },
};
