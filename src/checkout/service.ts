// Hosted checkout: Stripe's Checkout Sessions and Payment Links, and what the hosted page
// /pay/<session> does (src/http/routes/pay.ts renders it). Domain code: no HTTP.
//
// A session pays through at most one PaymentIntent. It is created when the buyer first submits a
// card, and attached to the session in the transaction that inserts it (only while the session is
// open and has none): a concurrent submit loses that race, rolls its intent back and confirms the
// winner's, so every submit of a session confirms the same intent, and the payments service
// makes one charge of it at most (a confirm of an intent already processing resumes its attempt).
// A decline leaves the intent waiting for another card, as Stripe's does; the buyer retries on it.
//
// The session ends once: complete when its intent is authorized (succeeded, or requires_capture
// under manual capture), expired at expires_at (the merchant's clock) or by the API. Each end is
// one UPDATE … WHERE status = 'open' with its event in the same transaction. An intent that may
// still be paid (processing) keeps its session open until it ends; one waiting for a card or for
// 3-D Secure is canceled before the session expires, so an expired session is never paid.
import crypto from 'node:crypto';
import { systemClock, clockSql, type Clock } from '../clock.ts';
import type { CustomersService } from '../customers/service.ts';
import { insertEvents, newEvent, type EventType } from '../events/events.ts';
import { newSortableId, randomBase62 } from '../ids.ts';
import {
  mergeMetadata as mergeMetadataWith,
  metadataKeysMax,
  type MetadataChange,
} from '../metadata.ts';
import { presentCheckoutSession } from '../api-objects/checkout-session.ts';
import { DomainError } from '../errors.ts';
import { checkReceiptEmail } from '../payments/intent-parameters.ts';
import type { PaymentsService } from '../payments/service.ts';
import type { PaymentIntent } from '../payments/types.ts';
import type { Database, Queryable } from '../storage/database.ts';
import { keysetPage, type PageRequest, type TimeRange } from '../storage/pagination.ts';
import type { Vault } from '../vault/index.ts';
import { CheckoutError, invalid, noSuchLink, noSuchSession } from './errors.ts';
import { priceLineItems, type LineItemInput } from './line-items.ts';
import { checkoutSessions, paymentLinks } from './tables.ts';
import type {
  AfterCompletion,
  CheckoutSession,
  CheckoutSessionStatus,
  LineItem,
  Metadata,
  PaymentIntentData,
  PaymentLink,
} from './types.ts';

export type Page<Item> = { readonly items: Item[]; readonly hasMore: boolean };

/** Line items with what presenting them needs (their currency, when they were made). */
export type ItemsPage = Page<LineItem> & { readonly currency: string; readonly created: Date };

/** Stripe's bounds on expires_at: 30 minutes to 24 hours after creation. */
export const expiresAfterMinMs = 30 * 60_000;
export const expiresAfterMaxMs = 24 * 3_600_000;

/** Stripe's placeholder in success_url, replaced by the session's id. */
export const sessionIdPlaceholder = '{CHECKOUT_SESSION_ID}';

export type CreateSessionInput = {
  readonly mode: string;
  readonly lineItems?: readonly LineItemInput[];
  readonly successUrl?: string;
  readonly cancelUrl?: string;
  /** Unix seconds. */
  readonly expiresAt?: number;
  readonly customer?: string;
  readonly customerEmail?: string;
  readonly clientReferenceId?: string;
  readonly metadata?: Metadata;
  readonly paymentIntentData?: PaymentIntentData;
};

export type SessionListFilters = {
  readonly paymentIntent?: string;
  readonly paymentLink?: string;
  readonly status?: CheckoutSessionStatus;
  readonly customer?: string;
  readonly created?: TimeRange;
};

export type CreateLinkInput = {
  readonly lineItems?: readonly LineItemInput[];
  readonly afterCompletion?: AfterCompletion;
  readonly active?: boolean;
  readonly metadata?: Metadata;
  readonly inactiveMessage?: string;
  readonly paymentIntentData?: PaymentIntentData;
};

export type UpdateLinkInput = {
  readonly active?: boolean;
  readonly afterCompletion?: AfterCompletion;
  readonly metadata?: Metadata;
  readonly inactiveMessage?: string;
};

/** What the buyer typed into the hosted form (text as posted; checked here). */
export type CardForm = {
  readonly token?: string;
  readonly cardNumber?: string;
  readonly expiry?: string;
  readonly expMonth?: string;
  readonly expYear?: string;
  readonly cvc?: string;
  readonly name?: string;
  readonly email?: string;
};

