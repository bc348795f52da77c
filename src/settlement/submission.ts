// Submitting closed batches to the acquirer and recording its answer (architecture §12).
//
//   claim      one statement: closed (or submitted with a lapsed lease) → submitted, with a lease;
//              the batch id, persisted before the call, is the acquirer's idempotency key
//   call       the request streamed from keyset pages of the batch's items; no transaction open
//   stage      the answer's rejected lines staged as they stream (idempotent: a resubmission gets
//              the first answer, byte for byte, and stages the same lines again); the accepted
//              ones are only counted, and the answer's items checked against the request's by an
//              order-independent fingerprint (nothing per item is held in memory)
//   record     one transaction: the rejected items rewritten (retry or exception), the accepted
//              ones left as they are (their batch's acknowledgement accepts them) and aggregated
//              into clearing groups, and the batch acknowledged
//
// A crash anywhere leaves the batch 'submitted'; once its lease lapses another worker submits the
// same id again and gets the first answer. The items' batch_id never changes while it is in flight,
// so a batch can never be submitted as two.
import type { Clock } from '../clock.ts';
import type { FaultInjector } from '../fault-points.ts';
import { textArrayLiteral } from '../storage/arrays.ts';
import type { Database } from '../storage/database.ts';
import {
  AcquirerError,
  type AcquirerClient,
  type AnswerHeader,
  type AnswerLine,
  type ClearingItem,
} from './acquirer.ts';
import { insertSettlementEvents } from './events.ts';
import { settlementBatches, type SettlementBatch } from './tables.ts';

/** Reject reasons that never succeed on a retry: the item becomes an exception at once. */
export const finalRejectReasons: readonly string[] = ['authorization_expired', 'duplicate'];

export type SubmissionOptions = {
  /** How long a worker holds a batch it submits before another may submit it again. */
  readonly leaseMs: number;
  /** Submissions of an item at most: a retryable reject after the last becomes an exception. */
  readonly maxSubmissions: number;
  /** Items per keyset page of the request. */
  readonly pageSize: number;
};

export const defaultSubmissionOptions: SubmissionOptions = {
  leaseMs: 5 * 60_000,
  maxSubmissions: 3,
  pageSize: 2_000,
};

export type SubmitResult = {
  readonly batchId: string;
  readonly status: 'acknowledged' | 'partially_acknowledged' | 'failed' | 'already_recorded';
  readonly accepted: number;
  readonly rejected: number;
  /** Rejected items going into a later batch. */
  readonly retried: number;
  readonly exceptions: number;
  /** Rejects by reason code. */
  readonly rejectsByReason: Readonly<Record<string, number>>;
  readonly error?: string;
};

export type SubmissionHooks = {
  readonly faults: FaultInjector;
  readonly onRecorded?: (batch: SettlementBatch, result: SubmitResult) => void;
};

const claim = `
  UPDATE settlement_batches
     SET status = 'submitted', submitted_at = coalesce(submitted_at, $1),
         submission_attempts = submission_attempts + 1,
         submission_lease_until = $1::timestamptz + $2 * interval '1 millisecond'
   WHERE id = (SELECT id FROM settlement_batches
                WHERE status = 'closed'
                   OR (status = 'submitted' AND submission_lease_until <= $1::timestamptz)
                ORDER BY cutoff_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
     AND (status = 'closed' OR submission_lease_until <= $1::timestamptz)
  RETURNING *`;

// A keyset page of a batch's items, as clearing presents them (each item carries its PSP reference
// and its authorization time since it was written).
const itemPage = `
  SELECT id, type, amount, currency, coalesce(psp_reference, '') AS psp_reference,
         extract(epoch FROM authorized_at)::float8 * 1000 AS authorized_ms
    FROM balance_transactions
   WHERE batch_id = $1 AND clearing_status = 'batched' AND id > $2
   ORDER BY id
   LIMIT $3`;

const stageLines = `
  INSERT INTO settlement_answer_lines (batch_id, item_id, result, reason_code)
  SELECT $1, line.item_id, line.result, line.reason_code
    FROM unnest($2::text[], $3::text[], $4::text[]) AS line (item_id, result, reason_code)
  ON CONFLICT (batch_id, item_id) DO NOTHING`;

