// Closing clearing batches at a cutoff (architecture §12). Each connector and currency has one
// intake batch ('open', intake_open) that the ledger poster writes its items into as they are
// posted (src/settlement/items.ts). When a cutoff has passed since the intake batch opened, one
// short transaction closes its intake (its row FOR UPDATE: waits for the postings in flight),
// stamps it with that cutoff and opens the next intake batch. Then the batch is finished in its own
// transaction, under its row lock, writing only the items that must change:
//   - items posted after the cutoff (the close ran late) move on to the next intake batch;
//   - items that came without an intake batch ('unbatched': the first postings of a pair, a posting
//     that raced the close, a rejected item to retry) and were created before the cutoff join it,
//     in bounded chunks;
//   - captures whose authorization is older than the capture window at the cutoff are never
//     submitted: they become exceptions (late presentment);
// and it becomes 'closed' with its count and net (an empty batch is dropped). So a batch's items
// are never rewritten in the normal path, and two workers never make two batches of the same items.
import type { Clock } from '../clock.ts';
import { newSortableId } from '../ids.ts';
import type { Database, Queryable } from '../storage/database.ts';
import {
  defaultCutoff,
  latestCutoffAtOrBefore,
  nextCutoffAfter,
  type CutoffSetting,
  type SettlementCutoffs,
} from './cutoffs.ts';

export type CloseResult = {
  /** Batches this call began to close: intakes closed at a cutoff, batches made for unbatched items. */
  readonly batchesOpened: number;
  /** Items in the batches this call closed. */
  readonly itemsBatched: number;
  /** Items that became exceptions (authorization past its capture window). */
  readonly exceptions: number;
  /** Batches closed (ready to submit) and their sizes. */
  readonly closed: readonly { readonly id: string; readonly itemCount: number }[];
  /** The budget ran out with items left: call again. */
  readonly more: boolean;
};

