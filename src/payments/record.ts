// Applies a PSP's answer to an authorization. What changes is planned by one pure function from
// the state before and the outcome (state machine, ledger postings, the event); it is written in
// one of two ways:
//  - fast: ONE statement that applies the plan only if the intent and the attempt are still in
//    the state the plan was made from (a compare-and-set), with the ledger's outbox row and the
//    event in the same statement. This is the path of nearly every payment, so the outcomes of
//    concurrent payments share the statement (group commit), each with its own compare-and-set.
//  - locked: a transaction that locks the intent, then its attempts (the order every writer
//    uses), re-plans from what it finds and writes the same rows. Used when the fast path's
//    check fails, for outcomes still unknown, and by sync.
// An outcome applies to the intent only if its attempt is still the one the intent waits for
// (`isLiveAttempt`), decided in the same statement or under the same lock as the write: a failover
// may abandon the attempt between the PSP call and the record. Any other attempt the PSP charged
// is an orphan, voided or refunded (orphans.ts), so the customer never pays twice.
// Applying the same answer twice changes nothing: the attempt is no longer pending or unknown.
import { clockSql, systemClock, type ClockReading } from '../clock.ts';
import type { PaymentOutcome } from '../connectors/types.ts';
import { eventCtes, eventParameters, insertEvents, type NewEvent } from '../events/events.ts';
import { sqlState, type Queryable } from '../storage/database.ts';
import { integerArrayLiteral, textArrayLiteral } from '../storage/arrays.ts';
import { GroupCommit, type BatcherLimits } from '../storage/batcher.ts';
import { merchantNow, type PaymentsDependencies } from './dependencies.ts';
import { intentEvent } from './events.ts';
import type { Orphans } from './orphans.ts';
import { storedTransfers, type PaymentLedger, type PostingRequest } from './payment-ledger.ts';
import {
  authorizationHold,
  directCapture,
  feeFor,
  feeTransfer,
  type Movement,
  type Price,
} from './postings.ts';
import {
  findIntentWithAttempts,
  lockIntentAndAttempt,
  updateAttempt,
  updateIntent,
} from './repository.ts';
import { moveAttempt, moveIntent } from './state-machine.ts';
import type { Attempt, IntentWithAttempts, PaymentIntent } from './types.ts';

export type RecordOptions = { readonly synced: boolean; readonly failIfNeverSeen: boolean };

/** Everything an outcome changes, computed before anything is written. */
export type Plan = {
  readonly intent: PaymentIntent;
  readonly attempt: Attempt;
  readonly postings: PostingRequest | undefined;
  readonly event: NewEvent | undefined;
};

function withAttempt(attempts: readonly Attempt[], attempt: Attempt): Attempt[] {
  return attempts.map((candidate) => (candidate.id === attempt.id ? attempt : candidate));
}

/**
 * Whether the intent still waits for this attempt's outcome: the intent is processing with no
 * capture or cancel in flight, the attempt was not abandoned by a failover, and no later attempt
 * took over. Only under the intent's lock is the answer current.
 */
export function isLiveAttempt(
  intent: PaymentIntent,
  attempts: readonly Attempt[],
  attempt: Attempt,
): boolean {
  if (attempt.abandoned || intent.status !== 'processing' || intent.pendingOperation !== null)
    return false;
  const later = attempts.slice(attempts.findIndex((candidate) => candidate.id === attempt.id) + 1);
  return later.every((candidate) => candidate.abandoned);
}

