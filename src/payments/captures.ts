// Capture (full or partial: the rest is released) and cancel of an authorization. The operation
// in flight is recorded on the intent (`pending_operation`) before the PSP call, so a retry, a
// crash or an unknown answer resumes it with the same PSP idempotency key.
import type { PaymentOutcome } from '../connectors/types.ts';
import { assertPositiveAmount } from '../money/index.ts';
import type { Queryable } from '../storage/database.ts';
import { connectorNamed, merchantNow, type PaymentsDependencies } from './dependencies.ts';
import { PaymentError } from './errors.ts';
import { writeChargeEvent, writeIntentEvent } from './events.ts';
import { chargeCard } from './charges.ts';
import type { PaymentLedger } from './payment-ledger.ts';
import { captureOfHold, feeFor, feeTransfer, voidOfHold, type Price } from './postings.ts';
import { attemptsOf, findIntent, findIntentWithAttempts, lockAttempt } from './repository.ts';
import {
  describePendingOperation,
  moveAttempt,
  moveIntent,
  type PendingOperation,
} from './state-machine.ts';
import { paymentAttempts, paymentIntents } from './tables.ts';
import type { Attempt, ChargeCard, IntentWithAttempts, PaymentIntent } from './types.ts';

// What each step writes, generated once from the tables' definitions.
const startOperation = paymentIntents.update(['pendingOperation']);
const endOperation = paymentIntents.update(['status', 'pendingOperation']);
const moveStatus = paymentIntents.update(['status']);
const cancelAtOnce = paymentIntents.update(['status', 'cancellationReason', 'canceledAt']);
const startVoid = paymentIntents.update(['pendingOperation', 'cancellationReason']);
const recordCapturedIntent = paymentIntents.update([
  'status',
  'amountReceived',
  'amountCapturable',
  'pendingOperation',
]);
const recordCapturedAttempt = paymentAttempts.update(['status', 'amountCaptured', 'pspCode']);
const recordVoidedIntent = paymentIntents.update([
  'status',
  'amountCapturable',
  'pendingOperation',
  'cancellationReason',
  'canceledAt',
]);
const recordVoidedAttempt = paymentAttempts.update(['status', 'pspCode']);

/**
 * The refusal of a capture or cancel while another operation is in flight: its PSP call may
 * succeed, so the new one must wait for its outcome (else a void could follow a capture the PSP
 * made, or a capture a void).
 */
function busyWith(
  id: string,
  inFlight: PendingOperation,
  action: 'capture' | 'cancel',
): PaymentError {
  return new PaymentError(
    'payment_intent_unexpected_state',
    `You cannot ${action} this PaymentIntent because ${describePendingOperation(inFlight)} is in progress for it; retry once that is resolved.`,
    { paymentIntentId: id },
  );
}

function authorizedAttempt(attempts: readonly Attempt[], intentId: string): Attempt {
  const attempt = attempts.findLast((candidate) => candidate.status === 'authorized');
  if (attempt === undefined)
    throw new Error(`payment intent ${intentId} has no authorized attempt`);
  return attempt;
}

export class Captures {
  readonly #dependencies: PaymentsDependencies;
  readonly #ledger: PaymentLedger;

  constructor(dependencies: PaymentsDependencies, ledger: PaymentLedger) {
    this.#dependencies = dependencies;
    this.#ledger = ledger;
  }

