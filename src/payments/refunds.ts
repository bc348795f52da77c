// Refunds, full or partial, repeated until the captured amount is used up, only where the
// connector can. The amount is reserved on the intent (amount_refunding) under a row lock before
// the PSP call, so concurrent refunds can never exceed what was captured; the database's CHECK
// says the same.
import type { RefundOutcome } from '../connectors/types.ts';
import { assertPositiveAmount } from '../money/index.ts';
import { newSortableId } from '../ids.ts';
import type { Queryable } from '../storage/database.ts';
import { connectorNamed, merchantNow, type PaymentsDependencies } from './dependencies.ts';
import { PaymentError } from './errors.ts';
import type { PageRequest } from '../storage/pagination.ts';
import { insertEvents, withPreviousAttributes } from '../events/events.ts';
import { chargeEvent, refundEvent } from './events.ts';
import type { PaymentLedger } from './payment-ledger.ts';
import { refundTransfer } from './postings.ts';
import {
  attemptsOf,
  findIntent,
  findRefund,
  insertRefund,
  listRefunds,
  refundsOf,
} from './repository.ts';
import { nextIntentStatus } from './state-machine.ts';
import { paymentIntents, refunds } from './tables.ts';
import type { Metadata, PaymentIntent, Refund, RefundReason } from './types.ts';

// What each step writes, generated once from the tables' definitions.
const reserveAmount = paymentIntents.update(['amountRefunding']);
const settleAmounts = paymentIntents.update(['amountRefunded', 'amountRefunding']);
const recordOutcome = refunds.update(['status', 'pspReference', 'failureReason']);

export type CreateRefundInput = {
  readonly paymentIntent: string;
  readonly amount?: unknown;
  readonly reason?: RefundReason;
  readonly metadata?: Metadata;
};

export class Refunds {
  readonly #dependencies: PaymentsDependencies;
  readonly #ledger: PaymentLedger;

  constructor(dependencies: PaymentsDependencies, ledger: PaymentLedger) {
    this.#dependencies = dependencies;
    this.#ledger = ledger;
  }

  /** `bind` runs in the transaction that creates the refund (the idempotency key records it). */
  async create(
    merchantId: string,
    input: CreateRefundInput,
    bind?: (tx: Queryable, refundId: string) => Promise<void>,
  ): Promise<Refund> {
    const refund = await this.#dependencies.database.transaction(async (tx) => {
      const reserved = await this.#reserve(tx, merchantId, input);
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

  async #reserve(tx: Queryable, merchantId: string, input: CreateRefundInput): Promise<Refund> {
    const intent = await findIntent(tx, merchantId, input.paymentIntent, true);
    if (intent === undefined)
      throw new PaymentError(
        'resource_missing',
        `No such payment_intent: '${input.paymentIntent}'`,
        { param: 'payment_intent' },
      );
    if (nextIntentStatus(intent.status, 'refund') === undefined) {
      throw new PaymentError(
        'payment_intent_unexpected_state',
        `This PaymentIntent has a status of ${intent.status}; only succeeded payments can be refunded.`,
        { param: 'payment_intent', paymentIntentId: intent.id },
      );
    }
    const attempt = (await attemptsOf(tx, [intent.id])).findLast(
      (candidate) => candidate.status === 'captured',
    );
    if (attempt === undefined)
      throw new Error(`payment intent ${intent.id} succeeded without a captured attempt`);
    const remaining = intent.amountReceived - intent.amountRefunded - intent.amountRefunding;
    if (remaining <= 0n)
      throw new PaymentError(
        'charge_already_refunded',
        `PaymentIntent ${intent.id} has already been refunded in full.`,
        { param: 'payment_intent' },
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
    this.#checkCapabilities(
      attempt.connector,
      intent,
      amount,
      (await refundsOf(tx, intent.id)).some((refund) => refund.status !== 'failed'),
    );
    const id = newSortableId('re');
    // One time for the refund's creation, the intent's change and the event.
    const now = merchantNow(this.#dependencies, merchantId);
    const refund = await insertRefund(tx, {
      id,
      merchantId,
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
      createdAt: now,
    });
    await reserveAmount.run(
      tx,
      intent.id,
      { amountRefunding: intent.amountRefunding + amount },
      now,
    );
    await insertEvents(tx, [refundEvent('refund.created', refund)], now);
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

  async #drive(merchantId: string, refund: Refund): Promise<Refund> {
    const dependencies = this.#dependencies;
    const attempt = (await attemptsOf(dependencies.database, [refund.paymentIntentId])).find(
      (candidate) => candidate.id === refund.attemptId,
    );
    if (attempt === undefined) throw new Error(`refund ${refund.id} has no attempt`);
    const outcome = await connectorNamed(this.#dependencies, attempt.connector).refund(
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
    dependencies.faults?.reach('after_psp_refund');
    const recorded = await this.#ledger.transaction((tx) =>
      this.#record(tx, merchantId, refund.id, attempt.connector, outcome),
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

  async #record(
    tx: Queryable,
    merchantId: string,
    refundId: string,
    connector: string,
    outcome: RefundOutcome,
  ): Promise<Refund> {
    const refund = await findRefund(tx, merchantId, refundId, false);
    if (refund === undefined) throw new Error(`refund ${refundId} vanished`);
    // Lock order everywhere: the intent first, then what hangs off it.
    const intent = await findIntent(tx, merchantId, refund.paymentIntentId, true);
    const locked = await findRefund(tx, merchantId, refundId, true);
    if (intent === undefined || locked === undefined || locked.status !== 'pending')
      return locked ?? refund;
    if (outcome.status === 'succeeded') {
      const now = merchantNow(this.#dependencies, merchantId);
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
      const attempt = (await attemptsOf(tx, [intent.id])).find(
        (candidate) => candidate.id === succeeded.attemptId,
      );
      if (attempt === undefined) throw new Error(`refund ${succeeded.id} has no attempt`);
      await insertEvents(
        tx,
        [
          withPreviousAttributes(refundEvent('refund.updated', succeeded), {
            status: locked.status,
          }),
          chargeEvent('charge.refunded', updated, attempt),
        ],
        merchantNow(this.#dependencies, merchantId),
      );
      return succeeded;
    }
    if (outcome.status === 'failed') {
      const now = merchantNow(this.#dependencies, merchantId);
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
      await insertEvents(tx, [refundEvent('refund.failed', refused)], now);
      return refused;
    }
    return locked;
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
    if (refund === undefined)
      throw new PaymentError('resource_missing', `No such refund: '${id}'`, { param: 'id' });
    return refund;
  }

  async list(
    merchantId: string,
    options: PageRequest & { readonly paymentIntentId?: string },
  ): Promise<{ refunds: Refund[]; hasMore: boolean }> {
    return listRefunds(this.#dependencies.database, merchantId, options);
  }
}