/** What the hosted page shows for a session, as it stands. */
export type HostedView =
  | { readonly kind: 'missing' }
  | { readonly kind: 'expired'; readonly session: CheckoutSession; readonly merchant: string }
  | {
      readonly kind: 'complete';
      readonly session: CheckoutSession;
      readonly merchant: string;
      /** success_url with the session's id in it; null: Payrail's own confirmation. */
      readonly redirect: string | null;
      readonly message: string | null;
    }
  | {
      readonly kind: 'authenticate';
      readonly session: CheckoutSession;
      readonly merchant: string;
      /** The issuer's 3-D Secure page. */
      readonly redirect: string;
    }
  | { readonly kind: 'processing'; readonly session: CheckoutSession; readonly merchant: string }
  | {
      readonly kind: 'form';
      readonly session: CheckoutSession;
      readonly merchant: string;
      /** Why the last try failed (a decline, a failed authentication), for the buyer. */
      readonly error: string | null;
      /** The form field the error is about (its id), focused and marked invalid. */
      readonly errorField: FormField | null;
      /** The session knows no email: the form asks for one. */
      readonly askEmail: boolean;
      /** A test merchant's page: it says that no real money moves. */
      readonly testMode: boolean;
    };

/** The hosted form's fields, by their id and name. */
export type FormField = 'email' | 'card_number' | 'expiry' | 'cvc' | 'name';

/** The field a vault error names (`card[number]`, `card[exp_month]` …). */
function fieldOfParam(param: string | undefined): FormField {
  if (param === undefined) return 'card_number';
  if (param.includes('exp_')) return 'expiry';
  if (param.includes('cvc')) return 'cvc';
  return 'card_number';
}

/** The answer to a submitted form: go (back) to the page, or the form again with a message. */
export type SubmitOutcome =
  | { readonly kind: 'see_page' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'form_expired' }
  | {
      readonly kind: 'refused';
      readonly view: HostedView & { kind: 'form' };
      readonly status: number;
    };

export type CheckoutDependencies = {
  readonly database: Database;
  readonly payments: PaymentsService;
  readonly vault: Vault;
  readonly customers: CustomersService;
  /** The merchant's name, as the page shows it. */
  readonly merchantName: (merchantId: string) => Promise<string | undefined>;
  /** Whether the merchant is live; the page of a test merchant says no real money moves. */
  readonly livemode?: (merchantId: string) => Promise<boolean | undefined>;
  readonly clock?: Clock;
  /** Told after a transaction wrote events (the bus relays them sooner). */
  readonly events?: { notify(): void };
};

const insertSession = checkoutSessions.insert();
const insertLink = paymentLinks.insert();
const updateLinkFields = paymentLinks.update([
  'active',
  'afterCompletion',
  'metadata',
  'inactiveMessage',
]);
const noteDetails = checkoutSessions.update(['customerDetails']);

const endSql = (status: 'complete' | 'expired', column: string) =>
  `UPDATE checkout_sessions SET status = '${status}', payment_status = $2, ${column} = $3,
          updated_at = $3
    WHERE id = $1 AND status = 'open' AND payment_intent_id IS NOT DISTINCT FROM $4
    RETURNING *`;
const completeSql = endSql('complete', 'completed_at');
const expireSql = endSql('expired', 'expired_at');
const attachSql = `UPDATE checkout_sessions SET payment_intent_id = $2, updated_at = $3
  WHERE id = $1 AND status = 'open' AND payment_intent_id IS NULL`;

/** The session had an intent attached by another submit meanwhile: confirm that one. */
class AttachLost extends Error {}

/** An intent that paid: authorized (and captured, unless the capture is manual). */
function paid(intent: PaymentIntent): boolean {
  return intent.status === 'succeeded' || intent.status === 'requires_capture';
}

/** An intent that can still be canceled before the session expires. */
function waitingForBuyer(intent: PaymentIntent): boolean {
  return (
    intent.status === 'requires_payment_method' ||
    intent.status === 'requires_confirmation' ||
    intent.status === 'requires_action'
  );
}

