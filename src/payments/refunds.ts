// Refunds, full or partial, repeated until the captured amount is used up, only where the
// connector can. The amount is reserved on the intent (amount_refunding) under a row lock before
// the PSP call, so concurrent refunds can never exceed what was captured; the database's CHECK
// says the same.
//
// A refund is claimed for sending (sent_at) in its own short statement right before the PSP
// call. Until then it may be canceled (Stripe's POST /v1/refunds/:id/cancel): the cancel and the
// claim both take the refund's row lock, so exactly one of them wins; a canceled refund is never
// sent, and a claimed one is never canceled (its money may be on its way). A refund that the
// connector refused to send (circuit open, bulkhead full: nothing left Payrail) is unclaimed again.
//
// A refund of an uncaptured payment (requires_capture) cancels its intent, as Stripe does: the
// refund releases the authorization (the intent's cancel, with its own PSP idempotency key) and
// records it for the charge; nothing is reserved or posted, since nothing was captured.
import { ConnectorUnavailableError } from '../connectors/resilience.ts';
import type { RefundOutcome } from '../connectors/types.ts';
import { assertPositiveAmount } from '../money/index.ts';
import type { Queryable } from '../storage/database.ts';
import { connectorNamed, merchantNow, type PaymentsDependencies } from './dependencies.ts';
import type { MetadataChange } from '../metadata.ts';
import { mergePaymentMetadata } from './update.ts';
import { PaymentError } from './errors.ts';
import { insertEvents, withPreviousAttributes, type NewEvent } from '../events/events.ts';
import { attemptIdOf, chargeIdOf, newSortableId } from '../ids.ts';
import { chargeCard, chargeViews, findChargedAttempt } from './charges.ts';
import { chargeEvent, refundEvents } from './events.ts';
import type { PaymentLedger } from './payment-ledger.ts';
import { refundTransfer } from './postings.ts';
import {
  attemptsOf,
  findIntent,
  findRefund,
  insertRefund,
  listRefunds,
  type RefundListOptions,
  refundsOf,
} from './repository.ts';
import { nextIntentStatus } from './state-machine.ts';
import { paymentIntents, refunds } from './tables.ts';
import type {
  Attempt,
  ChargeCard,
  IntentWithAttempts,
  Metadata,
  PaymentIntent,
  Refund,
  RefundReason,
} from './types.ts';

// What each step writes, generated once from the tables' definitions.
const reserveAmount = paymentIntents.update(['amountRefunding']);
const settleAmounts = paymentIntents.update(['amountRefunded', 'amountRefunding']);
const recordOutcome = refunds.update(['status', 'pspReference', 'failureReason']);
const cancelRefund = refunds.update(['status', 'failureReason']);
const updateMetadata = refunds.update(['metadata']);

/** The most metadata keys an object keeps (Stripe's limit), also after a merge. */

export type CreateRefundInput = {
  /** The intent refunded; with `charge` too, the charge must be one of its attempts. */
  readonly paymentIntent?: string;
  /** The charge refunded (its attempt's intent is refunded, on that attempt). */
  readonly charge?: string;
  readonly amount?: unknown;
  readonly reason?: RefundReason;
  readonly metadata?: Metadata;
};

/** Releases an uncaptured payment's authorization (the payments service's cancel of the intent). */
export type ReleaseAuthorization = (
  merchantId: string,
  intentId: string,
  reason: string | undefined,
) => Promise<IntentWithAttempts>;

function missingRefund(id: string): PaymentError {
  return new PaymentError('resource_missing', `No such refund: '${id}'`, { param: 'id' });
}

export class Refunds {
  readonly #dependencies: PaymentsDependencies;
  readonly #ledger: PaymentLedger;
  readonly #releaseAuthorization: ReleaseAuthorization;

  constructor(
    dependencies: PaymentsDependencies,
    ledger: PaymentLedger,
    releaseAuthorization: ReleaseAuthorization,
  ) {
    this.#dependencies = dependencies;
    this.#ledger = ledger;
    this.#releaseAuthorization = releaseAuthorization;
  }

