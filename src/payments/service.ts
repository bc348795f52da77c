// Payment intents: create, confirm, capture, cancel, sync, and refunds (architecture §5).
// Each PSP call follows the same three steps (architecture §1 rule 5): persist the intent to call in
// one short transaction, call the PSP with an idempotency key derived from our own record, then
// record the answer in another short transaction. A crash anywhere leaves a record that a retry
// or sync resumes from, and the PSP's idempotency key makes the repeated call harmless.
import { performance } from 'node:perf_hooks';
import { ConnectorUnavailableError } from '../connectors/resilience.ts';
import {
  cardErrorCode,
  type CaptureMode,
  type PaymentOutcome,
  type ThreeDSecureData,
} from '../connectors/types.ts';
import { isRetryableDecline, route } from '../routing/index.ts';
import type { Ledger } from '../ledger/index.ts';
import { assertPositiveAmount } from '../money/index.ts';
import { newSortableId } from '../ids.ts';
import type { Queryable } from '../storage/database.ts';
import {
  connectorNamed,
  merchantNow,
  type PaymentsDependencies,
  type RiskFacts,
} from './dependencies.ts';
import { PaymentError } from './errors.ts';
import { resumedResourceId, type IdempotentRequest } from '../idempotency/request.ts';
import type { MerchantConnector, MerchantPrice, MerchantSettings } from './merchant-settings.ts';
import { PaymentLedger } from './payment-ledger.ts';
import { accountIds } from '../accounts/index.ts';
import type { Price } from './postings.ts';
import { AuthorizationRecorder, isLiveAttempt, type TimedOutcome } from './record.ts';
import {
  attemptsOf,
  findIntent,
  findIntentWithAttempts,
  insertAttempt,
  insertIntent,
  insertIntentsWithAttempts,
  listIntents,
  lockIntentAndAttempt,
  type IntentListOptions,
  type RefundListOptions,
  type NewConfirmedIntent,
} from './repository.ts';
import { paymentAttempts, paymentIntents } from './tables.ts';
import { GroupCommit } from '../storage/batcher.ts';
import { intentEvent } from './events.ts';
import { insertEvents } from '../events/events.ts';
import {
  awaitsAuthorization,
  isUnresolvedAttempt,
  moveAttempt,
  moveIntent,
} from './state-machine.ts';
import type {
  Attempt,
  ChargeCard,
  ChargeView,
  IntentWithAttempts,
  Metadata,
  PaymentIntent,
  RadarOptions,
  Refund,
  RequestThreeDSecure,
  SetupFutureUsage,
} from './types.ts';
import { Captures } from './captures.ts';
import { paymentIntentSearch, searchPage, type SearchRequest } from '../search/index.ts';
import { applyUpdate, checkUpdate, type UpdateIntentInput } from './update.ts';
import { Refunds, type CreateRefundInput } from './refunds.ts';
import type { MetadataChange } from '../metadata.ts';
import { Charges, cardOf, type ChargeListOptions } from './charges.ts';
import { Orphans } from './orphans.ts';
import { noSuchPaymentMethodMessage } from '../vault/card.ts';
import type { PaymentMethod } from '../vault/index.ts';
import {
  checkChargeAmount,
  checkRadarOptions,
  checkReceiptEmail,
  checkReturnUrl,
  clientSecretMatches,
  intentParameters,
  newClientSecret,
  normalizeCurrency,
  type IntentParametersInput,
  type PaymentMethodOptionsInput,
} from './intent-parameters.ts';
import { storePaymentMethodData, type PaymentMethodData } from './payment-method-data.ts';
import {
  authenticationDataOf,
  Authentications,
  carriesAuthenticationData,
  type Authentication,
  type AuthenticationReason,
} from './authentication.ts';
import {
  closeIfOpen,
  findReview,
  listReviews,
  noSuchReview,
  type Review,
  type ReviewListFilters,
} from './reviews.ts';
import type { PageRequest } from '../storage/pagination.ts';
import { blockedOutcome, captureMethodFor, isBlocked, riskFactsOf } from './risk.ts';
import type { RiskRecord } from '../risk/types.ts';

export type CreateIntentInput = IntentParametersInput & {
  readonly amount: unknown;
  /** In any case; stored lowercase. */
  readonly currency: string;
  readonly captureMethod?: CaptureMode;
  readonly paymentMethod?: string;
  /** A card given inline: stored in the vault as a new payment method, which the intent uses. */
  readonly paymentMethodData?: PaymentMethodData;
  readonly confirm?: boolean;
  readonly description?: string;
  readonly metadata?: Metadata;
  readonly connector?: string;
  /** The customer the payment is for (an id; the customer must exist and not be erased). */
  readonly customer?: string;
  /** Save the card to `customer` once the payment succeeds. */
  readonly setupFutureUsage?: SetupFutureUsage;
  /** Where the card holder's browser reaches Payrail (3-D Secure's return route). */
  readonly origin?: string;
};

export type ConfirmInput = {
  readonly paymentMethod?: string;
  readonly paymentMethodData?: PaymentMethodData;
  readonly connector?: string;
  /** Given by a browser (publishable key): must be the intent's, or it is as if there were none. */
  readonly clientSecret?: string;
  readonly receiptEmail?: string;
  readonly returnUrl?: string;
  /** Stripe's confirm may set (or change) setup_future_usage. */
  readonly setupFutureUsage?: SetupFutureUsage;
  readonly radarOptions?: RadarOptions;
  readonly paymentMethodOptions?: PaymentMethodOptionsInput;
  /** Where the card holder's browser reaches Payrail (3-D Secure's return route). */
  readonly origin?: string;
};

/** What the risk decision says of an authorization about to be sent. */
type Decision = {
  readonly risk: RiskRecord | undefined;
  /** The card holder must authenticate first, and why. */
  readonly authenticate:
    { readonly reason: AuthenticationReason; readonly ruleId: string | null } | undefined;
};

/** What the decision after an authentication reads of it. */
type AuthenticationFacts = NonNullable<RiskFacts['authentication']>;

export type { PaymentMethodData } from './payment-method-data.ts';

export type BindResource = (tx: Queryable, resourceId: string) => Promise<void>;

/** A resumed confirm goes on only from these; from any other, the first try got past confirming. */
const confirmingStatuses: ReadonlySet<PaymentIntent['status']> = new Set([
  'processing',
  'requires_confirmation',
  'requires_payment_method',
]);

/**
 * The attempt to send, and whether this request created it (`fresh`): only such an attempt is
 * known never to have reached a PSP when its connector refuses the call. A resumed one may have
 * been sent before a crash, or be in flight in a concurrent confirm.
 */
type Prepared = IntentWithAttempts & { readonly attempt: Attempt; readonly fresh: boolean };

/**
 * What the transaction before an authorization found to do: send an attempt; ask the card holder
 * to authenticate; nothing (the state stands: an authentication that is not the intent's current
 * one, or an intent that moved on); or decide first (the confirm read the intent while another
 * attempt was open, and that attempt has ended since: no attempt is ever sent undecided).
 */
type Preparation =
  | { readonly kind: 'send'; readonly prepared: Prepared }
  | {
      readonly kind: 'authenticate';
      readonly intent: PaymentIntent;
      readonly authentication: Authentication;
    }
  | { readonly kind: 'settled'; readonly state: IntentWithAttempts }
  | { readonly kind: 'undecided' };

/** What routing may know of the card: brand and issuer country. */
type CardFacts = PaymentMethod;

/** What one authorization call gave: the PSP's outcome, or a refusal before anything was sent. */
type Sent =
  | { readonly outcome: TimedOutcome; readonly unavailable?: undefined }
  | { readonly outcome?: undefined; readonly unavailable: ConnectorUnavailableError };

