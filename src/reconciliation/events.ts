// Events and webhooks for newly raised reconciliation exceptions: filled in by the lead.
import type { Queryable } from '../storage/database.ts';
import type { ReconException } from './tables.ts';

// Filled in by the lead; until then a stub with the agreed signature.
/* eslint-disable @typescript-eslint/no-unused-vars */
export async function recordExceptionEvents(
  tx: Queryable,
  raised: readonly ReconException[],
  now: Date,
): Promise<void> {}
/* eslint-enable @typescript-eslint/no-unused-vars */
