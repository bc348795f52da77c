// Applies a PSP's answer to an authorization: one short transaction that locks the intent and
// the attempt, moves both through the state machine and writes the ledger postings. Applying
// the same answer twice changes nothing (the attempt is no longer pending/unknown).
import type { PaymentOutcome } from '../connectors/types.ts';
import type { Queryable } from '../storage/database.ts';
import type { PaymentsDependencies } from './dependencies.ts';
import type { PaymentLedger } from './payment-ledger.ts';
import { authorizationHold, directCapture, feeFor, feeTransfer } from './postings.ts';
import type { Price } from './postings.ts';
import { attemptsOf, findIntent, updateAttempt, updateIntent } from './repository.ts';
import { moveAttempt, moveIntent } from './state-machine.ts';
import type { Attempt, IntentWithAttempts, PaymentIntent } from './types.ts';

type Recorded = { intent: PaymentIntent; attempt: Attempt };

async function authorized(tx: Queryable, ledger: PaymentLedger, intent: PaymentIntent, attempt: Attempt, outcome: PaymentOutcome): Promise<Recorded> {
  const updatedAttempt = await updateAttempt(tx, attempt.id, {
    status: moveAttempt(attempt.id, attempt.status, 'authorized'), pspReference: outcome.pspReference ?? attempt.pspReference,
    amountAuthorized: attempt.amount, pspCode: outcome.pspCode ?? null,
  });
  const updatedIntent = await updateIntent(tx, intent.id, { status: moveIntent(intent.id, intent.status, 'requires_capture', 'authorize'), amountCapturable: attempt.amount, lastPaymentError: null });
  const movement = { merchantId: intent.merchantId, connector: attempt.connector, currency: attempt.currency };
  await ledger.post(tx, movement, [authorizationHold(attempt.id, movement, attempt.amount)]);
  return { intent: updatedIntent, attempt: updatedAttempt };
}

async function captured(tx: Queryable, ledger: PaymentLedger, intent: PaymentIntent, attempt: Attempt, outcome: PaymentOutcome, price: Price): Promise<Recorded> {
  const amount = outcome.amountCaptured ?? attempt.amount;
  const updatedAttempt = await updateAttempt(tx, attempt.id, {
    status: moveAttempt(attempt.id, attempt.status, 'captured'), pspReference: outcome.pspReference ?? attempt.pspReference,
    amountAuthorized: attempt.amount, amountCaptured: amount, pspCode: outcome.pspCode ?? null,
  });
  const updatedIntent = await updateIntent(tx, intent.id, { status: moveIntent(intent.id, intent.status, 'succeeded', 'capture'), amountReceived: amount, amountCapturable: 0n, lastPaymentError: null });
  const movement = { merchantId: intent.merchantId, connector: attempt.connector, currency: attempt.currency };
  const fee = feeFor(amount, price);
  await ledger.post(tx, movement, [directCapture(attempt.id, movement, amount), feeTransfer(attempt.id, movement, fee)]);
  return { intent: updatedIntent, attempt: updatedAttempt };
}

async function failed(tx: Queryable, intent: PaymentIntent, attempt: Attempt, outcome: PaymentOutcome): Promise<Recorded> {
  const message = outcome.message ?? 'Your card was declined.';
  const updatedAttempt = await updateAttempt(tx, attempt.id, {
    status: moveAttempt(attempt.id, attempt.status, 'failed'), pspReference: outcome.pspReference ?? attempt.pspReference,
    declineCode: outcome.declineCode ?? null, pspCode: outcome.pspCode ?? null, failureMessage: message,
  });
  const code = outcome.declineCode === 'expired_card' ? 'expired_card' : 'card_declined';
  const updatedIntent = await updateIntent(tx, intent.id, {
    status: moveIntent(intent.id, intent.status, 'requires_payment_method', 'fail'),
    lastPaymentError: { code, ...(outcome.declineCode === undefined ? {} : { decline_code: outcome.declineCode }), message },
  });
  return { intent: updatedIntent, attempt: updatedAttempt };
}

async function stillUnknown(tx: Queryable, intent: PaymentIntent, attempt: Attempt, outcome: PaymentOutcome, synced: boolean): Promise<Recorded> {
  const updatedAttempt = await updateAttempt(tx, attempt.id, {
    status: moveAttempt(attempt.id, attempt.status, 'unknown'), pspReference: outcome.pspReference ?? attempt.pspReference,
    pspCode: outcome.pspCode ?? null, failureMessage: outcome.message ?? null, synced,
  });
  return { intent, attempt: updatedAttempt };
}

function applyOutcome(tx: Queryable, ledger: PaymentLedger, intent: PaymentIntent, attempt: Attempt, outcome: PaymentOutcome, price: Price, options: RecordOptions): Promise<Recorded> {
  switch (outcome.status) {
    case 'authorized':
      return authorized(tx, ledger, intent, attempt, outcome);
    case 'captured':
      return captured(tx, ledger, intent, attempt, outcome, price);
    case 'failed':
    case 'voided':
      return failed(tx, intent, attempt, outcome);
    default:
      if (options.failIfNeverSeen && outcome.pspCode === 'not_found') {
        return failed(tx, intent, attempt, { ...outcome, message: 'The PSP never received this authorization.' });
      }
      return stillUnknown(tx, intent, attempt, outcome, options.synced);
  }
}

export type RecordOptions = { readonly synced: boolean; readonly failIfNeverSeen: boolean };

export async function recordAuthorization(
  dependencies: PaymentsDependencies, ledger: PaymentLedger, merchantId: string, intentId: string,
  sent: Pick<Attempt, 'id' | 'connector' | 'currency'>, outcome: PaymentOutcome, options: RecordOptions,
): Promise<IntentWithAttempts> {
  const attemptId = sent.id;
  const price = await dependencies.settings.price(merchantId, sent.currency);
  return ledger.transaction(async (tx) => {
    // Locks the intent, then all its attempts (the order every writer uses).
    const intent = await findIntent(tx, merchantId, intentId, true);
    if (intent === undefined) throw new Error(`payment intent ${intentId} vanished`);
    const attempts = await attemptsOf(tx, [intentId], true);
    const attempt = attempts.find((candidate) => candidate.id === attemptId);
    if (attempt === undefined) throw new Error(`attempt ${attemptId} vanished`);
    if (attempt.status !== 'pending' && attempt.status !== 'unknown') return { intent, attempts };
    const recorded = await applyOutcome(tx, ledger, intent, attempt, outcome, price, options);
    return { intent: recorded.intent, attempts: attempts.map((candidate) => (candidate.id === attemptId ? recorded.attempt : candidate)) };
  });
}