// What each step writes, generated once from the tables' definitions.
const startAuthorization = paymentIntents.update([
  'status',
  'paymentMethodId',
  'connector',
  'lastPaymentError',
  'nextAction',
  'setupFutureUsage',
  'receiptEmail',
  'returnUrl',
  'radarOptions',
  'requestThreeDSecure',
]);
const switchConnector = paymentIntents.update(['connector']);
const moveStatus = paymentIntents.update(['status']);
/** How an attempt is left when Payrail moves on (`settledForFailover`). */
const settleAttempt = paymentAttempts.update([
  'status',
  'pspReference',
  'declineCode',
  'pspCode',
  'failureMessage',
  'abandoned',
  'pspLatencyMs',
]);
type SettledAttempt = Parameters<typeof settleAttempt.run>[2];

/** Attempts one confirm may make: the first connector and two failovers. */
export const attemptsPerConfirmMax = 3;

/** The group commit of the busiest statements: two batches in flight, each of up to 200 payments. */
export const writeBatchLimits = { batchSizeMax: 200, batchesInFlightMax: 2 };

export class PaymentsService {
  readonly #dependencies: PaymentsDependencies;
  readonly #ledger: PaymentLedger;
  readonly captures: Captures;
  readonly refunds: Refunds;
  readonly charges: Charges;
  /** Confirmed intents created at the same moment share one statement. */
  readonly #creates: GroupCommit<NewConfirmedIntent, true>;
  readonly #recorder: AuthorizationRecorder;
  /** 3-D Secure, when the payments have a 3-D Secure server. */
  readonly #authentications: Authentications | undefined;

