// The event-bus consumer that keeps velocity current: an attempt is counted once, when its
// authorization outcome is known — `charge.succeeded` (authorized, whether captured at once or
// later: a capture changes no count, so `charge.captured` is not consumed) and `charge.failed`
// (declined by the issuer, or blocked by a rule). `load` turns the event into what velocity
// counts, for a whole batch in one read (the attempts' stored risk records), leaving out what it
// does not count (a payment risk never saw). The handler runs inside the bus's transaction while it writes to
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

/** What velocity counts of a batch of events (all of velocityEventTypes), read in `tx` at once. */
export type VelocityLoader = (
  tx: Queryable,
  events: readonly StoredEvent[],
) => Promise<VelocityEvent[]>;

export function velocityConsumer(store: VelocityStore, load: VelocityLoader): EventConsumer {
  const loadAll = (tx: Queryable, events: readonly StoredEvent[]) => {
    const counted = events.filter((event) => velocityEventTypes.has(event.type));
    return counted.length === 0 ? Promise.resolve([]) : load(tx, counted);
  };
  return {
    name: velocityConsumerName,
    eventTypes: velocityEventTypes,
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
