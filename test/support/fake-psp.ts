// A PaymentsService over an in-memory PGlite with scriptable fake PSPs, for races that the
// simulator cannot stage: each PSP call can be held at a gate until the test lets it go. A fake
// PSP keeps its own record of what it did with the customer's money (authorized, captured,
// refunded, voided per reference), so a test compares that truth with what Payrail recorded.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { ConnectorUnavailableError } from '../../src/connectors/resilience.ts';
import type {
  AuthorizeRequest,
  CallContext,
  CapabilityMap,
  CaptureRequest,
  Connector,
  PaymentOutcome,
  RefundOutcome,
  RefundRequest,
  SyncRequest,
  VoidRequest,
} from '../../src/connectors/types.ts';
import { Ledger } from '../../src/ledger/index.ts';
import { Merchants } from '../../src/merchants/merchants.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { MerchantSettings, setDefaultPrices } from '../../src/payments/merchant-settings.ts';
import { setUpSimulatorConnectors } from '../../src/testmode/simulator.ts';
import { findIntentWithAttempts } from '../../src/payments/repository.ts';
import { PaymentsService } from '../../src/payments/service.ts';
import type { IntentWithAttempts } from '../../src/payments/types.ts';
import { secretBoxFor, secretBoxPurposes } from '../../src/vault/secret-box.ts';
import type { PaymentMethod } from '../../src/vault/index.ts';
import { openTestDatabase } from './databases.ts';

export type Handler<Request, Outcome> = (
  request: Request,
  context: CallContext,
) => Promise<Outcome>;

/** What the PSP did with one payment (our attempt id is its reference). */
export type PspPayment = {
  authorized: bigint;
  captured: bigint;
  refunded: bigint;
  voided: boolean;
};

export class FakePsp implements Connector {
  readonly name: string;
  readonly capabilities: CapabilityMap;
  readonly calls: {
    op: 'authorize' | 'sync' | 'capture' | 'void' | 'refund';
    key: string;
    reference: string;
  }[] = [];
  readonly payments = new Map<string, PspPayment>();
  /** Answers given per idempotency key: a repeated capture, void or refund acts once, like a real PSP. */
  readonly #answers = new Map<string, Promise<PaymentOutcome | RefundOutcome>>();
  authorizeHandler: Handler<AuthorizeRequest, PaymentOutcome> = async (request) =>
    this.charge(request);
  syncHandler: Handler<SyncRequest, PaymentOutcome> = async (request) =>
    this.stateOf(request.reference);
  captureHandler: Handler<CaptureRequest, PaymentOutcome> = async (request) =>
    this.capturePayment(request);
  voidHandler: Handler<VoidRequest, PaymentOutcome> = async (request) => this.voidPayment(request);
  refundHandler: Handler<RefundRequest, RefundOutcome> = async (request) =>
    this.refundPayment(request);

  constructor(name: string, options: { void: boolean }) {
    this.name = name;
    this.capabilities = {
      paymentMethods: ['card'],
      currencies: ['usd'],
      captureModes: ['automatic', 'manual'],
      partialCapture: true,
      refunds: { full: true, partial: true, multiple: true },
      void: options.void,
      threeDSecure: false,
      webhooks: true,
      cardVerification: options.void ? 'authorize_and_void' : 'none',
    };
  }

  payment(reference: string): PspPayment {
    let found = this.payments.get(reference);
    if (found === undefined)
      this.payments.set(
        reference,
        (found = { authorized: 0n, captured: 0n, refunded: 0n, voided: false }),
      );
    return found;
  }

  stateOf(reference: string): PaymentOutcome {
    const found = this.payments.get(reference);
    if (found === undefined) return { status: 'unknown', pspCode: 'not_found' };
    if (found.voided) return { status: 'voided', pspReference: `psp_${reference}` };
    if (found.captured > 0n)
      return {
        status: 'captured',
        amountCaptured: found.captured,
        pspReference: `psp_${reference}`,
      };
    return { status: 'authorized', pspReference: `psp_${reference}` };
  }

