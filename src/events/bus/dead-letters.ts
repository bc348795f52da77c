// The dead-letter store (architecture §2): events a consumer gave up on after its bounded attempts. An
// operator lists them and replays one once the cause is fixed; the replay runs the consumer's
// handler once more through the inbox, so replaying twice (or racing a late delivery) is harmless.
import { DomainError } from '../../errors.ts';
import { newSortableId } from '../../ids.ts';
import type { Database, Queryable } from '../../storage/database.ts';
import { keysetPage, type PageRequest } from '../../storage/pagination.ts';
import type { EventConsumer } from '../consumer.ts';
import { eventsById } from '../events.ts';
import { handleOnceWithin } from './handle-once.ts';
import { errorText, type BusHooks, type HandleResult } from './types.ts';

export type DeadLetter = {
  readonly id: string;
  readonly consumer: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly attempts: number;
  readonly lastError: string;
  readonly createdAt: Date;
  readonly replayedAt: Date | null;
  readonly replayCount: number;
};

export type DeadLetterStatus = 'pending' | 'replayed';

export type DeadLetterListOptions = PageRequest & {
  readonly consumer?: string;
  readonly status?: DeadLetterStatus;
};

export type ReplayOutcome = HandleResult | 'failed';

export type ReplayResult = {
  readonly outcome: ReplayOutcome;
  readonly deadLetter: DeadLetter;
  readonly error?: string;
};

export type DeadLetterErrorCode = 'dead_letter_not_found' | 'consumer_not_registered';

/** An unknown dead letter names the route's `id`; a consumer not running here is a 503. */
export class DeadLetterError extends DomainError<DeadLetterErrorCode> {
  constructor(code: DeadLetterErrorCode, message: string) {
    const notFound = code === 'dead_letter_not_found';
    super(code, notFound ? 'not_found' : 'unavailable', message, notFound ? 'id' : undefined);
    this.name = 'DeadLetterError';
  }
}

export const deadLetterPageSizeMax = 100;

/**
 * Records that `consumer` gave up on the event, unless its inbox shows the event handled (a
 * late delivery that succeeded) or a dead letter exists already. Returns whether a row was written.
 * Never writes the inbox row: a replay must still find the event unhandled.
 */
export async function recordDeadLetter(
  queryable: Queryable,
  entry: {
    readonly consumer: string;
    readonly eventId: string;
    readonly attempts: number;
    readonly lastError: string;
  },
): Promise<boolean> {
  const inserted = await queryable.query(
    `INSERT INTO event_dead_letters (id, consumer, event_id, attempts, last_error)
     SELECT $1, $2, $3, $4, $5
      WHERE NOT EXISTS (SELECT 1 FROM event_inbox WHERE consumer = $2 AND event_id = $3)
     ON CONFLICT (event_id, consumer) DO NOTHING
     RETURNING id`,
    [newSortableId('dl'), entry.consumer, entry.eventId, entry.attempts, entry.lastError],
  );
  return inserted.rows.length === 1;
}

type DeadLetterRow = {
  id: string;
  consumer: string;
  event_id: string;
  event_type: string;
  attempts: number;
  last_error: string;
  created_at: Date;
  replayed_at: Date | null;
  replay_count: number;
};

const deadLetterColumns = `d.id, d.consumer, d.event_id, e.type AS event_type, d.attempts,
    d.last_error, d.created_at, d.replayed_at, d.replay_count`;
const deadLettersWithEvents = 'event_dead_letters d JOIN events e ON e.id = d.event_id';
const selectDeadLetters = `SELECT ${deadLetterColumns} FROM ${deadLettersWithEvents}`;

function deadLetterFromRow(row: DeadLetterRow): DeadLetter {
  return {
    id: row.id,
    consumer: row.consumer,
    eventId: row.event_id,
    eventType: row.event_type,
    attempts: Number(row.attempts),
    lastError: row.last_error,
    createdAt: row.created_at,
    replayedAt: row.replayed_at,
    replayCount: Number(row.replay_count),
  };
}