function checkUrl(value: string | undefined, param: string): string | null {
  if (value === undefined) return null;
  let url: URL | undefined;
  try {
    url = value.length <= 2048 ? new URL(value.replaceAll(sessionIdPlaceholder, 'x')) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:'))
    throw invalid(
      `Invalid ${param}: it must be an absolute http or https URL of at most 2048 characters.`,
      param,
    );
  return value;
}

function checkIntentData(data: PaymentIntentData | undefined): PaymentIntentData {
  if (data === undefined) return {};
  const email = checkReceiptEmail(data.receiptEmail);
  return {
    ...(data.captureMethod === undefined ? {} : { captureMethod: data.captureMethod }),
    ...(data.description === undefined ? {} : { description: data.description }),
    ...(data.metadata === undefined ? {} : { metadata: mergeMetadata({}, data.metadata) }),
    ...(email === undefined || email === null ? {} : { receiptEmail: email }),
  };
}

const mergeMetadata = (current: Metadata, change: MetadataChange) =>
  mergeMetadataWith(current, change, (count) =>
    invalid(`Metadata may have at most ${metadataKeysMax} keys (${count} given).`, 'metadata'),
  );

/**
 * What a buyer reads of a failed try, as Stripe Checkout words it: the issuer's own text (a PSP's
 * "Refused") says nothing useful, and a lost or stolen card is shown as a plain decline.
 */
export function buyerMessage(error: { code: string; decline_code?: string }): string {
  const reason = error.decline_code ?? error.code;
  switch (reason) {
    case 'insufficient_funds':
      return 'Your card has insufficient funds. Try another card.';
    case 'expired_card':
      return 'Your card has expired. Try another card.';
    case 'incorrect_cvc':
      return "Your card's security code is incorrect.";
    case 'processing_error':
      return 'An error occurred while processing your card. Try again in a little bit.';
    case 'payment_intent_authentication_failure':
      return 'We could not authenticate your payment with your bank. Try again or use another card.';
    default:
      return 'Your card was declined. Try another card.';
  }
}

/** Digits only, from what a person may type (spaces, dashes). */
const digitsOf = (text: string) => text.replace(/[\s-]/g, '');

/** `MM/YY`, `MM / YYYY`, `MMYY`, or separate fields: month and four-digit year, or undefined. */
export function parseExpiry(form: CardForm): { month: number; year: number } | undefined {
  let month: string | undefined;
  let year: string | undefined;
  if (form.expiry !== undefined && form.expiry.trim() !== '') {
    const match = /^\s*(\d{1,2})\s*[/\-. ]?\s*(\d{2}|\d{4})\s*$/.exec(form.expiry);
    if (match === null) return undefined;
    [, month, year] = match;
  } else {
    month = form.expMonth?.trim();
    year = form.expYear?.trim();
  }
  if (month === undefined || year === undefined || !/^\d{1,2}$/.test(month)) return undefined;
  if (!/^(\d{2}|\d{4})$/.test(year)) return undefined;
  const monthNumber = Number(month);
  const yearNumber = year.length === 2 ? 2000 + Number(year) : Number(year);
  if (monthNumber < 1 || monthNumber > 12) return undefined;
  return { month: monthNumber, year: yearNumber };
}

const emailPattern = /^[^\s@]{1,200}@[^\s@]{1,200}\.[^\s@]{1,60}$/;

/** The success URL with the session's id in place of Stripe's placeholder. */
export function successRedirect(session: CheckoutSession): string | null {
  return session.successUrl === null
    ? null
    : session.successUrl.replaceAll(sessionIdPlaceholder, session.id);
}

export class CheckoutService {
  readonly #database: Database;
  readonly #payments: PaymentsService;
  readonly #vault: Vault;
  readonly #customers: CustomersService;
  readonly #merchantName: CheckoutDependencies['merchantName'];
  readonly #livemode: CheckoutDependencies['livemode'];
  readonly #clock: Clock;
  readonly #events: CheckoutDependencies['events'];

  constructor(dependencies: CheckoutDependencies) {
    this.#database = dependencies.database;
    this.#payments = dependencies.payments;
    this.#vault = dependencies.vault;
    this.#customers = dependencies.customers;
    this.#merchantName = dependencies.merchantName;
    this.#livemode = dependencies.livemode;
    this.#clock = dependencies.clock ?? systemClock;
    this.#events = dependencies.events;
  }

  // --- Checkout Sessions (the API) -------------------------------------------------------------

  /** `origin`: where buyers reach Payrail (the session's url is `<origin>/pay/<id>`). */
  async createSession(
    merchantId: string,
    input: CreateSessionInput,
    origin: string,
    bind?: (tx: Queryable, id: string) => Promise<void>,
  ): Promise<CheckoutSession> {
    if (input.mode !== 'payment')
      throw invalid(
        `Payrail's Checkout Sessions take mode=payment only (one-time card payments); ` +
          `'${input.mode.slice(0, 40)}' is not supported.`,
        'mode',
      );
    const priced = priceLineItems(input.lineItems);
    if (input.successUrl === undefined)
      throw new CheckoutError(
        'parameter_missing',
        'success_url is required: where the buyer goes after paying.',
        'success_url',
      );
    const successUrl = checkUrl(input.successUrl, 'success_url');
    const cancelUrl = checkUrl(input.cancelUrl, 'cancel_url');
    const now = this.#clock.now(merchantId);
    const expiresAt = this.#expiresAt(now, input.expiresAt);
    if (input.customer !== undefined && input.customerEmail !== undefined)
      throw invalid('Give customer or customer_email, not both.', 'customer_email');
    const customerEmail =
      input.customerEmail === undefined ? null : this.#email(input.customerEmail, 'customer_email');
    if (input.customer !== undefined)
      await this.#customers.checkUse(merchantId, input.customer, null);
    const session = this.#newSession(merchantId, origin, now, {
      ...priced,
      successUrl,
      cancelUrl,
      expiresAt,
      customerId: input.customer ?? null,
      customerEmail,
      clientReferenceId: input.clientReferenceId ?? null,
      metadata: mergeMetadata({}, input.metadata),
      paymentIntentData: checkIntentData(input.paymentIntentData),
      paymentLinkId: null,
    });
    return this.#database.transaction(async (tx) => {
      const inserted = await tx.query(insertSession.sql, insertSession.parameters(session));
      await bind?.(tx, session.id);
      return checkoutSessions.fromRow(inserted.rows[0] as Record<string, unknown>);
    });
  }

  #expiresAt(now: Date, given: number | undefined): Date {
    if (given === undefined) return new Date(now.getTime() + expiresAfterMaxMs);
    const at = new Date(given * 1000);
    const after = at.getTime() - now.getTime();
    // A second of slack either way: the caller computed it from a clock a moment earlier.
    if (after < expiresAfterMinMs - 1000 || after > expiresAfterMaxMs + 1000)
      throw invalid(
        'expires_at must be between 30 minutes and 24 hours after the session is created.',
        'expires_at',
      );
    return at;
  }

  #email(value: string, param: string): string {
    const trimmed = value.trim();
    if (trimmed.length > 800 || !emailPattern.test(trimmed))
      throw invalid(`Invalid email address: ${trimmed.slice(0, 80)}`, param);
    return trimmed;
  }

  #newSession(
    merchantId: string,
    origin: string,
    now: Date,
    fields: Pick<
      CheckoutSession,
      | 'successUrl'
      | 'cancelUrl'
      | 'expiresAt'
      | 'customerId'
      | 'customerEmail'
      | 'clientReferenceId'
      | 'metadata'
      | 'paymentIntentData'
      | 'paymentLinkId'
      | 'currency'
      | 'lineItems'
    > & { amountTotal: bigint },
  ): CheckoutSession {
    // The id is the buyer's capability for the page: 32 random characters after the sortable part.
    const id = `${newSortableId('cs', now.getTime())}${randomBase62(22)}`;
    return {
      ...fields,
      id,
      merchantId,
      mode: 'payment',
      status: 'open',
      paymentStatus: 'unpaid',
      amountSubtotal: fields.amountTotal,
      url: `${origin}/pay/${id}`,
      customerDetails: null,
      paymentIntentId: null,
      formToken: randomBase62(32),
      completedAt: null,
      expiredAt: null,
      createdAt: now,
    };
  }

  /** The session, brought up to date: ended if its time or its intent says so. */
  async retrieveSession(merchantId: string, id: string): Promise<CheckoutSession> {
    const found = await checkoutSessions.findOwned(this.#database, merchantId, id);
    if (found === undefined) throw noSuchSession(id);
    return (await this.#refresh(found)).session;
  }

  async listSessions(
    merchantId: string,
    filters: SessionListFilters,
    page: PageRequest,
  ): Promise<Page<CheckoutSession>> {
    const result = await keysetPage(
      this.#database,
      {
        select: '*',
        from: 'checkout_sessions',
        scope: 'merchant_id = $1',
        scopeParameters: [merchantId],
        equals: {
          payment_intent_id: filters.paymentIntent,
          payment_link_id: filters.paymentLink,
          status: filters.status,
          customer_id: filters.customer,
        },
        key: 'id',
        keyType: 'text',
        order: 'newest_first',
        noun: 'checkout.session',
        timeRange: { column: 'created_at', range: filters.created },
      },
      page,
    );
    // An open session past its time shows as expired (the expiry step ends it soon after).
    const items = await Promise.all(
      result.rows.map(async (row) => (await this.#refresh(checkoutSessions.fromRow(row))).session),
    );
    return { items, hasMore: result.hasMore };
  }

  /** A session's (or link's) line items, in their order, paged by id like any list. */
  async sessionLineItems(merchantId: string, id: string, page: PageRequest): Promise<ItemsPage> {
    const found = await checkoutSessions.findOwned(this.#database, merchantId, id);
    if (found === undefined) throw noSuchSession(id);
    return {
      ...pageOfItems(found.lineItems, page),
      currency: found.currency,
      created: found.createdAt,
    };
  }

  /** Stripe's expire: an open session ends now; its waiting intent is canceled first. */
  async expireSession(merchantId: string, id: string): Promise<CheckoutSession> {
    const found = await checkoutSessions.findOwned(this.#database, merchantId, id);
    if (found === undefined) throw noSuchSession(id);
    if (found.status !== 'open')
      throw new CheckoutError(
        'checkout_session_unexpected_state',
        `Only an open Checkout Session can be expired; this one is ${found.status}.`,
        'id',
      );
    const { session } = await this.#refresh(found, true);
    if (session.status !== 'expired')
      throw new CheckoutError(
        'checkout_session_unexpected_state',
        session.status === 'complete'
          ? 'This Checkout Session is complete: it can no longer be expired.'
          : 'This Checkout Session has a payment in progress: it can be expired once that ends.',
        'id',
      );
    return session;
  }

  /**
   * The expiry step (a worker's periodic chore): ends up to `limit` open sessions whose
   * expires_at has passed by their merchant's clock. Answers how many it looked at.
   */
  async expireDue(limit = 100): Promise<number> {
    const time = clockSql(this.#clock.reading(), 'session.merchant_id', 2);
    // A session whose payment is processing waits for it (it completes or expires after), so it
    // is not read again and again ahead of the others.
    const due = await this.#database.query(
      `SELECT session.* FROM checkout_sessions AS session
         LEFT JOIN payment_intents AS intent ON intent.id = session.payment_intent_id
        WHERE session.status = 'open' AND session.expires_at <= ${time.bound}
          AND session.expires_at <= ${time.now}
          AND (intent.status IS NULL OR intent.status <> 'processing')
        ORDER BY session.expires_at LIMIT $1`,
      [limit, ...time.values],
    );
    // One session that cannot end now (its intent's cancel refused) does not hold up the others;
    // the first failure is reported once all were tried.
    let failure: unknown;
    for (const row of due.rows) {
      try {
        await this.#refresh(checkoutSessions.fromRow(row));
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
    return due.rows.length;
  }

  /**
   * Ends the session if it must: complete when its intent paid; expired when its time has come
   * (or `expireNow`) and no payment can still land. Answers the session and its intent.
   */
  async #refresh(
    session: CheckoutSession,
    expireNow = false,
  ): Promise<{ session: CheckoutSession; intent: PaymentIntent | undefined }> {
    if (session.status !== 'open') return { session, intent: undefined };
    let intent =
      session.paymentIntentId === null
        ? undefined
        : (await this.#payments.retrieve(session.merchantId, session.paymentIntentId)).intent;
    if (intent !== undefined && paid(intent)) return this.#complete(session, intent);
    // Its intent was canceled (by the merchant through the API): nothing can pay the session.
    const canceled = intent?.status === 'canceled';
    const due = expireNow || canceled || session.expiresAt <= this.#clock.now(session.merchantId);
    if (!due) return { session, intent };
    if (intent !== undefined && !canceled) {
      if (!waitingForBuyer(intent)) return { session, intent };
      try {
        intent = (await this.#payments.cancel(session.merchantId, intent.id, 'abandoned')).intent;
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        // It moved on meanwhile (a submit confirmed it): read it again and end accordingly.
        const current = (await this.#payments.retrieve(session.merchantId, intent.id)).intent;
        if (paid(current)) return this.#complete(session, current);
        return { session, intent: current };
      }
    }
    return this.#end(session, 'expired', intent);
  }

  async #complete(
    session: CheckoutSession,
    intent: PaymentIntent,
  ): Promise<{ session: CheckoutSession; intent: PaymentIntent }> {
    return this.#end(session, 'complete', intent) as Promise<{
      session: CheckoutSession;
      intent: PaymentIntent;
    }>;
  }

  /** One UPDATE … WHERE open, and the event only when this call made the change. */
  async #end(
    session: CheckoutSession,
    status: 'complete' | 'expired',
    intent: PaymentIntent | undefined,
  ): Promise<{ session: CheckoutSession; intent: PaymentIntent | undefined }> {
    const now = this.#clock.now(session.merchantId);
    // Manual capture: the session is complete once authorized, but not paid (Stripe's unpaid).
    const paymentStatus =
      status === 'complete' && intent?.status === 'succeeded' ? 'paid' : 'unpaid';
    const type: EventType =
      status === 'complete' ? 'checkout.session.completed' : 'checkout.session.expired';
    const ended = await this.#database.transaction(async (tx) => {
      const updated = await tx.query(status === 'complete' ? completeSql : expireSql, [
        session.id,
        paymentStatus,
        now,
        session.paymentIntentId,
      ]);
      const row = updated.rows[0];
      if (row === undefined) return undefined;
      const changed = checkoutSessions.fromRow(row);
      await insertEvents(
        tx,
        [newEvent(changed.merchantId, type, presentCheckoutSession(changed))],
        now,
      );
      return changed;
    });
    if (ended !== undefined) {
      this.#events?.notify();
      return { session: ended, intent };
    }
    // Another caller ended it (or attached an intent) first: read it as it now stands.
    const current = await checkoutSessions.findOwned(
      this.#database,
      session.merchantId,
      session.id,
    );
    if (current === undefined) throw noSuchSession(session.id);
    return current.status === 'open' ? this.#refresh(current) : { session: current, intent };
  }

  // --- The hosted page -------------------------------------------------------------------------

  async #publicSession(id: string): Promise<CheckoutSession | undefined> {
    const found = await this.#database.query('SELECT * FROM checkout_sessions WHERE id = $1', [id]);
    const row = found.rows[0];
    return row === undefined ? undefined : checkoutSessions.fromRow(row);
  }

  /** What /pay/<id> shows now (the session's id is the capability: no key). */
  async hostedView(id: string): Promise<HostedView> {
    const found = await this.#publicSession(id);
    if (found === undefined) return { kind: 'missing' };
    const { session, intent } = await this.#refresh(found);
    return this.#viewOf(session, intent);
  }

  async #viewOf(
    session: CheckoutSession,
    intent: PaymentIntent | undefined,
    error: string | null = null,
    errorField: FormField | null = null,
  ): Promise<HostedView> {
    const merchant = (await this.#merchantName(session.merchantId)) ?? 'Merchant';
    if (session.status === 'expired') return { kind: 'expired', session, merchant };
    if (session.status === 'complete') {
      const link =
        session.paymentLinkId === null
          ? undefined
          : await paymentLinks.findOwned(this.#database, session.merchantId, session.paymentLinkId);
      const message =
        link?.afterCompletion.type === 'hosted_confirmation'
          ? link.afterCompletion.customMessage
          : null;
      return { kind: 'complete', session, merchant, redirect: successRedirect(session), message };
    }
    // A form refused with a message is the form, whatever the intent waits for.
    const next = intent?.nextAction?.redirect_to_url.url;
    if (error === null && intent?.status === 'requires_action' && next !== undefined)
      return { kind: 'authenticate', session, merchant, redirect: next };
    if (error === null && intent?.status === 'processing')
      return { kind: 'processing', session, merchant };
    const last = intent?.status === 'requires_payment_method' ? intent.lastPaymentError : null;
    const shown = error ?? (last === null || last === undefined ? null : buyerMessage(last));
    return {
      kind: 'form',
      session,
      merchant,
      error: shown,
      // A decline is about the card: its number is where another card goes.
      errorField: errorField ?? (shown === null ? null : 'card_number'),
      askEmail: session.customerEmail === null && session.customerId === null,
      testMode: (await this.#livemode?.(session.merchantId)) !== true,
    };
  }

  /**
   * The buyer submits the form: the card goes into the vault (the merchant never sees it), the
   * session's intent is created if it has none, then confirmed with the card. A form that does
   * not check out is answered with the form again and writes nothing; anything else goes back to
   * the page, which shows where the payment stands (paid, declined, 3-D Secure, expired).
   */
  async submit(
    id: string,
    form: CardForm,
    context: { readonly origin: string; readonly ip: string },
  ): Promise<SubmitOutcome> {
    const found = await this.#publicSession(id);
    if (found === undefined) return { kind: 'missing' };
    const { session, intent } = await this.#refresh(found);
    if (session.status !== 'open' || (intent !== undefined && !waitingForBuyer(intent)))
      return { kind: 'see_page' };
    if (!tokensEqual(form.token ?? '', session.formToken)) return { kind: 'form_expired' };
    const refuse = async (message: string, field: FormField): Promise<SubmitOutcome> => ({
      kind: 'refused',
      status: 400,
      view: (await this.#viewOf(session, intent, message, field)) as HostedView & {
        kind: 'form';
      },
    });
    const number = digitsOf(form.cardNumber ?? '');
    if (!/^\d{12,19}$/.test(number))
      return refuse('Your card number is incomplete or invalid.', 'card_number');
    const expiry = parseExpiry(form);
    if (expiry === undefined)
      return refuse("Your card's expiry date is incomplete or invalid.", 'expiry');
    const cvc = (form.cvc ?? '').trim();
    if (!/^\d{3,4}$/.test(cvc)) return refuse("Your card's security code is incomplete.", 'cvc');
    const name = (form.name ?? '').trim().slice(0, 100);
    if (name === '') return refuse('Enter the name on your card.', 'name');
    let email = session.customerEmail;
    if (email === null && session.customerId === null) {
      const given = (form.email ?? '').trim();
      if (given.length > 800 || !emailPattern.test(given))
        return refuse('Enter a valid email address.', 'email');
      email = given;
    }
    let paymentMethodId: string;
    try {
      const method = await this.#vault.createCard(
        session.merchantId,
        { number, expMonth: expiry.month, expYear: expiry.year, cvc, name },
        email === null ? {} : { email },
      );
      paymentMethodId = method.id;
    } catch (error) {
      // The vault's own checks (Luhn, expiry …): its message names the problem, never the number.
      if (error instanceof DomainError) return refuse(error.message, fieldOfParam(error.param));
      throw error;
    }
    let intentId: string;
    try {
      intentId = intent?.id ?? (await this.#attachIntent(session));
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return this.#notNow(session);
    }
    await noteDetails.run(
      this.#database,
      session.id,
      { customerDetails: { email, name } },
      this.#clock.now(session.merchantId),
    );
    // The buyer pays what the page showed: an intent whose amount or currency was changed since
    // (the merchant's API can update an unconfirmed intent) is not confirmed from this page.
    const current = await this.#payments.retrieve(session.merchantId, intentId);
    if (
      current.intent.amount !== session.amountTotal ||
      current.intent.currency !== session.currency
    )
      return this.#changed(session);
    try {
      const confirmed = await this.#payments.confirm(session.merchantId, intentId, {
        paymentMethod: paymentMethodId,
        returnUrl: `${context.origin}/pay/${session.id}`,
        origin: context.origin,
        radarOptions: { ip_address: context.ip },
      });
      if (paid(confirmed.intent)) await this.#refresh({ ...session, paymentIntentId: intentId });
    } catch (error) {
      // A decline (or an intent another submit already moved on): the page shows where it stands.
      if (!(error instanceof DomainError)) throw error;
      if (error.category !== 'declined' && error.category !== 'invalid')
        return this.#notNow(session);
    }
    return { kind: 'see_page' };
  }

  /** The session's intent no longer asks what the page shows: nothing is charged. */
  async #changed(session: CheckoutSession): Promise<SubmitOutcome> {
    const view = await this.#viewOf(
      session,
      undefined,
      'This payment was changed by the merchant and cannot be paid here. Nothing was charged.',
    );
    if (view.kind !== 'form') return { kind: 'see_page' };
    return { kind: 'refused', status: 409, view };
  }

  /**
   * The payment could not be started (no connector can take it now, the session ended
   * meanwhile): the page if the session is no longer open, else the form with a message (503).
   */
  async #notNow(session: CheckoutSession): Promise<SubmitOutcome> {
    const current = await this.#publicSession(session.id);
    if (current === undefined || current.status !== 'open') return { kind: 'see_page' };
    const view = await this.#viewOf(
      current,
      undefined,
      'The payment could not be processed right now. Please try again in a moment.',
    );
    if (view.kind !== 'form') return { kind: 'see_page' };
    return { kind: 'refused', status: 503, view };
  }

  /** The session's intent: created and attached now, or the one a concurrent submit attached. */
  async #attachIntent(session: CheckoutSession): Promise<string> {
    const data = session.paymentIntentData;
    try {
      const created = await this.#payments.create(
        session.merchantId,
        {
          amount: session.amountTotal,
          currency: session.currency,
          captureMethod: data.captureMethod,
          description: data.description,
          metadata: data.metadata,
          receiptEmail: data.receiptEmail,
          customer: session.customerId ?? undefined,
        },
        async (tx, intentId) => {
          const attached = await tx.query(attachSql, [
            session.id,
            intentId,
            this.#clock.now(session.merchantId),
          ]);
          if (attached.rowCount === 0) throw new AttachLost();
        },
      );
      return created.intent.id;
    } catch (error) {
      if (!(error instanceof AttachLost)) throw error;
      const current = await this.#publicSession(session.id);
      if (current?.paymentIntentId === null || current === undefined)
        throw new CheckoutError(
          'checkout_session_unexpected_state',
          'This Checkout Session is no longer open.',
          'id',
        );
      return current.paymentIntentId;
    }
  }

  // --- Payment Links ---------------------------------------------------------------------------

  async createLink(
    merchantId: string,
    input: CreateLinkInput,
    origin: string,
    bind?: (tx: Queryable, id: string) => Promise<void>,
  ): Promise<PaymentLink> {
    const priced = priceLineItems(input.lineItems);
    const now = this.#clock.now(merchantId);
    const id = newSortableId('plink', now.getTime());
    const link: PaymentLink = {
      id,
      merchantId,
      active: input.active ?? true,
      currency: priced.currency,
      amountTotal: priced.amountTotal,
      lineItems: priced.lineItems,
      afterCompletion: checkAfterCompletion(input.afterCompletion),
      paymentIntentData: checkIntentData(input.paymentIntentData),
      metadata: mergeMetadata({}, input.metadata),
      inactiveMessage: input.inactiveMessage ?? null,
      url: `${origin}/pay/link/${id}`,
      createdAt: now,
    };
    return this.#database.transaction(async (tx) => {
      const inserted = await tx.query(insertLink.sql, insertLink.parameters(link));
      await bind?.(tx, id);
      return paymentLinks.fromRow(inserted.rows[0] as Record<string, unknown>);
    });
  }

  async retrieveLink(merchantId: string, id: string): Promise<PaymentLink> {
    const found = await paymentLinks.findOwned(this.#database, merchantId, id);
    if (found === undefined) throw noSuchLink(id);
    return found;
  }

  async updateLink(merchantId: string, id: string, change: UpdateLinkInput): Promise<PaymentLink> {
    return this.#database.transaction(async (tx) => {
      const current = await paymentLinks.findOwned(tx, merchantId, id, true);
      if (current === undefined) throw noSuchLink(id);
      return updateLinkFields.run(
        tx,
        id,
        {
          active: change.active ?? current.active,
          afterCompletion:
            change.afterCompletion === undefined
              ? current.afterCompletion
              : checkAfterCompletion(change.afterCompletion),
          metadata: mergeMetadata(current.metadata, change.metadata),
          inactiveMessage:
            change.inactiveMessage === undefined
              ? current.inactiveMessage
              : change.inactiveMessage === ''
                ? null
                : change.inactiveMessage,
        },
        this.#clock.now(merchantId),
      );
    });
  }

  async listLinks(
    merchantId: string,
    filters: { readonly active?: boolean },
    page: PageRequest,
  ): Promise<Page<PaymentLink>> {
    const result = await keysetPage(
      this.#database,
      {
        select: '*',
        from: 'payment_links',
        scope: 'merchant_id = $1',
        scopeParameters: [merchantId],
        equals: { active: filters.active },
        key: 'id',
        keyType: 'text',
        order: 'newest_first',
        noun: 'payment_link',
      },
      page,
    );
    return { items: result.rows.map(paymentLinks.fromRow), hasMore: result.hasMore };
  }

  async linkLineItems(merchantId: string, id: string, page: PageRequest): Promise<ItemsPage> {
    const link = await this.retrieveLink(merchantId, id);
    return {
      ...pageOfItems(link.lineItems, page),
      currency: link.currency,
      created: link.createdAt,
    };
  }

  /**
   * The demo merchant's payment link (`npm start`'s banner): its active link marked
   * `metadata.demo`, made on the first start. Answers the link's page for this origin (a
   * restarted server may listen elsewhere).
   */
  async demoLink(merchantId: string, origin: string): Promise<string> {
    const found = await this.#database.query<{ id: string }>(
      `SELECT id FROM payment_links
        WHERE merchant_id = $1 AND active AND metadata->>'demo' = 'true'
        ORDER BY id DESC LIMIT 1`,
      [merchantId],
    );
    const existing = found.rows[0]?.id;
    if (existing !== undefined) return `${origin}/pay/link/${existing}`;
    const item = (name: string, unitAmount: number, quantity: number): LineItemInput => ({
      priceData: { currency: 'usd', unitAmount, productData: { name } },
      quantity,
    });
    const link = await this.createLink(
      merchantId,
      {
        lineItems: [item('Payrail T-shirt', 2_500, 1), item('Sticker', 150, 2)],
        afterCompletion: {
          type: 'hosted_confirmation',
          customMessage: 'Thank you! This was a test payment on the simulated PSPs.',
        },
        metadata: { demo: 'true' },
      },
      origin,
    );
    return link.url;
  }

  /**
   * A buyer opens a payment link (no key): a new session from it, or the link itself when it is
   * inactive (the page says so), or undefined when there is no such link.
   */
  async visitLink(
    id: string,
    origin: string,
  ): Promise<
    | { readonly kind: 'session'; readonly session: CheckoutSession }
    | { readonly kind: 'inactive'; readonly link: PaymentLink; readonly merchant: string }
    | { readonly kind: 'missing' }
  > {
    const found = await this.#database.query('SELECT * FROM payment_links WHERE id = $1', [id]);
    const row = found.rows[0];
    if (row === undefined) return { kind: 'missing' };
    const link = paymentLinks.fromRow(row);
    if (!link.active)
      return {
        kind: 'inactive',
        link,
        merchant: (await this.#merchantName(link.merchantId)) ?? 'Merchant',
      };
    const now = this.#clock.now(link.merchantId);
    const session = this.#newSession(link.merchantId, origin, now, {
      currency: link.currency,
      amountTotal: link.amountTotal,
      // The session's own item ids: the link's items are its template.
      lineItems: link.lineItems.map((item) => ({ ...item, id: `li_${randomBase62(24)}` })),
      successUrl: link.afterCompletion.type === 'redirect' ? link.afterCompletion.url : null,
      cancelUrl: null,
      expiresAt: new Date(now.getTime() + expiresAfterMaxMs),
      customerId: null,
      customerEmail: null,
      clientReferenceId: null,
      metadata: link.metadata,
      paymentIntentData: link.paymentIntentData,
      paymentLinkId: link.id,
    });
    await this.#database.query(insertSession.sql, insertSession.parameters(session));
    return { kind: 'session', session };
  }
}