  constructor(dependencies: PaymentsDependencies) {
    this.#dependencies = dependencies;
    this.#authentications =
      dependencies.threeDSecure === undefined
        ? undefined
        : new Authentications(dependencies, dependencies.threeDSecure);
    this.#creates = new GroupCommit(async (created) => {
      await insertIntentsWithAttempts(dependencies.database, created);
      return created.map(() => true as const);
    }, writeBatchLimits);
    this.#ledger = new PaymentLedger(dependencies.ledger, dependencies.database, {
      onProblem: (problem) =>
        dependencies.logger.error(
          { posting: problem },
          'the ledger refused a payment posting; it stays in the outbox',
        ),
      beforePost: () => dependencies.faults?.reach('before_ledger_post'),
      onCommit: () => dependencies.events?.notify(),
      clock: dependencies.clock,
    });
    this.#recorder = new AuthorizationRecorder(
      dependencies,
      this.#ledger,
      new Orphans(dependencies, this.#ledger),
      writeBatchLimits,
    );
    this.captures = new Captures(dependencies, this.#ledger);
    this.refunds = new Refunds(dependencies, this.#ledger, (merchantId, id, reason) =>
      this.cancel(merchantId, id, reason),
    );
    this.charges = new Charges(dependencies.database, dependencies.vault);
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
  async create(
    merchantId: string,
    input: CreateIntentInput,
    bind?: BindResource,
  ): Promise<IntentWithAttempts> {
    const currency = normalizeCurrency(input.currency);
    const amount = assertPositiveAmount(input.amount, 'amount', currency);
    checkChargeAmount(amount, currency);
    const confirming = input.confirm === true;
    const parameters = intentParameters(input, confirming);
    refuseTwoPaymentMethods(input);
    if (confirming && input.paymentMethod === undefined && input.paymentMethodData === undefined) {
      throw new PaymentError('parameter_invalid', 'confirm=true needs a payment_method.', {
        param: 'payment_method',
      });
    }
    // The customer (and a saved card's owner) is checked before anything is stored.
    await this.#dependencies.customers?.checkUse(
      merchantId,
      input.customer ?? null,
      input.paymentMethod ?? null,
    );
    const paymentMethod =
      input.paymentMethodData === undefined
        ? input.paymentMethod
        : await storePaymentMethodData(
            this.#dependencies.vault,
            merchantId,
            input.paymentMethodData,
          );
    const method =
      paymentMethod === undefined
        ? undefined
        : await this.#requirePaymentMethod(merchantId, paymentMethod);
    // Settings and routing are read before any transaction: PGlite has one session, so a read
    // outside an open transaction would wait for it forever.
    const connectors = await this.#dependencies.settings.connectors(merchantId);
    const captureMethod = input.captureMethod ?? 'automatic';
    // A requested connector is checked now, even when the intent is confirmed later.
    if (!confirming && input.connector !== undefined)
      capableConnectors(this.#dependencies, connectors, currency, captureMethod, input.connector);
    const candidates = confirming
      ? await this.#candidates(
          merchantId,
          connectors,
          { amount, currency, captureMethod },
          method,
          input.connector,
        )
      : [];
    const chosen = candidates[0];
    const createdAt = merchantNow(this.#dependencies, merchantId);
    const id = newSortableId('pi');
    const draft: PaymentIntent = {
      id,
      merchantId,
      amount,
      currency,
      status: confirming
        ? 'processing'
        : paymentMethod === undefined
          ? 'requires_payment_method'
          : 'requires_confirmation',
      captureMethod,
      paymentMethodId: paymentMethod ?? null,
      connector: chosen ?? input.connector ?? null,
      amountCapturable: 0n,
      amountReceived: 0n,
      amountRefunded: 0n,
      amountRefunding: 0n,
      pendingOperation: null,
      description: input.description ?? null,
      metadata: input.metadata ?? {},
      lastPaymentError: null,
      cancellationReason: null,
      canceledAt: null,
      customerId: input.customer ?? null,
      setupFutureUsage: input.setupFutureUsage ?? null,
      clientSecret: newClientSecret(id),
      nextAction: null,
      ...parameters,
      createdAt,
    };
    const decision = confirming ? await this.#decide(draft, method) : undefined;
    const authenticate = decision?.authenticate;
    const held = this.#holding(candidates, basisOf(draft, decision));
    const connector = held.candidates[0];
    const intent: PaymentIntent = {
      ...draft,
      status: authenticate === undefined ? draft.status : 'requires_action',
      connector: connector ?? draft.connector,
    };
    const attempt =
      connector === undefined || authenticate !== undefined
        ? undefined
        : newAttempt(intent, connector, createdAt, held.basis);
    const created = { intent, attempts: attempt === undefined ? [] : [attempt] };
    const event = intentEvent('payment_intent.created', created);
    // The intent, with confirm its first attempt (already processing), and the event are written
    // together: in one statement (shared with the other payments created at the same moment), or
    // in one transaction when an idempotency key must record the intent.
    // A payment for a customer takes the transaction: the customer's row is held there so that
    // its erasure runs wholly before (the payment is refused) or after (it finds the card).
    const customerId = intent.customerId;
    const customers = this.#dependencies.customers;
    let opened: Authentication | undefined;
    if (
      attempt !== undefined &&
      bind === undefined &&
      (customerId === null || customers === undefined)
    )
      await this.#creates.submit({ intent, attempt, event });
    else {
      opened = await this.#dependencies.database.transaction(async (tx) => {
        if (customerId !== null) await customers?.holdForPayment(tx, merchantId, customerId);
        await insertIntent(tx, intent);
        await bind?.(tx, intent.id);
        if (attempt !== undefined) await insertAttempt(tx, attempt);
        await insertEvents(tx, [event], intent.createdAt);
        return authenticate === undefined
          ? undefined
          : this.#authentications?.open(
              tx,
              intent,
              authenticate.reason,
              authenticate.ruleId,
              createdAt,
            );
      });
    }
    this.#dependencies.events?.notify();
    if (opened !== undefined) return this.#authenticate(opened, intent, input.origin, method);
    if (attempt === undefined) return created;
    const result = await this.#authorizeFor(merchantId, intent.customerId, () =>
      this.#authorize(
        merchantId,
        { intent, attempts: [attempt], attempt, fresh: true },
        held.candidates,
        cardOf(method),
      ),
    );
    return this.#afterAuthorization(result, method, input.origin);
  }

  /**
   * The risk decision before an authorization (src/risk): the record the attempt carries, and
   * whether the card holder must authenticate first (a request_3ds rule, or the payment's
   * request_three_d_secure). After an authentication (or where none can run) request_3ds rules
   * are not evaluated: the rest decide.
   */
  async #decide(
    intent: PaymentIntent,
    method: PaymentMethod | undefined,
    authenticated?: AuthenticationFacts,
  ): Promise<Decision> {
    const risk = this.#dependencies.risk;
    const skipAuthentication =
      authenticated ??
      ((await this.#canAuthenticate(intent.merchantId))
        ? undefined
        : { authenticated: false, liabilityShift: false, eci: null });
    const now = merchantNow(this.#dependencies, intent.merchantId);
    const record =
      risk === undefined || method === undefined
        ? undefined
        : await risk.assess(riskFactsOf(intent, method, now, skipAuthentication));
    if (skipAuthentication !== undefined || record?.action === 'block')
      return { risk: record, authenticate: undefined };
    if (record?.action === 'request_3ds')
      return { risk: record, authenticate: { reason: 'rule', ruleId: record.rule?.id ?? null } };
    if (intent.requestThreeDSecure !== 'automatic')
      return { risk: record, authenticate: { reason: 'requested', ruleId: null } };
    return { risk: record, authenticate: undefined };
  }

  /** Whether the merchant's payments can ask for 3-D Secure (a server exists for its mode). */
  async #canAuthenticate(merchantId: string): Promise<boolean> {
    const server = this.#dependencies.threeDSecure;
    return server !== undefined && (await server.available(merchantId));
  }

  /**
   * What follows an authorization: a soft decline that asks for authentication (the issuer's
   * `authentication_required`) starts 3-D Secure, once per authentication; a decline is thrown
   * as the API's card error; a success saves the card when asked to.
   */
  async #afterAuthorization(
    result: IntentWithAttempts,
    method: PaymentMethod | undefined,
    origin: string | undefined,
  ): Promise<IntentWithAttempts> {
    const latest = result.attempts.at(-1);
    const authentications = this.#authentications;
    if (
      authentications !== undefined &&
      origin !== undefined &&
      result.intent.status === 'requires_payment_method' &&
      latest?.declineCode === 'authentication_required' &&
      latest.threeDSecureId === null &&
      (await this.#canAuthenticate(result.intent.merchantId))
    ) {
      const { merchantId, id } = result.intent;
      const required = await authentications.requireAction(merchantId, id, 'issuer');
      if (required !== undefined)
        return this.#authenticate(required.authentication, required.intent, origin, method);
    }
    throwIfDeclined(result, method);
    await this.#saveCard(result);
    return result;
  }

  /**
   * Asks the 3-D Secure server (no transaction open) and goes on from its answer: a challenge
   * waits for the card holder (requires_action); a frictionless success (or an issuer that cannot
   * authenticate) goes on to the authorization; a failure is the API's error.
   */
  async #authenticate(
    authentication: Authentication,
    intent: PaymentIntent,
    origin: string | undefined,
    method: PaymentMethod | undefined,
  ): Promise<IntentWithAttempts> {
    const authentications = this.#authentications;
    if (authentications === undefined) throw new Error('3-D Secure is not configured');
    const step = await authentications.ask(authentication, intent, origin ?? '');
    if (step.kind === 'challenge') return step.state;
    if (step.kind === 'failed') {
      throwIfDeclined(step.state, method);
      return step.state;
    }
    return this.#confirmAuthenticated(intent.merchantId, intent.id, step.authentication, origin);
  }

  /**
   * The authorization after an authentication: the decision again (now with what the
   * authentication showed), then an attempt sent with the authentication's data, preferring
   * connectors that can carry it. A retry resumes the open attempt.
   */
  async #confirmAuthenticated(
    merchantId: string,
    id: string,
    authentication: Authentication,
    origin: string | undefined,
  ): Promise<IntentWithAttempts> {
    const seen = await findIntent(this.#dependencies.database, merchantId, id, false);
    if (seen === undefined || seen.paymentMethodId === null) throw missingIntent(id);
    const method = await this.#requirePaymentMethod(merchantId, seen.paymentMethodId);
    const connectors = await this.#dependencies.settings.connectors(merchantId);
    const capable = await this.#candidates(merchantId, connectors, seen, method, undefined);
    // The cryptogram is only worth something to a connector that sends it on (a failover too).
    const carrying = capable.filter(
      (name) => this.#dependencies.connector(name)?.capabilities.threeDSecure === true,
    );
    const candidates =
      carriesAuthenticationData(authentication) && carrying.length > 0 ? carrying : capable;
    const decision = await this.#decide(seen, method, {
      authenticated: authentication.status === 'authenticated',
      liabilityShift: authentication.liabilityShift,
      eci: authentication.eci,
    });
    const sent = await this.#prepareAndSend(
      seen,
      { origin },
      candidates,
      method,
      decision,
      authentication.id,
    );
    if (sent === 'undecided') throw new Error('a decided authorization asked for a decision');
    return sent;
  }

  /**
   * The card holder came back from the issuer's challenge (the login-free return route): the
   * result is asked of the 3-D Secure server, and the authorization goes on when it succeeded.
   * Answers with the intent as it then stands; a decline is not an error here (the intent and
   * the redirect say what happened).
   */
  async completeAuthentication(id: string, origin: string): Promise<IntentWithAttempts> {
    const authentications = this.#authentications;
    if (authentications === undefined)
      throw new PaymentError('resource_missing', `No such 3-D Secure authentication: '${id}'`, {
        param: 'id',
      });
    const { step, intentId, merchantId } = await authentications.complete(id);
    const current = await this.retrieve(merchantId, intentId);
    const goesOn =
      current.intent.status === 'requires_action' ||
      current.attempts.some(
        (attempt) => attempt.threeDSecureId === id && isUnresolvedAttempt(attempt),
      );
    if (step?.kind === 'proceed' && goesOn) {
      try {
        await this.#confirmAuthenticated(merchantId, intentId, step.authentication, origin);
      } catch (error) {
        if (!(error instanceof PaymentError)) throw error;
      }
    }
    return this.retrieve(merchantId, intentId);
  }

  /** After a successful authorization with setup_future_usage, the card is saved to the customer. */
  async #saveCard({ intent }: IntentWithAttempts): Promise<void> {
    const customers = this.#dependencies.customers;
    if (
      customers === undefined ||
      intent.setupFutureUsage === null ||
      intent.customerId === null ||
      intent.paymentMethodId === null ||
      (intent.status !== 'succeeded' && intent.status !== 'requires_capture')
    )
      return;
    await customers.saveAfterPayment(intent.merchantId, intent.customerId, intent.paymentMethodId);
  }

  async retrieve(merchantId: string, id: string): Promise<IntentWithAttempts> {
    const found = await findIntentWithAttempts(this.#dependencies.database, merchantId, id);
    if (found === undefined) throw missingIntent(id);
    return found;
  }

  /**
   * The intent, for a caller that must also hold its client secret (a browser with the
   * publishable key): a wrong secret answers exactly like an intent that does not exist.
   */
  async retrieveWithClientSecret(
    merchantId: string,
    id: string,
    clientSecret: string,
  ): Promise<IntentWithAttempts> {
    const found = await findIntentWithAttempts(this.#dependencies.database, merchantId, id);
    if (found === undefined || !clientSecretAccepted(found.intent, clientSecret))
      throw missingIntent(id, clientSecret);
    return found;
  }

  async list(
    merchantId: string,
    options: IntentListOptions & { readonly customerId?: string },
  ): Promise<{ items: IntentWithAttempts[]; hasMore: boolean }> {
    const page = await listIntents(this.#dependencies.database, merchantId, options);
    return { items: await this.#withAttempts(page.intents), hasMore: page.hasMore };
  }

  /** Stripe's search of payment intents (src/search): one page of the matches, newest first. */
  async search(
    merchantId: string,
    request: SearchRequest,
  ): Promise<{
    items: IntentWithAttempts[];
    hasMore: boolean;
    nextPage: string | null;
    totalCount?: number;
  }> {
    const page = await searchPage(
      this.#dependencies.database,
      paymentIntentSearch,
      merchantId,
      request,
    );
    const items = await this.#withAttempts(page.rows.map(paymentIntents.fromRow));
    return { ...page, items };
  }

  async #withAttempts(intents: readonly PaymentIntent[]): Promise<IntentWithAttempts[]> {
    const attempts = await attemptsOf(
      this.#dependencies.database,
      intents.map((intent) => intent.id),
    );
    return intents.map((intent) => ({
      intent,
      attempts: attempts.filter((attempt) => attempt.paymentIntentId === intent.id),
    }));
  }

  /**
   * Confirms (authorizes, and captures when automatic). A confirm of an intent that is already
   * processing resumes its open attempt with the same PSP idempotency key.
   */
  async confirm(merchantId: string, id: string, given: ConfirmInput): Promise<IntentWithAttempts> {
    const seen = await findIntent(this.#dependencies.database, merchantId, id, false);
    if (seen === undefined || !clientSecretAccepted(seen, given.clientSecret))
      throw missingIntent(id, given.clientSecret);
    checkReceiptEmail(given.receiptEmail);
    checkReturnUrl(given.returnUrl, true);
    refuseTwoPaymentMethods(given);
    let input = given;
    if (given.paymentMethodData !== undefined) {
      // Refused before a card is stored for an intent that cannot be confirmed any more.
      moveIntent(id, seen.status, 'confirm');
      const stored = await storePaymentMethodData(
        this.#dependencies.vault,
        merchantId,
        given.paymentMethodData,
      );
      input = { ...given, paymentMethod: stored };
    }
    const paymentMethod = input.paymentMethod ?? seen.paymentMethodId;
    const method =
      paymentMethod === null
        ? undefined
        : await this.#requirePaymentMethod(merchantId, paymentMethod);
    await this.#dependencies.customers?.checkUse(merchantId, seen.customerId, paymentMethod);
    const connectors = await this.#dependencies.settings.connectors(merchantId);
    const candidates = await this.#candidates(
      merchantId,
      connectors,
      seen,
      method,
      input.connector ?? seen.connector ?? undefined,
    );
    // The decision reads the intent as this confirm leaves it (email, IP, 3-D Secure request).
    const confirmed = confirmedIntent(seen, input, paymentMethod);
    // An intent with an attempt open resumes it (its decision was made): no decision now, unless
    // that attempt has ended by the time the intent is locked.
    const decide = () => this.#decide(confirmed, method);
    const decision = awaitsAuthorization(seen) ? undefined : await decide();
    const sent = await this.#prepareAndSend(seen, input, candidates, method, decision);
    if (sent !== 'undecided') return sent;
    const decided = await this.#prepareAndSend(seen, input, candidates, method, await decide());
    if (decided === 'undecided') throw new Error('a decided confirm asked for a decision');
    return decided;
  }

  /**
   * Prepares the attempt (or, when the card holder must authenticate first, the authentication)
   * in one transaction, then sends it. `decision` undefined: only an open attempt may be resumed.
   * The review a decision asks for needs a connector that can hold the money (manual capture).
   */
  async #prepareAndSend(
    seen: PaymentIntent,
    input: ConfirmInput,
    candidates: readonly string[],
    method: PaymentMethod | undefined,
    decision: Decision | undefined,
    threeDSecureId: string | null = null,
  ): Promise<IntentWithAttempts | 'undecided'> {
    const { merchantId, customerId } = seen;
    // A confirm never changes the capture method: the intent as read decides the attempt's.
    const held = this.#holding(candidates, basisOf(seen, decision));
    const basis = { ...held.basis, threeDSecureId };
    const preparation = await this.#dependencies.database.transaction(async (tx) => {
      // The customer (an intent's never changes) before the intent: the order erasure locks in.
      if (customerId !== null)
        await this.#dependencies.customers?.holdForPayment(tx, merchantId, customerId);
      return this.#prepareAttempt(tx, merchantId, seen.id, input, held.candidates, basis, decision);
    });
    switch (preparation.kind) {
      case 'undecided':
        return 'undecided';
      case 'settled':
        return preparation.state;
      case 'authenticate':
        return this.#authenticate(
          preparation.authentication,
          preparation.intent,
          input.origin,
          method,
        );
      case 'send': {
        const result = await this.#authorizeFor(merchantId, customerId, () =>
          this.#authorize(merchantId, preparation.prepared, held.candidates, cardOf(method)),
        );
        return this.#afterAuthorization(result, method, input.origin);
      }
    }
  }

  /**
   * A review holds the money: only connectors that capture manually can take it. Where none can,
   * the payment is captured as asked and the review opens on the captured charge (Stripe's way).
   */
  #holding(
    candidates: readonly string[],
    basis: AttemptBasis,
  ): { candidates: readonly string[]; basis: AttemptBasis } {
    if (basis.risk?.action !== 'review' || basis.captureMethod !== 'manual')
      return { candidates, basis };
    const holding = candidates.filter((name) =>
      this.#dependencies.connector(name)?.capabilities.captureModes.includes('manual'),
    );
    if (holding.length > 0) return { candidates: holding, basis };
    return { candidates, basis: { ...basis, captureMethod: 'automatic' } };
  }

  async #prepareAttempt(
    tx: Queryable,
    merchantId: string,
    id: string,
    input: ConfirmInput,
    candidates: readonly string[],
    basis: AttemptBasis,
    decision: Decision | undefined,
  ): Promise<Preparation> {
    const intent = await findIntent(tx, merchantId, id, true);
    if (intent === undefined) throw missingIntent(id);
    const attempts = await attemptsOf(tx, [id]);
    if (awaitsAuthorization(intent)) {
      const open = attempts.findLast(
        (attempt) => !attempt.abandoned && isUnresolvedAttempt(attempt),
      );
      if (open !== undefined)
        return { kind: 'send', prepared: { intent, attempts, attempt: open, fresh: false } };
    }
    if (decision === undefined) return { kind: 'undecided' };
    // After an authentication: only the intent's current one, while the intent still waits for it.
    if (
      basis.threeDSecureId !== null &&
      (intent.status !== 'requires_action' ||
        !(await this.#authentications?.isCurrent(tx, intent.id, basis.threeDSecureId)))
    )
      return { kind: 'settled', state: { intent, attempts } };
    const authenticate = decision.authenticate;
    if (authenticate !== undefined && this.#authentications !== undefined) {
      const updated = await this.#applyConfirm(
        tx,
        intent,
        input,
        'request_action',
        intent.connector,
      );
      const authentication = await this.#authentications.open(
        tx,
        updated,
        authenticate.reason,
        authenticate.ruleId,
        merchantNow(this.#dependencies, merchantId),
      );
      return { kind: 'authenticate', intent: updated, authentication };
    }
    const started = await this.#startAttempt(tx, intent, input, candidates[0] as string, basis);
    const prepared = { ...started, attempts: [...attempts, started.attempt], fresh: true };
    return { kind: 'send', prepared };
  }

  /** Moves the (locked or just created) intent to processing with a new pending attempt. */
  async #startAttempt(
    tx: Queryable,
    intent: PaymentIntent,
    input: ConfirmInput,
    connector: string,
    basis: AttemptBasis,
  ): Promise<{ intent: PaymentIntent; attempt: Attempt }> {
    const updated = await this.#applyConfirm(tx, intent, input, 'confirm', connector);
    const attempt = newAttempt(
      updated,
      connector,
      merchantNow(this.#dependencies, intent.merchantId),
      basis,
    );
    await insertAttempt(tx, attempt);
    return { intent: updated, attempt };
  }

  /** Writes what a confirm gives (payment method, receipt email, risk options …) and its status. */
  async #applyConfirm(
    tx: Queryable,
    intent: PaymentIntent,
    input: ConfirmInput,
    action: 'confirm' | 'request_action',
    connector: string | null,
  ): Promise<PaymentIntent> {
    const id = intent.id;
    // Only an intent waiting for confirmation starts an authorization (the state table's confirm).
    const status = moveIntent(id, intent.status, action);
    const paymentMethod = input.paymentMethod ?? intent.paymentMethodId;
    if (paymentMethod === null) {
      throw new PaymentError(
        'parameter_invalid',
        'You cannot confirm this PaymentIntent because it has no payment method.',
        { param: 'payment_method', paymentIntentId: id },
      );
    }
    const confirmed = confirmedIntent(intent, input, paymentMethod);
    return startAuthorization.run(
      tx,
      id,
      {
        status,
        paymentMethodId: paymentMethod,
        connector,
        lastPaymentError: null,
        nextAction: null,
        setupFutureUsage: confirmed.setupFutureUsage,
        receiptEmail: confirmed.receiptEmail,
        returnUrl: confirmed.returnUrl,
        radarOptions: confirmed.radarOptions,
        requestThreeDSecure: confirmed.requestThreeDSecure,
      },
      merchantNow(this.#dependencies, intent.merchantId),
    );
  }

  /**
   * The connectors to try, in order: the requested one alone, else the merchant's routing rules
   * (or its priority order). Refuses at once when none can take the payment, or when every one
   * is refusing calls (nothing is written then).
   */
  async #candidates(
    merchantId: string,
    connectors: readonly MerchantConnector[],
    payment: { amount: bigint; currency: string; captureMethod: CaptureMode },
    card: CardFacts | undefined,
    requested: string | undefined,
  ): Promise<string[]> {
    const dependencies = this.#dependencies;
    const capable = capableConnectors(
      dependencies,
      connectors,
      payment.currency,
      payment.captureMethod,
      requested,
    );
    const routing = dependencies.routing;
    if (routing === undefined) return capable;
    const candidates =
      requested !== undefined
        ? capable
        : route(
            {
              amount: payment.amount,
              currency: payment.currency,
              paymentMethodType: 'card',
              captureMode: payment.captureMethod,
              cardBrand: card?.brand,
              cardCountry: card?.country ?? undefined,
            },
            (await routing.store.get(merchantId)).config,
            {
              connectors,
              capabilities: (name) => dependencies.connector(name)?.capabilities,
              isAvailable: routing.isAvailable,
              random: routing.random,
              successRates: routing.tracker,
            },
          );
    const first = candidates[0];
    if (first === undefined) {
      throw new PaymentError(
        'no_connector_available',
        `No connector allowed by this account's routing rules supports ${payment.currency} with capture_method ${payment.captureMethod}.`,
        { param: 'currency' },
      );
    }
    // Routing puts unavailable connectors last: if the first is unavailable, all are.
    if (!routing.isAvailable(first)) throw unavailable(first);
    return candidates;
  }

  /**
   * Authorizes the prepared attempt, failing over to the next candidate connector on a soft
   * decline, an unknown outcome (the attempt is abandoned: voided or refunded later if it turns
   * out charged) or a connector that refuses calls. Each try is a new attempt with its own PSP
   * idempotency key.
   */
  /**
   * An authorization of a customer's payment: the intent was written before any erasure of the
   * customer (the customer's row is held there), but the erasure may commit while the PSP is
   * called; what the authorization then records from its own copy (the events, with the receipt
   * email and the cardholder's name) is cleaned as the erasure cleans, once it is written.
   */
  async #authorizeFor(
    merchantId: string,
    customerId: string | null,
    authorize: () => Promise<IntentWithAttempts>,
  ): Promise<IntentWithAttempts> {
    const customers = this.#dependencies.customers;
    if (customerId === null || customers === undefined) return authorize();
    try {
      return await authorize();
    } finally {
      await customers.cleanIfErased(merchantId, customerId);
    }
  }

  async #authorize(
    merchantId: string,
    prepared: Prepared,
    candidates: readonly string[],
    card: ChargeCard | undefined,
  ): Promise<IntentWithAttempts> {
    let state = prepared;
    // Blocked by the risk decision: declined before any network saw it.
    if (isBlocked(prepared.attempt))
      return this.#recorder.record(
        merchantId,
        prepared.intent.id,
        prepared.attempt,
        blockedOutcome(),
        { synced: false, failIfNeverSeen: false },
        prepared,
        card,
      );
    for (let tries = 1; ; tries++) {
      const attempt = state.attempt;
      const sent = await this.#send(merchantId, state.intent, attempt);
      if (sent.outcome !== undefined)
        this.#dependencies.routing?.tracker.recordOutcome(attempt.connector, sent.outcome);
      const next =
        tries < attemptsPerConfirmMax && this.#mayFailOver(attempt.connector, sent)
          ? nextConnector(candidates, state.attempts)
          : undefined;
      if (next !== undefined) {
        const moved = await this.#failOver(merchantId, state, sent, next);
        // Someone else (a sync, a PSP webhook, a concurrent confirm) settled or abandoned the
        // attempt meanwhile: its result stands.
        if (moved === undefined) return this.retrieve(merchantId, state.intent.id);
        state = moved;
        continue;
      }
      if (sent.unavailable !== undefined) return this.#release(merchantId, state, sent.unavailable);
      return this.#recorder.record(
        merchantId,
        state.intent.id,
        attempt,
        sent.outcome,
        { synced: false, failIfNeverSeen: false },
        state,
        card,
      );
    }
  }

  async #send(merchantId: string, intent: PaymentIntent, attempt: Attempt): Promise<Sent> {
    const dependencies = this.#dependencies;
    const connector = connectorNamed(dependencies, attempt.connector);
    const credentials = await dependencies.settings.credentials(merchantId, attempt.connector);
    const card = await dependencies.vault.reveal(merchantId, intent.paymentMethodId as string);
    const threeDSecure = connector.capabilities.threeDSecure
      ? await this.#authenticationData(attempt)
      : undefined;
    dependencies.faults?.reach('before_psp_authorize');
    // Real time, not the clock's: how long the PSP took (shown on the dashboard's timeline).
    const startedMs = performance.now();
    try {
      const outcome = await connector.authorize(
        {
          reference: attempt.id,
          amount: attempt.amount,
          currency: attempt.currency,
          captureMode: attempt.captureMethod,
          card,
          description: intent.description ?? undefined,
          ...(threeDSecure === undefined ? {} : { threeDSecure }),
        },
        {
          credentials,
          idempotencyKey: attempt.pspIdempotencyKey,
          timeoutMs: dependencies.pspTimeoutMs,
        },
      );
      dependencies.faults?.reach('after_psp_authorize');
      return { outcome: { ...outcome, latencyMs: Math.round(performance.now() - startedMs) } };
    } catch (error) {
      if (error instanceof ConnectorUnavailableError) return { unavailable: error };
      throw error;
    }
  }

  /** The 3-D Secure data an attempt is sent with: its authentication's, when that carries one. */
  async #authenticationData(attempt: Attempt): Promise<ThreeDSecureData | undefined> {
    if (attempt.threeDSecureId === null || this.#authentications === undefined) return undefined;
    const found = await this.#authentications.find(
      this.#dependencies.database,
      attempt.threeDSecureId,
    );
    return found === undefined ? undefined : authenticationDataOf(found);
  }

  #mayFailOver(connector: string, sent: Sent): boolean {
    if (sent.unavailable !== undefined) return true;
    if (sent.outcome.status === 'unknown') return true;
    return (
      sent.outcome.status === 'failed' &&
      isRetryableDecline(connector, sent.outcome, this.#dependencies.routing?.declinePolicy)
    );
  }

  /**
   * Settles the attempt as failed (or abandoned, if it may have been charged) and starts the next
   * one, in one transaction; undefined when the attempt is no longer the intent's live one (a
   * sync, a PSP webhook or a concurrent confirm settled or abandoned it meanwhile).
   */
  async #failOver(
    merchantId: string,
    from: Prepared,
    sent: Sent,
    connector: string,
  ): Promise<Prepared | undefined> {
    const intentId = from.intent.id;
    return this.#dependencies.database.transaction(async (tx) => {
      const { intent, attempts, attempt } = await lockIntentAndAttempt(
        tx,
        merchantId,
        intentId,
        from.attempt.id,
      );
      if (!isLiveAttempt(intent, attempts, attempt) || !isUnresolvedAttempt(attempt))
        return undefined;
      moveIntent(intentId, intent.status, 'fail_over');
      const settled = await settleAttempt.run(
        tx,
        attempt.id,
        settledForFailover(attempt, sent, from.fresh),
        merchantNow(this.#dependencies, intent.merchantId),
      );
      const next = newAttempt(
        intent,
        connector,
        merchantNow(this.#dependencies, intent.merchantId),
        attempt,
      );
      await insertAttempt(tx, next);
      const updated = await switchConnector.run(
        tx,
        intentId,
        { connector },
        merchantNow(this.#dependencies, intent.merchantId),
      );
      return {
        intent: updated,
        attempts: [
          ...attempts.map((candidate) => (candidate.id === settled.id ? settled : candidate)),
          next,
        ],
        attempt: next,
        fresh: true,
      };
    });
  }

  /**
   * The connector refused the call and no other can take it: the caller gets a 503. An attempt
   * this request created reached no PSP: it fails and the intent can be confirmed again. A resumed
   * one may have reached its PSP earlier: it stays as it is (processing), for a retry or a sync.
   */
  async #release(
    merchantId: string,
    prepared: Prepared,
    error: ConnectorUnavailableError,
  ): Promise<never> {
    const intentId = prepared.intent.id;
    if (prepared.fresh) {
      await this.#dependencies.database.transaction(async (tx) => {
        const { intent, attempts, attempt } = await lockIntentAndAttempt(
          tx,
          merchantId,
          intentId,
          prepared.attempt.id,
        );
        if (attempt.status !== 'pending' || !isLiveAttempt(intent, attempts, attempt)) return;
        await settleAttempt.run(
          tx,
          attempt.id,
          settledForFailover(attempt, { unavailable: error }, true),
          merchantNow(this.#dependencies, merchantId),
        );
        await moveStatus.run(
          tx,
          intentId,
          { status: moveIntent(intentId, intent.status, 'release') },
          merchantNow(this.#dependencies, merchantId),
        );
      });
    }
    throw unavailable(error.connector, error.retryAfterSeconds, intentId);
  }

  /**
   * Learns the outcome of everything unresolved on this intent by asking the PSP: an
   * authorization, a capture or cancel in flight, refunds in flight.
   */
  async sync(merchantId: string, id: string): Promise<IntentWithAttempts> {
    const dependencies = this.#dependencies;
    const { intent: seen, attempts } = await this.retrieve(merchantId, id);
    for (const attempt of attempts.filter(isUnresolvedAttempt)) {
      // A blocked attempt a crash left pending never reached a PSP: its outcome is the block.
      const outcome = isBlocked(attempt)
        ? blockedOutcome()
        : await this.#askPsp(merchantId, attempt);
      const neverSeen =
        merchantNow(dependencies, merchantId).getTime() - attempt.createdAt.getTime() >
        dependencies.neverSeenAfterMs;
      // Whether the outcome is the payment's or an orphan's is decided by the recorder under the
      // intent's lock: a failover may have abandoned the attempt since it was read here.
      await this.#recorder.record(merchantId, id, attempt, outcome, {
        synced: true,
        failIfNeverSeen: neverSeen,
      });
    }
    await this.captures.resume(merchantId, id);
    await this.refunds.resumeAll(merchantId, id);
    const synced = await this.retrieve(merchantId, id);
    // An authorization learned here (status sync, a PSP webhook) saves the card as a confirm would.
    if (awaitsAuthorization(seen)) await this.#saveCard(synced);
    return synced;
  }

  async #askPsp(merchantId: string, attempt: Attempt): Promise<PaymentOutcome> {
    const connector = connectorNamed(this.#dependencies, attempt.connector);
    const credentials = await this.#dependencies.settings.credentials(
      merchantId,
      attempt.connector,
    );
    return connector.sync(
      {
        pspReference: attempt.pspReference ?? undefined,
        reference: attempt.id,
        amount: attempt.amount,
        currency: attempt.currency,
      },
      {
        credentials,
        idempotencyKey: `sync_${attempt.id}`,
        timeoutMs: this.#dependencies.pspTimeoutMs,
      },
    );
  }

  /**
   * Capture, cancel and refund act on a settled authorization: one whose outcome is still
   * unknown is synced first (it may turn out authorized, captured or failed).
   */
  async #settleFirst(merchantId: string, intentId: string): Promise<void> {
    const intent = await findIntent(this.#dependencies.database, merchantId, intentId, false);
    if (intent !== undefined && awaitsAuthorization(intent)) await this.sync(merchantId, intentId);
  }

  async capture(
    merchantId: string,
    id: string,
    amountToCapture: unknown,
  ): Promise<IntentWithAttempts> {
    await this.#settleFirst(merchantId, id);
    return this.captures.capture(merchantId, id, amountToCapture);
  }

  async cancel(
    merchantId: string,
    id: string,
    reason: string | undefined,
  ): Promise<IntentWithAttempts> {
    await this.#settleFirst(merchantId, id);
    return this.captures.cancel(merchantId, id, reason);
  }

  async refund(merchantId: string, input: CreateRefundInput, bind?: BindResource): Promise<Refund> {
    const intentId = await this.refunds.intentOf(merchantId, input);
    await this.#settleFirst(merchantId, intentId);
    return this.refunds.create(merchantId, intentId, input, bind);
  }

  // The requests of the API, retried or not. A retry that took over a crashed request's key
  // continues from where that request stopped, never starting over: it answers with the
  // resource as it stands once the first try's work is done.

  /** Creates (and with `confirm`, confirms) an intent; a resumed retry finishes the first try's. */
  async createIntent(
    merchantId: string,
    input: CreateIntentInput,
    request: IdempotentRequest = {},
  ): Promise<IntentWithAttempts> {
    const existing = resumedResourceId(request);
    if (existing === undefined) return this.create(merchantId, input, request.bind);
    const current = await this.retrieve(merchantId, existing);
    const unfinished =
      current.intent.status === 'processing' ||
      authenticationUnasked(current.intent) ||
      (input.confirm === true && current.intent.status === 'requires_confirmation');
    return unfinished ? this.confirm(merchantId, existing, { origin: input.origin }) : current;
  }

  async confirmIntent(
    merchantId: string,
    id: string,
    input: ConfirmInput,
    request: IdempotentRequest = {},
  ): Promise<IntentWithAttempts> {
    if (request.resumed === true) {
      const current = await this.retrieve(merchantId, id);
      if (!confirmingStatuses.has(current.intent.status) && !authenticationUnasked(current.intent))
        return current;
    }
    return this.confirm(merchantId, id, input);
  }

  async captureIntent(
    merchantId: string,
    id: string,
    amountToCapture: unknown,
    request: IdempotentRequest = {},
  ): Promise<IntentWithAttempts> {
    if (request.resumed === true) {
      const current = await this.retrieve(merchantId, id);
      if (current.intent.status === 'succeeded') return current;
    }
    return this.capture(merchantId, id, amountToCapture);
  }

  async cancelIntent(
    merchantId: string,
    id: string,
    reason: string | undefined,
    request: IdempotentRequest = {},
  ): Promise<IntentWithAttempts> {
    if (request.resumed === true) {
      const current = await this.retrieve(merchantId, id);
      if (current.intent.status === 'canceled') return current;
    }
    return this.cancel(merchantId, id, reason);
  }

  /**
   * Updates an intent (Stripe's POST /v1/payment_intents/:id): amount, currency, payment method
   * and capture method before confirmation; metadata (merged) and description in every status.
   * One transaction under the intent's lock; a retried request applies the same change again,
   * which leaves the same intent.
   */
  async updateIntent(
    merchantId: string,
    id: string,
    input: UpdateIntentInput,
  ): Promise<IntentWithAttempts> {
    const seen = await findIntent(this.#dependencies.database, merchantId, id, false);
    if (seen === undefined) throw missingIntent(id);
    // Checked before the transaction: PGlite has one session (see create).
    checkUpdate(seen, input);
    if (input.paymentMethod !== undefined)
      await this.#requirePaymentMethod(merchantId, input.paymentMethod);
    await this.#dependencies.database.transaction(async (tx) => {
      // A new card on a customer's intent is the customer's card: held as a confirm holds it.
      if (input.paymentMethod !== undefined && seen.customerId !== null)
        await this.#dependencies.customers?.holdForPayment(tx, merchantId, seen.customerId);
      const intent = await findIntent(tx, merchantId, id, true);
      if (intent === undefined) throw missingIntent(id);
      await applyUpdate(tx, intent, input, merchantNow(this.#dependencies, merchantId));
    });
    return this.retrieve(merchantId, id);
  }

  /** Creates a refund; a resumed retry finishes the refund its first try created. */
  async createRefund(
    merchantId: string,
    input: CreateRefundInput,
    request: IdempotentRequest = {},
  ): Promise<Refund> {
    const existing = resumedResourceId(request);
    if (existing !== undefined) return this.refunds.resume(merchantId, existing);
    return this.refund(merchantId, input, request.bind);
  }

  async listReviews(
    merchantId: string,
    filters: ReviewListFilters,
    page: PageRequest<string>,
  ): Promise<{ items: Review[]; hasMore: boolean }> {
    return listReviews(this.#dependencies.database, merchantId, filters, page);
  }

  async retrieveReview(merchantId: string, id: string): Promise<Review> {
    const review = await findReview(this.#dependencies.database, merchantId, id);
    if (review === undefined) throw noSuchReview(id);
    return review;
  }

  /**
   * Approves an open review and, when the payment's capture method is automatic, captures it
   * (the review held it uncaptured). A retry after a crash finds the review approved and
   * finishes the capture; a review closed otherwise cannot be approved.
   */
  async approveReview(merchantId: string, id: string): Promise<Review> {
    const found = await this.retrieveReview(merchantId, id);
    const before = await this.retrieve(merchantId, found.paymentIntentId);
    // A payment canceled (or being voided) is not approved, whatever its review still says.
    const ended =
      before.intent.status === 'canceled' || before.intent.pendingOperation?.kind === 'cancel';
    if ((!found.open && found.closedReason !== 'approved') || ended)
      throw new PaymentError(
        'review_not_open',
        `This review is closed (${found.open ? 'its payment was canceled' : (found.closedReason ?? 'unknown')}); only an open review can be approved.`,
        { param: 'id' },
      );
    if (found.open) {
      const now = merchantNow(this.#dependencies, merchantId);
      await this.#dependencies.database.transaction((tx) =>
        closeIfOpen(tx, merchantId, id, 'approved', now),
      );
      this.#dependencies.events?.notify();
    }
    const { intent } = await this.retrieve(merchantId, found.paymentIntentId);
    if (
      intent.captureMethod === 'automatic' &&
      intent.status === 'requires_capture' &&
      intent.pendingOperation === null
    ) {
      try {
        await this.capture(merchantId, intent.id, undefined);
      } catch (error) {
        // A concurrent approval captured it first: that is this approval's effect too.
        const now = await this.retrieve(merchantId, intent.id);
        if (!(error instanceof PaymentError) || now.intent.status !== 'succeeded') throw error;
      }
    }
    return this.retrieveReview(merchantId, id);
  }

  async retrieveRefund(merchantId: string, id: string): Promise<Refund> {
    return this.refunds.retrieve(merchantId, id);
  }

  async listRefunds(
    merchantId: string,
    options: RefundListOptions & { readonly chargeId?: string },
  ): Promise<{ refunds: Refund[]; hasMore: boolean }> {
    return this.refunds.list(merchantId, options);
  }

  /** Updates a refund's metadata (Stripe's merge semantics). */
  async updateRefund(merchantId: string, id: string, metadata: MetadataChange): Promise<Refund> {
    return this.refunds.update(merchantId, id, metadata);
  }

  /** Cancels a refund that was not sent to the PSP yet. */
  async cancelRefund(merchantId: string, id: string): Promise<Refund> {
    return this.refunds.cancel(merchantId, id);
  }

  async retrieveCharge(merchantId: string, id: string): Promise<ChargeView> {
    return this.charges.retrieve(merchantId, id);
  }

  async searchCharges(merchantId: string, request: SearchRequest) {
    return this.charges.search(merchantId, request);
  }

  async listCharges(
    merchantId: string,
    options: ChargeListOptions,
  ): Promise<{ charges: ChargeView[]; hasMore: boolean }> {
    return this.charges.list(merchantId, options);
  }

  /** A merchant's connectors in priority order, as stored (credentials opened). */
  async connectorSettings(merchantId: string): Promise<MerchantConnector[]> {
    return this.settings.storedConnectors(merchantId);
  }

  async setConnector(merchantId: string, setting: MerchantConnector): Promise<void> {
    await this.settings.setConnector(merchantId, setting);
  }

  /** A merchant's prices, per currency, the '*' fallback last. */
  async prices(merchantId: string): Promise<MerchantPrice[]> {
    return this.settings.storedPrices(merchantId);
  }

  async setPrice(merchantId: string, currency: string, price: Price): Promise<void> {
    await this.settings.setPrice(merchantId, currency, price);
  }

  /** Stripe's balance object: available and pending per currency, read from the ledger. */
  async balance(merchantId: string): Promise<{
    available: { amount: bigint; currency: string }[];
    pending: { amount: bigint; currency: string }[];
  }> {
    const { accounts } = await this.#dependencies.ledger.listAccounts({
      owner: merchantId,
      limit: 100,
    });
    const available: { amount: bigint; currency: string }[] = [];
    const pending: { amount: bigint; currency: string }[] = [];
    for (const account of accounts) {
      if (account.id === accountIds.merchantAvailable(merchantId, account.currency))
        available.push({ amount: account.balance.posted, currency: account.currency });
      if (account.id === accountIds.merchantPending(merchantId, account.currency))
        pending.push({ amount: account.balance.posted, currency: account.currency });
    }
    return { available, pending };
  }

  async #requirePaymentMethod(merchantId: string, paymentMethod: string): Promise<CardFacts> {
    const method = await this.#dependencies.vault.get(merchantId, paymentMethod);
    if (method === undefined)
      throw new PaymentError('resource_missing', noSuchPaymentMethodMessage(paymentMethod), {
        param: 'payment_method',
      });
    return method;
  }
}