  /**
   * The intent a refund request names: `payment_intent`, or the intent of `charge` (the two must
   * agree when both are given). Read before any transaction.
   */
  async intentOf(merchantId: string, input: CreateRefundInput): Promise<string> {
    if (input.charge === undefined) {
      if (input.paymentIntent === undefined)
        throw new PaymentError(
          'parameter_missing',
          'One of charge or payment_intent is required.',
          { param: 'payment_intent' },
        );
      return input.paymentIntent;
    }
    const attempt = await findChargedAttempt(this.#dependencies.database, merchantId, input.charge);
    if (attempt === undefined)
      throw new PaymentError('resource_missing', `No such charge: '${input.charge}'`, {
        param: 'charge',
      });
    if (input.paymentIntent !== undefined && input.paymentIntent !== attempt.paymentIntentId)
      throw new PaymentError(
        'parameter_invalid',
        `The charge '${input.charge}' is not a charge of the payment intent '${input.paymentIntent}'.`,
        { param: 'charge' },
      );
    return attempt.paymentIntentId;
  }

  /** `bind` runs in the transaction that creates the refund (the idempotency key records it). */
  async create(
    merchantId: string,
    intentId: string,
    input: CreateRefundInput,
    bind?: (tx: Queryable, refundId: string) => Promise<void>,
  ): Promise<Refund> {
    const refund = await this.#dependencies.database.transaction(async (tx) => {
      const reserved = await this.#reserve(tx, merchantId, intentId, input);
      await bind?.(tx, reserved.id);
      return reserved;
    });
    this.#dependencies.events?.notify();
    return this.#drive(merchantId, refund);
  }

  /** A refund whose request was cut off: re-sent if still pending, else answered as it stands. */
  async resume(merchantId: string, id: string): Promise<Refund> {
    const refund = await this.retrieve(merchantId, id);
    return refund.status === 'pending' ? this.#drive(merchantId, refund) : refund;
  }

  async #reserve(
    tx: Queryable,
    merchantId: string,
    intentId: string,
    input: CreateRefundInput,
  ): Promise<Refund> {
    const intent = await findIntent(tx, merchantId, intentId, true);
    if (intent === undefined)
      throw new PaymentError('resource_missing', `No such payment_intent: '${intentId}'`, {
        param: 'payment_intent',
      });
    const attempts = await attemptsOf(tx, [intent.id]);
    const earlier = (await refundsOf(tx, intent.id)).filter(
      (refund) => refund.status !== 'failed' && refund.status !== 'canceled',
    );
    if (intent.status === 'requires_capture' && intent.pendingOperation === null)
      return this.#reserveRelease(tx, intent, attempts, earlier, input);
    if (nextIntentStatus(intent.status, 'refund') === undefined) {
      throw new PaymentError(
        'payment_intent_unexpected_state',
        `This PaymentIntent has a status of ${intent.status}; only succeeded or uncaptured payments can be refunded.`,
        {
          param: input.charge === undefined ? 'payment_intent' : 'charge',
          paymentIntentId: intent.id,
        },
      );
    }
    const attempt = attempts.findLast((candidate) => candidate.status === 'captured');
    if (attempt === undefined)
      throw new Error(`payment intent ${intent.id} succeeded without a captured attempt`);
    this.#checkCharge(input, attempt);
    const remaining = intent.amountReceived - intent.amountRefunded - intent.amountRefunding;
    if (remaining <= 0n)
      throw new PaymentError(
        'charge_already_refunded',
        `Charge ${chargeOf(attempt)} has already been refunded in full.`,
        { param: input.charge === undefined ? 'payment_intent' : 'charge' },
      );
    const amount =
      input.amount === undefined
        ? remaining
        : assertPositiveAmount(input.amount, 'amount', intent.currency);
    if (amount > remaining) {
      throw new PaymentError(
        'amount_too_large',
        `Refund amount (${amount}) is greater than the amount that can still be refunded (${remaining}).`,
        { param: 'amount' },
      );
    }
    this.#checkCapabilities(attempt.connector, intent, amount, earlier.length > 0);
    // One time for the refund's creation, the intent's change and the event.
    const now = merchantNow(this.#dependencies, merchantId);
    const refund = await this.#insert(tx, intent, attempt, amount, input, false, now);
    await reserveAmount.run(
      tx,
      intent.id,
      { amountRefunding: intent.amountRefunding + amount },
      now,
    );
    return refund;
  }

  /** A refund given `charge` must name the attempt that is refundable (the captured one). */
  #checkCharge(input: CreateRefundInput, attempt: Attempt): void {
    if (input.charge === undefined || attemptIdOf(input.charge) === attempt.id) return;
    throw new PaymentError(
      'payment_intent_unexpected_state',
      `The charge '${input.charge}' was not captured (it failed, or another attempt of its payment intent was); refund ${chargeOf(attempt)} instead.`,
      { param: 'charge' },
    );
  }

  /** The refund of an uncaptured payment: the whole authorization, nothing reserved. */
  async #reserveRelease(
    tx: Queryable,
    intent: PaymentIntent,
    attempts: readonly Attempt[],
    earlier: readonly Refund[],
    input: CreateRefundInput,
  ): Promise<Refund> {
    const attempt = attempts.findLast((candidate) => candidate.status === 'authorized');
    if (attempt === undefined)
      throw new Error(`payment intent ${intent.id} awaits capture without an authorized attempt`);
    this.#checkCharge(input, attempt);
    if (earlier.length > 0)
      throw new PaymentError(
        'charge_already_refunded',
        `Charge ${chargeOf(attempt)} is already being refunded.`,
        { param: input.charge === undefined ? 'payment_intent' : 'charge' },
      );
    const amount =
      input.amount === undefined
        ? intent.amountCapturable
        : assertPositiveAmount(input.amount, 'amount', intent.currency);
    if (amount !== intent.amountCapturable)
      throw new PaymentError(
        'parameter_invalid',
        `This payment was not captured: a refund releases the whole authorization (${intent.amountCapturable}); leave amount out or give that amount.`,
        { param: 'amount' },
      );
    const now = merchantNow(this.#dependencies, intent.merchantId);
    return this.#insert(tx, intent, attempt, amount, input, true, now);
  }

  async #insert(
    tx: Queryable,
    intent: PaymentIntent,
    attempt: Attempt,
    amount: bigint,
    input: CreateRefundInput,
    releasesAuthorization: boolean,
    now: Date,
  ): Promise<Refund> {
    const id = newSortableId('re');
    const refund = await insertRefund(tx, {
      id,
      merchantId: intent.merchantId,
      paymentIntentId: intent.id,
      attemptId: attempt.id,
      amount,
      currency: intent.currency,
      status: 'pending',
      reason: input.reason ?? null,
      pspIdempotencyKey: `refund_${id}`,
      pspReference: null,
      failureReason: null,
      metadata: input.metadata ?? {},
      sentAt: null,
      releasesAuthorization,
      createdAt: now,
    });
    await insertEvents(tx, refundEvents('refund.created', refund), now);
    return refund;
  }

  #checkCapabilities(
    connectorName: string,
    intent: PaymentIntent,
    amount: bigint,
    hasEarlierRefund: boolean,
  ): void {
    const capabilities = connectorNamed(this.#dependencies, connectorName).capabilities.refunds;
    if (amount < intent.amountReceived && !capabilities.partial) {
      throw new PaymentError(
        'capability_not_supported',
        `The connector '${connectorName}' does not support partial refunds; refund the whole amount (${intent.amountReceived}).`,
        { param: 'amount' },
      );
    }
    if (hasEarlierRefund && !capabilities.multiple) {
      throw new PaymentError(
        'capability_not_supported',
        `The connector '${connectorName}' allows only one refund per payment.`,
        { param: 'payment_intent' },
      );
    }
  }

  /**
   * Claims the refund for sending: from now on it may reach the PSP and can no longer be
   * canceled. Undefined when it is no longer pending (canceled, or finished by another request).
   * `only`: this is the refund's one claim so far (no other request may have sent it).
   */
  async #claim(refund: Refund): Promise<{ only: boolean } | undefined> {
    const now = merchantNow(this.#dependencies, refund.merchantId);
    const result = await this.#dependencies.database.query<{ send_claims: number }>(
      `UPDATE refunds SET sent_at = coalesce(sent_at, $2), send_claims = send_claims + 1,
              updated_at = $2
        WHERE id = $1 AND status = 'pending'
        RETURNING send_claims`,
      [refund.id, now],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : { only: Number(row.send_claims) === 1 };
  }

  /**
   * The connector refused this call (nothing sent): the claim is given back, and the refund may
   * be canceled again, only while it is still the refund's one claim. Once another request has
   * claimed it, that one may have reached the PSP: the refund stays claimed (sync sends it).
   */
  async #unclaim(refund: Refund): Promise<void> {
    await this.#dependencies.database.query(
      `UPDATE refunds SET sent_at = NULL, send_claims = 0
        WHERE id = $1 AND status = 'pending' AND send_claims = 1`,
      [refund.id],
    );
  }

  async #drive(merchantId: string, refund: Refund): Promise<Refund> {
    const dependencies = this.#dependencies;
    const intent = await findIntent(
      dependencies.database,
      merchantId,
      refund.paymentIntentId,
      false,
    );
    if (intent === undefined) throw new Error(`refund ${refund.id} has no payment intent`);
    const card = await chargeCard(dependencies.vault, merchantId, intent.paymentMethodId);
    const claim = await this.#claim(refund);
    if (claim === undefined) return this.retrieve(merchantId, refund.id);
    if (refund.releasesAuthorization) return this.#driveRelease(merchantId, refund);
    const attempt = (await attemptsOf(dependencies.database, [refund.paymentIntentId])).find(
      (candidate) => candidate.id === refund.attemptId,
    );
    if (attempt === undefined) throw new Error(`refund ${refund.id} has no attempt`);
    let outcome: RefundOutcome;
    try {
      outcome = await connectorNamed(this.#dependencies, attempt.connector).refund(
        {
          pspReference: attempt.pspReference ?? '',
          reference: attempt.id,
          refundReference: refund.id,
          amount: refund.amount,
          currency: refund.currency,
        },
        {
          credentials: await dependencies.settings.credentials(merchantId, attempt.connector),
          idempotencyKey: refund.pspIdempotencyKey,
          timeoutMs: dependencies.pspTimeoutMs,
        },
      );
    } catch (error) {
      if (error instanceof ConnectorUnavailableError && claim.only) await this.#unclaim(refund);
      throw error;
    }
    dependencies.faults?.reach('after_psp_refund');
    const recorded = await this.#ledger.transaction((tx) =>
      this.#record(tx, merchantId, refund.id, attempt.connector, outcome, card),
    );
    if (recorded.status === 'failed') {
      throw new PaymentError(
        'refund_failed',
        `The PSP refused the refund: ${recorded.failureReason ?? 'no reason given'}.`,
        { param: 'amount' },
      );
    }
    return recorded;
  }

  /** The refund of an uncaptured payment: its intent is canceled (the authorization released). */
  async #driveRelease(merchantId: string, refund: Refund): Promise<Refund> {
    let failure: string | undefined;
    try {
      const current = await findIntent(
        this.#dependencies.database,
        merchantId,
        refund.paymentIntentId,
        false,
      );
      if (current?.status !== 'canceled')
        await this.#releaseAuthorization(
          merchantId,
          refund.paymentIntentId,
          refund.reason ?? undefined,
        );
    } catch (error) {
      // Refused for the intent's state (it was captured meanwhile): the refund fails. Anything
      // else (unknown outcome, connector unavailable) leaves it pending, for a retry or sync.
      if (!(error instanceof PaymentError) || error.code !== 'payment_intent_unexpected_state')
        throw error;
      failure = error.message;
    }
    const recorded = await this.#dependencies.database.transaction((tx) =>
      this.#recordRelease(tx, merchantId, refund.id, failure),
    );
    if (recorded.status === 'failed')
      throw new PaymentError(
        'refund_failed',
        `The authorization could not be released: ${recorded.failureReason ?? 'no reason given'}`,
        { param: 'payment_intent' },
      );
    return recorded;
  }

  async #recordRelease(
    tx: Queryable,
    merchantId: string,
    refundId: string,
    failure: string | undefined,
  ): Promise<Refund> {
    const found = await findRefund(tx, merchantId, refundId, false);
    if (found === undefined) throw new Error(`refund ${refundId} vanished`);
    const intent = await findIntent(tx, merchantId, found.paymentIntentId, true);
    const locked = await findRefund(tx, merchantId, refundId, true);
    if (intent === undefined || locked === undefined || locked.status !== 'pending')
      return locked ?? found;
    // The void's answer is not known yet (the intent's cancel is still in flight): the refund
    // stays pending, and the retry or the status sync that resolves the cancel finishes it.
    if (failure === undefined && intent.pendingOperation?.kind === 'cancel') return locked;
    const now = merchantNow(this.#dependencies, merchantId);
    const released = failure === undefined && intent.status === 'canceled';
    const updated = await recordOutcome.run(
      tx,
      locked.id,
      {
        status: released ? 'succeeded' : 'failed',
        pspReference: null,
        failureReason: released ? null : (failure ?? `the payment intent is ${intent.status}`),
      },
      now,
    );
    // The intent's cancel wrote charge.refunded (the authorization released) already.
    await insertEvents(
      tx,
      refundEvents(released ? 'refund.updated' : 'refund.failed', updated),
      now,
    );
    return updated;
  }

  async #chargeEvent(
    tx: Queryable,
    type: 'charge.refunded',
    intent: PaymentIntent,
    refund: Refund,
    card: ChargeCard | undefined,
  ): Promise<NewEvent> {
    const attempt = (await attemptsOf(tx, [intent.id])).find(
      (candidate) => candidate.id === refund.attemptId,
    );
    if (attempt === undefined) throw new Error(`refund ${refund.id} has no attempt`);
    const [view] = await chargeViews(tx, intent.merchantId, [attempt], async () => card);
    if (view === undefined) throw new Error(`no charge for attempt ${attempt.id}`);
    return chargeEvent(type, view);
  }

  async #record(
    tx: Queryable,
    merchantId: string,
    refundId: string,
    connector: string,
    outcome: RefundOutcome,
    card: ChargeCard | undefined,
  ): Promise<Refund> {
    const refund = await findRefund(tx, merchantId, refundId, false);
    if (refund === undefined) throw new Error(`refund ${refundId} vanished`);
    // Lock order everywhere: the intent first, then what hangs off it.
    const intent = await findIntent(tx, merchantId, refund.paymentIntentId, true);
    const locked = await findRefund(tx, merchantId, refundId, true);
    if (intent === undefined || locked === undefined || locked.status !== 'pending')
      return locked ?? refund;
    const now = merchantNow(this.#dependencies, merchantId);
    if (outcome.status === 'succeeded') {
      const updated = await settleAmounts.run(
        tx,
        intent.id,
        {
          amountRefunded: intent.amountRefunded + locked.amount,
          amountRefunding: intent.amountRefunding - locked.amount,
        },
        now,
      );
      const movement = { merchantId, connector, currency: locked.currency };
      await this.#ledger.post(tx, movement, [refundTransfer(locked.id, movement, locked.amount)]);
      const succeeded = await recordOutcome.run(
        tx,
        locked.id,
        {
          status: 'succeeded',
          pspReference: outcome.pspRefundReference ?? locked.pspReference,
          failureReason: null,
        },
        now,
      );
      await insertEvents(
        tx,
        [
          ...refundEvents('refund.updated', succeeded).map((event) =>
            withPreviousAttributes(event, { status: locked.status }),
          ),
          await this.#chargeEvent(tx, 'charge.refunded', updated, succeeded, card),
        ],
        now,
      );
      return succeeded;
    }
    if (outcome.status === 'failed') {
      await reserveAmount.run(
        tx,
        intent.id,
        { amountRefunding: intent.amountRefunding - locked.amount },
        now,
      );
      const refused = await recordOutcome.run(
        tx,
        locked.id,
        {
          status: 'failed',
          pspReference: locked.pspReference,
          failureReason: outcome.message ?? outcome.pspCode ?? 'refused by the PSP',
        },
        now,
      );
      await insertEvents(tx, refundEvents('refund.failed', refused), now);
      return refused;
    }
    return locked;
  }

  /**
   * Cancels a refund that was never sent (Stripe's POST /v1/refunds/:id/cancel): its reserved
   * amount is released under the intent's lock. A refund claimed for sending may have reached the
   * PSP and is refused, as is one already finished.
   */
  async cancel(merchantId: string, id: string): Promise<Refund> {
    const canceled = await this.#dependencies.database.transaction(async (tx) => {
      const found = await findRefund(tx, merchantId, id, false);
      if (found === undefined) throw missingRefund(id);
      const intent = await findIntent(tx, merchantId, found.paymentIntentId, true);
      const refund = await findRefund(tx, merchantId, id, true);
      if (intent === undefined || refund === undefined) throw missingRefund(id);
      if (refund.status !== 'pending')
        throw new PaymentError(
          'refund_not_cancelable',
          `This refund has a status of ${refund.status}; only a pending refund that was not sent yet can be canceled.`,
          { param: 'id' },
        );
      if (refund.sentAt !== null)
        throw new PaymentError(
          'refund_not_cancelable',
          'This refund has been sent to the PSP and its outcome is awaited; it can no longer be canceled.',
          { param: 'id' },
        );
      const now = merchantNow(this.#dependencies, merchantId);
      if (!refund.releasesAuthorization)
        await reserveAmount.run(
          tx,
          intent.id,
          { amountRefunding: intent.amountRefunding - refund.amount },
          now,
        );
      const updated = await cancelRefund.run(
        tx,
        refund.id,
        { status: 'canceled', failureReason: 'merchant_request' },
        now,
      );
      await insertEvents(tx, refundEvents('refund.updated', updated), now);
      return updated;
    });
    this.#dependencies.events?.notify();
    return canceled;
  }

  /** Updates a refund's metadata (Stripe's merge: '' unsets a key, `metadata=''` all of them). */
  async update(merchantId: string, id: string, metadata: MetadataChange): Promise<Refund> {
    const updated = await this.#dependencies.database.transaction(async (tx) => {
      const refund = await findRefund(tx, merchantId, id, true);
      if (refund === undefined) throw missingRefund(id);
      const now = merchantNow(this.#dependencies, merchantId);
      const changed = await updateMetadata.run(
        tx,
        refund.id,
        { metadata: mergePaymentMetadata(refund.metadata, metadata) },
        now,
      );
      await insertEvents(tx, refundEvents('refund.updated', changed), now);
      return changed;
    });
    this.#dependencies.events?.notify();
    return updated;
  }

  /** Re-sends every pending refund of an intent with its own idempotency key (sync). */
  async resumeAll(merchantId: string, intentId: string): Promise<void> {
    for (const refund of await refundsOf(this.#dependencies.database, intentId)) {
      if (refund.status !== 'pending') continue;
      await this.#drive(merchantId, refund).catch((error: unknown) => {
        if (!(error instanceof PaymentError)) throw error;
      });
    }
  }

  async retrieve(merchantId: string, id: string): Promise<Refund> {
    const refund = await findRefund(this.#dependencies.database, merchantId, id, false);
    if (refund === undefined) throw missingRefund(id);
    return refund;
  }

  async list(
    merchantId: string,
    options: RefundListOptions & { readonly chargeId?: string },
  ): Promise<{ refunds: Refund[]; hasMore: boolean }> {
    // A charge id that names no attempt lists nothing (an attempt id never starts with 'ch_').
    const attemptId =
      options.chargeId === undefined
        ? undefined
        : (attemptIdOf(options.chargeId) ?? options.chargeId);
    return listRefunds(this.#dependencies.database, merchantId, { ...options, attemptId });
  }
}

function chargeOf(attempt: Attempt): string {
  return chargeIdOf(attempt.id);
}
