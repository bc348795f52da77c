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
import { cardErrorCode, type PaymentOutcome } from '../connectors/types.ts';
import {
  eventCtes,
  eventParameterCount,
  eventParameters,
  insertEvents,
  type NewEvent,
} from '../events/events.ts';
import { sqlState, type Queryable } from '../storage/database.ts';
import { textArrayLiteral } from '../storage/arrays.ts';
import { GroupCommit, type BatcherLimits } from '../storage/batcher.ts';
import { merchantNow, type PaymentsDependencies } from './dependencies.ts';
import { chargeEvent, intentEvent, type ChargeEventType } from './events.ts';
import { chargeCard } from './charges.ts';
import type { Orphans } from './orphans.ts';
import { newReview, openReview, opensReview } from './reviews.ts';
import {
  ledgerOutbox,
  outboxEntry,
  type PaymentLedger,
  type PostingRequest,
} from './payment-ledger.ts';
import {
  authorizationHold,
  directCapture,
  feeFor,
  feeTransfer,
  type Movement,
  type Price,
} from './postings.ts';
import {
  attemptOutcomeFields,
  attemptOutcomeOf,
  findIntent,
  findIntentWithAttempts,
  lockIntentAndAttempt,
  updateAttemptOutcome,
  updateSyncedAttemptOutcome,
  type AttemptOutcome,
} from './repository.ts';
import {
  awaitsAuthorization,
  awaitsAuthorizationSql,
  isUnresolvedAttempt,
  moveAttempt,
  moveIntent,
  outcomeActions,
} from './state-machine.ts';
import { paymentAttempts, paymentIntents } from './tables.ts';
import type { Attempt, ChargeCard, IntentWithAttempts, PaymentIntent } from './types.ts';

/** An authorization's outcome with how long the PSP took to give it (measured around the call). */
export type TimedOutcome = PaymentOutcome & { readonly latencyMs?: number };

export type RecordOptions = { readonly synced: boolean; readonly failIfNeverSeen: boolean };

/** The fields of an intent that an authorization's outcome writes. */
const intentOutcomeFields = [
  'status',
  'amountCapturable',
  'amountReceived',
  'lastPaymentError',
] as const satisfies readonly (keyof PaymentIntent)[];

export type IntentOutcome = Pick<PaymentIntent, (typeof intentOutcomeFields)[number]>;

/**
 * What an outcome writes: THE change value both record paths apply. `intent` is undefined when
 * the intent stays as it is (the outcome is still unknown). `synced`: the outcome was learned by
 * asking the PSP, which counts as one more sync of the attempt.
 */
export type OutcomeChange = {
  readonly intent: IntentOutcome | undefined;
  readonly attempt: AttemptOutcome;
  readonly synced: boolean;
};

const updateIntentOutcome = paymentIntents.update(intentOutcomeFields);
const abandonAttempt = paymentAttempts.update(['status', 'abandoned']);

/** Everything an outcome changes, computed before anything is written. */
export type Plan = {
  readonly change: OutcomeChange;
  /** The intent and the attempt after the change. */
  readonly intent: PaymentIntent;
  readonly attempt: Attempt;
  readonly postings: PostingRequest | undefined;
  readonly event: NewEvent | undefined;
  /** Stripe's `charge.*` event of the same change (the charge is the attempt), written with it. */
  readonly chargeEvent: NewEvent | undefined;
  /** A review rule held the payment: the authorization opens a review (the locked path writes it). */
  readonly opensReview: boolean;
};

/** The charge event each intent event of an outcome goes with. */
const chargeEventOf: Partial<Record<string, ChargeEventType>> = {
  'payment_intent.amount_capturable_updated': 'charge.succeeded',
  'payment_intent.succeeded': 'charge.succeeded',
  'payment_intent.payment_failed': 'charge.failed',
  'payment_intent.processing': 'charge.pending',
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
  if (attempt.abandoned || !awaitsAuthorization(intent)) return false;
  const later = attempts.slice(attempts.findIndex((candidate) => candidate.id === attempt.id) + 1);
  return later.every((candidate) => candidate.abandoned);
}