/**
 * The enabled connectors (by priority) that can take this currency and capture method, or the
 * requested one alone; a clear error when there is none.
 */
function capableConnectors(
  dependencies: PaymentsDependencies,
  connectors: readonly MerchantConnector[],
  currency: string,
  captureMethod: CaptureMode,
  requested: string | undefined,
): string[] {
  const settings = connectors.filter(
    (setting) => setting.enabled && (requested === undefined || setting.connector === requested),
  );
  if (requested !== undefined && settings.length === 0) {
    throw new PaymentError(
      'no_connector_available',
      `The connector '${requested}' is not enabled for this account.`,
      { param: 'connector' },
    );
  }
  const capable: string[] = [];
  for (const setting of [...settings].sort((a, b) => a.priority - b.priority)) {
    const capabilities = dependencies.connector(setting.connector)?.capabilities;
    if (capabilities === undefined) continue;
    const problem = !capabilities.currencies.includes(currency)
      ? 'currency'
      : !capabilities.captureModes.includes(captureMethod)
        ? 'capture_method'
        : undefined;
    if (problem === undefined) capable.push(setting.connector);
    else if (requested !== undefined) {
      const value = problem === 'currency' ? currency : captureMethod;
      throw new PaymentError(
        'capability_not_supported',
        `The connector '${requested}' does not support ${problem} '${value}'.`,
        { param: problem },
      );
    }
  }
  if (capable.length === 0)
    throw new PaymentError(
      'no_connector_available',
      `No enabled connector supports ${currency} with capture_method ${captureMethod}.`,
      { param: 'currency' },
    );
  return capable;
}

