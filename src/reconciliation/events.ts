// Operator events of reconciliation (architecture §13): each exception raised or resolved is an
// event on the platform account, written in the transaction that raised or resolved it (outbox),
// delivered to the operator's webhook endpoints like any merchant's events.
import { presentReconciliationException } from '../api-objects/reconciliation.ts';
import { insertEvents, newEvent } from '../events/events.ts';
import { platformAccountId } from '../merchants/platform.ts';
import type { Queryable } from '../storage/database.ts';
import type { ReconException } from './tables.ts';

/**
 * `reconciliation_exception.created` for each exception just raised, or `.resolved` for one just
 * resolved, in the caller's transaction (the outbox delivers them).
 */
export async function recordExceptionEvents(
  tx: Queryable,
  type: 'reconciliation_exception.created' | 'reconciliation_exception.resolved',
  exceptions: readonly ReconException[],
  now: Date,
): Promise<void> {
  await insertEvents(
    tx,
    exceptions.map((exception) =>
      newEvent(platformAccountId, type, presentReconciliationException(exception, now)),
    ),
    now,
  );
}
