// Payment intents: create, confirm, capture, cancel, sync, and refunds (DESIGN §5).
// Each PSP call follows the same three steps (DESIGN §1 rule 5): persist the intent to call in
// one short transaction, call the PSP with an idempotency key derived from our own record, then
// record the answer in another short transaction. A crash anywhere leaves a record that a retry
// or sync resumes from, and the PSP's idempotency key makes the repeated call harmless.
import type { CaptureMode, Connector, PaymentOutcome } from '../connectors/types.ts';
import type { Ledger } from '../ledger/index.ts';
import { assertPositiveAmount, isCurrency, MoneyError } from '../money/index.ts';
import { newSortableId } from '../merchants/keys.ts';
import type { Queryable } from '../storage/database.ts';
import { connectorNamed, crashPoint, type PaymentsDependencies } from './dependencies.ts';
import { PaymentError } from './errors.ts';
import type { MerchantConnector, MerchantSettings } from './merchant-settings.ts';
import { PaymentLedger } from './payment-ledger.ts';
import { accountIds } from './postings.ts';
import { recordAuthorization } from './record.ts';
import { attemptsOf, findIntent, findIntentWithAttempts, insertAttempt, insertIntent, insertIntentWithAttempt, listIntents, updateIntent } from './repository.ts';
import { intentEvent } from './events.ts';
import { insertEvents } from '../events/events.ts';
import { moveIntent } from './state-machine.ts';
import type { Attempt, IntentWithAttempts, Metadata, PaymentIntent, Refund } from './types.ts';
import { Captures } from './captures.ts';
import { Refunds, type CreateRefundInput } from './refunds.ts';

export type CreateIntentInput = {
  readonly amount: unknown;
  readonly currency: string;
  readonly captureMethod?: CaptureMode;
  readonly paymentMethod?: string;
  readonly confirm?: boolean;
  readonly description?: string;
  readonly metadata?: Metadata;
  readonly connector?: string;
};

export type ConfirmInput = { readonly paymentMethod?: string; readonly connector?: string };

export type BindResource = (tx: Queryable, resourceId: string) => Promise<void>;

type Prepared = IntentWithAttempts & { readonly attempt: Attempt };

export type Chosen = { readonly connector: Connector; readonly setting: MerchantConnector };

export class PaymentsService {
  readonly #dependencies: PaymentsDependencies;
  readonly #ledger: PaymentLedger;
  readonly captures: Captures;
  readonly refunds: Refunds;