export function plan(
  intent: PaymentIntent,
  attempts: readonly Attempt[],
  attempt: Attempt,
  outcome: PaymentOutcome,
  price: Price,
  options: RecordOptions,
): Plan {
  const movement: Movement = {
    merchantId: intent.merchantId,
    connector: attempt.connector,
    currency: attempt.currency,
  };
  const pspReference = outcome.pspReference ?? attempt.pspReference;
  const pspCode = outcome.pspCode ?? null;
  const finish = (next: {
    intent: PaymentIntent;
    attempt: Attempt;
    postings?: PostingRequest;
    eventType?: Parameters<typeof intentEvent>[0];
  }): Plan => ({
    intent: next.intent,
    attempt: next.attempt,
    postings: next.postings,
    event:
      next.eventType === undefined
        ? undefined
        : intentEvent(next.eventType, {
            intent: next.intent,
            attempts: withAttempt(attempts, next.attempt),
          }),
  });
  switch (outcome.status) {
    case 'authorized':
      return finish({
        attempt: {
          ...attempt,
          status: moveAttempt(attempt.id, attempt.status, 'authorized'),
          pspReference,
          amountAuthorized: attempt.amount,
          pspCode,
        },
        intent: {
          ...intent,
          status: moveIntent(intent.id, intent.status, 'requires_capture', 'authorize'),
          amountCapturable: attempt.amount,
          lastPaymentError: null,
        },
        postings: {
          movement,
          transfers: [authorizationHold(attempt.id, movement, attempt.amount)],
        },
        eventType: 'payment_intent.amount_capturable_updated',
      });
    case 'captured': {
      const amount = outcome.amountCaptured ?? attempt.amount;
      return finish({
        attempt: {
          ...attempt,
          status: moveAttempt(attempt.id, attempt.status, 'captured'),
          pspReference,
          amountAuthorized: attempt.amount,
          amountCaptured: amount,
          pspCode,
        },
        intent: {
          ...intent,
          status: moveIntent(intent.id, intent.status, 'succeeded', 'capture'),
          amountReceived: amount,
          amountCapturable: 0n,
          lastPaymentError: null,
        },
        postings: {
          movement,
          transfers: [
            directCapture(attempt.id, movement, amount),
            feeTransfer(attempt.id, movement, feeFor(amount, price)),
          ],
        },
        eventType: 'payment_intent.succeeded',
      });
    }
    case 'failed':
    case 'voided':
      return failed(intent, attempt, outcome, outcome.message ?? 'Your card was declined.', finish);
    default: {
      if (options.failIfNeverSeen && outcome.pspCode === 'not_found') {
        // Not the card's fault: Stripe's code for a failure on the processor's side.
        return failed(
          intent,
          attempt,
          outcome,
          'The PSP never received this authorization.',
          finish,
          'processing_error',
        );
      }
      const firstTime = attempt.status === 'pending';
      return finish({
        attempt: {
          ...attempt,
          status: moveAttempt(attempt.id, attempt.status, 'unknown'),
          pspReference,
          pspCode,
          failureMessage: outcome.message ?? null,
          syncCount: attempt.syncCount + (options.synced ? 1 : 0),
        },
        intent,
        // The merchant hears once that the outcome is pending, not on every sync that learns nothing.
        eventType: firstTime ? 'payment_intent.processing' : undefined,
      });
    }
  }
}

function failed(
  intent: PaymentIntent,
  attempt: Attempt,
  outcome: PaymentOutcome,
  message: string,
  finish: (next: {
    intent: PaymentIntent;
    attempt: Attempt;
    eventType: 'payment_intent.payment_failed';
  }) => Plan,
  code = outcome.declineCode === 'expired_card' ? 'expired_card' : 'card_declined',
): Plan {
  return finish({
    attempt: {
      ...attempt,
      status: moveAttempt(attempt.id, attempt.status, 'failed'),
      pspReference: outcome.pspReference ?? attempt.pspReference,
      declineCode: outcome.declineCode ?? null,
      pspCode: outcome.pspCode ?? null,
      failureMessage: message,
    },
    intent: {
      ...intent,
      status: moveIntent(intent.id, intent.status, 'requires_payment_method', 'fail'),
      lastPaymentError: {
        code,
        ...(outcome.declineCode === undefined ? {} : { decline_code: outcome.declineCode }),
        message,
      },
    },
    eventType: 'payment_intent.payment_failed',
  });
}

/**
 * The fast path's statement (see the file comment) for a batch of outcomes, one row of `input`
 * each: an outcome applies only if its attempt is still in the status it was planned from and not
 * abandoned, and its intent still processing (an attempt resumed while unknown keeps its status
 * when a failover abandons it: the status alone would not tell). Its ledger outbox row takes an
 * id drawn here, so that each caller learns its own. $1–$18 are arrays as in `fastParameters`, then the events' five,
 * then the clock's (`clockSql`, from $24, the system time: each row is stamped with its merchant's time).
 * The rows are also named by `id = ANY(<the ids>)`, a condition on the primary key that the
 * planner estimates well, whatever it thinks of `input`.
 */