// The staged answer applied to the batch's items in one statement: only the rejected ones are
// written (retried: out of the batch, back to 'unbatched'; or an exception); an accepted item stays
// 'batched' in its batch, which the acknowledgement makes accepted. Returns the outcome per
// (status, reason), the accepted ones counted from the batch's items that stay.
const applyAnswer = `
  WITH updated AS (
    UPDATE balance_transactions item
       SET rejections = item.rejections + 1,
           clearing_status = CASE
             WHEN line.reason_code = ANY($2::text[]) OR item.rejections + 1 >= $3 THEN 'exception'
             ELSE 'unbatched' END,
           batch_id = CASE
             WHEN line.reason_code = ANY($2::text[]) OR item.rejections + 1 >= $3 THEN item.batch_id
             ELSE NULL END,
           reject_reason = line.reason_code
      FROM settlement_answer_lines line
     WHERE line.batch_id = $1 AND line.result = 'rejected' AND item.id = line.item_id
       AND item.batch_id = $1 AND item.clearing_status = 'batched'
    RETURNING item.clearing_status, item.reject_reason, item.amount
  )
  SELECT clearing_status, reject_reason, count(*)::int AS count, coalesce(sum(amount), 0)::bigint AS amount
    FROM updated GROUP BY clearing_status, reject_reason`;

// The batch's accepted items (those still 'batched' once the rejects are applied), aggregated into
// clearing groups per merchant and available_on day (migration 025); returns the batch's totals.
const groupAccepted = `
  WITH groups AS MATERIALIZED (
    SELECT merchant_id, currency, available_on, count(*)::int AS item_count, sum(net) AS net,
           sum(amount) AS amount
      FROM balance_transactions
     WHERE batch_id = $1 AND clearing_status = 'batched'
     GROUP BY merchant_id, currency, available_on
  ), inserted AS (
    INSERT INTO clearing_groups (batch_id, merchant_id, currency, available_on, item_count, net, created_at)
    SELECT $1, merchant_id, currency, available_on, item_count, net, $2 FROM groups
  )
  SELECT coalesce(sum(item_count), 0)::int AS count, coalesce(sum(amount), 0)::bigint AS amount
    FROM groups`;

type PageRow = {
  id: string;
  type: 'charge' | 'refund';
  amount: bigint;
  currency: string;
  psp_reference: string;
  /** Milliseconds since the epoch (a float8: cheaper to read than a timestamptz's text). */
  authorized_ms: number | null;
};

export class BatchSubmitter {
  readonly #database: Database;
  readonly #clock: Clock;
  readonly #acquirer: (connector: string) => AcquirerClient;
  readonly #options: SubmissionOptions;
  readonly #hooks: SubmissionHooks;

  constructor(
    database: Database,
    clock: Clock,
    acquirer: (connector: string) => AcquirerClient,
    options: SubmissionOptions,
    hooks: SubmissionHooks,
  ) {
    this.#database = database;
    this.#clock = clock;
    this.#acquirer = acquirer;
    this.#options = options;
    this.#hooks = hooks;
  }

  /** Takes the next batch to submit (closed, or in flight with a lapsed lease), or undefined. */
  async claim(): Promise<SettlementBatch | undefined> {
    const claimed = await this.#database.query(claim, [this.#clock.now(), this.#options.leaseMs]);
    const row = claimed.rows[0];
    return row === undefined ? undefined : settlementBatches.fromRow(row);
  }

