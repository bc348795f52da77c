// Exactly-once effect for consumers (architecture §1 rule 4): the consumer's inbox row and the
// handler's effects commit in one transaction, so an event delivered twice is handled once.
import type { Database, Queryable } from '../../storage/database.ts';
import type { EventConsumer } from '../consumer.ts';
import type { StoredEvent } from '../events.ts';
import type { HandleResult } from './types.ts';

async function claimInbox(
  tx: Queryable,
  consumer: EventConsumer,
  event: StoredEvent,
): Promise<boolean> {
  const inserted = await tx.query(
    'INSERT INTO event_inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id',
    [consumer.name, event.id],
  );
  // A concurrent delivery of the same event waits here for the other transaction, then finds its row.
  return inserted.rows.length === 1;
}

/** One transaction: record the event in the consumer's inbox and run the handler; `duplicate` if already handled. */
export function handleOnce(
  database: Database,
  consumer: EventConsumer,
  event: StoredEvent,
): Promise<HandleResult> {
  return database.transaction(async (tx) => {
    if (!(await claimInbox(tx, consumer, event))) return 'duplicate';
    await consumer.handle(tx, event);
    return 'handled';
  });
}

/**
 * The same inside a caller's transaction, under a savepoint: a throwing handler leaves nothing
 * behind (not even the inbox row) and the caller's transaction stays usable; the error is rethrown.
 */
export async function handleOnceWithin(
  tx: Queryable,
  consumer: EventConsumer,
  event: StoredEvent,
): Promise<HandleResult> {
  await tx.query('SAVEPOINT payrail_handle_once');
  try {
    const claimed = await claimInbox(tx, consumer, event);
    if (claimed) await consumer.handle(tx, event);
    await tx.query('RELEASE SAVEPOINT payrail_handle_once');
    return claimed ? 'handled' : 'duplicate';
  } catch (error) {
    await tx.query('ROLLBACK TO SAVEPOINT payrail_handle_once');
    await tx.query('RELEASE SAVEPOINT payrail_handle_once');
    throw error;
  }
}