  /** Charges the card (captured at once with automatic capture); repeating it for one reference changes nothing. */
  charge(request: Pick<AuthorizeRequest, 'reference' | 'amount' | 'captureMode'>): PaymentOutcome {
    const payment = this.payment(request.reference);
    payment.authorized = request.amount;
    if (request.captureMode === 'automatic') payment.captured = request.amount;
    return this.stateOf(request.reference);
  }

  capturePayment(request: CaptureRequest): PaymentOutcome {
    const payment = this.payment(request.reference);
    if (payment.voided) return { status: 'failed', pspCode: 'voided' };
    payment.captured = request.amount;
    return {
      status: 'captured',
      amountCaptured: request.amount,
      pspReference: `psp_${request.reference}`,
    };
  }

  voidPayment(request: VoidRequest): PaymentOutcome {
    const payment = this.payment(request.reference);
    if (payment.captured > 0n) return { status: 'failed', pspCode: 'already_captured' };
    payment.voided = true;
    return { status: 'voided', pspReference: `psp_${request.reference}` };
  }

  /** What the customer paid through this PSP, net of refunds. */
  netCharged(): bigint {
    return [...this.payments.values()].reduce(
      (sum, payment) => sum + payment.captured - payment.refunded,
      0n,
    );
  }

  authorize(request: AuthorizeRequest, context: CallContext): Promise<PaymentOutcome> {
    this.calls.push({ op: 'authorize', key: context.idempotencyKey, reference: request.reference });
    return this.authorizeHandler(request, context);
  }

  sync(request: SyncRequest, context: CallContext): Promise<PaymentOutcome> {
    this.calls.push({ op: 'sync', key: context.idempotencyKey, reference: request.reference });
    return this.syncHandler(request, context);
  }

  capture(request: CaptureRequest, context: CallContext): Promise<PaymentOutcome> {
    this.calls.push({ op: 'capture', key: context.idempotencyKey, reference: request.reference });
    return this.#once(context.idempotencyKey, () =>
      this.captureHandler(request, context),
    ) as Promise<PaymentOutcome>;
  }

  void(request: VoidRequest, context: CallContext): Promise<PaymentOutcome> {
    this.calls.push({ op: 'void', key: context.idempotencyKey, reference: request.reference });
    return this.#once(context.idempotencyKey, () =>
      this.voidHandler(request, context),
    ) as Promise<PaymentOutcome>;
  }

  refund(request: RefundRequest, context: CallContext): Promise<RefundOutcome> {
    this.calls.push({ op: 'refund', key: context.idempotencyKey, reference: request.reference });
    return this.#once(context.idempotencyKey, () =>
      this.refundHandler(request, context),
    ) as Promise<RefundOutcome>;
  }

  /** Gives the customer `amount` back. */
  refundPayment(request: RefundRequest): RefundOutcome {
    this.payment(request.reference).refunded += request.amount;
    return { status: 'succeeded', pspRefundReference: `re_${request.refundReference}` };
  }

  #once(
    key: string,
    act: () => Promise<PaymentOutcome | RefundOutcome>,
  ): Promise<PaymentOutcome | RefundOutcome> {
    let answer = this.#answers.get(key);
    if (answer === undefined) {
      this.#answers.set(key, (answer = act()));
      // An answer lost on the way (unknown) stands for a call the PSP never acted on: a retry acts.
      const forget = () => this.#answers.delete(key);
      answer.then(
        (outcome) =>
          outcome.status === 'unknown' || outcome.status === 'pending' ? forget() : undefined,
        forget,
      );
    }
    return answer;
  }
}

/** The error a connector's circuit breaker or bulkhead raises when it refuses to call its PSP. */
export const unavailable = (name: string): ConnectorUnavailableError =>
  new ConnectorUnavailableError(name, 'circuit_open', 1);