  constructor(dependencies: PaymentsDependencies) {
    this.#dependencies = dependencies;
    this.#ledger = new PaymentLedger(dependencies.ledger, dependencies.database, {
      onProblem: (problem) => dependencies.logger.error({ posting: problem }, 'the ledger refused a payment posting; it stays in the outbox'),
      beforePost: () => crashPoint(dependencies, 'before_ledger_post'),
      onCommit: () => dependencies.events?.notify(),
    });
    this.captures = new Captures(dependencies, this.#ledger);
    this.refunds = new Refunds(dependencies, this.#ledger);
  }

  get ledger(): Ledger {
    return this.#dependencies.ledger;
  }

  /** Posts ledger postings left in the outbox by a crash (called periodically by the server). */
  async sweepLedgerOutbox(olderThanMs = 2_000): Promise<number> {
    return this.#ledger.sweep(olderThanMs);
  }

  get settings(): MerchantSettings {
    return this.#dependencies.settings;
  }

  /** `bind` runs in the transaction that creates the intent (the idempotency key records it). */
  async create(merchantId: string, input: CreateIntentInput, bind?: BindResource): Promise<IntentWithAttempts> {
    if (!isCurrency(input.currency)) {
      throw new MoneyError('unknown_currency', `Invalid currency: ${input.currency}. Use a lowercase ISO-4217 code such as "usd".`, 'currency');
    }
    const amount = assertPositiveAmount(input.amount, 'amount', input.currency);
    if (input.paymentMethod !== undefined) await this.#requirePaymentMethod(merchantId, input.paymentMethod);
    // Settings are read before the transaction: PGlite has one session, so a read outside an
    // open transaction would wait for it forever.
    const connectors = await this.#dependencies.settings.connectors(merchantId);
    const captureMethod = input.captureMethod ?? 'automatic';
    const confirming = input.confirm === true;
    if (confirming && input.paymentMethod === undefined) {
      throw new PaymentError('parameter_invalid', 'confirm=true needs a payment_method.', { param: 'payment_method' });
    }
    // A requested connector is checked now, even when the intent is confirmed later.
    const routed = confirming || input.connector !== undefined ? chooseConnector(this.#dependencies, connectors, input.currency, captureMethod, input.connector) : undefined;
    const chosen = confirming ? routed : undefined;
    const createdAt = new Date();
    const intent: PaymentIntent = {
      id: newSortableId('pi'), merchantId, amount, currency: input.currency,
      status: confirming ? 'processing' : input.paymentMethod === undefined ? 'requires_payment_method' : 'requires_confirmation',
      captureMethod, paymentMethodId: input.paymentMethod ?? null, connector: chosen?.connector.name ?? input.connector ?? null,
      amountCapturable: 0n, amountReceived: 0n, amountRefunded: 0n, amountRefunding: 0n, pendingOperation: null,
      description: input.description ?? null, metadata: input.metadata ?? {}, lastPaymentError: null, cancellationReason: null, canceledAt: null,
      createdAt,
    };
    const attempt = chosen === undefined ? undefined : newAttempt(intent, chosen.connector.name, createdAt);
    const created = { intent, attempts: attempt === undefined ? [] : [attempt] };
    const event = intentEvent('payment_intent.created', created);
    // The intent, with confirm its first attempt (already processing), and the event are written
    // together: in one statement, or in one transaction when an idempotency key must record the intent.
    const database = this.#dependencies.database;
    if (attempt !== undefined && bind === undefined) await insertIntentWithAttempt(database, intent, attempt, event);
    else {
      await database.transaction(async (tx) => {
        await insertIntent(tx, intent);
        await bind?.(tx, intent.id);
        if (attempt !== undefined) await insertAttempt(tx, attempt);
        await insertEvents(tx, [event]);
      });
    }
    this.#dependencies.events?.notify();
    if (attempt === undefined) return created;
    const result = await this.#driveAttempt(merchantId, { intent, attempts: [attempt] }, attempt);
    throwIfDeclined(result);
    return result;
  }

  async retrieve(merchantId: string, id: string): Promise<IntentWithAttempts> {
    const found = await findIntentWithAttempts(this.#dependencies.database, merchantId, id);
    if (found === undefined) throw missingIntent(id);
    return found;
  }

  async list(merchantId: string, options: { limit: number; startingAfter?: string; endingBefore?: string }): Promise<{ items: IntentWithAttempts[]; hasMore: boolean }> {
    const database = this.#dependencies.database;
    const page = await listIntents(database, merchantId, options);
    const attempts = await attemptsOf(database, page.intents.map((intent) => intent.id));
    return {
      items: page.intents.map((intent) => ({ intent, attempts: attempts.filter((attempt) => attempt.paymentIntentId === intent.id) })),
      hasMore: page.hasMore,
    };
  }

  /**
   * Confirms (authorizes, and captures when automatic). A confirm of an intent that is already
   * processing resumes its open attempt with the same PSP idempotency key.
   */
  async confirm(merchantId: string, id: string, input: ConfirmInput): Promise<IntentWithAttempts> {
    if (input.paymentMethod !== undefined) await this.#requirePaymentMethod(merchantId, input.paymentMethod);
    const connectors = await this.#dependencies.settings.connectors(merchantId);
    const prepared = await this.#dependencies.database.transaction((tx) => this.#prepareAttempt(tx, merchantId, id, input, connectors));
    const result = await this.#driveAttempt(merchantId, prepared, prepared.attempt);
    throwIfDeclined(result);
    return result;
  }

  async #prepareAttempt(tx: Queryable, merchantId: string, id: string, input: ConfirmInput, connectors: readonly MerchantConnector[]): Promise<Prepared> {
    const intent = await findIntent(tx, merchantId, id, true);
    if (intent === undefined) throw missingIntent(id);
    const attempts = await attemptsOf(tx, [id]);
    if (intent.status === 'processing' && intent.pendingOperation === null) {
      const open = attempts.findLast((attempt) => attempt.status === 'pending' || attempt.status === 'unknown');
      if (open !== undefined) return { intent, attempts, attempt: open };
    }
    const started = await this.#startAttempt(tx, merchantId, intent, input, connectors);
    return { ...started, attempts: [...attempts, started.attempt] };
  }

  /** Moves the (locked or just created) intent to processing with a new pending attempt. */
  async #startAttempt(tx: Queryable, merchantId: string, intent: PaymentIntent, input: ConfirmInput, connectors: readonly MerchantConnector[]): Promise<{ intent: PaymentIntent; attempt: Attempt }> {
    const id = intent.id;
    const paymentMethod = input.paymentMethod ?? intent.paymentMethodId;
    if (paymentMethod === null) {
      throw new PaymentError('parameter_invalid', 'You cannot confirm this PaymentIntent because it has no payment method.', { param: 'payment_method', paymentIntentId: id });
    }
    const status = moveIntent(id, intent.status, 'processing', 'confirm');
    const chosen = chooseConnector(this.#dependencies, connectors, intent.currency, intent.captureMethod, input.connector ?? intent.connector ?? undefined);
    const attempt = newAttempt(intent, chosen.connector.name, new Date());
    await insertAttempt(tx, attempt);
    const updated = await updateIntent(tx, id, { status, paymentMethodId: paymentMethod, connector: chosen.connector.name, lastPaymentError: null });
    return { intent: updated, attempt };
  }

  /** Authorizes `attempt` of `known` (the intent with all its attempts, as last written). */
  async #driveAttempt(merchantId: string, known: IntentWithAttempts, attempt: Attempt): Promise<IntentWithAttempts> {
    const intent = known.intent;
    const dependencies = this.#dependencies;
    const connector = connectorNamed(this.#dependencies, attempt.connector);
    const credentials = await dependencies.settings.credentials(merchantId, attempt.connector);
    const card = await dependencies.vault.reveal(merchantId, intent.paymentMethodId as string);
    crashPoint(dependencies, 'before_psp_authorize');
    const outcome = await connector.authorize(
      { reference: attempt.id, amount: attempt.amount, currency: attempt.currency, captureMode: attempt.captureMethod, card, description: intent.description ?? undefined },
      { credentials, idempotencyKey: attempt.pspIdempotencyKey, timeoutMs: dependencies.pspTimeoutMs },
    );
    crashPoint(dependencies, 'after_psp_authorize');
    return recordAuthorization(dependencies, this.#ledger, merchantId, intent.id, attempt, outcome, { synced: false, failIfNeverSeen: false }, { ...known, attempt });
  }

  /**
   * Learns the outcome of everything unresolved on this intent by asking the PSP: an
   * authorization, a capture or cancel in flight, refunds in flight.
   */
  async sync(merchantId: string, id: string): Promise<IntentWithAttempts> {
    const dependencies = this.#dependencies;
    const { intent, attempts } = await this.retrieve(merchantId, id);
    for (const attempt of attempts.filter((candidate) => candidate.status === 'pending' || candidate.status === 'unknown')) {
      const outcome = await this.#askPsp(merchantId, attempt);
      const neverSeen = Date.now() - attempt.createdAt.getTime() > dependencies.neverSeenAfterMs;
      await recordAuthorization(dependencies, this.#ledger, merchantId, intent.id, attempt, outcome, { synced: true, failIfNeverSeen: neverSeen });
    }
    await this.captures.resume(merchantId, id);
    await this.refunds.resumeAll(merchantId, id);
    return this.retrieve(merchantId, id);
  }

  async #askPsp(merchantId: string, attempt: Attempt): Promise<PaymentOutcome> {
    const connector = connectorNamed(this.#dependencies, attempt.connector);
    const credentials = await this.#dependencies.settings.credentials(merchantId, attempt.connector);
    return connector.sync(
      { pspReference: attempt.pspReference ?? undefined, reference: attempt.id, amount: attempt.amount, currency: attempt.currency },
      { credentials, idempotencyKey: `sync_${attempt.id}`, timeoutMs: this.#dependencies.pspTimeoutMs },
    );
  }

  /**
   * Capture, cancel and refund act on a settled authorization: one whose outcome is still
   * unknown is synced first (it may turn out authorized, captured or failed).
   */
  async #settleFirst(merchantId: string, intentId: string): Promise<void> {
    const intent = await findIntent(this.#dependencies.database, merchantId, intentId, false);
    if (intent?.status === 'processing' && intent.pendingOperation === null) await this.sync(merchantId, intentId);
  }

  async capture(merchantId: string, id: string, amountToCapture: unknown): Promise<IntentWithAttempts> {
    await this.#settleFirst(merchantId, id);
    return this.captures.capture(merchantId, id, amountToCapture);
  }

  async cancel(merchantId: string, id: string, reason: string | undefined): Promise<IntentWithAttempts> {
    await this.#settleFirst(merchantId, id);
    return this.captures.cancel(merchantId, id, reason);
  }

  async refund(merchantId: string, input: CreateRefundInput, bind?: BindResource): Promise<Refund> {
    await this.#settleFirst(merchantId, input.paymentIntent);
    return this.refunds.create(merchantId, input, bind);
  }

  /** Stripe's balance object: available and pending per currency, read from the ledger. */
  async balance(merchantId: string): Promise<{ available: { amount: bigint; currency: string }[]; pending: { amount: bigint; currency: string }[] }> {
    const { accounts } = await this.#dependencies.ledger.listAccounts({ owner: merchantId, limit: 100 });
    const available: { amount: bigint; currency: string }[] = [];
    const pending: { amount: bigint; currency: string }[] = [];
    for (const account of accounts) {
      if (account.id === accountIds.merchantAvailable(merchantId, account.currency)) available.push({ amount: account.balance.posted, currency: account.currency });
      if (account.id === accountIds.merchantPending(merchantId, account.currency)) pending.push({ amount: account.balance.posted, currency: account.currency });
    }
    return { available, pending };
  }

  async #requirePaymentMethod(merchantId: string, paymentMethod: string): Promise<void> {
    if ((await this.#dependencies.vault.get(merchantId, paymentMethod)) === undefined) {
      throw new PaymentError('resource_missing', `No such PaymentMethod: '${paymentMethod}'`, { param: 'payment_method' });
    }
  }


}

/** The first enabled connector (by priority) that can take this currency and capture method, or the requested one. */
function chooseConnector(dependencies: PaymentsDependencies, connectors: readonly MerchantConnector[], currency: string, captureMethod: CaptureMode, requested: string | undefined): Chosen {
  const settings = connectors.filter((setting) => setting.enabled);
  const candidates = requested === undefined ? settings : settings.filter((setting) => setting.connector === requested);
  if (requested !== undefined && candidates.length === 0) {
    throw new PaymentError('no_connector_available', `The connector '${requested}' is not enabled for this account.`, { param: 'connector' });
  }
  for (const setting of candidates) {
    const connector = dependencies.connector(setting.connector);
    if (connector === undefined) continue;
    const capabilities = connector.capabilities;
    const problem = !capabilities.currencies.includes(currency) ? 'currency' : !capabilities.captureModes.includes(captureMethod) ? 'capture_method' : undefined;
    if (problem === undefined) return { connector, setting };
    if (requested !== undefined) {
      const value = problem === 'currency' ? currency : captureMethod;
      throw new PaymentError('capability_not_supported', `The connector '${requested}' does not support ${problem} '${value}'.`, { param: problem });
    }
  }
  throw new PaymentError('no_connector_available', `No enabled connector supports ${currency} with capture_method ${captureMethod}.`, { param: 'currency' });
}
/** A new pending attempt; its PSP idempotency key derives from its id, so every retry reuses the key. */
function newAttempt(intent: PaymentIntent, connector: string, createdAt: Date): Attempt {
  const id = newSortableId('pa');
  return {
    id, paymentIntentId: intent.id, merchantId: intent.merchantId, connector, status: 'pending', amount: intent.amount,
    currency: intent.currency, captureMethod: intent.captureMethod, pspIdempotencyKey: `payrail_${id}`, pspReference: null,
    amountAuthorized: 0n, amountCaptured: 0n, declineCode: null, pspCode: null, failureMessage: null, syncCount: 0, createdAt,
  };
}

export function missingIntent(id: string): PaymentError {
  return new PaymentError('resource_missing', `No such payment_intent: '${id}'`, { param: 'id' });
}

/** A decline is recorded (the intent goes back to requires_payment_method) and answered as a card error. */
function throwIfDeclined(result: IntentWithAttempts): void {
  const error = result.intent.lastPaymentError;
  if (result.intent.status !== 'requires_payment_method' || error === null) return;
  throw new PaymentError(error.code === 'expired_card' ? 'expired_card' : 'card_declined', error.message, {
    declineCode: error.decline_code, paymentIntentId: result.intent.id,
  });
}