/** The first candidate this intent has not tried yet. */
function nextConnector(
  candidates: readonly string[],
  attempts: readonly Attempt[],
): string | undefined {
  return candidates.find(
    (candidate) => !attempts.some((attempt) => attempt.connector === candidate),
  );
}

/**
 * How an attempt is left when Payrail moves on to another connector. Refused by its connector,
 * a `fresh` attempt (created by this request) reached no PSP and fails; a resumed one may have
 * been charged before, so like an unknown outcome it is abandoned, for sync to void or refund.
 */
function settledForFailover(attempt: Attempt, sent: Sent, fresh: boolean): SettledAttempt {
  const unchanged: SettledAttempt = {
    status: attempt.status,
    pspReference: attempt.pspReference,
    declineCode: attempt.declineCode,
    pspCode: attempt.pspCode,
    failureMessage: attempt.failureMessage,
    abandoned: attempt.abandoned,
    pspLatencyMs: sent.outcome?.latencyMs ?? attempt.pspLatencyMs,
  };
  if (sent.unavailable !== undefined && fresh) {
    return {
      ...unchanged,
      status: moveAttempt(attempt.id, attempt.status, 'failed'),
      pspCode: sent.unavailable.reason,
      failureMessage: `Not sent: ${sent.unavailable.message}`,
    };
  }
  if (sent.unavailable !== undefined) {
    return {
      ...unchanged,
      status: moveAttempt(attempt.id, attempt.status, 'unknown'),
      abandoned: true,
    };
  }
  const outcome = sent.outcome;
  const common = {
    ...unchanged,
    pspReference: outcome.pspReference ?? attempt.pspReference,
    pspCode: outcome.pspCode ?? null,
    failureMessage: outcome.message ?? null,
  };
  if (outcome.status === 'failed')
    return {
      ...common,
      status: moveAttempt(attempt.id, attempt.status, 'failed'),
      declineCode: outcome.declineCode ?? null,
    };
  return { ...common, status: moveAttempt(attempt.id, attempt.status, 'unknown'), abandoned: true };
}