const fastRecordSql = (intentNow: string, attemptNow: string, eventNow: string) => `
  WITH input AS (
    SELECT t.*, nextval('ledger_outbox_id_seq') AS outbox_id
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[],
                  $8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::text[], $13::text[], $14::text[],
                  $15::text[], $16::text[], $17::text[], $18::text[])
           WITH ORDINALITY AS t (intent_id, attempt_id, before_status, status, amount_capturable, amount_received, last_payment_error,
                                 attempt_status, psp_reference, amount_authorized, amount_captured, decline_code, psp_code, failure_message,
                                 merchant_id, connector, currency, transfers, position)
  ), i AS (
    UPDATE payment_intents p
       SET status = input.status, amount_capturable = input.amount_capturable, amount_received = input.amount_received,
           last_payment_error = input.last_payment_error::jsonb, updated_at = ${intentNow}
      FROM input
     WHERE p.id = ANY($1::text[]) AND p.id = input.intent_id AND p.status = 'processing' AND p.pending_operation IS NULL
       AND EXISTS (SELECT 1 FROM payment_attempts x WHERE x.id = input.attempt_id AND x.status = input.before_status AND NOT x.abandoned)
    RETURNING p.id
  ), a AS (
    UPDATE payment_attempts t
       SET status = input.attempt_status, psp_reference = input.psp_reference, amount_authorized = input.amount_authorized,
           amount_captured = input.amount_captured, decline_code = input.decline_code, psp_code = input.psp_code,
           failure_message = input.failure_message, updated_at = ${attemptNow}
      FROM input
     WHERE t.id = ANY($2::text[]) AND t.id = input.attempt_id AND t.status = input.before_status AND NOT t.abandoned AND input.intent_id IN (SELECT id FROM i)
    RETURNING input.position, input.intent_id
  ), lo AS (
    INSERT INTO ledger_outbox (id, merchant_id, connector, currency, transfers, created_at) OVERRIDING SYSTEM VALUE
    SELECT outbox_id, merchant_id, connector, currency, transfers::jsonb, $24::timestamptz FROM input
     WHERE transfers IS NOT NULL AND position IN (SELECT position FROM a)
     ORDER BY position
  ), ${eventCtes(19, 'e.position IN (SELECT position FROM a)', 'ev', eventNow)}
  SELECT payrail_assert(NOT EXISTS (SELECT 1 FROM i WHERE i.id NOT IN (SELECT intent_id FROM a)), 'payment_record_conflict') AS consistent,
         input.position IN (SELECT position FROM a) AS applied,
         CASE WHEN input.transfers IS NOT NULL AND input.position IN (SELECT position FROM a) THEN input.outbox_id END AS ledger_outbox_id
    FROM input ORDER BY input.position`;

/** Raised by payrail_assert when an intent changed but its attempt did not: the statement is undone. */
export const recordConflictState = 'PR001';

/** One outcome for the fast path: the attempt's status the plan was made from, and the plan. */
export type FastRecord = { readonly before: Attempt; readonly planned: Plan };

/** Whether it applied, and the id of its ledger outbox row if it wrote one. */
export type FastRecorded = { readonly applied: boolean; readonly ledgerOutboxId: bigint | null };

/**
 * The fast path's statement and parameters for a batch of outcomes of different intents: each
 * applies only if its attempt is still in `before`'s status and not abandoned, and its intent
 * still processing.
 * It returns one row per outcome, in order, saying whether it applied.
 */
