// The embedded event bus (architecture §2, the default without NATS_URL): a dispatcher in this process
// drains `event_outbox` in id order and hands each event to every registered consumer.
//
// One database transaction per batch: it claims outbox rows with FOR UPDATE SKIP LOCKED (so
// several processes split the outbox and never hand out the same row twice), records each
// (event, consumer) in the consumer's inbox with the handler's effects, and deletes the rows every
// consumer is done with. A crash rolls the whole batch back, inbox rows included.
//
// Fast path: a batch is claimed with its events and their failure history by one statement, its
// inbox rows are written by one statement, the handlers run without savepoints, and one statement
// deletes what is done (and says when the next retry falls due). If a handler throws, that transaction is rolled back and the batch runs again
// carefully: each (event, consumer) under its own savepoint (handleOnceWithin), so one failure
// is recorded without undoing the others. Pairs already failing always take the careful way.
// Savepoints are few per transaction (PostgreSQL slows down every session's snapshots once a
// transaction has more than 64 subtransactions), so a careful batch is smaller.
//
// A failing consumer is retried with backoff on a later pass (a handler may thus run more than
// once per attempt; only committed work counts). After `maxAttempts` the event goes to the
// dead-letter store and counts as done for that consumer. Handlers run inside the transaction,
// so they must not call other systems (architecture §1 rule 5).
import { systemClock, type Clock } from '../../clock.ts';
import type { Database, Queryable } from '../../storage/database.ts';
import { integerArrayLiteral, textArrayLiteral } from '../../storage/arrays.ts';
import { consumes, type EventConsumer } from '../consumer.ts';
import { eventFromRow, type EventRow, type StoredEvent } from '../events.ts';
import { recordDeadLetter } from './dead-letters.ts';
import { handleOnceWithin } from './handle-once.ts';
import { WakeableLoop, type StepResult } from './loop.ts';
import {
  assertConsumerNames,
  assertPositiveInteger,
  defaultRetryDelays,
  errorText,
  retryDelayMs,
  type BusHooks,
  type BusLogger,
  type HandleResult,
  type RetryDelays,
} from './types.ts';

export type EmbeddedBusOptions = {
  readonly database: Database;
  readonly consumers: readonly EventConsumer[];
  /** Attempts per (event, consumer) before the event is dead-lettered for that consumer. */
  readonly maxAttempts: number;
  readonly logger: BusLogger;
  readonly hooks?: BusHooks;
  /** Outbox rows per transaction (default 100). */
  readonly batchSize?: number;
  /** How often to look at the outbox without a notify() (default 1000 ms). */
  readonly pollIntervalMs?: number;
  /** While commits keep notifying, a step starts at most this often (default 50 ms; see loop.ts). */
  readonly coalesceMs?: number;
  readonly retryDelays?: RetryDelays;
  /** When a failed consumer's retry falls due is system time (src/clock.ts). */
  readonly clock?: Clock;
};

type Progress =
  | { readonly state: 'dead' }
  | { readonly state: 'failing'; readonly attempts: number; readonly due: boolean };

type Pair = {
  readonly consumer: EventConsumer;
  readonly progress: Progress | undefined;
  readonly way: 'skip' | 'wait' | 'fast' | 'careful';
};

type Planned = {
  readonly outboxId: bigint;
  readonly event: StoredEvent;
  readonly pairs: readonly Pair[];
  readonly retried: boolean;
};

type Delivery =
  | {
      readonly consumer: string;
      readonly kind: 'result';
      readonly result: HandleResult;
      readonly attempt: number;
    }
  | {
      readonly consumer: string;
      readonly kind: 'failed';
      readonly attempt: number;
      readonly retryInMs: number;
    }
  | { readonly consumer: string; readonly kind: 'dead_letter'; readonly attempt: number }
  | { readonly consumer: string; readonly kind: 'skipped' | 'waiting' };

/** A handler threw on the fast path: the batch is rolled back and runs again carefully. */
class FastPathFailed extends Error {
  constructor(cause: unknown) {
    super('an event handler failed on the fast path', { cause });
  }
}

