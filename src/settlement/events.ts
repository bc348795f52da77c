// Settlement batch events (architecture §12): when a batch is acknowledged and when it is funded,
// each merchant with items in it gets an event carrying its share (src/api-objects
// settlement-share.ts), written in the transaction that made the change. One event per merchant
// and batch, from the batch's clearing groups (and, at acknowledgement, its staged rejects): never
// one per item.
import { presentSettlementShare } from '../api-objects/settlement-share.ts';
import { insertEvents, newEvent, type NewEvent } from '../events/events.ts';
import type { Queryable } from '../storage/database.ts';
import { settlementBatches } from './tables.ts';

export type SettlementEventType = 'settlement_batch.acknowledged' | 'settlement_batch.funded';

/**
 * Writes the event of `type` for every merchant of the batch, in the caller's transaction (after
 * the batch row says the new status). At acknowledgement, call it before the staged answer lines
 * are deleted: they give each merchant's rejected items.
 */
export async function insertSettlementEvents(
  tx: Queryable,
  batchId: string,
  type: SettlementEventType,
  now: Date,
): Promise<number> {
  const found = await tx.query('SELECT * FROM settlement_batches WHERE id = $1', [batchId]);
  if (found.rows[0] === undefined) return 0;
  const batch = settlementBatches.fromRow(found.rows[0]);
  const withRejects = type === 'settlement_batch.acknowledged';
  const shares = await tx.query<{
    merchant_id: string;
    accepted_count: number;
    accepted_net: bigint;
    rejected_count: number;
  }>(
    `WITH accepted AS (
       SELECT merchant_id, sum(item_count)::int AS accepted_count, sum(net)::bigint AS accepted_net
         FROM clearing_groups WHERE batch_id = $1 GROUP BY merchant_id
     ), rejected AS (
       SELECT item.merchant_id, count(*)::int AS rejected_count
         FROM settlement_answer_lines line
         JOIN balance_transactions item ON item.id = line.item_id
        WHERE $2 AND line.batch_id = $1 AND line.result = 'rejected'
        GROUP BY item.merchant_id
     )
     SELECT coalesce(accepted.merchant_id, rejected.merchant_id) AS merchant_id,
            coalesce(accepted.accepted_count, 0) AS accepted_count,
            coalesce(accepted.accepted_net, 0)::bigint AS accepted_net,
            coalesce(rejected.rejected_count, 0) AS rejected_count
       FROM accepted FULL JOIN rejected ON rejected.merchant_id = accepted.merchant_id
      ORDER BY 1`,
    [batchId, withRejects],
  );
  const events: NewEvent[] = shares.rows.map((share) =>
    newEvent(
      share.merchant_id,
      type,
      presentSettlementShare({
        batch,
        acceptedCount: share.accepted_count,
        acceptedNet: BigInt(share.accepted_net),
        rejectedCount: withRejects ? share.rejected_count : null,
      }),
    ),
  );
  await insertEvents(tx, events, now);
  return events.length;
}
