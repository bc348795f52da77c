// The event-bus consumer that keeps velocity current: an attempt is counted once, when its
// authorization outcome is known — `charge.succeeded` (authorized, whether captured at once or
// later: a capture changes no count, so `charge.captured` is not consumed) and `charge.failed`
// (declined by the issuer, or blocked by a rule). `load` turns the event into what velocity
// counts (it reads the attempt's stored risk context) or undefined to skip it (no card, a
// payment risk never saw). The handler runs inside the bus's transaction while it writes to
// Redis, which that transaction cannot roll back: a redelivery after a rollback records the
// same attempt again, and the store counts an attempt id once.
import type { EventConsumer } from '../../events/consumer.ts';
import type { StoredEvent } from '../../events/events.ts';
import type { Queryable } from '../../storage/database.ts';
import type { VelocityEvent, VelocityStore } from '../types.ts';

export const velocityConsumerName = 'risk_velocity';

/** The event types whose attempt gets an authorization outcome. */
export const velocityEventTypes: ReadonlySet<string> = new Set([
  'charge.succeeded',
  'charge.failed',
]);

/** Records of one batch written at once (each store call is its own bounded round trip). */
const recordsInFlightMax = 32;

export type VelocityLoader = (
  event: StoredEvent,
  tx: Queryable,
) => Promise<VelocityEvent | undefined>;

export function velocityConsumer(store: VelocityStore, load: VelocityLoader): EventConsumer {
  async function loadAll(tx: Queryable, events: readonly StoredEvent[]): Promise<VelocityEvent[]> {
    const loaded: VelocityEvent[] = [];
    // One at a time: the loads share the bus's transaction, which runs one query at a time.
    for (const event of events) {
      if (!velocityEventTypes.has(event.type)) continue;
      const velocityEvent = await load(event, tx);
      if (velocityEvent !== undefined) loaded.push(velocityEvent);
    }
    return loaded;
  }
  return {
    name: velocityConsumerName,
    async handle(tx, event) {
      for (const velocityEvent of await loadAll(tx, [event])) await store.record(velocityEvent);
    },
    async handleMany(tx, events) {
      const loaded = await loadAll(tx, events);
      for (let start = 0; start < loaded.length; start += recordsInFlightMax)
        await Promise.all(
          loaded
            .slice(start, start + recordsInFlightMax)
            .map((velocityEvent) => store.record(velocityEvent)),
        );
    },
  };
}