export type CloseOptions = {
  /** Unbatched items moved into a batch per transaction. */
  readonly chunkSize?: number;
  /** Unbatched items moved per call at most (bounded work per call). */
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

// One chunk of unbatched items created before the cutoff joins the batch (expired captures become
// exceptions instead). The UPDATE re-checks each row is still unbatched (under READ COMMITTED it
// re-reads a row another transaction changed), and the counts come from what it updated.
const fillChunk = `
  WITH picked AS MATERIALIZED (
    SELECT id FROM balance_transactions
     WHERE clearing_status = 'unbatched' AND connector = $1 AND currency = $2
       AND created_at < $3::timestamptz
     ORDER BY created_at
     LIMIT $5
  )
  UPDATE balance_transactions item
     SET clearing_status = CASE WHEN ${expired('item', '$3', '$6')} THEN 'exception' ELSE 'batched' END,
         batch_id = CASE WHEN ${expired('item', '$3', '$6')} THEN NULL ELSE $4 END,
         reject_reason = CASE WHEN ${expired('item', '$3', '$6')} THEN 'authorization_expired'
                              ELSE item.reject_reason END
    FROM picked WHERE item.id = picked.id AND item.clearing_status = 'unbatched'
  RETURNING item.clearing_status`;

// The batch's own items that must leave it: posted after its cutoff (to the next intake batch,
// $3, or back to 'unbatched' when there is none), or captures past their capture window
// (exceptions). One pass over the batch's items.
const sortOut = `
  UPDATE balance_transactions item
     SET clearing_status = CASE WHEN item.created_at < $2::timestamptz THEN 'exception'
                                WHEN $3::text IS NULL THEN 'unbatched' ELSE 'batched' END,
         batch_id = CASE WHEN item.created_at >= $2::timestamptz THEN $3 ELSE NULL END,
         reject_reason = CASE WHEN item.created_at >= $2::timestamptz THEN item.reject_reason
                              ELSE 'authorization_expired' END
   WHERE item.batch_id = $1 AND item.clearing_status = 'batched'
     AND (item.created_at >= $2::timestamptz OR ${expired('item', '$2', '$4')})
  RETURNING item.clearing_status`;

/** A capture whose authorization is older than the capture window (`days`) at the cutoff. */
function expired(item: string, cutoff: string, days: string): string {
  return `(${item}.type = 'charge' AND ${item}.authorized_at + make_interval(days => ${days}::int) < ${cutoff}::timestamptz)`;
}

type ClosingBatch = {
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

  /** Closes the intakes due at `now` (system time) and finishes closing batches, within the budget. */
  async closeDue(now: Date = this.#clock.now(), options: CloseOptions = {}): Promise<CloseResult> {
    const chunkSize = options.chunkSize ?? 20_000;
    let budget = options.maxItems ?? 200_000;
    const settings = new Map(
      (await this.#cutoffs.list()).map((setting) => [setting.connector, setting]),
    );
    const opened = await this.#closeIntakes(now, settings);
    const closing = await this.#database.query<ClosingBatch>(
      `SELECT id, connector, currency, cutoff_at FROM settlement_batches
        WHERE status = 'open' AND NOT intake_open ORDER BY cutoff_at, id`,
    );
    let itemsBatched = 0;
    let exceptions = 0;
    const closed: { id: string; itemCount: number }[] = [];
    for (const batch of closing.rows) {
      const setting = settings.get(batch.connector) ?? defaultCutoff;
      for (;;) {
        if (budget <= 0)
          return { batchesOpened: opened, itemsBatched, exceptions, closed, more: true };
        const size = Math.min(chunkSize, budget);
        const step = await this.#finish(batch, setting, size, now);
        if (step === undefined) break;
        exceptions += step.expired;
        budget -= step.moved;
        if (step.closed !== undefined) {
          itemsBatched += step.closed.itemCount;
          closed.push(step.closed);
          this.#afterClose();
        }
        if (step.done) break;
      }
    }
    return { batchesOpened: opened, itemsBatched, exceptions, closed, more: false };
  }

  /**
   * For every pair with an intake batch or unbatched items: when a cutoff passed since its intake
   * batch opened (or unbatched items were created before the latest cutoff), closes that intake at
   * the cutoff (or makes a batch for the unbatched items) and opens the next intake batch. A pair
   * without an intake batch gets one either way, so its next postings go straight into a batch.
   */
  async #closeIntakes(now: Date, settings: Map<string, CutoffSetting>): Promise<number> {
    const pairs = await this.#database.query<{ connector: string; currency: string }>(
      `SELECT connector, currency FROM settlement_batches WHERE intake_open
       UNION SELECT connector, currency FROM (${unbatchedPairs}) AS unbatched`,
    );
    let opened = 0;
    for (const { connector, currency } of pairs.rows) {
      const setting = settings.get(connector);
      if (setting === undefined) continue;
      const cutoff = latestCutoffAtOrBefore(now, setting);
      const next = nextCutoffAfter(cutoff, setting);
      const began = await this.#database.transaction(async (tx) => {
        const intake = await tx.query<{ id: string; created_at: Date }>(
          `SELECT id, created_at FROM settlement_batches
            WHERE connector = $1 AND currency = $2 AND intake_open FOR UPDATE`,
          [connector, currency],
        );
        const current = intake.rows[0];
        let began = false;
        if (current !== undefined && current.created_at < cutoff) {
          await tx.query(
            `UPDATE settlement_batches SET intake_open = false, cutoff_at = $2 WHERE id = $1`,
            [current.id, cutoff],
          );
          began = true;
        } else if (current === undefined) {
          // Unbatched items only: a batch for them at this cutoff, unless one exists already
          // (items that reached the ledger after it closed go with the next cutoff).
          const made = await tx.query(
            `INSERT INTO settlement_batches (id, connector, currency, cutoff_at, status, created_at)
             SELECT $1, $2, $3, $4::timestamptz, 'open', $5
              WHERE EXISTS (SELECT 1 FROM balance_transactions
                             WHERE clearing_status = 'unbatched' AND connector = $2 AND currency = $3
                               AND created_at < $4::timestamptz)
             ON CONFLICT (connector, currency, cutoff_at) DO NOTHING`,
            [newSortableId('sb', now.getTime()), connector, currency, cutoff, now],
          );
          began = made.rowCount > 0;
        }
        if (current === undefined || current.created_at < cutoff)
          await openIntake(tx, connector, currency, next, now);
        return began;
      });
      if (began) opened++;
    }
    return opened;
  }

  /**
   * One step of finishing a batch whose intake is closed, under its row lock: the first step sorts
   * out the items that must leave it, each step moves one chunk of unbatched items in, and the
   * step that finds no more closes it. Undefined when the batch is no longer being closed.
   */
  async #finish(
    batch: ClosingBatch,
    setting: Pick<CutoffSetting, 'cutoffTime' | 'timezone' | 'captureWindowDays'>,
    size: number,
    now: Date,
  ): Promise<
    | {
        moved: number;
        expired: number;
        done: boolean;
        closed: { id: string; itemCount: number } | undefined;
      }
    | undefined
  > {
    return this.#database.transaction(async (tx) => {
      const locked = await tx.query<{ status: string; intake_open: boolean; sorted: boolean }>(
        `SELECT status, intake_open, closed_at IS NOT NULL AS sorted
           FROM settlement_batches WHERE id = $1 FOR UPDATE`,
        [batch.id],
      );
      const row = locked.rows[0];
      if (row?.status !== 'open' || row.intake_open) return undefined;
      let expired = 0;
      if (!row.sorted) {
        // closed_at marks the sorting done (a crash after it commits does not sort again).
        await openIntake(
          tx,
          batch.connector,
          batch.currency,
          nextCutoffAfter(batch.cutoff_at, setting),
          now,
        );
        const next = await tx.query<{ id: string }>(
          // FOR SHARE, as the poster's insert: the next intake cannot close (and be counted)
          // while this moves items into it; one that closed meanwhile is not found, and the late
          // items go back to 'unbatched' for the close that follows.
          `SELECT id FROM settlement_batches
            WHERE connector = $1 AND currency = $2 AND intake_open FOR SHARE`,
          [batch.connector, batch.currency],
        );
        const sorted = await tx.query<{ clearing_status: string }>(sortOut, [
          batch.id,
          batch.cutoff_at,
          next.rows[0]?.id,
          setting.captureWindowDays,
        ]);
        expired += sorted.rows.filter((item) => item.clearing_status === 'exception').length;
        await tx.query(`UPDATE settlement_batches SET closed_at = $2 WHERE id = $1`, [
          batch.id,
          now,
        ]);
      }
      const filled = await tx.query<{ clearing_status: string }>(fillChunk, [
        batch.connector,
        batch.currency,
        batch.cutoff_at,
        batch.id,
        size,
        setting.captureWindowDays,
      ]);
      expired += filled.rows.filter((item) => item.clearing_status === 'exception').length;
      const moved = filled.rows.length;
      if (moved >= size) return { moved, expired, done: false, closed: undefined };
      const closed = await closeBatch(tx, batch.id, now);
      return { moved, expired, done: true, closed };
    });
  }
}

