// The statuses of a settlement batch (architecture §12), as the API names them.
import type { BatchStatus } from '../settlement/tables.ts';

export const settlementBatchStatuses = [
  'open',
  'closed',
  'submitted',
  'acknowledged',
  'partially_acknowledged',
  'funded',
] as const satisfies readonly BatchStatus[];
