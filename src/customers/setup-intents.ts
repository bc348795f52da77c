// SetupIntents: saving a card for later without charging it (Stripe's SetupIntent). Confirming
// verifies the card at a connector whose capability map can (`cardVerification`), then attaches
// it to the customer. The verification follows the payments' three steps (architecture §1 rule 5):
// mark the SetupIntent processing with a numbered verification in one short transaction, call
// the PSP with an idempotency key derived from that number, record the answer in another. A
// retried confirm of a processing SetupIntent resends the same verification (same key), so a
// crash never authorizes twice. No money moves: the authorization is voided at once (refunded if
// the PSP captured it), nothing reaches the ledger; a reversal that fails is recorded and retried
// (decision 212).
import { systemClock, type Clock } from '../clock.ts';
import { ConnectorUnavailableError } from '../connectors/resilience.ts';
import type { Connector, PaymentOutcome } from '../connectors/types.ts';
import { newId, newSortableId } from '../ids.ts';
import { currencyExponent } from '../money/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { CardVault } from '../payments/dependencies.ts';
import type { MerchantSettings } from '../payments/merchant-settings.ts';
import type { Database, Queryable } from '../storage/database.ts';
import { keysetPage, type PageRequest, type TimeRange } from '../storage/pagination.ts';
import { mergeMetadata } from '../vault/index.ts';
import { CustomerError, noSuchSetupIntent } from './errors.ts';
import type { CustomersService, Page } from './service.ts';
import { setupIntents } from './tables.ts';
import type {
  Metadata,
  SetupIntent,
  SetupIntentStatus,
  SetupUsage,
  VerificationReversal,
} from './types.ts';

export type SetupIntentsDependencies = {
  readonly database: Database;
  readonly customers: CustomersService;
  readonly vault: CardVault;
  readonly connector: (name: string) => Connector | undefined;
  readonly settings: Pick<MerchantSettings, 'connectors' | 'credentials'>;
  readonly pspTimeoutMs: number;
  readonly logger: Logger;
  readonly clock?: Clock;
};

export type CreateSetupIntentInput = {
  readonly customer?: string;
  readonly paymentMethod?: string;
  readonly confirm?: boolean;
  readonly usage?: SetupUsage;
  readonly description?: string;
  readonly metadata?: Metadata;
};

export type UpdateSetupIntentInput = {
  readonly customer?: string;
  readonly paymentMethod?: string;
  readonly description?: string;
  readonly metadata?: Metadata;
};

export type SetupIntentFilters = {
  readonly customer?: string;
  readonly paymentMethod?: string;
  readonly created?: TimeRange;
};

/** Statuses from which the SetupIntent may still be changed, confirmed or canceled. */
const openStatuses: ReadonlySet<SetupIntentStatus> = new Set([
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
]);
/** The currency a verification is made in when the connector takes it; else its first one. */
const preferredVerificationCurrency = 'usd';

const insertSetupIntent = setupIntents.insert();
const startVerification = setupIntents.update([
  'status',
  'paymentMethodId',
  'connector',
  'verificationCount',
  'verificationSends',
  'lastSetupError',
]);
const countSends = setupIntents.update(['verificationSends']);
const finishVerification = setupIntents.update([
  'status',
  'pspReference',
  'lastSetupError',
  'paymentMethodId',
  'reversalPending',
]);
const reversalDone = setupIntents.update(['reversalPending']);
const changeFields = setupIntents.update([
  'customerId',
  'paymentMethodId',
  'status',
  'description',
  'metadata',
]);
const cancelFields = setupIntents.update(['status', 'cancellationReason']);

export class SetupIntentsService {
  readonly #dependencies: SetupIntentsDependencies;
  readonly #clock: Clock;

  constructor(dependencies: SetupIntentsDependencies) {
    this.#dependencies = dependencies;
    this.#clock = dependencies.clock ?? systemClock;
  }

