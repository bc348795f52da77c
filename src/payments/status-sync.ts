// The status sync worker (architecture §1 rule 5): what a PSP call left unresolved — an authorization
// whose answer was lost or timed out, a capture, cancel or refund in flight — is settled by
// asking the PSP, on a backoff schedule per attempt. Authorizations never captured are voided
// after a configurable time, so a customer's funds are not held forever.
//
// Several workers (processes) may run at once: each claims its rows with FOR UPDATE SKIP LOCKED
// and pushes their next due time forward in the same statement, so a row is synced by one worker
// per due time. Syncing twice would still be harmless: the PSP call carries the same idempotency
// key and recording an outcome is idempotent.
import { clockSql, systemClock, type Clock, type ClockReading } from '../clock.ts';
import type { Logger } from '../observability/logger.ts';
import type { Database } from '../storage/database.ts';
import { integerArrayLiteral } from '../storage/arrays.ts';
import type { PaymentsService } from './service.ts';
import { intentStatusesFor, unresolvedAttemptSql } from './state-machine.ts';

// The statements' status conditions, from the state machine's tables.
const unresolved = unresolvedAttemptSql('payment_attempts');
const capturable = `i.status IN (${intentStatusesFor('capture')
  .map((status) => `'${status}'`)
  .join(', ')})`;

export type StatusSyncOptions = {
  /** Wait after the n-th sync of an attempt (the last entry repeats); the first counts from its creation. */
  readonly scheduleMs: readonly number[];
  /** A capture, cancel or refund in flight for this long is treated as stuck and synced. */
  readonly inFlightGraceMs: number;
  /** An authorization not captured after this long is voided. */
  readonly voidAuthorizationsAfterMs: number;
  /** Rows per kind per run. */
  readonly batchSize: number;
  /** How often `start` runs a pass. */
  readonly intervalMs: number;
};

export const defaultSyncScheduleMs: readonly number[] = [
  30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000,
];

export function statusSyncDefaults(pspTimeoutMs: number): StatusSyncOptions {
  return {
    // Never before the request that sent it has given up waiting for the PSP.
    scheduleMs: defaultSyncScheduleMs.map((wait, index) =>
      index === 0 ? Math.max(wait, 2 * pspTimeoutMs) : wait,
    ),
    inFlightGraceMs: Math.max(30_000, 2 * pspTimeoutMs),
    voidAuthorizationsAfterMs: 7 * 24 * 3_600_000,
    batchSize: 50,
    intervalMs: 5_000,
  };
}

export type SyncPass = {
  readonly attempts: number;
  readonly operations: number;
  readonly voided: number;
  readonly errors: number;
};

type Target = { merchant_id: string; payment_intent_id: string };

export class StatusSync {
  readonly #payments: PaymentsService;
  readonly #database: Database;
  readonly #options: StatusSyncOptions;
  readonly #logger: Logger;
  readonly #clock: Clock;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<SyncPass> | undefined;

  constructor(
    payments: PaymentsService,
    database: Database,
    options: StatusSyncOptions,
    logger: Logger,
    clock: Clock = systemClock,
  ) {
    this.#payments = payments;
    this.#database = database;
    this.#options = options;
    this.#logger = logger;
    this.#clock = clock;
  }

  /** One pass over every kind of unresolved work; never overlaps itself. */
  runOnce(): Promise<SyncPass> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      void this.runOnce().catch((error: unknown) =>
        this.#logger.error({ err: error }, 'status sync pass failed'),
      );
    }, this.#options.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  async #pass(): Promise<SyncPass> {
    let errors = 0;
    const syncAll = async (targets: readonly Target[]): Promise<number> => {
      const intents = new Map(
        targets.map((target) => [target.payment_intent_id, target.merchant_id]),
      );
      for (const [intentId, merchantId] of intents) {
        try {
          await this.#payments.sync(merchantId, intentId);
        } catch (error) {
          errors++;
          this.#logger.warn(
            { err: error, paymentIntent: intentId },
            'status sync of a payment failed; it is tried again on schedule',
          );
        }
      }
      return intents.size;
    };
    // One reading per pass: what is due is decided by each merchant's clock (test clocks).
    const reading = this.#clock.reading();
    const attempts = await syncAll(await this.#claimAttempts(reading));
    const operations = await syncAll(await this.#claimOperations(reading));
    let voided = 0;
    for (const target of await this.#claimOldAuthorizations(reading)) {
      try {
        await this.#payments.captures.cancel(
          target.merchant_id,
          target.payment_intent_id,
          'abandoned',
        );
        voided++;
      } catch (error) {
        errors++;
        this.#logger.warn(
          { err: error, paymentIntent: target.payment_intent_id },
          'voiding an old authorization failed; it is tried again',
        );
      }
    }
    if (attempts + operations + voided > 0)
      this.#logger.info({ attempts, operations, voided, errors }, 'status sync pass');
    return { attempts, operations, voided, errors };
  }

  /** Unresolved attempts whose next sync is due; their due time moves on as they are claimed. */
  async #claimAttempts(reading: ClockReading): Promise<Target[]> {
    const at = clockSql(reading, 'merchant_id', 3);
    const result = await this.#database.query<Target>(
      `UPDATE payment_attempts SET last_synced_at = ${at.now}
        WHERE id IN (
          SELECT id FROM payment_attempts
           WHERE ${unresolved}
             AND coalesce(last_synced_at, created_at)
                 <= ${at.now} - ($1::int[])[least(sync_count + 1, cardinality($1::int[]))] * interval '1 millisecond'
           ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)
        RETURNING merchant_id, payment_intent_id`,
      [integerArrayLiteral(this.#options.scheduleMs), this.#options.batchSize, ...at.values],
    );
    return result.rows;
  }

  /** Captures, cancels and refunds in flight for longer than the grace time. */
  async #claimOperations(reading: ClockReading): Promise<Target[]> {
    const grace = this.#options.inFlightGraceMs;
    const at = clockSql(reading, 'merchant_id', 3);
    const intents = await this.#database.query<Target>(
      `UPDATE payment_intents SET updated_at = ${at.now}
        WHERE id IN (
          SELECT id FROM payment_intents
           WHERE pending_operation IS NOT NULL AND updated_at <= ${at.now} - $1 * interval '1 millisecond'
           ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)
        RETURNING merchant_id, id AS payment_intent_id`,
      [grace, this.#options.batchSize, ...at.values],
    );
    const refunds = await this.#database.query<Target>(
      `UPDATE refunds SET updated_at = ${at.now}
        WHERE id IN (
          SELECT id FROM refunds
           WHERE status = 'pending' AND updated_at <= ${at.now} - $1 * interval '1 millisecond'
           ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)
        RETURNING merchant_id, payment_intent_id`,
      [grace, this.#options.batchSize, ...at.values],
    );
    return [...intents.rows, ...refunds.rows];
  }

  /** Authorizations older than the void time that were neither captured nor canceled. */
  async #claimOldAuthorizations(reading: ClockReading): Promise<Target[]> {
    const at = clockSql(reading, 'a.merchant_id', 3);
    const result = await this.#database.query<Target>(
      `SELECT a.merchant_id, a.payment_intent_id FROM payment_attempts a JOIN payment_intents i ON i.id = a.payment_intent_id
        WHERE a.status = 'authorized' AND a.updated_at <= ${at.now} - $1 * interval '1 millisecond'
          AND ${capturable} AND i.pending_operation IS NULL
        ORDER BY a.updated_at LIMIT $2`,
      [this.#options.voidAuthorizationsAfterMs, this.#options.batchSize, ...at.values],
    );
    return result.rows;
  }
}