export function compareAndSetStatement(
  records: readonly FastRecord[],
  reading: ClockReading = systemClock.reading(),
): {
  sql: string;
  parameters: unknown[];
} {
  const intentAt = clockSql(reading, 'p.merchant_id', 24);
  const attemptAt = clockSql(reading, 't.merchant_id', 24);
  const eventAt = clockSql(reading, 'e.merchant_id', 24);
  const column = <T>(value: (record: FastRecord) => T) => records.map(value);
  const intent = <T>(value: (planned: Plan['intent']) => T) =>
    column(({ planned }) => value(planned.intent));
  const attempt = <T>(value: (planned: Attempt) => T) =>
    column(({ planned }) => value(planned.attempt));
  return {
    sql: fastRecordSql(intentAt.now, attemptAt.now, eventAt.now),
    parameters: [
      textArrayLiteral(intent((it) => it.id)),
      textArrayLiteral(attempt((it) => it.id)),
      textArrayLiteral(column(({ before }) => before.status)),
      textArrayLiteral(intent((it) => it.status)),
      integerArrayLiteral(intent((it) => it.amountCapturable)),
      integerArrayLiteral(intent((it) => it.amountReceived)),
      textArrayLiteral(
        intent((it) => (it.lastPaymentError === null ? null : JSON.stringify(it.lastPaymentError))),
      ),
      textArrayLiteral(attempt((it) => it.status)),
      textArrayLiteral(attempt((it) => it.pspReference)),
      integerArrayLiteral(attempt((it) => it.amountAuthorized)),
      integerArrayLiteral(attempt((it) => it.amountCaptured)),
      textArrayLiteral(attempt((it) => it.declineCode)),
      textArrayLiteral(attempt((it) => it.pspCode)),
      textArrayLiteral(attempt((it) => it.failureMessage)),
      textArrayLiteral(column(({ planned }) => planned.postings?.movement.merchantId ?? null)),
      textArrayLiteral(column(({ planned }) => planned.postings?.movement.connector ?? null)),
      textArrayLiteral(column(({ planned }) => planned.postings?.movement.currency ?? null)),
      textArrayLiteral(
        column(({ planned }) =>
          planned.postings === undefined ? null : storedTransfers(planned.postings.transfers),
        ),
      ),
      ...eventParameters(column(({ planned }) => planned.event)),
      ...intentAt.values,
    ],
  };
}

/** Runs the fast path's statement for a batch (one round trip, one commit). */
export async function writeFastRecords(
  database: Queryable,
  records: readonly FastRecord[],
  reading?: ClockReading,
): Promise<FastRecorded[]> {
  // Two outcomes of one intent cannot share a statement (one intent row, two plans): refused,
  // so that the group commit runs them one at a time.
  if (new Set(records.map(({ planned }) => planned.intent.id)).size !== records.length)
    throw new Error('two outcomes of one payment intent in one batch');
  const statement = compareAndSetStatement(records, reading);
  const result = await database.query<{
    applied: boolean;
    ledger_outbox_id: bigint | string | null;
  }>(statement.sql, statement.parameters);
  return result.rows.map((row) => ({
    applied: row.applied,
    ledgerOutboxId: row.ledger_outbox_id === null ? null : BigInt(row.ledger_outbox_id),
  }));
}

/**
 * Records the outcomes of authorizations. The fast path's statements of concurrent payments are
 * group-committed: outcomes learned at the same moment share one statement.
 */
export class AuthorizationRecorder {
  readonly #dependencies: PaymentsDependencies;
  readonly #ledger: PaymentLedger;
  readonly #orphans: Orphans;
  readonly #fast: GroupCommit<FastRecord, FastRecorded>;

  constructor(
    dependencies: PaymentsDependencies,
    ledger: PaymentLedger,
    orphans: Orphans,
    limits: BatcherLimits,
  ) {
    this.#dependencies = dependencies;
    this.#ledger = ledger;
    this.#orphans = orphans;
    this.#fast = new GroupCommit(
      (records) =>
        writeFastRecords(
          dependencies.database,
          records,
          (dependencies.clock ?? systemClock).reading(),
        ),
      limits,
    );
  }

  /**
   * Records the outcome of an authorization of `sent`. `known` is the state the caller last wrote
   * (the intent with all its attempts, and the one sent): when given, the fast path is tried. The
   * outcome of an attempt that is not (or no longer) the intent's live one goes to the orphans.
   */
  async record(
    merchantId: string,
    intentId: string,
    sent: Pick<Attempt, 'id' | 'connector' | 'currency'>,
    outcome: PaymentOutcome,
    options: RecordOptions,
    known?: IntentWithAttempts & { readonly attempt: Attempt },
  ): Promise<IntentWithAttempts> {
    const price = await this.#dependencies.settings.price(merchantId, sent.currency);
    if (
      known !== undefined &&
      (outcome.status === 'authorized' ||
        outcome.status === 'captured' ||
        outcome.status === 'failed' ||
        outcome.status === 'voided')
    ) {
      const recorded = await this.#recordFast(known, outcome, price, options);
      if (recorded !== undefined) return recorded;
    }
    const { current, orphan } = await recordLocked(
      this.#ledger,
      merchantId,
      intentId,
      sent.id,
      outcome,
      price,
      options,
      merchantNow(this.#dependencies, merchantId),
    );
    if (orphan === undefined) return current;
    // PSP calls (void, refund) happen outside any transaction.
    await this.#orphans.settle(merchantId, orphan, outcome, options.failIfNeverSeen);
    const settled = await findIntentWithAttempts(this.#dependencies.database, merchantId, intentId);
    if (settled === undefined) throw new Error(`payment intent ${intentId} vanished`);
    return settled;
  }

  async #recordFast(
    known: IntentWithAttempts & { readonly attempt: Attempt },
    outcome: PaymentOutcome,
    price: Price,
    options: RecordOptions,
  ): Promise<IntentWithAttempts | undefined> {
    if (known.intent.status !== 'processing' || known.intent.pendingOperation !== null)
      return undefined;
    const planned = plan(known.intent, known.attempts, known.attempt, outcome, price, options);
    let recorded: FastRecorded;
    try {
      recorded = await this.#fast.submit({ before: known.attempt, planned });
    } catch (error) {
      if (sqlState(error) === recordConflictState) return undefined;
      throw error;
    }
    if (!recorded.applied) return undefined;
    if (planned.event !== undefined) this.#dependencies.events?.notify();
    if (recorded.ledgerOutboxId !== null && planned.postings !== undefined) {
      await this.#ledger.afterCommit([
        { id: recorded.ledgerOutboxId, movement: planned.postings.movement },
      ]);
    }
    return { intent: planned.intent, attempts: withAttempt(known.attempts, planned.attempt) };
  }
}

