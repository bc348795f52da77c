// What the event bus delivers to: a named consumer whose handler runs inside a database
// transaction in which the bus also records the event in the consumer's inbox, so a redelivered
// event changes nothing (architecture §1 rule 4).
import type { Queryable } from '../storage/database.ts';
import type { StoredEvent } from './events.ts';

export type EventConsumer = {
  /** `[a-z_]{1,40}`: the inbox key, and the durable consumer's name on JetStream. */
  readonly name: string;
  /**
   * Optional: the only event types it handles. The bus hands it no other (no inbox row, no call):
   * a consumer of two types does not pay for every event of the system.
   */
  readonly eventTypes?: ReadonlySet<string>;
  /** Handles one event inside `tx`. Throwing rolls the transaction back; the bus retries later. */
  handle(tx: Queryable, event: StoredEvent): Promise<void>;
  /**
   * Optional: handles several events at once, with the same effect as `handle` on each (the
   * embedded bus uses it for a batch, so a batch costs one statement instead of one per event).
   */
  handleMany?(tx: Queryable, events: readonly StoredEvent[]): Promise<void>;
};

/** Whether the consumer handles events of this type at all. */
export function consumes(consumer: EventConsumer, type: string): boolean {
  return consumer.eventTypes === undefined || consumer.eventTypes.has(type);
}