  async create(
    merchantId: string,
    input: CreateSetupIntentInput,
    bind?: (tx: Queryable, id: string) => Promise<void>,
  ): Promise<SetupIntent> {
    await this.#checkParties(merchantId, input.customer ?? null, input.paymentMethod ?? null);
    const now = this.#clock.now(merchantId);
    const id = newSortableId('seti', now.getTime());
    const setup: SetupIntent = {
      id,
      merchantId,
      customerId: input.customer ?? null,
      paymentMethodId: input.paymentMethod ?? null,
      status:
        input.paymentMethod === undefined ? 'requires_payment_method' : 'requires_confirmation',
      usage: input.usage ?? 'off_session',
      clientSecret: `${id}_secret_${newId('s', 24).slice(2)}`,
      description: input.description ?? null,
      metadata: mergeMetadata({}, input.metadata),
      connector: null,
      verificationCount: 0,
      verificationSends: 0,
      reversalPending: null,
      pspReference: null,
      lastSetupError: null,
      cancellationReason: null,
      createdAt: now,
    };
    if (input.confirm === true && input.paymentMethod === undefined)
      throw new CustomerError(
        'parameter_invalid',
        'confirm=true needs a payment_method.',
        'payment_method',
      );
    // A confirm that cannot verify anywhere is refused before anything is written.
    if (input.confirm === true) await this.#verifier(merchantId);
    await this.#dependencies.database.transaction(async (tx) => {
      await tx.query(insertSetupIntent.sql, insertSetupIntent.parameters(setup));
      await bind?.(tx, id);
    });
    return input.confirm === true ? this.confirm(merchantId, id, {}) : setup;
  }

  async retrieve(merchantId: string, id: string): Promise<SetupIntent> {
    const found = await find(this.#dependencies.database, merchantId, id, false);
    if (found === undefined) throw noSuchSetupIntent(id);
    return this.#settle(merchantId, found);
  }

  async update(
    merchantId: string,
    id: string,
    input: UpdateSetupIntentInput,
  ): Promise<SetupIntent> {
    const seen = await this.retrieve(merchantId, id);
    const customer = input.customer ?? seen.customerId;
    const paymentMethod = input.paymentMethod ?? seen.paymentMethodId;
    await this.#checkParties(merchantId, customer, paymentMethod);
    return this.#dependencies.database.transaction(async (tx) => {
      const current = await this.#locked(tx, merchantId, id);
      if (
        current.status !== 'requires_payment_method' &&
        current.status !== 'requires_confirmation'
      )
        throw unexpectedState(current, 'update');
      return changeFields.run(
        tx,
        id,
        {
          customerId: customer,
          paymentMethodId: paymentMethod,
          status: paymentMethod === null ? 'requires_payment_method' : 'requires_confirmation',
          description: input.description ?? current.description,
          metadata: mergeMetadata(current.metadata, input.metadata),
        },
        this.#clock.now(merchantId),
      );
    });
  }

  async cancel(merchantId: string, id: string, reason: string | undefined): Promise<SetupIntent> {
    await this.retrieve(merchantId, id); // retries a reversal still pending
    return this.#dependencies.database.transaction(async (tx) => {
      const current = await this.#locked(tx, merchantId, id);
      if (!openStatuses.has(current.status)) throw unexpectedState(current, 'cancel');
      return cancelFields.run(
        tx,
        id,
        { status: 'canceled', cancellationReason: reason ?? null },
        this.#clock.now(merchantId),
      );
    });
  }

  async list(
    merchantId: string,
    filters: SetupIntentFilters,
    page: PageRequest,
  ): Promise<Page<SetupIntent>> {
    if (filters.customer !== undefined)
      await this.#dependencies.customers.requireKnown(merchantId, filters.customer, 'customer');
    const result = await keysetPage(
      this.#dependencies.database,
      {
        select: '*',
        from: 'setup_intents',
        scope: 'merchant_id = $1',
        scopeParameters: [merchantId],
        equals: { customer_id: filters.customer, payment_method_id: filters.paymentMethod },
        key: 'id',
        keyType: 'text',
        order: 'newest_first',
        noun: 'setup_intent',
        timeRange: { column: 'created_at', range: filters.created },
      },
      page,
    );
    return { items: result.rows.map(setupIntents.fromRow), hasMore: result.hasMore };
  }

  /**
   * Verifies the card at a capable connector and, with a customer, saves it to that customer. A
   * confirm of a SetupIntent still processing resends its verification (same idempotency key).
   */
  async confirm(
    merchantId: string,
    id: string,
    input: { readonly paymentMethod?: string },
  ): Promise<SetupIntent> {
    const seen = await this.retrieve(merchantId, id);
    if (seen.status !== 'processing' && !openStatuses.has(seen.status))
      throw unexpectedState(seen, 'confirm');
    if (seen.reversalPending !== null) throw reversalOutstanding(seen);
    const given = input.paymentMethod ?? seen.paymentMethodId;
    if (given === null)
      throw new CustomerError(
        'setup_intent_unexpected_state',
        "You cannot confirm this SetupIntent because it's missing a payment method. Update it with a payment_method, or pass one to confirm.",
        'payment_method',
      );
    await this.#checkParties(merchantId, seen.customerId, given);
    // With a customer, a test-mode id becomes a stored card first: that card is what is saved.
    const paymentMethod =
      seen.customerId === null || seen.status === 'processing'
        ? given
        : (await this.#dependencies.customers.materialize(merchantId, given, 'payment_method')).id;
    // A verification in flight is resent to its connector; a new one goes to the first capable.
    const verifier = await this.#verifier(
      merchantId,
      seen.status === 'processing' ? (seen.connector ?? undefined) : undefined,
    );
    const started = await this.#dependencies.database.transaction(async (tx) => {
      const current = await this.#locked(tx, merchantId, id);
      // Counted before the call: this one may reach the PSP (#release takes it back if refused).
      const now = this.#clock.now(merchantId);
      if (current.status === 'processing')
        return countSends.run(tx, id, { verificationSends: current.verificationSends + 1 }, now);
      if (!openStatuses.has(current.status)) throw unexpectedState(current, 'confirm');
      if (current.reversalPending !== null) throw reversalOutstanding(current);
      return startVerification.run(
        tx,
        id,
        {
          status: 'processing',
          paymentMethodId: paymentMethod,
          connector: verifier.name,
          verificationCount: current.verificationCount + 1,
          verificationSends: 1,
          lastSetupError: null,
        },
        now,
      );
    });
    const { outcome, reversal } = await this.#verify(merchantId, started, verifier);
    return this.#record(merchantId, started, outcome, reversal);
  }

  /** The connector to verify with (the one already in use, else the first capable by priority). */
  async #verifier(
    merchantId: string,
    current?: string,
  ): Promise<{ name: string; connector: Connector; currency: string }> {
    const settings = await this.#dependencies.settings.connectors(merchantId);
    const ordered = [...settings]
      .filter((setting) => setting.enabled)
      .sort((a, b) => a.priority - b.priority)
      .map((setting) => setting.connector);
    for (const name of current === undefined ? ordered : [current]) {
      const connector = this.#dependencies.connector(name);
      const capabilities = connector?.capabilities;
      if (connector === undefined || capabilities?.cardVerification !== 'authorize_and_void')
        continue;
      const currency = verificationCurrency(connector);
      if (currency !== undefined) return { name, connector, currency };
    }
    throw new CustomerError(
      'capability_not_supported',
      "None of this account's enabled connectors can verify a card without charging it (capability " +
        "'cardVerification'), so this SetupIntent cannot be confirmed. Enable a connector that can " +
        "(stripe or adyen), or save the card with a payment's setup_future_usage.",
      'payment_method',
    );
  }

  /**
   * Authorizes one unit of the currency with manual capture, then voids it at once (refunds it if
   * the PSP captured it). `reversal` is what is still owed when that did not succeed.
   */
  async #verify(
    merchantId: string,
    setup: SetupIntent,
    verifier: { name: string; connector: Connector; currency: string },
  ): Promise<{ outcome: PaymentOutcome; reversal: VerificationReversal | null }> {
    const dependencies = this.#dependencies;
    const reference = verificationReference(setup);
    const credentials = await dependencies.settings.credentials(merchantId, verifier.name);
    const card = await dependencies.vault.reveal(merchantId, setup.paymentMethodId as string);
    const context = {
      credentials,
      idempotencyKey: `payrail_${reference}`,
      timeoutMs: dependencies.pspTimeoutMs,
    };
    let outcome: PaymentOutcome;
    try {
      outcome = await verifier.connector.authorize(
        {
          reference,
          amount: unitOf(verifier.currency),
          currency: verifier.currency,
          captureMode: 'manual',
          card,
        },
        context,
      );
    } catch (error) {
      if (!(error instanceof ConnectorUnavailableError)) throw error;
      const released = await this.#release(merchantId, setup);
      throw new CustomerError(
        'connector_unavailable',
        `The connector '${verifier.name}' is refusing calls right now; this call sent nothing. ` +
          (released
            ? 'Retry later.'
            : 'An earlier call may have sent this verification, so the SetupIntent stays processing; retry later to resend it.'),
      );
    }
    const owed = outcome.status === 'captured' ? 'refund' : 'void';
    if ((outcome.status !== 'authorized' && outcome.status !== 'captured') || !outcome.pspReference)
      return { outcome, reversal: null };
    const reversed = await this.#reverse(merchantId, setup, owed, outcome.pspReference);
    return { outcome, reversal: reversed ? null : owed };
  }

  /**
   * Voids (or refunds, if it was captured) a verification's authorization, under a key derived
   * from the verification's number; true once the PSP says it is done.
   */
  async #reverse(
    merchantId: string,
    setup: SetupIntent,
    kind: VerificationReversal,
    pspReference: string,
  ): Promise<boolean> {
    const name = setup.connector ?? '';
    const connector = this.#dependencies.connector(name);
    const currency = connector === undefined ? undefined : verificationCurrency(connector);
    const reference = verificationReference(setup);
    let status: string;
    try {
      if (connector === undefined || currency === undefined)
        throw new Error(`the connector '${name}' cannot be called`);
      const context = {
        credentials: await this.#dependencies.settings.credentials(merchantId, name),
        idempotencyKey: `payrail_${reference}_${kind}`,
        timeoutMs: this.#dependencies.pspTimeoutMs,
      };
      const request = { pspReference, reference, amount: unitOf(currency), currency };
      status =
        kind === 'void'
          ? (await connector.void(request, context)).status
          : (
              await connector.refund(
                { ...request, refundReference: `${reference}_refund` },
                context,
              )
            ).status;
    } catch (error) {
      status = `error: ${String(error)}`;
    }
    if (status === (kind === 'void' ? 'voided' : 'succeeded')) return true;
    this.#dependencies.logger.warn(
      { setupIntent: setup.id, pspReference, reversal: kind, status },
      'the verification authorization was not reversed; it is retried on the next call',
    );
    return false;
  }

  /** Retries the reversal a SetupIntent still owes, if any, and clears it once done. */
  async #settle(merchantId: string, setup: SetupIntent): Promise<SetupIntent> {
    if (setup.reversalPending === null || setup.pspReference === null) return setup;
    if (!(await this.#reverse(merchantId, setup, setup.reversalPending, setup.pspReference)))
      return setup;
    return this.#dependencies.database.transaction(async (tx) => {
      const current = await this.#locked(tx, merchantId, setup.id);
      if (current.reversalPending === null || current.verificationCount !== setup.verificationCount)
        return current;
      return reversalDone.run(tx, setup.id, { reversalPending: null }, this.#clock.now(merchantId));
    });
  }

  /**
   * A call refused before it was sent takes its send back. The verification is released (the
   * SetupIntent may be confirmed again, under a new number) only when no call of it may have been
   * sent; otherwise it stays processing, so that a retry resends the same key. True if released.
   */
  async #release(merchantId: string, setup: SetupIntent): Promise<boolean> {
    return this.#dependencies.database.transaction(async (tx) => {
      const current = await this.#locked(tx, merchantId, setup.id);
      if (current.status !== 'processing' || current.verificationCount !== setup.verificationCount)
        return false;
      const now = this.#clock.now(merchantId);
      const sends = Math.max(0, current.verificationSends - 1);
      await countSends.run(tx, setup.id, { verificationSends: sends }, now);
      if (sends > 0) return false;
      await finishVerification.run(
        tx,
        setup.id,
        {
          status: 'requires_confirmation',
          pspReference: null,
          lastSetupError: null,
          paymentMethodId: current.paymentMethodId,
          reversalPending: null,
        },
        now,
      );
      return true;
    });
  }

  /** Records the verification's answer; on success the card is saved to the customer, in the same transaction. */
  async #record(
    merchantId: string,
    setup: SetupIntent,
    outcome: PaymentOutcome,
    reversal: VerificationReversal | null,
  ): Promise<SetupIntent> {
    const now = this.#clock.now(merchantId);
    const finish = (tx: Queryable, change: Parameters<typeof finishVerification.run>[2]) =>
      finishVerification.run(tx, setup.id, change, now);
    if (outcome.status === 'failed') {
      const code = outcome.declineCode === 'expired_card' ? 'expired_card' : 'card_declined';
      const message = outcome.message ?? 'Your card was declined.';
      const declined = await this.#dependencies.database.transaction(async (tx) => {
        const current = await this.#locked(tx, merchantId, setup.id);
        return finish(tx, {
          status: 'requires_payment_method',
          pspReference: outcome.pspReference ?? null,
          lastSetupError: {
            type: 'card_error',
            code,
            ...(outcome.declineCode === undefined ? {} : { decline_code: outcome.declineCode }),
            message,
          },
          paymentMethodId: setup.paymentMethodId,
          reversalPending: current.reversalPending,
        });
      });
      throw new CustomerError(code, message, undefined, {
        declineCode: outcome.declineCode ?? 'generic_decline',
        setupIntent: declined,
      });
    }
    if (outcome.status !== 'authorized' && outcome.status !== 'captured') return setup; // unknown: stays processing
    try {
      return await this.#dependencies.database.transaction(async (tx) => {
        const current = await this.#locked(tx, merchantId, setup.id);
        if (current.status !== 'processing') return current;
        if (current.customerId !== null && current.paymentMethodId !== null)
          await this.#dependencies.customers.attachInTransaction(
            tx,
            merchantId,
            current.paymentMethodId,
            current.customerId,
          );
        return finish(tx, {
          status: 'succeeded',
          pspReference: outcome.pspReference ?? null,
          lastSetupError: null,
          paymentMethodId: current.paymentMethodId,
          reversalPending: reversal,
        });
      });
    } catch (error) {
      if (!(error instanceof CustomerError) && !isVaultRefusal(error)) throw error;
      // The card could not be saved (attached to another customer meanwhile, or detached).
      await this.#dependencies.database.transaction(async (tx) =>
        finish(tx, {
          status: 'requires_payment_method',
          pspReference: outcome.pspReference ?? null,
          lastSetupError: {
            type: 'invalid_request_error',
            code: (error as CustomerError).code,
            message: (error as Error).message,
          },
          paymentMethodId: setup.paymentMethodId,
          reversalPending: reversal,
        }),
      );
      throw error;
    }
  }

  async #checkParties(
    merchantId: string,
    customer: string | null,
    paymentMethod: string | null,
  ): Promise<void> {
    if (paymentMethod !== null) {
      const method = await this.#dependencies.vault.get(merchantId, paymentMethod);
      if (method === undefined)
        throw new CustomerError(
          'resource_missing',
          `No such PaymentMethod: '${paymentMethod}'`,
          'payment_method',
        );
    }
    await this.#dependencies.customers.checkUse(merchantId, customer, paymentMethod);
  }

  async #locked(tx: Queryable, merchantId: string, id: string): Promise<SetupIntent> {
    const found = await find(tx, merchantId, id, true);
    if (found === undefined) throw noSuchSetupIntent(id);
    return found;
  }
}