  /** Submits a claimed batch and records the answer; a failed call leaves it for a later try. */
  async submit(batch: SettlementBatch): Promise<SubmitResult> {
    this.#hooks.faults.reach('settlement_after_mark_submitted');
    const submitted = new ItemTally();
    const answered = new AnswerTally();
    try {
      await this.#acquirer(batch.connector).submit(
        batch.id,
        {
          connector: batch.connector,
          currency: batch.currency,
          cutoffAt: batch.cutoffAt,
          itemCount: batch.itemCount,
          netAmount: batch.netAmount,
        },
        this.#pages(batch.id, submitted),
        {
          header: (header) => this.#stageHeader(batch.id, header),
          lines: (lines) => {
            answered.add(lines);
            return this.#stageRejected(batch.id, lines);
          },
        },
      );
      this.#hooks.faults.reach('settlement_after_acquirer_answer');
    } catch (error) {
      if (!(error instanceof AcquirerError) && !(error instanceof TypeError) && !isAbort(error))
        throw error;
      const message = error instanceof Error ? error.message : String(error);
      await this.#database.query('UPDATE settlement_batches SET last_error = $2 WHERE id = $1', [
        batch.id,
        message.slice(0, 1000),
      ]);
      return failed(batch.id, message);
    }
    // An acquirer answering a resubmission may not have read the whole request: the rest of the
    // items are tallied from the database, so the answer is always checked against all of them.
    if (!submitted.finished)
      for await (const _page of this.#pages(batch.id, submitted, submitted.lastId));
    const result = await this.#record(batch.id, submitted, answered);
    this.#hooks.faults.reach('settlement_after_ack_recorded');
    return result;
  }

  async *#pages(
    batchId: string,
    tally: ItemTally,
    after = '',
  ): AsyncGenerator<readonly ClearingItem[]> {
    for (;;) {
      const page = await this.#database.query<PageRow>(itemPage, [
        batchId,
        after,
        this.#options.pageSize,
      ]);
      const items = page.rows.map((row) => ({
        itemId: row.id,
        pspReference: row.psp_reference,
        type: row.type === 'charge' ? ('capture' as const) : ('refund' as const),
        amount: row.amount < 0n ? -row.amount : row.amount,
        currency: row.currency,
        ...(row.authorized_ms === null ? {} : { authorizedAt: new Date(row.authorized_ms) }),
      }));
      tally.add(items);
      if (items.length < this.#options.pageSize) tally.finished = true;
      if (items.length > 0) yield items;
      if (tally.finished) return;
      after = tally.lastId;
    }
  }

  async #stageHeader(batchId: string, header: AnswerHeader): Promise<void> {
    if (header.batch_id !== batchId)
      throw new AcquirerError(`the acquirer answered for batch ${header.batch_id}, not ${batchId}`);
    if (header.status !== 'accepted')
      throw new AcquirerError(`the acquirer did not accept batch ${batchId}: ${header.status}`);
    await this.#database.query('UPDATE settlement_batches SET acquirer_header = $2 WHERE id = $1', [
      batchId,
      JSON.stringify(header),
    ]);
  }

  /** Stages the rejected lines (the accepted ones are counted, never written). */
  async #stageRejected(batchId: string, lines: readonly AnswerLine[]): Promise<void> {
    const rejected = lines.filter((line) => line.result === 'rejected');
    if (rejected.length === 0) return;
    await this.#database.query(stageLines, [
      batchId,
      textArrayLiteral(rejected.map((line) => line.itemId)),
      textArrayLiteral(rejected.map((line) => line.result)),
      textArrayLiteral(rejected.map((line) => line.reasonCode)),
    ]);
  }

  /** Applies the staged answer in one transaction; a batch recorded already is left as it is. */
  async #record(
    batchId: string,
    submitted: ItemTally,
    answered: AnswerTally,
  ): Promise<SubmitResult> {
    const outcome = await this.#database.transaction(async (tx) => {
      const locked = await tx.query('SELECT * FROM settlement_batches WHERE id = $1 FOR UPDATE', [
        batchId,
      ]);
      const batch = settlementBatches.fromRow(locked.rows[0] ?? {});
      if (batch.status !== 'submitted') return { batch, result: recorded(batchId) };
      const header = batch.acquirerHeader;
      const staged = await tx.query<{ rejected: number }>(
        `SELECT count(*)::int AS rejected FROM settlement_answer_lines WHERE batch_id = $1`,
        [batchId],
      );
      const stagedRejected = staged.rows[0]?.rejected ?? 0;
      // The batch's items are the ones its close counted (nothing joined or left it since).
      const present = await tx.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM balance_transactions
          WHERE batch_id = $1 AND clearing_status = 'batched'`,
        [batchId],
      );
      const presentCount = present.rows[0]?.count ?? 0;
      const problem =
        header === null
          ? 'no answer header was staged'
          : presentCount !== batch.itemCount
            ? `the batch holds ${presentCount} items, ${batch.itemCount} were counted at its close`
            : submitted.count !== batch.itemCount
              ? `the batch has ${submitted.count} items to present, ${batch.itemCount} were counted at its close`
              : answered.items.count !== batch.itemCount
                ? `the answer has ${answered.items.count} item lines for ${batch.itemCount} items`
                : !answered.items.sameItemsAs(submitted)
                  ? "the answer names items that are not the batch's"
                  : header.accepted_count !== answered.accepted ||
                      header.rejected_count !== answered.rejected ||
                      stagedRejected !== answered.rejected
                    ? 'the answer header disagrees with its lines'
                    : undefined;
      if (problem !== undefined || header === null) {
        await tx.query('UPDATE settlement_batches SET last_error = $2 WHERE id = $1', [
          batchId,
          problem ?? 'no answer header',
        ]);
        return { batch, result: failed(batchId, problem ?? 'no answer header') };
      }
      const applied = await tx.query<{
        clearing_status: string;
        reject_reason: string | null;
        count: number;
        amount: bigint;
      }>(applyAnswer, [
        batchId,
        textArrayLiteral([...finalRejectReasons]),
        this.#options.maxSubmissions,
      ]);
      let retried = 0;
      let exceptions = 0;
      const rejectsByReason: Record<string, number> = {};
      for (const row of applied.rows) {
        if (row.clearing_status === 'exception') exceptions += row.count;
        else retried += row.count;
        const reason = row.reject_reason ?? 'unspecified';
        rejectsByReason[reason] = (rejectsByReason[reason] ?? 0) + row.count;
      }
      const grouped = await tx.query<{ count: number; amount: bigint }>(groupAccepted, [
        batchId,
        this.#clock.now(),
      ]);
      const accepted = grouped.rows[0]?.count ?? 0;
      const acceptedAmount = BigInt(grouped.rows[0]?.amount ?? 0n);
      const rejected = retried + exceptions;
      const status = rejected === 0 ? 'acknowledged' : 'partially_acknowledged';
      const updated = await tx.query(
        `UPDATE settlement_batches
            SET status = $2, accepted_count = $3, rejected_count = $4, accepted_amount = $5,
                acquirer_reference = $6, settlement_reference = $7, acknowledged_at = $8,
                submission_lease_until = NULL, last_error = NULL
          WHERE id = $1 RETURNING *`,
        [
          batchId,
          status,
          accepted,
          rejected,
          acceptedAmount,
          header.acquirer_reference,
          header.settlement_reference,
          this.#clock.now(),
        ],
      );
      await insertSettlementEvents(tx, batchId, 'settlement_batch.acknowledged', this.#clock.now());
      await tx.query('DELETE FROM settlement_answer_lines WHERE batch_id = $1', [batchId]);
      const result: SubmitResult = {
        batchId,
        status,
        accepted,
        rejected,
        retried,
        exceptions,
        rejectsByReason,
      };
      return { batch: settlementBatches.fromRow(updated.rows[0] ?? {}), result };
    });
    if (outcome.result.status !== 'failed' && outcome.result.status !== 'already_recorded')
      this.#hooks.onRecorded?.(outcome.batch, outcome.result);
    return outcome.result;
  }
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

function failed(batchId: string, error: string): SubmitResult {
  return {
    batchId,
    status: 'failed',
    accepted: 0,
    rejected: 0,
    retried: 0,
    exceptions: 0,
    rejectsByReason: {},
    error,
  };
}

function recorded(batchId: string): SubmitResult {
  const { error: _none, ...rest } = failed(batchId, '');
  return { ...rest, status: 'already_recorded' };
}

/**
 * Which items a request presented, without holding them: their count and an order-independent
 * fingerprint (the sum of two 32-bit FNV-1a-style hashes of each id), so an answer can be checked
 * to name exactly the submitted items, each once, at any batch size.
 */
class ItemTally {
  count = 0;
  lastId = '';
  finished = false;
  #low = 0;
  #high = 0;

  add(items: readonly { readonly itemId: string }[]): void {
    for (const item of items) this.addId(item.itemId);
    const last = items[items.length - 1];
    if (last !== undefined) this.lastId = last.itemId;
  }

  addId(id: string): void {
    let low = 0x811c9dc5;
    let high = 0x01000193 ^ id.length;
    for (let index = 0; index < id.length; index++) {
      const code = id.charCodeAt(index);
      low = Math.imul(low ^ code, 0x01000193);
      high = Math.imul(high ^ code, 0x5bd1e995);
    }
    this.#low = (this.#low + (low >>> 0)) >>> 0;
    this.#high = (this.#high + (high >>> 0)) >>> 0;
    this.count++;
  }

  sameItemsAs(other: ItemTally): boolean {
    return this.count === other.count && this.#low === other.#low && this.#high === other.#high;
  }
}

/** The answer's lines: their items (as an ItemTally) and how many were accepted and rejected. */
class AnswerTally {
  readonly items = new ItemTally();
  accepted = 0;
  rejected = 0;

  add(lines: readonly AnswerLine[]): void {
    for (const line of lines) {
      this.items.addId(line.itemId);
      if (line.result === 'accepted') this.accepted++;
      else this.rejected++;
    }
  }
}