/**
 * The locked path. Returns the state after it, and the attempt when the outcome is an orphan's:
 * abandoned (left unknown, so that sync comes back to it until the orphan is settled) in this
 * transaction if it was not yet, for the caller to settle once the transaction is over.
 */
async function recordLocked(
  ledger: PaymentLedger,
  merchantId: string,
  intentId: string,
  attemptId: string,
  outcome: PaymentOutcome,
  price: Price,
  options: RecordOptions,
  now: Date,
): Promise<{ current: IntentWithAttempts; orphan?: Attempt }> {
  return ledger.transaction(async (tx) => {
    const { intent, attempts, attempt } = await lockIntentAndAttempt(
      tx,
      merchantId,
      intentId,
      attemptId,
    );
    const unresolved = attempt.status === 'pending' || attempt.status === 'unknown';
    // A charge the PSP made for an attempt Payrail had failed (e.g. as never seen) is an orphan too.
    const chargedAfterFailing =
      attempt.status === 'failed' &&
      (outcome.status === 'authorized' || outcome.status === 'captured');
    if (!unresolved && !chargedAfterFailing) return { current: { intent, attempts } };
    if (!unresolved || !isLiveAttempt(intent, attempts, attempt)) {
      const orphan =
        attempt.abandoned && unresolved
          ? attempt
          : await updateAttempt(
              tx,
              attempt.id,
              {
                status: moveAttempt(attempt.id, attempt.status, 'unknown'),
                abandoned: true,
              },
              now,
            );
      return { current: { intent, attempts: withAttempt(attempts, orphan) }, orphan };
    }
    const planned = plan(intent, attempts, attempt, outcome, price, options);
    const updatedAttempt = await updateAttempt(
      tx,
      attempt.id,
      {
        status: planned.attempt.status,
        pspReference: planned.attempt.pspReference,
        amountAuthorized: planned.attempt.amountAuthorized,
        amountCaptured: planned.attempt.amountCaptured,
        declineCode: planned.attempt.declineCode,
        pspCode: planned.attempt.pspCode,
        failureMessage: planned.attempt.failureMessage,
        synced: options.synced,
      },
      now,
    );
    const updatedIntent =
      planned.intent === intent
        ? intent
        : await updateIntent(
            tx,
            intent.id,
            {
              status: planned.intent.status,
              amountCapturable: planned.intent.amountCapturable,
              amountReceived: planned.intent.amountReceived,
              lastPaymentError: planned.intent.lastPaymentError,
            },
            now,
          );
    if (planned.postings !== undefined)
      await ledger.post(tx, planned.postings.movement, planned.postings.transfers);
    if (planned.event !== undefined) await insertEvents(tx, [planned.event], now);
    return { current: { intent: updatedIntent, attempts: withAttempt(attempts, updatedAttempt) } };
  });
}
