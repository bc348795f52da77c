// Applies a PSP's answer to an authorization. What changes is planned by one pure function from
// the state before and the outcome (state machine, ledger postings, the event); it is written in
// one of two ways:
//  - fast: ONE statement that applies the plan only if the intent and the attempt are still in
//    the state the plan was made from (a compare-and-set), with the ledger's outbox row and the
//    event in the same statement. This is the path of nearly every payment.
//  - locked: a transaction that locks the intent, then its attempts (the order every writer
//    uses), re-plans from what it finds and writes the same rows. Used when the fast path's
//    check fails, for outcomes still unknown, and by sync.
// Applying the same answer twice changes nothing: the attempt is no longer pending or unknown.
import type { PaymentOutcome } from '../connectors/types.ts';
import { eventCtes, eventParameters, insertEvents, type NewEvent } from '../events/events.ts';
import { sqlState } from '../storage/database.ts';
import type { PaymentsDependencies } from './dependencies.ts';
import { intentEvent } from './events.ts';
import { storedTransfers, type PaymentLedger, type PostingRequest } from './payment-ledger.ts';
import { authorizationHold, directCapture, feeFor, feeTransfer, type Movement, type Price } from './postings.ts';
import { attemptsOf, findIntent, updateAttempt, updateIntent } from './repository.ts';
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

export function plan(intent: PaymentIntent, attempts: readonly Attempt[], attempt: Attempt, outcome: PaymentOutcome, price: Price, options: RecordOptions): Plan {
  const movement: Movement = { merchantId: intent.merchantId, connector: attempt.connector, currency: attempt.currency };
  const pspReference = outcome.pspReference ?? attempt.pspReference;
  const pspCode = outcome.pspCode ?? null;
  const finish = (next: { intent: PaymentIntent; attempt: Attempt; postings?: PostingRequest; eventType?: Parameters<typeof intentEvent>[0] }): Plan => ({
    intent: next.intent,
    attempt: next.attempt,
    postings: next.postings,
    event: next.eventType === undefined ? undefined : intentEvent(next.eventType, { intent: next.intent, attempts: withAttempt(attempts, next.attempt) }),
  });
  switch (outcome.status) {
    case 'authorized':
      return finish({
        attempt: { ...attempt, status: moveAttempt(attempt.id, attempt.status, 'authorized'), pspReference, amountAuthorized: attempt.amount, pspCode },
        intent: { ...intent, status: moveIntent(intent.id, intent.status, 'requires_capture', 'authorize'), amountCapturable: attempt.amount, lastPaymentError: null },
        postings: { movement, transfers: [authorizationHold(attempt.id, movement, attempt.amount)] },
        eventType: 'payment_intent.amount_capturable_updated',
      });
    case 'captured': {
      const amount = outcome.amountCaptured ?? attempt.amount;
      return finish({
        attempt: { ...attempt, status: moveAttempt(attempt.id, attempt.status, 'captured'), pspReference, amountAuthorized: attempt.amount, amountCaptured: amount, pspCode },
        intent: { ...intent, status: moveIntent(intent.id, intent.status, 'succeeded', 'capture'), amountReceived: amount, amountCapturable: 0n, lastPaymentError: null },
        postings: { movement, transfers: [directCapture(attempt.id, movement, amount), feeTransfer(attempt.id, movement, feeFor(amount, price))] },
        eventType: 'payment_intent.succeeded',
      });
    }
    case 'failed':
    case 'voided':
      return failed(intent, attempt, outcome, outcome.message ?? 'Your card was declined.', finish);
    default: {
      if (options.failIfNeverSeen && outcome.pspCode === 'not_found') {
        return failed(intent, attempt, outcome, 'The PSP never received this authorization.', finish);
      }
      const firstTime = attempt.status === 'pending';
      return finish({
        attempt: {
          ...attempt, status: moveAttempt(attempt.id, attempt.status, 'unknown'), pspReference, pspCode, failureMessage: outcome.message ?? null,
          syncCount: attempt.syncCount + (options.synced ? 1 : 0),
        },
        intent,
        // The merchant hears once that the outcome is pending, not on every sync that learns nothing.
        eventType: firstTime ? 'payment_intent.processing' : undefined,
      });
    }
  }
}