function unavailable(
  connector: string,
  retryAfterSeconds = 1,
  paymentIntentId?: string,
): PaymentError {
  return new PaymentError(
    'connector_unavailable',
    `No connector can take this payment right now ('${connector}' is refusing calls); nothing was sent. Retry later.`,
    { retryAfterSeconds, paymentIntentId },
  );
}

/** What an attempt takes over from the decision before it (a failover's from the attempt it replaces). */
type AttemptBasis = Pick<Attempt, 'risk' | 'threeDSecureId' | 'captureMethod'>;

/** A new pending attempt; its PSP idempotency key derives from its id, so every retry reuses the key. */
function newAttempt(
  intent: PaymentIntent,
  connector: string,
  createdAt: Date,
  basis: AttemptBasis = {
    risk: null,
    threeDSecureId: null,
    captureMethod: intent.captureMethod,
  },
): Attempt {
  const id = newSortableId('pa');
  return {
    id,
    paymentIntentId: intent.id,
    merchantId: intent.merchantId,
    connector,
    status: 'pending',
    amount: intent.amount,
    currency: intent.currency,
    captureMethod: basis.captureMethod,
    pspIdempotencyKey: `payrail_${id}`,
    pspReference: null,
    amountAuthorized: 0n,
    amountCaptured: 0n,
    declineCode: null,
    pspCode: null,
    failureMessage: null,
    syncCount: 0,
    abandoned: false,
    risk: basis.risk,
    threeDSecureId: basis.threeDSecureId,
    pspLatencyMs: null,
    createdAt,
  };
}

