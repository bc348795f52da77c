// Closing clearing batches at a cutoff (architecture §12). For each connector and currency with
// unbatched items created before the connector's latest cutoff, one batch: created 'open', filled
// by set-based UPDATEs in bounded chunks (each its own transaction, under the batch row's lock, so
// concurrent workers fill one batch one chunk at a time and never make two batches of the same
// items), then 'closed' with its count and net. Captures whose authorization is older than the
// capture window at the cutoff are never submitted: they become exceptions (late presentment).
import type { Clock } from '../clock.ts';
import { newSortableId } from '../ids.ts';
import type { Database, Queryable } from '../storage/database.ts';
import { latestCutoffAtOrBefore, type SettlementCutoffs } from './cutoffs.ts';

export type CloseResult = {
  /** Batches created this call. */
  readonly batchesOpened: number;
  /** Items put in a batch. */
  readonly itemsBatched: number;
  /** Items that became exceptions (authorization past its capture window). */
  readonly exceptions: number;
  /** Batches closed (ready to submit) and their sizes. */
  readonly closed: readonly { readonly id: string; readonly itemCount: number }[];
  /** The budget ran out with items left: call again. */
  readonly more: boolean;
};

export type CloseOptions = {
  /** Items moved per transaction. */
  readonly chunkSize?: number;
  /** Items moved per call at most (bounded work per call). */
  readonly maxItems?: number;
};

// The distinct (connector, currency) pairs of unbatched items, by skipping through the partial
// index (one probe per pair, not a scan of every unbatched item).
const unbatchedPairs = `
  WITH RECURSIVE pairs AS (
    (SELECT connector, currency FROM balance_transactions
      WHERE clearing_status = 'unbatched' ORDER BY connector, currency LIMIT 1)
    UNION ALL
    SELECT following.connector, following.currency FROM pairs, LATERAL (
      SELECT connector, currency FROM balance_transactions
       WHERE clearing_status = 'unbatched' AND (connector, currency) > (pairs.connector, pairs.currency)
       ORDER BY connector, currency LIMIT 1) AS following
  )
  SELECT connector, currency FROM pairs`;

// One chunk: the oldest unbatched items before the cutoff, expired captures apart. No row locks
// are taken by the read: the UPDATE re-checks each row is still unbatched (under READ COMMITTED it
// re-reads a row another transaction changed), and the moved count comes from what it updated.
// The chunk is picked first and each of its attempts looked up by key: joining before the LIMIT
// made the planner hash every payment attempt (a sequential scan of the table) for every chunk.
const fillChunk = `
  WITH picked AS MATERIALIZED (
    SELECT item.id, item.type, item.attempt_id
      FROM balance_transactions item
     WHERE item.clearing_status = 'unbatched' AND item.connector = $1 AND item.currency = $2
       AND item.created_at < $3::timestamptz
     ORDER BY item.created_at
     LIMIT $6
  ), chosen AS (
    SELECT picked.id,
           coalesce(picked.type = 'charge'
                    AND attempt.created_at + make_interval(days => $5::int) < $3::timestamptz, false) AS expired
      FROM picked
      LEFT JOIN LATERAL (SELECT created_at FROM payment_attempts WHERE id = picked.attempt_id) attempt ON true
  ), moved AS (
    UPDATE balance_transactions item
       SET clearing_status = CASE WHEN chosen.expired THEN 'exception' ELSE 'batched' END,
           batch_id = CASE WHEN chosen.expired THEN item.batch_id ELSE $4 END,
           reject_reason = CASE WHEN chosen.expired THEN 'authorization_expired' ELSE item.reject_reason END
      FROM chosen WHERE item.id = chosen.id AND item.clearing_status = 'unbatched'
    RETURNING chosen.expired, item.amount
  )
  UPDATE settlement_batches
     SET item_count = item_count + (SELECT count(*) FROM moved WHERE NOT expired),
         net_amount = net_amount + (SELECT coalesce(sum(amount), 0) FROM moved WHERE NOT expired)
   WHERE id = $4
  RETURNING (SELECT count(*) FROM moved)::int AS moved,
            (SELECT count(*) FROM moved WHERE expired)::int AS expired,
            item_count`;

type OpenBatch = {
  id: string;
  connector: string;
  currency: string;
  cutoff_at: Date;
};

export class BatchCloser {
  readonly #database: Database;
  readonly #clock: Clock;
  readonly #cutoffs: SettlementCutoffs;
  readonly #afterClose: () => void;

  constructor(
    database: Database,
    clock: Clock,
    cutoffs: SettlementCutoffs,
    afterClose: () => void,
  ) {
    this.#database = database;
    this.#clock = clock;
    this.#cutoffs = cutoffs;
    this.#afterClose = afterClose;
  }