function checkAfterCompletion(value: AfterCompletion | undefined): AfterCompletion {
  if (value === undefined) return { type: 'hosted_confirmation', customMessage: null };
  if (value.type === 'redirect') {
    const url = checkUrl(value.url, 'after_completion[redirect][url]');
    if (url === null)
      throw new CheckoutError(
        'parameter_missing',
        'after_completion[redirect][url] is required when type is redirect.',
        'after_completion[redirect][url]',
      );
    return { type: 'redirect', url };
  }
  return value;
}

/** A page of items kept in a row, in their order: Stripe's cursors are item ids. */
function pageOfItems(items: readonly LineItem[], page: PageRequest): Page<LineItem> {
  const limit = Math.min(Math.max(1, Math.trunc(page.limit)), 100);
  const indexOf = (id: string, param: string) => {
    const index = items.findIndex((item) => item.id === id);
    if (index < 0) throw new CheckoutError('resource_missing', `No such line item: '${id}'`, param);
    return index;
  };
  if (page.endingBefore !== undefined) {
    const end = indexOf(page.endingBefore, 'ending_before');
    const start = Math.max(0, end - limit);
    return { items: items.slice(start, end), hasMore: start > 0 };
  }
  const start =
    page.startingAfter === undefined ? 0 : indexOf(page.startingAfter, 'starting_after') + 1;
  return { items: items.slice(start, start + limit), hasMore: start + limit < items.length };
}

function tokensEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}
