// Operator events of reconciliation (architecture §13): each exception raised or resolved is an
// event on the platform account, written in the transaction that raised or resolved it (outbox),
// delivered to the operator's webhook endpoints like any merchant's events.
import { presentReconciliationException } from '../api-objects/reconciliation.ts';
import { insertEvents, newEvent } from '../events/events.ts';
import { platformAccountId } from '../merchants/platform.ts';
import type { Queryable } from '../storage/database.ts';
import type { ReconException } from './tables.ts';

/** `reconciliation_exception.created` for each exception just raised, in the caller's transaction. */
export async function recordExceptionEvents(
  tx: Queryable,
  raised: readonly ReconException[],
  now: Date,
): Promise<void> {
  await insertEvents(
    tx,
    raised.map((exception) =>
      newEvent(
        platformAccountId,
        'reconciliation_exception.created',
        presentReconciliationException(exception, now),
      ),
    ),
    now,
  );
}

/** `reconciliation_exception.resolved`, in the transaction that resolved it. */
export async function recordResolutionEvent(
  tx: Queryable,
  resolved: ReconException,
  now: Date,
): Promise<void> {
  await insertEvents(
    tx,
    [
      newEvent(
        platformAccountId,
        'reconciliation_exception.resolved',
        presentReconciliationException(resolved, now),
      ),
    ],
    now,
  );
}