function find(
  queryable: Queryable,
  merchantId: string,
  id: string,
  lock: boolean,
): Promise<SetupIntent | undefined> {
  return setupIntents.findOwned(queryable, merchantId, id, lock);
}

function verificationReference(setup: SetupIntent): string {
  return `${setup.id}_v${setup.verificationCount}`;
}

/** The currency a connector verifies in: the preferred one when it takes it, else its first. */
function verificationCurrency(connector: Connector): string | undefined {
  const currencies = connector.capabilities.currencies;
  return currencies.includes(preferredVerificationCurrency)
    ? preferredVerificationCurrency
    : currencies[0];
}

/** One unit of the currency (100 cents, 1 yen), in minor units. */
function unitOf(currency: string): bigint {
  return 10n ** BigInt(currencyExponent(currency));
}

function reversalOutstanding(setup: SetupIntent): CustomerError {
  return new CustomerError(
    'connector_unavailable',
    `The previous verification of this SetupIntent is still being ${setup.reversalPending === 'refund' ? 'refunded' : 'voided'} at the connector; no new one is sent until it is. Retry later.`,
  );
}

function unexpectedState(setup: SetupIntent, action: string): CustomerError {
  return new CustomerError(
    'setup_intent_unexpected_state',
    `You cannot ${action} this SetupIntent because it has a status of ${setup.status}.`,
  );
}

function isVaultRefusal(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'VaultError' &&
    (error as { code?: unknown }).code === 'payment_method_unexpected_state'
  );
}