/**
 * No such intent for this merchant. With a client secret (a browser's request), the same answer
 * for a wrong secret as for a missing intent, so the caller learns nothing about which exists.
 */
export function missingIntent(id: string, clientSecret?: string): PaymentError {
  if (clientSecret !== undefined)
    return new PaymentError(
      'resource_missing',
      'The client_secret provided does not match any associated PaymentIntent on this account.',
      { param: 'client_secret' },
    );
  return new PaymentError('resource_missing', `No such payment_intent: '${id}'`, { param: 'id' });
}

/** No client secret given (a secret key's request), or the intent's own. */
function clientSecretAccepted(intent: PaymentIntent, given: string | undefined): boolean {
  return given === undefined || clientSecretMatches(intent.clientSecret, given);
}

/** Stripe takes a payment method by id or inline (`payment_method_data`), not both. */
function refuseTwoPaymentMethods(input: {
  readonly paymentMethod?: string;
  readonly paymentMethodData?: PaymentMethodData;
}): void {
  if (input.paymentMethod !== undefined && input.paymentMethodData !== undefined)
    throw new PaymentError(
      'parameters_exclusive',
      'You may only specify one of these parameters: payment_method, payment_method_data.',
      { param: 'payment_method_data' },
    );
}

/** A decline is recorded (the intent goes back to requires_payment_method) and answered as a card error. */
function throwIfDeclined(result: IntentWithAttempts, method: PaymentMethod | undefined): void {
  const error = result.intent.lastPaymentError;
  if (result.intent.status !== 'requires_payment_method' || error === null) return;
  if (error.code === 'payment_intent_authentication_failure')
    throw new PaymentError('payment_intent_authentication_failure', error.message, {
      paymentIntentId: result.intent.id,
      paymentIntent: result,
      paymentMethod: method,
    });
  throw new PaymentError(cardErrorCode(error.decline_code ?? error.code), error.message, {
    declineCode: error.decline_code,
    paymentIntentId: result.intent.id,
    paymentIntent: result,
    paymentMethod: method,
  });
}