  async capture(
    merchantId: string,
    id: string,
    amountToCapture: unknown,
  ): Promise<IntentWithAttempts> {
    const started = await this.#dependencies.database.transaction(async (tx) => {
      const intent = await this.#lockIntent(tx, merchantId, id);
      const inFlight = intent.pendingOperation;
      if (inFlight?.kind === 'cancel') throw busyWith(id, inFlight, 'capture');
      if (inFlight?.kind === 'capture') {
        // The same capture again resumes it; a different one must wait for its outcome.
        if (
          amountToCapture !== undefined &&
          assertPositiveAmount(amountToCapture, 'amount_to_capture', intent.currency) !==
            inFlight.amount
        ) {
          throw busyWith(id, inFlight, 'capture');
        }
        return { intent, amount: inFlight.amount };
      }
      moveIntent(id, intent.status, 'capture');
      const attempt = authorizedAttempt(await attemptsOf(tx, [id]), id);
      const amount =
        amountToCapture === undefined
          ? intent.amountCapturable
          : assertPositiveAmount(amountToCapture, 'amount_to_capture', intent.currency);
      if (amount > intent.amountCapturable) {
        throw new PaymentError(
          'amount_too_large',
          `amount_to_capture (${amount}) is greater than the capturable amount (${intent.amountCapturable}).`,
          { param: 'amount_to_capture' },
        );
      }
      if (
        amount < intent.amountCapturable &&
        !connectorNamed(this.#dependencies, attempt.connector).capabilities.partialCapture
      ) {
        throw new PaymentError(
          'capability_not_supported',
          `The connector '${attempt.connector}' cannot capture part of an authorization.`,
          { param: 'amount_to_capture' },
        );
      }
      return {
        intent: await startOperation.run(
          tx,
          id,
          { pendingOperation: { kind: 'capture', amount } },
          merchantNow(this.#dependencies, merchantId),
        ),
        amount,
      };
    });
    return this.#driveCapture(merchantId, started.intent, started.amount);
  }