export class DeadLetters {
  readonly #database: Database;
  readonly #consumers: ReadonlyMap<string, EventConsumer>;
  readonly #hooks: BusHooks;

  /** `consumers`: the handlers a replay can run (those of this process). */
  constructor(database: Database, consumers: readonly EventConsumer[], hooks: BusHooks = {}) {
    this.#database = database;
    this.#consumers = new Map(consumers.map((consumer) => [consumer.name, consumer]));
    this.#hooks = hooks;
  }

  /** Newest first. */
  async list(
    options: DeadLetterListOptions,
  ): Promise<{ deadLetters: DeadLetter[]; hasMore: boolean }> {
    const { rows, hasMore } = await keysetPage<DeadLetterRow, string>(
      this.#database,
      {
        select: deadLetterColumns,
        from: deadLettersWithEvents,
        scope: 'true',
        filter:
          "($1::text IS NULL OR d.consumer = $1) AND ($2::text IS NULL OR ($2 = 'replayed') = (d.replayed_at IS NOT NULL))",
        scopeParameters: [],
        filterParameters: [options.consumer ?? null, options.status ?? null],
        key: 'd.id',
        keyType: 'text',
        order: 'newest_first',
        noun: 'dead letter',
      },
      { ...options, limit: Math.min(options.limit, deadLetterPageSizeMax) },
    );
    return { deadLetters: rows.map(deadLetterFromRow), hasMore };
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const result = await this.#database.query<DeadLetterRow>(
      `${selectDeadLetters} WHERE d.id = $1`,
      [id],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : deadLetterFromRow(row);
  }

  /**
   * Runs the consumer's handler for the event again, in one transaction with the dead letter's
   * update: on success `replayed_at` is set; on failure `last_error` is replaced. Both count.
   */
  async replay(id: string): Promise<ReplayResult> {
    const result = await this.#database.transaction(async (tx) => {
      const found = await tx.query<DeadLetterRow>(
        `${selectDeadLetters} WHERE d.id = $1 FOR UPDATE OF d`,
        [id],
      );
      const row = found.rows[0];
      if (row === undefined)
        throw new DeadLetterError('dead_letter_not_found', `No such dead letter: '${id}'`);
      const consumer = this.#consumers.get(row.consumer);
      if (consumer === undefined) {
        throw new DeadLetterError(
          'consumer_not_registered',
          `No consumer named '${row.consumer}' runs in this process, so its dead letters cannot be replayed here.`,
        );
      }
      const [event] = await eventsById(tx, [row.event_id]);
      if (event === undefined)
        throw new Error(`dead letter ${id} names event ${row.event_id}, which does not exist`);
      let outcome: ReplayOutcome;
      let error: string | undefined;
      try {
        outcome = await handleOnceWithin(tx, consumer, event);
      } catch (handlerError) {
        outcome = 'failed';
        error = errorText(handlerError);
      }
      const updated = await tx.query<{ id: string }>(
        `UPDATE event_dead_letters
            SET replay_count = replay_count + 1,
                replayed_at = CASE WHEN $2 THEN coalesce(replayed_at, now()) ELSE replayed_at END,
                last_error = coalesce($3, last_error)
          WHERE id = $1 RETURNING id`,
        [id, outcome !== 'failed', error ?? null],
      );
      if (updated.rows.length !== 1)
        throw new Error(`dead letter ${id} vanished during its replay`);
      const after = await tx.query<DeadLetterRow>(`${selectDeadLetters} WHERE d.id = $1`, [id]);
      return {
        outcome,
        error,
        deadLetter: deadLetterFromRow(after.rows[0] as DeadLetterRow),
        consumer: consumer.name,
      };
    });
    if (result.outcome !== 'failed') this.#hooks.onHandled?.(result.consumer, result.outcome);
    return {
      outcome: result.outcome,
      deadLetter: result.deadLetter,
      ...(result.error === undefined ? {} : { error: result.error }),
    };
  }
}
