// The event bus consumer that turns each event into one pending delivery per enabled endpoint of
// its merchant that subscribed to it. It runs in the bus's transaction (with the inbox row), and
// the UNIQUE (endpoint_id, event_id) makes a redelivered event change nothing.
import type { EventConsumer } from '../events/consumer.ts';
import type { StoredEvent } from '../events/events.ts';
import { newSortableId } from '../ids.ts';
import type { Queryable } from '../storage/database.ts';
import { textArrayLiteral } from '../storage/arrays.ts';

export const webhookFanoutConsumerName = 'webhook_fanout';

export function fanOutEvent(tx: Queryable, event: StoredEvent): Promise<number> {
  return fanOutEvents(tx, [event]);
}

/** One query finds every (event, endpoint) pair of the batch; a second inserts them, if any. */
export async function fanOutEvents(tx: Queryable, events: readonly StoredEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const pairs = await tx.query<{
    event_id: string;
    merchant_id: string;
    endpoint_id: string;
    created_at: string;
  }>(
    `SELECT e.event_id, e.merchant_id, w.id AS endpoint_id, e.created_at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS e (event_id, merchant_id, type, created_at, position)
       JOIN webhook_endpoints w ON w.merchant_id = e.merchant_id AND w.status = 'enabled' AND w.enabled_events && ARRAY[e.type, '*']::text[]
      ORDER BY e.position, w.id`,
    [
      textArrayLiteral(events.map((event) => event.id)),
      textArrayLiteral(events.map((event) => event.merchantId)),
      textArrayLiteral(events.map((event) => event.type)),
      textArrayLiteral(events.map((event) => event.createdAt.toISOString())),
    ],
  );
  if (pairs.rows.length === 0) return 0;
  const inserted = await tx.query(
    `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, merchant_id, next_attempt_at)
     SELECT d.id, d.endpoint_id, d.event_id, d.merchant_id, d.due
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS d (id, endpoint_id, event_id, merchant_id, due)
     ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
    [
      textArrayLiteral(pairs.rows.map(() => newSortableId('wd'))),
      textArrayLiteral(pairs.rows.map((row) => row.endpoint_id)),
      textArrayLiteral(pairs.rows.map((row) => row.event_id)),
      textArrayLiteral(pairs.rows.map((row) => row.merchant_id)),
      // Due from the event's own time (its merchant's clock): at once.
      textArrayLiteral(pairs.rows.map((row) => row.created_at)),
    ],
  );
  return inserted.rowCount;
}

/** Register with the event bus; stateless, so one object serves every process. */
export const webhookFanout: EventConsumer = {
  name: webhookFanoutConsumerName,
  async handle(tx, event) {
    await fanOutEvent(tx, event);
  },
  async handleMany(tx, events) {
    await fanOutEvents(tx, events);
  },
};