/** A promise the test resolves when it chooses, to hold a fake PSP call. */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Waits (up to 2.5 s) until `check` holds. */
export async function until(check: () => boolean): Promise<void> {
  for (let tries = 0; tries < 500 && !check(); tries++)
    await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(check(), 'timed out waiting');
}

export type FakePspHarness = Awaited<ReturnType<typeof fakePspHarness>>;

/**
 * A test merchant whose connectors are two fake PSPs: `stripe` (can void) first, then `razorpay`
 * (cannot void, so an authorization never captured is released by the PSP itself).
 */
export async function fakePspHarness(
  options: { neverSeenAfterMs?: number; database?: 'pglite' | 'postgres' } = {},
) {
  const { database, drop } = await openTestDatabase(options.database ?? 'pglite');
  const stripe = new FakePsp('stripe', { void: true });
  const razorpay = new FakePsp('razorpay', { void: false });
  const connectors = new Map<string, FakePsp>([
    ['stripe', stripe],
    ['razorpay', razorpay],
  ]);
  const secretBox = secretBoxFor(crypto.randomBytes(32), secretBoxPurposes.connectorCredentials);
  const settings = new MerchantSettings(database, { secretBox });
  const { merchant } = await new Merchants(database).create({ name: 'Shop' }, async (tx, id) => {
    await setUpSimulatorConnectors(tx, id, 'http://127.0.0.1:9', secretBox);
    await setDefaultPrices(tx, id);
  });
  // Only the two fakes: no other simulated PSP of the registry may take a payment over.
  await database.query(
    'DELETE FROM merchant_connectors WHERE merchant_id = $1 AND NOT (connector = ANY($2))',
    [merchant.id, [...connectors.keys()]],
  );
  const vault = {
    get: async (_merchantId: string, id: string): Promise<PaymentMethod> => ({
      id,
      type: 'card',
      brand: 'visa',
      last4: '4242',
      expMonth: 12,
      expYear: 2030,
      country: 'US',
      bin: '424242',
      fingerprint: 'fp_fake',
      holderName: null,
      billingDetails: {},
      customerId: null,
      usable: true,
      metadata: {},
      createdAt: new Date(0),
    }),
    reveal: async () => ({
      number: '4242424242424242',
      expiryMonth: 12,
      expiryYear: 2030,
      cvc: '123',
    }),
    createCard: async () => ({ id: 'pm_inline' }),
    createCardFromToken: async () => ({ id: 'pm_inline' }),
  };
  const ledger = new Ledger(database);
  const payments = new PaymentsService({
    database,
    ledger,
    vault,
    connector: (name) => connectors.get(name),
    settings,
    pspTimeoutMs: 1000,
    neverSeenAfterMs: options.neverSeenAfterMs ?? 600_000,
    logger: createLogger('silent'),
  });
  const merchantId = merchant.id;
  const gates: (() => void)[] = [];
  return {
    database,
    ledger,
    payments,
    settings,
    vault,
    stripe,
    razorpay,
    merchantId,
    /** A gate that `drop` opens, so a failed test does not leave calls waiting forever. */
    gate(): { promise: Promise<void>; open: () => void } {
      const held = gate();
      gates.push(() => held.open());
      return held;
    },
    async drop(): Promise<void> {
      for (const open of gates) open();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await drop();
    },
    /** The intent and its attempts as stored. */
    async stored(intentId: string): Promise<IntentWithAttempts> {
      const found = await findIntentWithAttempts(database, merchantId, intentId);
      assert.ok(found !== undefined, `payment intent ${intentId} not found`);
      return found;
    },
    /** The intent created last. */
    async latestIntentId(): Promise<string> {
      const row = (
        await database.query<{ id: string }>(
          'SELECT id FROM payment_intents ORDER BY created_at DESC, id DESC LIMIT 1',
        )
      ).rows[0];
      assert.ok(row !== undefined, 'no payment intent yet');
      return row.id;
    },
  };
}