export function plan(
  intent: PaymentIntent,
  attempts: readonly Attempt[],
  attempt: Attempt,
  outcome: TimedOutcome,
  price: Price,
  options: RecordOptions,
  card?: ChargeCard,
): Plan {
  const movement: Movement = {
    merchantId: intent.merchantId,
    connector: attempt.connector,
    currency: attempt.currency,
  };
  const pspReference = outcome.pspReference ?? attempt.pspReference;
  const pspCode = outcome.pspCode ?? null;
  const finish = (next: {
    intent?: IntentOutcome;
    attempt: AttemptOutcome;
    postings?: PostingRequest;
    eventType?: Parameters<typeof intentEvent>[0];
  }): Plan => {
    const attemptChange =
      outcome.latencyMs === undefined
        ? next.attempt
        : { ...next.attempt, pspLatencyMs: outcome.latencyMs };
    const after = {
      intent: next.intent === undefined ? intent : { ...intent, ...next.intent },
      attempt: {
        ...attempt,
        ...attemptChange,
        syncCount: attempt.syncCount + (options.synced ? 1 : 0),
      },
    };
    const chargeType = next.eventType === undefined ? undefined : chargeEventOf[next.eventType];
    return {
      change: { intent: next.intent, attempt: attemptChange, synced: options.synced },
      // Captured too: where no connector could hold the money, the review opens on the capture.
      opensReview:
        (outcome.status === 'authorized' || outcome.status === 'captured') && opensReview(attempt),
      ...after,
      postings: next.postings,
      // Made first, so that its id sorts before the intent's event (Stripe's order).
      chargeEvent:
        chargeType === undefined
          ? undefined
          : chargeEvent(chargeType, {
              intent: after.intent,
              attempt: after.attempt,
              refunds: [],
              card,
              balanceTransactionId: null,
            }),
      event:
        next.eventType === undefined
          ? undefined
          : intentEvent(next.eventType, {
              intent: after.intent,
              attempts: withAttempt(attempts, after.attempt),
            }),
    };
  };
  const unchanged = attemptOutcomeOf(attempt);
  switch (outcome.status) {
    case 'authorized': {
      // The intent is checked first: an outcome for an intent that no longer waits is a typed error.
      const status = moveIntent(intent.id, intent.status, outcomeActions.authorized);
      return finish({
        attempt: {
          ...unchanged,
          status: moveAttempt(attempt.id, attempt.status, 'authorized'),
          pspReference,
          amountAuthorized: attempt.amount,
          pspCode,
        },
        intent: {
          status,
          amountCapturable: attempt.amount,
          amountReceived: intent.amountReceived,
          lastPaymentError: null,
        },
        postings: {
          movement,
          transfers: [authorizationHold(attempt.id, movement, attempt.amount)],
        },
        eventType: 'payment_intent.amount_capturable_updated',
      });
    }
    case 'captured': {
      const status = moveIntent(intent.id, intent.status, outcomeActions.captured);
      const amount = outcome.amountCaptured ?? attempt.amount;
      return finish({
        attempt: {
          ...unchanged,
          status: moveAttempt(attempt.id, attempt.status, 'captured'),
          pspReference,
          amountAuthorized: attempt.amount,
          amountCaptured: amount,
          pspCode,
        },
        intent: {
          status,
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
      moveIntent(intent.id, intent.status, outcomeActions.unknown);
      const firstTime = attempt.status === 'pending';
      return finish({
        attempt: {
          ...unchanged,
          status: moveAttempt(attempt.id, attempt.status, 'unknown'),
          pspReference,
          pspCode,
          failureMessage: outcome.message ?? null,
        },
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
    intent: IntentOutcome;
    attempt: AttemptOutcome;
    eventType: 'payment_intent.payment_failed';
  }) => Plan,
  code: string = cardErrorCode(outcome.declineCode),
): Plan {
  const status = moveIntent(intent.id, intent.status, outcomeActions.failed);
  return finish({
    attempt: {
      ...attemptOutcomeOf(attempt),
      status: moveAttempt(attempt.id, attempt.status, 'failed'),
      pspReference: outcome.pspReference ?? attempt.pspReference,
      declineCode: outcome.declineCode ?? null,
      pspCode: outcome.pspCode ?? null,
      failureMessage: message,
    },
    intent: {
      status,
      amountCapturable: intent.amountCapturable,
      amountReceived: intent.amountReceived,
      lastPaymentError: {
        code,
        ...(outcome.declineCode === undefined ? {} : { decline_code: outcome.declineCode }),
        message,
      },
    },
    eventType: 'payment_intent.payment_failed',
  });
}

// The fast path's parameters: $1 intent ids, $2 attempt ids, $3 the attempts' statuses the plans
// were made from, then the intents' and the attempts' outcome fields (generated from the tables'
// definitions), the ledger outbox row's four, then the intent events' and the charge events'
// (eventParameterCount each).
const intentInput = paymentIntents.arrays(intentOutcomeFields, 4, 'i_');
const attemptInput = paymentAttempts.arrays(attemptOutcomeFields, intentInput.next, 'a_');
const outboxInput = ledgerOutbox.arrays(
  ['merchantId', 'connector', 'currency', 'transfers'],
  attemptInput.next,
  'o_',
);
/** The charge events' parameters, after the intent events'. */
const chargeEventsFirst = outboxInput.next + eventParameterCount;
/** The first of the clock's parameters (`clockSql`), after both events'. */
const fastClockFirst = chargeEventsFirst + eventParameterCount;

/**
 * The fast path's statement (see the file comment) for a batch of outcomes, one row of `input`
 * each: an outcome applies only if its attempt is still in the status it was planned from and not
 * abandoned, and its intent still waits for the outcome (an attempt resumed while unknown keeps
 * its status when a failover abandons it: the status alone would not tell). Its ledger outbox row
 * takes an id drawn here, so that each caller learns its own. After the events' parameters come
 * the clock's (`clockSql`, from `fastClockFirst`; the first is the system time): each row is
 * stamped with its merchant's time, the ledger outbox row with the system time.
 * The rows are also named by `id = ANY(<the ids>)`, a condition on the primary key that the
 * planner estimates well, whatever it thinks of `input`.
 */
const fastRecordSql = (intentNow: string, attemptNow: string, eventNow: string) => `
  WITH input AS (
    SELECT t.*, nextval('ledger_outbox_id_seq') AS outbox_id
      FROM unnest($1::text[], $2::text[], $3::text[], ${intentInput.placeholders},
                  ${attemptInput.placeholders}, ${outboxInput.placeholders})
           WITH ORDINALITY AS t (intent_id, attempt_id, before_status, ${intentInput.names.join(', ')},
                                 ${attemptInput.names.join(', ')}, ${outboxInput.names.join(', ')}, position)
  ), i AS (
    UPDATE payment_intents p
       SET ${intentInput.assignments('input')}, updated_at = ${intentNow}
      FROM input
     WHERE p.id = ANY($1::text[]) AND p.id = input.intent_id AND ${awaitsAuthorizationSql('p')}
       AND EXISTS (SELECT 1 FROM payment_attempts x WHERE x.id = input.attempt_id AND x.status = input.before_status AND NOT x.abandoned)
    RETURNING p.id
  ), a AS (
    UPDATE payment_attempts t
       SET ${attemptInput.assignments('input')}, updated_at = ${attemptNow}
      FROM input
     WHERE t.id = ANY($2::text[]) AND t.id = input.attempt_id AND t.status = input.before_status AND NOT t.abandoned AND input.intent_id IN (SELECT id FROM i)
    RETURNING input.position, input.intent_id
  ), lo AS (
    INSERT INTO ledger_outbox (id, ${outboxInput.columns.join(', ')}, created_at) OVERRIDING SYSTEM VALUE
    SELECT outbox_id, ${outboxInput.names.join(', ')}, $${fastClockFirst}::timestamptz FROM input
     WHERE o_transfers IS NOT NULL AND position IN (SELECT position FROM a)
     ORDER BY position
  ), ${eventCtes(chargeEventsFirst, 'e.position IN (SELECT position FROM a)', 'ch', eventNow)},
     ${eventCtes(outboxInput.next, 'e.position IN (SELECT position FROM a)', 'ev', eventNow)}
  SELECT payrail_assert(NOT EXISTS (SELECT 1 FROM i WHERE i.id NOT IN (SELECT intent_id FROM a)), 'payment_record_conflict') AS consistent,
         input.position IN (SELECT position FROM a) AS applied,
         CASE WHEN input.o_transfers IS NOT NULL AND input.position IN (SELECT position FROM a) THEN input.outbox_id END AS ledger_outbox_id
    FROM input ORDER BY input.position`;

/** Raised by payrail_assert when an intent changed but its attempt did not: the statement is undone. */
export const recordConflictState = 'PR001';

/** One outcome for the fast path: the attempt's status the plan was made from, and the plan. */
export type FastRecord = { readonly before: Attempt; readonly planned: Plan };

/** Whether it applied, and the id of its ledger outbox row if it wrote one. */
export type FastRecorded = { readonly applied: boolean; readonly ledgerOutboxId: bigint | null };

/** Whether the fast path can write this change: it moves the intent and is not a sync's. */
function fastChange(change: OutcomeChange): change is OutcomeChange & { intent: IntentOutcome } {
  return change.intent !== undefined && !change.synced;
}

/**
 * The fast path's statement and parameters for a batch of outcomes of different intents: each
 * applies only if its attempt is still in `before`'s status and not abandoned, and its intent
 * still waits for the outcome. Each writes its plan's change, as the locked path does.
 * It returns one row per outcome, in order, saying whether it applied.
 */
export function compareAndSetStatement(
  records: readonly FastRecord[],
  reading: ClockReading = systemClock.reading(),
): {
  sql: string;
  parameters: unknown[];
} {
  const changes = records.map(({ planned }) => {
    if (!fastChange(planned.change))
      throw new Error('the fast path writes only unsynced, final outcomes');
    return planned.change;
  });
  const intentAt = clockSql(reading, 'p.merchant_id', fastClockFirst);
  const attemptAt = clockSql(reading, 't.merchant_id', fastClockFirst);
  const eventAt = clockSql(reading, 'e.merchant_id', fastClockFirst);
  return {
    sql: fastRecordSql(intentAt.now, attemptAt.now, eventAt.now),
    parameters: [
      textArrayLiteral(records.map(({ planned }) => planned.intent.id)),
      textArrayLiteral(records.map(({ planned }) => planned.attempt.id)),
      textArrayLiteral(records.map(({ before }) => before.status)),
      ...intentInput.parameters(changes.map((change) => change.intent)),
      ...attemptInput.parameters(changes.map((change) => change.attempt)),
      ...outboxInput.parameters(records.map(({ planned }) => outboxEntry(planned.postings))),
      ...eventParameters(records.map(({ planned }) => planned.event)),
      ...eventParameters(records.map(({ planned }) => planned.chargeEvent)),
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
    knownCard?: ChargeCard,
  ): Promise<IntentWithAttempts> {
    const [price, card] = await Promise.all([
      this.#dependencies.settings.price(merchantId, sent.currency),
      knownCard ?? this.#cardOf(merchantId, intentId, known?.intent),
    ]);
    if (
      known !== undefined &&
      (outcome.status === 'authorized' ||
        outcome.status === 'captured' ||
        outcome.status === 'failed' ||
        outcome.status === 'voided')
    ) {
      const recorded = await this.#recordFast(known, outcome, price, options, card);
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
      card,
    );
    if (orphan === undefined) return current;
    // PSP calls (void, refund) happen outside any transaction.
    await this.#orphans.settle(merchantId, orphan, outcome, options.failIfNeverSeen);
    const settled = await findIntentWithAttempts(this.#dependencies.database, merchantId, intentId);
    if (settled === undefined) throw new Error(`payment intent ${intentId} vanished`);
    return settled;
  }

  /** The card the intent is paid with, as its charge shows it (read before any transaction). */
  async #cardOf(
    merchantId: string,
    intentId: string,
    known: PaymentIntent | undefined,
  ): Promise<ChargeCard | undefined> {
    const database = this.#dependencies.database;
    const intent = known ?? (await findIntent(database, merchantId, intentId, false));
    return chargeCard(this.#dependencies.vault, merchantId, intent?.paymentMethodId ?? null);
  }

  async #recordFast(
    known: IntentWithAttempts & { readonly attempt: Attempt },
    outcome: PaymentOutcome,
    price: Price,
    options: RecordOptions,
    card: ChargeCard | undefined,
  ): Promise<IntentWithAttempts | undefined> {
    if (!awaitsAuthorization(known.intent)) return undefined;
    const planned = plan(
      known.intent,
      known.attempts,
      known.attempt,
      outcome,
      price,
      options,
      card,
    );
    if (!fastChange(planned.change) || planned.opensReview) return undefined;
    let recorded: FastRecorded;
    try {
      recorded = await this.#fast.submit({ before: known.attempt, planned });
    } catch (error) {
      if (sqlState(error) === recordConflictState) return undefined;
      throw error;
    }
    if (!recorded.applied) return undefined;
    if (planned.event !== undefined || planned.chargeEvent !== undefined)
      this.#dependencies.events?.notify();
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
  card: ChargeCard | undefined,
): Promise<{ current: IntentWithAttempts; orphan?: Attempt }> {
  return ledger.transaction(async (tx) => {
    const { intent, attempts, attempt } = await lockIntentAndAttempt(
      tx,
      merchantId,
      intentId,
      attemptId,
    );
    const unresolved = isUnresolvedAttempt(attempt);
    // A charge the PSP made for an attempt Payrail had failed (e.g. as never seen) is an orphan too.
    const chargedAfterFailing =
      attempt.status === 'failed' &&
      (outcome.status === 'authorized' || outcome.status === 'captured');
    if (!unresolved && !chargedAfterFailing) return { current: { intent, attempts } };
    if (!unresolved || !isLiveAttempt(intent, attempts, attempt)) {
      const orphan =
        attempt.abandoned && unresolved
          ? attempt
          : await abandonAttempt.run(
              tx,
              attempt.id,
              { status: moveAttempt(attempt.id, attempt.status, 'unknown'), abandoned: true },
              now,
            );
      return { current: { intent, attempts: withAttempt(attempts, orphan) }, orphan };
    }
    const planned = plan(intent, attempts, attempt, outcome, price, options, card);
    const { updatedIntent, updatedAttempt } = await applyOutcome(
      tx,
      intent,
      attempt,
      planned.change,
      now,
    );
    if (planned.postings !== undefined)
      await ledger.post(tx, planned.postings.movement, planned.postings.transfers);
    const events = [planned.chargeEvent, planned.event].filter((event) => event !== undefined);
    await insertEvents(tx, events, now);
    if (planned.opensReview) await openReview(tx, newReview(updatedIntent, updatedAttempt, now));
    return { current: { intent: updatedIntent, attempts: withAttempt(attempts, updatedAttempt) } };
  });
}

/** Writes an outcome's change under the intent's lock (the locked path's half of the record). */
async function applyOutcome(
  tx: Queryable,
  intent: PaymentIntent,
  attempt: Attempt,
  change: OutcomeChange,
  now: Date,
): Promise<{ updatedIntent: PaymentIntent; updatedAttempt: Attempt }> {
  const attemptStatement = change.synced ? updateSyncedAttemptOutcome : updateAttemptOutcome;
  const updatedAttempt = await attemptStatement.run(tx, attempt.id, change.attempt, now);
  const updatedIntent =
    change.intent === undefined
      ? intent
      : await updateIntentOutcome.run(tx, intent.id, change.intent, now);
  return { updatedIntent, updatedAttempt };
}