/**
 * An intent a crashed request left in requires_action before the 3-D Secure server was asked
 * (no next action to show): its retry confirms again, which starts a new authentication.
 */
function authenticationUnasked(intent: PaymentIntent): boolean {
  return intent.status === 'requires_action' && intent.nextAction === null;
}

/** The intent as a confirm leaves it: what it gives replaces what the intent had. */
function confirmedIntent(
  intent: PaymentIntent,
  input: ConfirmInput,
  paymentMethod: string | null,
): PaymentIntent {
  return {
    ...intent,
    paymentMethodId: paymentMethod,
    setupFutureUsage: input.setupFutureUsage ?? intent.setupFutureUsage,
    // Stripe's confirm may set the receipt email ('' clears it) and gives the return URL.
    receiptEmail:
      input.receiptEmail === undefined
        ? intent.receiptEmail
        : (checkReceiptEmail(input.receiptEmail) ?? null),
    returnUrl: input.returnUrl ?? intent.returnUrl,
    radarOptions:
      input.radarOptions === undefined
        ? intent.radarOptions
        : checkRadarOptions(input.radarOptions),
    requestThreeDSecure: strongerRequest(
      intent.requestThreeDSecure,
      input.paymentMethodOptions?.card?.request_three_d_secure,
    ),
  };
}

const requestStrength: Readonly<Record<RequestThreeDSecure, number>> = {
  automatic: 0,
  any: 1,
  challenge: 2,
};

/**
 * A confirm may ask for more 3-D Secure than the intent does, never less: a browser confirming
 * with the publishable key cannot switch off the authentication its merchant asked for.
 */
function strongerRequest(
  current: RequestThreeDSecure,
  given: RequestThreeDSecure | undefined,
): RequestThreeDSecure {
  return given !== undefined && requestStrength[given] > requestStrength[current] ? given : current;
}

/** The attempt a decision lets through: its record, and manual capture when a review holds it. */
function basisOf(intent: PaymentIntent, decision: Decision | undefined): AttemptBasis {
  return {
    risk: decision?.risk ?? null,
    threeDSecureId: null,
    captureMethod: captureMethodFor(intent, decision?.risk),
  };
}