// An event is due unless every failure recorded for it waits for a later time. Each row comes
// with its event (NULL if it is missing, which is a bug reported loudly) and what is known of
// its consumers (failing or dead), so one round trip plans the batch.
const claimSql = `SELECT o.id AS outbox_id, o.event_id, e.id, e.merchant_id, e.type, e.object_id, e.data, e.created_at,
       (SELECT json_agg(json_build_object('consumer', p.consumer, 'state', p.state, 'attempts', p.attempts, 'due', p.due))
          FROM (SELECT f.consumer, 'failing' AS state, f.attempts, f.next_attempt_at <= $2::timestamptz AS due
                  FROM event_consumer_failures f WHERE f.event_id = o.event_id
                UNION ALL
                SELECT d.consumer, 'dead' AS state, d.attempts, true AS due
                  FROM event_dead_letters d WHERE d.event_id = o.event_id) p) AS progress
  FROM event_outbox o LEFT JOIN events e ON e.id = o.event_id
 WHERE NOT EXISTS (SELECT 1 FROM event_consumer_failures f WHERE f.event_id = o.event_id AND f.next_attempt_at > $2::timestamptz)
    OR EXISTS (SELECT 1 FROM event_consumer_failures f WHERE f.event_id = o.event_id AND f.next_attempt_at <= $2::timestamptz)
 ORDER BY o.id LIMIT $1
 FOR UPDATE OF o SKIP LOCKED`;

type ClaimedRow = Omit<EventRow, 'id'> & {
  readonly outbox_id: bigint;
  readonly event_id: string;
  readonly id: string | null;
  readonly progress:
    { consumer: string; state: 'failing' | 'dead'; attempts: number; due: boolean }[] | null;
};

/** How long until the earliest retry of any process falls due (NULL: none waits); `now` is $n. */
const nextRetrySql = (now: string) =>
  `SELECT (extract(epoch FROM min(next_attempt_at) - ${now}::timestamptz) * 1000)::float8 AS wait_ms FROM event_consumer_failures`;

/** The end of a batch: the rows every consumer is done with go, and so do their failure records. */
const finishSql = `WITH done AS (DELETE FROM event_outbox WHERE id = ANY($1::bigint[])),
       cleared AS (DELETE FROM event_consumer_failures WHERE event_id = ANY($2::text[]))
  ${nextRetrySql('$3')}`;

const inboxBatchSql = `INSERT INTO event_inbox (consumer, event_id)
  SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING RETURNING consumer, event_id`;

type BatchOutcome = {
  readonly claimed: number;
  readonly more: boolean;
  readonly waitMs?: number | null;
};

/** What is known of each consumer of a claimed event: failing (with its attempts) or dead. */
function progressOf(row: ClaimedRow): Map<string, Progress> {
  const progress = new Map<string, Progress>();
  for (const entry of row.progress ?? []) {
    // A dead letter wins over a failure row left behind.
    if (entry.state === 'dead') progress.set(entry.consumer, { state: 'dead' });
    else if (!progress.has(entry.consumer))
      progress.set(entry.consumer, {
        state: 'failing',
        attempts: Number(entry.attempts),
        due: entry.due,
      });
  }
  return progress;
}

const pairKey = (eventId: string, consumer: string) => `${eventId}\u0000${consumer}`;

/** Below PostgreSQL's 64 cached subtransactions per transaction. */
const savepointsPerTransactionMax = 60;

export class EmbeddedBus {
  readonly #clock: Clock;
  readonly #database: Database;
  readonly #consumers: readonly EventConsumer[];
  readonly #maxAttempts: number;
  readonly #logger: BusLogger;
  readonly #hooks: BusHooks;
  readonly #batchSize: number;
  readonly #retryDelays: RetryDelays;
  readonly #loop: WakeableLoop;