/** The pair's next intake batch, scheduled for the next cutoff (the close stamps the real one). */
async function openIntake(
  tx: Queryable,
  connector: string,
  currency: string,
  cutoffAt: Date,
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO settlement_batches (id, connector, currency, cutoff_at, status, intake_open, created_at)
     VALUES ($1, $2, $3, $4, 'open', true, $5)
     ON CONFLICT DO NOTHING`,
    [newSortableId('sb', now.getTime()), connector, currency, cutoffAt, now],
  );
}

/** Counts the batch's items: an empty batch is dropped (nothing to submit); any other is 'closed'. */
async function closeBatch(
  tx: Queryable,
  id: string,
  now: Date,
): Promise<{ id: string; itemCount: number } | undefined> {
  const counted = await tx.query<{ count: number; net: bigint }>(
    `SELECT count(*)::int AS count, coalesce(sum(amount), 0)::bigint AS net
       FROM balance_transactions WHERE batch_id = $1 AND clearing_status = 'batched'`,
    [id],
  );
  const itemCount = counted.rows[0]?.count ?? 0;
  if (itemCount === 0) {
    await tx.query('DELETE FROM settlement_batches WHERE id = $1', [id]);
    return undefined;
  }
  await tx.query(
    `UPDATE settlement_batches SET status = 'closed', closed_at = $2, item_count = $3, net_amount = $4
      WHERE id = $1`,
    [id, now, itemCount, counted.rows[0]?.net ?? 0n],
  );
  return { id, itemCount };
}