  /** Opens the batches due at `now` (system time) and fills and closes open batches, within the budget. */
  async closeDue(now: Date = this.#clock.now(), options: CloseOptions = {}): Promise<CloseResult> {
    const chunkSize = options.chunkSize ?? 20_000;
    let budget = options.maxItems ?? 200_000;
    const opened = await this.#openDue(now);
    const open = await this.#database.query<OpenBatch>(
      `SELECT id, connector, currency, cutoff_at FROM settlement_batches WHERE status = 'open' ORDER BY cutoff_at, id`,
    );
    const settings = new Map(
      (await this.#cutoffs.list()).map((setting) => [setting.connector, setting]),
    );
    let itemsBatched = 0;
    let exceptions = 0;
    const closed: { id: string; itemCount: number }[] = [];
    for (const batch of open.rows) {
      const window = settings.get(batch.connector)?.captureWindowDays ?? 7;
      for (;;) {
        if (budget <= 0)
          return { batchesOpened: opened, itemsBatched, exceptions, closed, more: true };
        const size = Math.min(chunkSize, budget);
        const chunk = await this.#fill(batch, window, size, now);
        if (chunk === undefined) break;
        itemsBatched += chunk.moved - chunk.expired;
        exceptions += chunk.expired;
        budget -= chunk.moved;
        if (chunk.closed !== undefined) {
          closed.push(chunk.closed);
          this.#afterClose();
          break;
        }
      }
    }
    return { batchesOpened: opened, itemsBatched, exceptions, closed, more: false };
  }

  /** Creates an open batch for every pair with unbatched items before its connector's latest cutoff. */
  async #openDue(now: Date): Promise<number> {
    const pairs = await this.#database.query<{ connector: string; currency: string }>(
      unbatchedPairs,
    );
    if (pairs.rows.length === 0) return 0;
    const settings = new Map(
      (await this.#cutoffs.list()).map((setting) => [setting.connector, setting]),
    );
    let opened = 0;
    for (const { connector, currency } of pairs.rows) {
      const setting = settings.get(connector);
      if (setting === undefined) continue;
      const cutoff = latestCutoffAtOrBefore(now, setting);
      // Only when an item is due; a batch of this cutoff that exists already (closed, say) is left
      // alone: items that reached the ledger after it closed go with the next cutoff.
      const inserted = await this.#database.query(
        `INSERT INTO settlement_batches (id, connector, currency, cutoff_at, status, created_at)
         SELECT $1, $2, $3, $4::timestamptz, 'open', $5
          WHERE EXISTS (SELECT 1 FROM balance_transactions
                         WHERE clearing_status = 'unbatched' AND connector = $2 AND currency = $3
                           AND created_at < $4::timestamptz)
         ON CONFLICT (connector, currency, cutoff_at) DO NOTHING`,
        [newSortableId('sb', now.getTime()), connector, currency, cutoff, now],
      );
      opened += inserted.rowCount;
    }
    return opened;
  }

  /**
   * Moves one chunk into the batch (under its row lock), and closes it when the chunk was the last:
   * undefined when the batch is no longer open (another worker closed it).
   */
  async #fill(
    batch: OpenBatch,
    windowDays: number,
    size: number,
    now: Date,
  ): Promise<
    | { moved: number; expired: number; closed: { id: string; itemCount: number } | undefined }
    | undefined
  > {
    return this.#database.transaction(async (tx) => {
      const locked = await tx.query<{ status: string }>(
        'SELECT status FROM settlement_batches WHERE id = $1 FOR UPDATE',
        [batch.id],
      );
      if (locked.rows[0]?.status !== 'open') return undefined;
      const result = await tx.query<{ moved: number; expired: number; item_count: number }>(
        fillChunk,
        [batch.connector, batch.currency, batch.cutoff_at, batch.id, windowDays, size],
      );
      const row = result.rows[0] as { moved: number; expired: number; item_count: number };
      if (row.moved >= size) return { moved: row.moved, expired: row.expired, closed: undefined };
      const closed = await closeBatch(tx, batch.id, row.item_count, now);
      return { moved: row.moved, expired: row.expired, closed };
    });
  }
}

/** An empty batch is dropped (nothing to submit); any other becomes 'closed'. */
async function closeBatch(
  tx: Queryable,
  id: string,
  itemCount: number,
  now: Date,
): Promise<{ id: string; itemCount: number } | undefined> {
  if (itemCount === 0) {
    await tx.query('DELETE FROM settlement_batches WHERE id = $1', [id]);
    return undefined;
  }
  await tx.query(`UPDATE settlement_batches SET status = 'closed', closed_at = $2 WHERE id = $1`, [
    id,
    now,
  ]);
  return { id, itemCount };
}