  constructor(options: EmbeddedBusOptions) {
    assertConsumerNames(options.consumers);
    assertPositiveInteger('maxAttempts', options.maxAttempts);
    this.#database = options.database;
    this.#clock = options.clock ?? systemClock;
    this.#consumers = options.consumers;
    this.#maxAttempts = options.maxAttempts;
    this.#logger = options.logger;
    this.#hooks = options.hooks ?? {};
    this.#batchSize = options.batchSize ?? 100;
    assertPositiveInteger('batchSize', this.#batchSize);
    this.#retryDelays = options.retryDelays ?? defaultRetryDelays;
    this.#loop = new WakeableLoop(() => this.#step(), {
      name: 'embedded',
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      errorDelayMsMax: 5000,
      logger: options.logger,
      coalesceMs: options.coalesceMs ?? 50,
    });
  }

  async start(): Promise<void> {
    this.#loop.start();
  }

  /** Look at the outbox now (call after committing events). */
  notify(): void {
    this.#loop.notify();
  }

  /** Stops the dispatcher; waits for the batch that is running. */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /**
   * One batch, outside the loop (tests, CLI). `more`: the outbox may hold more due rows;
   * `waitMs`: when the earliest retry falls due (null: none waits; undefined: not asked).
   */
  async dispatchOnce(): Promise<BatchOutcome> {
    const deliveries: Delivery[] = [];
    const run = (careful: boolean) =>
      this.#database.transaction(async (tx) => {
        deliveries.length = 0;
        return this.#dispatchBatch(tx, deliveries, careful);
      });
    let outcome: BatchOutcome;
    try {
      outcome = await run(false);
    } catch (error) {
      if (!(error instanceof FastPathFailed)) throw error;
      this.#logger.debug(
        { err: error.cause },
        'event handler failed; running the batch again with savepoints',
      );
      outcome = await run(true);
    }
    this.#report(deliveries);
    return outcome;
  }

  async #step(): Promise<StepResult> {
    const outcome = await this.dispatchOnce();
    if (outcome.more) return { more: true };
    // Sleep no longer than until the next retry falls due (any process's; the table is small).
    const waitMs =
      outcome.waitMs !== undefined
        ? outcome.waitMs
        : ((
            await this.#database.query<{ wait_ms: number | null }>(nextRetrySql('$1'), [
              this.#clock.now(),
            ])
          ).rows[0]?.wait_ms ?? null);
    return { more: false, wakeInMs: waitMs === null ? undefined : Math.max(0, Math.ceil(waitMs)) };
  }

  async #dispatchBatch(
    tx: Queryable,
    deliveries: Delivery[],
    careful: boolean,
  ): Promise<BatchOutcome> {
    const claimed = await tx.query<ClaimedRow>(claimSql, [this.#batchSize, this.#clock.now()]);
    if (claimed.rows.length === 0) return { claimed: 0, more: false };
    const planned = this.#plan(claimed.rows, careful);
    const fresh = await this.#claimInboxes(tx, planned);
    const batched = await this.#handleBatches(tx, planned, fresh);
    const finished: Planned[] = [];
    for (const item of planned) {
      let done = true;
      for (const pair of item.pairs) {
        const delivery = await this.#deliver(tx, item, pair, fresh, batched);
        deliveries.push(delivery);
        if (delivery.kind === 'failed' || delivery.kind === 'waiting') done = false;
      }
      if (done) finished.push(item);
    }
    const finish = await tx.query<{ wait_ms: number | null }>(finishSql, [
      integerArrayLiteral(finished.map((item) => item.outboxId)),
      textArrayLiteral(finished.filter((item) => item.retried).map((item) => item.event.id)),
      this.#clock.now(),
    ]);
    // Rows left unplanned (savepoint budget spent) are still due: come back at once.
    return {
      claimed: claimed.rows.length,
      more: claimed.rows.length === this.#batchSize || planned.length < claimed.rows.length,
      waitMs: finish.rows[0]?.wait_ms ?? null,
    };
  }

  /** Decides how each (event, consumer) is delivered, taking events while the savepoint budget lasts. */
  #plan(rows: readonly ClaimedRow[], careful: boolean): Planned[] {
    const planned: Planned[] = [];
    let savepoints = 0;
    for (const row of rows) {
      if (row.id === null)
        throw new Error(
          `outbox row ${row.outbox_id} names event ${row.event_id}, which does not exist`,
        );
      const event = eventFromRow({ ...row, id: row.id });
      const progress = progressOf(row);
      const pairs = this.#consumers.map((consumer): Pair => {
        const state = progress.get(consumer.name);
        if (state?.state === 'dead' || !consumes(consumer, event.type))
          return { consumer, progress: state, way: 'skip' };
        if (state?.state === 'failing' && !state.due)
          return { consumer, progress: state, way: 'wait' };
        return {
          consumer,
          progress: state,
          way: careful || state !== undefined ? 'careful' : 'fast',
        };
      });
      const cost = pairs.filter((pair) => pair.way === 'careful').length;
      if (planned.length > 0 && savepoints + cost > savepointsPerTransactionMax) break;
      savepoints += cost;
      planned.push({
        outboxId: row.outbox_id,
        event,
        pairs,
        retried: pairs.some((pair) => pair.progress !== undefined),
      });
    }
    return planned;
  }

  /** The inbox rows of every fast pair, in one statement; returns the keys that were new. */
  async #claimInboxes(tx: Queryable, planned: readonly Planned[]): Promise<Set<string>> {
    const consumers: string[] = [];
    const eventIds: string[] = [];
    for (const item of planned) {
      for (const pair of item.pairs) {
        if (pair.way !== 'fast') continue;
        consumers.push(pair.consumer.name);
        eventIds.push(item.event.id);
      }
    }
    if (consumers.length === 0) return new Set();
    const inserted = await tx.query<{ consumer: string; event_id: string }>(inboxBatchSql, [
      textArrayLiteral(consumers),
      textArrayLiteral(eventIds),
    ]);
    return new Set(inserted.rows.map((row) => pairKey(row.event_id, row.consumer)));
  }

  /**
   * The fast, new pairs of consumers that can take a batch, handled with one call per consumer;
   * returns the consumers whose fast pairs are done.
   */
  async #handleBatches(
    tx: Queryable,
    planned: readonly Planned[],
    fresh: ReadonlySet<string>,
  ): Promise<Set<string>> {
    const done = new Set<string>();
    for (const consumer of this.#consumers) {
      if (consumer.handleMany === undefined) continue;
      const events = planned
        .filter(
          (item) =>
            item.pairs.some((pair) => pair.consumer === consumer && pair.way === 'fast') &&
            fresh.has(pairKey(item.event.id, consumer.name)),
        )
        .map((item) => item.event);
      if (events.length === 0) continue;
      try {
        await consumer.handleMany(tx, events);
      } catch (error) {
        throw new FastPathFailed(error);
      }
      done.add(consumer.name);
    }
    return done;
  }

  async #deliver(
    tx: Queryable,
    item: Planned,
    pair: Pair,
    fresh: ReadonlySet<string>,
    batched: ReadonlySet<string>,
  ): Promise<Delivery> {
    const { consumer, progress } = pair;
    // A consumer that handled the event on an earlier pass (while another kept failing) is not news.
    const duplicate = (attempt: number): Delivery =>
      item.retried
        ? { consumer: consumer.name, kind: 'skipped' }
        : { consumer: consumer.name, kind: 'result', result: 'duplicate', attempt };
    switch (pair.way) {
      case 'skip':
        return { consumer: consumer.name, kind: 'skipped' };
      case 'wait':
        return { consumer: consumer.name, kind: 'waiting' };
      case 'fast': {
        if (!fresh.has(pairKey(item.event.id, consumer.name))) return duplicate(1);
        if (!batched.has(consumer.name)) {
          try {
            await consumer.handle(tx, item.event);
          } catch (error) {
            throw new FastPathFailed(error);
          }
        }
        return { consumer: consumer.name, kind: 'result', result: 'handled', attempt: 1 };
      }
      case 'careful': {
        const attempt = (progress?.state === 'failing' ? progress.attempts : 0) + 1;
        try {
          const result = await handleOnceWithin(tx, consumer, item.event);
          if (progress !== undefined)
            await tx.query(
              'DELETE FROM event_consumer_failures WHERE event_id = $1 AND consumer = $2',
              [item.event.id, consumer.name],
            );
          return result === 'duplicate'
            ? duplicate(attempt)
            : { consumer: consumer.name, kind: 'result', result, attempt };
        } catch (error) {
          return this.#recordFailure(tx, consumer, item.event, attempt, error);
        }
      }
    }
  }

  async #recordFailure(
    tx: Queryable,
    consumer: EventConsumer,
    event: StoredEvent,
    attempt: number,
    error: unknown,
  ): Promise<Delivery> {
    const lastError = errorText(error);
    const fields = {
      consumer: consumer.name,
      eventId: event.id,
      eventType: event.type,
      attempt,
      error: lastError,
    };
    if (attempt >= this.#maxAttempts) {
      await recordDeadLetter(tx, {
        consumer: consumer.name,
        eventId: event.id,
        attempts: attempt,
        lastError,
      });
      await tx.query('DELETE FROM event_consumer_failures WHERE event_id = $1 AND consumer = $2', [
        event.id,
        consumer.name,
      ]);
      this.#logger.error(fields, 'event consumer gave up; event dead-lettered');
      return { consumer: consumer.name, kind: 'dead_letter', attempt };
    }
    const retryInMs = retryDelayMs(attempt, this.#retryDelays);
    await tx.query(
      `INSERT INTO event_consumer_failures (event_id, consumer, attempts, last_error, next_attempt_at)
       VALUES ($1, $2, $3, $4, $6::timestamptz + $5 * interval '1 millisecond')
       ON CONFLICT (event_id, consumer) DO UPDATE
         SET attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error, next_attempt_at = EXCLUDED.next_attempt_at`,
      [event.id, consumer.name, attempt, lastError, retryInMs, this.#clock.now()],
    );
    this.#logger.warn({ ...fields, retryInMs }, 'event consumer failed; will retry');
    return { consumer: consumer.name, kind: 'failed', attempt, retryInMs };
  }

  /** After the commit: hooks see only outcomes that happened. */
  #report(deliveries: readonly Delivery[]): void {
    for (const delivery of deliveries) {
      if (!('attempt' in delivery)) continue;
      if (delivery.attempt > 1) this.#hooks.onRedelivery?.(delivery.consumer);
      if (delivery.kind === 'result') this.#hooks.onHandled?.(delivery.consumer, delivery.result);
      else if (delivery.kind === 'dead_letter') this.#hooks.onDeadLetter?.(delivery.consumer);
    }
  }
}