  async cancel(
    merchantId: string,
    id: string,
    reason: string | undefined,
  ): Promise<IntentWithAttempts> {
    const card = await this.#cardOf(merchantId, id);
    const outcome = await this.#ledger.transaction(async (tx): Promise<'done' | 'void'> => {
      const intent = await this.#lockIntent(tx, merchantId, id);
      const inFlight = intent.pendingOperation;
      if (inFlight?.kind === 'cancel') return 'void';
      if (inFlight?.kind === 'capture') throw busyWith(id, inFlight, 'cancel');
      if (intent.status === 'processing') {
        throw new PaymentError(
          'outcome_unknown',
          'The outcome of this PaymentIntent at the PSP is not known yet; sync it, then cancel.',
          { paymentIntentId: id },
        );
      }
      const next = moveIntent(id, intent.status, 'cancel');
      const now = merchantNow(this.#dependencies, merchantId);
      if (next === 'canceled') {
        await cancelAtOnce.run(
          tx,
          id,
          { status: next, cancellationReason: reason ?? null, canceledAt: now },
          now,
        );
        await writeIntentEvent(tx, merchantId, id, 'payment_intent.canceled', now);
        return 'done';
      }
      const attempt = authorizedAttempt(await attemptsOf(tx, [id]), id);
      if (connectorNamed(this.#dependencies, attempt.connector).capabilities.void) {
        await startVoid.run(
          tx,
          id,
          { pendingOperation: { kind: 'cancel' }, cancellationReason: reason ?? null },
          now,
        );
        return 'void';
      }
      // This PSP cannot void: it releases an authorization that is never captured by itself.
      await this.#recordVoid(
        tx,
        intent,
        attempt,
        { status: 'voided', pspCode: 'released_by_psp' },
        reason ?? null,
        card,
      );
      return 'done';
    });
    if (outcome === 'void') return this.#driveVoid(merchantId, id);
    return this.#current(merchantId, id);
  }

  /** Re-drives a capture or cancel whose outcome was not recorded. */
  async resume(merchantId: string, id: string): Promise<void> {
    const intent = await findIntent(this.#dependencies.database, merchantId, id, false);
    const operation = intent?.pendingOperation ?? null;
    if (intent === undefined || operation === null) return;
    if (operation.kind === 'capture')
      await this.#driveCapture(merchantId, intent, operation.amount).catch(ignoreExpectedFailure);
    else await this.#driveVoid(merchantId, id).catch(ignoreExpectedFailure);
  }

  async #driveCapture(
    merchantId: string,
    intent: PaymentIntent,
    amount: bigint,
  ): Promise<IntentWithAttempts> {
    const dependencies = this.#dependencies;
    const attempt = authorizedAttempt(
      await attemptsOf(dependencies.database, [intent.id]),
      intent.id,
    );
    const outcome = await connectorNamed(this.#dependencies, attempt.connector).capture(
      {
        pspReference: attempt.pspReference ?? '',
        reference: attempt.id,
        amount,
        currency: attempt.currency,
      },
      // A retry of this capture reuses its key; a capture of another amount (after the PSP refused
      // this one) is another request and must not reuse it with different parameters.
      {
        credentials: await dependencies.settings.credentials(merchantId, attempt.connector),
        idempotencyKey: `capture_${attempt.id}_${amount}`,
        timeoutMs: dependencies.pspTimeoutMs,
      },
    );
    dependencies.faults?.reach('after_psp_capture');
    const [price, card] = await Promise.all([
      dependencies.settings.price(merchantId, attempt.currency),
      chargeCard(dependencies.vault, merchantId, intent.paymentMethodId),
    ]);
    await this.#ledger.transaction(async (tx) => {
      const current = await this.#lockIntent(tx, merchantId, intent.id);
      if (current.pendingOperation?.kind !== 'capture') return;
      const locked = await lockAttempt(tx, attempt.id);
      if (outcome.status === 'captured')
        await this.#recordCapture(tx, current, locked, amount, outcome, price, card);
      else if (outcome.status === 'failed') {
        await endOperation.run(
          tx,
          intent.id,
          {
            pendingOperation: null,
            status: moveIntent(intent.id, current.status, 'capture_failed'),
          },
          merchantNow(this.#dependencies, merchantId),
        );
      } else {
        const next = moveIntent(intent.id, current.status, 'capture_unknown');
        if (next !== current.status)
          await moveStatus.run(
            tx,
            intent.id,
            { status: next },
            merchantNow(this.#dependencies, merchantId),
          );
      }
    });
    if (outcome.status === 'failed') {
      throw new PaymentError(
        'capture_failed',
        `The PSP refused the capture: ${outcome.message ?? outcome.pspCode ?? 'no reason given'}.`,
        { paymentIntentId: intent.id },
      );
    }
    return this.#current(merchantId, intent.id);
  }

  async #recordCapture(
    tx: Queryable,
    intent: PaymentIntent,
    attempt: Attempt,
    amount: bigint,
    outcome: PaymentOutcome,
    price: Price,
    card: ChargeCard | undefined,
  ): Promise<void> {
    const now = merchantNow(this.#dependencies, intent.merchantId);
    await recordCapturedAttempt.run(
      tx,
      attempt.id,
      {
        status: moveAttempt(attempt.id, attempt.status, 'captured'),
        amountCaptured: amount,
        pspCode: outcome.pspCode ?? null,
      },
      now,
    );
    await recordCapturedIntent.run(
      tx,
      intent.id,
      {
        status: moveIntent(intent.id, intent.status, 'capture_succeeded'),
        amountReceived: amount,
        amountCapturable: 0n,
        pendingOperation: null,
      },
      now,
    );
    const movement = {
      merchantId: intent.merchantId,
      connector: attempt.connector,
      currency: attempt.currency,
    };
    const fee = feeFor(amount, price);
    await this.#ledger.post(tx, movement, [
      captureOfHold(attempt.id, amount),
      feeTransfer(attempt.id, movement, fee),
    ]);
    await writeChargeEvent(tx, attempt, 'charge.captured', card, now);
    await writeIntentEvent(tx, intent.merchantId, intent.id, 'payment_intent.succeeded', now);
  }

  async #driveVoid(merchantId: string, id: string): Promise<IntentWithAttempts> {
    const dependencies = this.#dependencies;
    const attempt = authorizedAttempt(await attemptsOf(dependencies.database, [id]), id);
    const card = await this.#cardOf(merchantId, id);
    const outcome = await connectorNamed(this.#dependencies, attempt.connector).void(
      {
        pspReference: attempt.pspReference ?? '',
        reference: attempt.id,
        amount: attempt.amount,
        currency: attempt.currency,
      },
      {
        credentials: await dependencies.settings.credentials(merchantId, attempt.connector),
        idempotencyKey: `void_${attempt.id}`,
        timeoutMs: dependencies.pspTimeoutMs,
      },
    );
    await this.#ledger.transaction(async (tx) => {
      const current = await this.#lockIntent(tx, merchantId, id);
      if (current.pendingOperation?.kind !== 'cancel') return;
      const locked = await lockAttempt(tx, attempt.id);
      if (outcome.status === 'voided')
        await this.#recordVoid(tx, current, locked, outcome, current.cancellationReason, card);
      else if (outcome.status === 'failed')
        await endOperation.run(
          tx,
          id,
          { pendingOperation: null, status: moveIntent(id, current.status, 'void_failed') },
          merchantNow(this.#dependencies, merchantId),
        );
      else {
        const next = moveIntent(id, current.status, 'void_unknown');
        if (next !== current.status)
          await moveStatus.run(
            tx,
            id,
            { status: next },
            merchantNow(this.#dependencies, merchantId),
          );
      }
    });
    if (outcome.status === 'failed') {
      throw new PaymentError(
        'cancel_failed',
        `The PSP refused the cancel: ${outcome.message ?? outcome.pspCode ?? 'no reason given'}.`,
        { paymentIntentId: id },
      );
    }
    return this.#current(merchantId, id);
  }

  async #recordVoid(
    tx: Queryable,
    intent: PaymentIntent,
    attempt: Attempt,
    outcome: PaymentOutcome,
    reason: string | null,
    card: ChargeCard | undefined,
  ): Promise<void> {
    const now = merchantNow(this.#dependencies, intent.merchantId);
    await recordVoidedAttempt.run(
      tx,
      attempt.id,
      {
        status: moveAttempt(attempt.id, attempt.status, 'voided'),
        pspCode: outcome.pspCode ?? null,
      },
      now,
    );
    await recordVoidedIntent.run(
      tx,
      intent.id,
      {
        status: moveIntent(intent.id, intent.status, 'void_succeeded'),
        amountCapturable: 0n,
        pendingOperation: null,
        cancellationReason: reason,
        canceledAt: now,
      },
      now,
    );
    const movement = {
      merchantId: intent.merchantId,
      connector: attempt.connector,
      currency: attempt.currency,
    };
    await this.#ledger.post(tx, movement, [voidOfHold(attempt.id)]);
    // Stripe refunds an uncaptured charge when its intent is canceled: charge.refunded.
    await writeChargeEvent(tx, attempt, 'charge.refunded', card, now);
    await writeIntentEvent(tx, intent.merchantId, intent.id, 'payment_intent.canceled', now);
  }

  /** The card of the intent's charge, for its events (read before any transaction). */
  async #cardOf(merchantId: string, id: string): Promise<ChargeCard | undefined> {
    const database = this.#dependencies.database;
    const intent = await findIntent(database, merchantId, id, false);
    return chargeCard(this.#dependencies.vault, merchantId, intent?.paymentMethodId ?? null);
  }

  async #lockIntent(tx: Queryable, merchantId: string, id: string): Promise<PaymentIntent> {
    const intent = await findIntent(tx, merchantId, id, true);
    if (intent === undefined)
      throw new PaymentError('resource_missing', `No such payment_intent: '${id}'`, {
        param: 'id',
      });
    return intent;
  }

  async #current(merchantId: string, id: string): Promise<IntentWithAttempts> {
    const found = await findIntentWithAttempts(this.#dependencies.database, merchantId, id);
    if (found === undefined) throw new Error(`payment intent ${id} vanished`);
    return found;
  }
}

/** During a sync, a PSP that refuses a capture or cancel is recorded, not an error of the sync. */
function ignoreExpectedFailure(error: unknown): void {
  if (!(error instanceof PaymentError)) throw error;
}