function failed(intent: PaymentIntent, attempt: Attempt, outcome: PaymentOutcome, message: string, finish: (next: { intent: PaymentIntent; attempt: Attempt; eventType: 'payment_intent.payment_failed' }) => Plan): Plan {
  const code = outcome.declineCode === 'expired_card' ? 'expired_card' : 'card_declined';
  return finish({
    attempt: {
      ...attempt, status: moveAttempt(attempt.id, attempt.status, 'failed'), pspReference: outcome.pspReference ?? attempt.pspReference,
      declineCode: outcome.declineCode ?? null, pspCode: outcome.pspCode ?? null, failureMessage: message,
    },
    intent: {
      ...intent, status: moveIntent(intent.id, intent.status, 'requires_payment_method', 'fail'),
      lastPaymentError: { code, ...(outcome.declineCode === undefined ? {} : { decline_code: outcome.declineCode }), message },
    },
    eventType: 'payment_intent.payment_failed',
  });
}

/** The fast path's statement; see the file comment. $1–$18 as in `fastParameters`, then the event's five. */
const fastRecordSql = `
  WITH i AS (
    UPDATE payment_intents SET status = $4, amount_capturable = $5, amount_received = $6, last_payment_error = $7::jsonb, updated_at = now()
     WHERE id = $1 AND status = 'processing' AND pending_operation IS NULL
       AND EXISTS (SELECT 1 FROM payment_attempts WHERE id = $2 AND status = $3)
    RETURNING id
  ), a AS (
    UPDATE payment_attempts SET status = $8, psp_reference = $9, amount_authorized = $10, amount_captured = $11,
           decline_code = $12, psp_code = $13, failure_message = $14, updated_at = now()
     WHERE id = $2 AND status = $3 AND EXISTS (SELECT 1 FROM i)
    RETURNING id
  ), lo AS (
    INSERT INTO ledger_outbox (merchant_id, connector, currency, transfers)
    SELECT $15, $16, $17, $18::jsonb WHERE $18::text IS NOT NULL AND EXISTS (SELECT 1 FROM a)
    RETURNING id
  ), ${eventCtes(19, 'EXISTS (SELECT 1 FROM a)')}
  SELECT payrail_assert((SELECT count(*) FROM i) = (SELECT count(*) FROM a), 'payment_record_conflict') AS consistent,
         (SELECT count(*) FROM a)::int AS applied, (SELECT id FROM lo) AS ledger_outbox_id`;

/** Raised by payrail_assert when the intent changed but its attempt did not: the statement is undone. */
export const recordConflictState = 'PR001';

/**
 * The fast path's statement and parameters: applies `planned` only if the attempt is still in
 * `before`'s status and the intent still processing. Its row says whether it applied.
 */
export function compareAndSetStatement(before: Attempt, planned: Plan): { sql: string; parameters: unknown[] } {
  return { sql: fastRecordSql, parameters: fastParameters(before, planned) };
}

function fastParameters(before: Attempt, planned: Plan): unknown[] {
  const { intent, attempt, postings, event } = planned;
  return [
    intent.id, attempt.id, before.status,
    intent.status, intent.amountCapturable, intent.amountReceived, intent.lastPaymentError === null ? null : JSON.stringify(intent.lastPaymentError),
    attempt.status, attempt.pspReference, attempt.amountAuthorized, attempt.amountCaptured, attempt.declineCode, attempt.pspCode, attempt.failureMessage,
    postings?.movement.merchantId ?? null, postings?.movement.connector ?? null, postings?.movement.currency ?? null,
    postings === undefined ? null : storedTransfers(postings.transfers),
    ...eventParameters(event === undefined ? [] : [event]),
  ];
}

/**
 * Records the outcome of an authorization of `sent`. `known` is the state the caller last wrote
 * (the intent with all its attempts, and the one sent): when given, the fast path is tried.
 */
export async function recordAuthorization(
  dependencies: PaymentsDependencies, ledger: PaymentLedger, merchantId: string, intentId: string,
  sent: Pick<Attempt, 'id' | 'connector' | 'currency'>, outcome: PaymentOutcome, options: RecordOptions,
  known?: IntentWithAttempts & { readonly attempt: Attempt },
): Promise<IntentWithAttempts> {
  const price = await dependencies.settings.price(merchantId, sent.currency);
  if (known !== undefined && (outcome.status === 'authorized' || outcome.status === 'captured' || outcome.status === 'failed' || outcome.status === 'voided')) {
    const recorded = await recordFast(dependencies, ledger, known, outcome, price, options);
    if (recorded !== undefined) return recorded;
  }
  return recordLocked(ledger, merchantId, intentId, sent.id, outcome, price, options);
}

async function recordFast(
  dependencies: PaymentsDependencies, ledger: PaymentLedger, known: IntentWithAttempts & { readonly attempt: Attempt }, outcome: PaymentOutcome, price: Price, options: RecordOptions,
): Promise<IntentWithAttempts | undefined> {
  if (known.intent.status !== 'processing' || known.intent.pendingOperation !== null) return undefined;
  const planned = plan(known.intent, known.attempts, known.attempt, outcome, price, options);
  let row: { applied: number; ledger_outbox_id: bigint | null } | undefined;
  try {
    const statement = compareAndSetStatement(known.attempt, planned);
    const result = await dependencies.database.query<{ applied: number; ledger_outbox_id: bigint | null }>(statement.sql, statement.parameters);
    row = result.rows[0];
  } catch (error) {
    if (sqlState(error) === recordConflictState) return undefined;
    throw error;
  }
  if (row === undefined || row.applied !== 1) return undefined;
  if (planned.event !== undefined) dependencies.events?.notify();
  if (row.ledger_outbox_id !== null && planned.postings !== undefined) {
    await ledger.afterCommit([{ id: row.ledger_outbox_id, movement: planned.postings.movement }]);
  }
  return { intent: planned.intent, attempts: withAttempt(known.attempts, planned.attempt) };
}

async function recordLocked(
  ledger: PaymentLedger, merchantId: string, intentId: string, attemptId: string,
  outcome: PaymentOutcome, price: Price, options: RecordOptions,
): Promise<IntentWithAttempts> {
  return ledger.transaction(async (tx) => {
    const intent = await findIntent(tx, merchantId, intentId, true);
    if (intent === undefined) throw new Error(`payment intent ${intentId} vanished`);
    const attempts = await attemptsOf(tx, [intentId], true);
    const attempt = attempts.find((candidate) => candidate.id === attemptId);
    if (attempt === undefined) throw new Error(`attempt ${attemptId} vanished`);
    if (attempt.status !== 'pending' && attempt.status !== 'unknown') return { intent, attempts };
    const planned = plan(intent, attempts, attempt, outcome, price, options);
    const updatedAttempt = await updateAttempt(tx, attempt.id, {
      status: planned.attempt.status, pspReference: planned.attempt.pspReference, amountAuthorized: planned.attempt.amountAuthorized,
      amountCaptured: planned.attempt.amountCaptured, declineCode: planned.attempt.declineCode, pspCode: planned.attempt.pspCode,
      failureMessage: planned.attempt.failureMessage, synced: options.synced,
    });
    const updatedIntent = planned.intent === intent ? intent : await updateIntent(tx, intent.id, {
      status: planned.intent.status, amountCapturable: planned.intent.amountCapturable, amountReceived: planned.intent.amountReceived,
      lastPaymentError: planned.intent.lastPaymentError,
    });
    if (planned.postings !== undefined) await ledger.post(tx, planned.postings.movement, planned.postings.transfers);
    if (planned.event !== undefined) await insertEvents(tx, [planned.event]);
    return { intent: updatedIntent, attempts: withAttempt(attempts, updatedAttempt) };
  });
}
