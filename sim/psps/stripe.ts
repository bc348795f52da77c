// Stripe-like PSP (CONTRACT.md "Stripe-like"): form-encoded requests with bracket notation,
// JSON responses, Idempotency-Key, PaymentIntents with manual or automatic capture, partial
// capture, cancel, repeated partial refunds and search by metadata['reference']; webhooks are
// Stripe Event objects signed with a Stripe-Signature header.
import { createHmac } from 'node:crypto';
import {
  cardOutcome,
  normalizeCardNumber,
  type AuthenticationEvidence,
  parseExpiryMonth,
  parseExpiryYear,
  isCvc,
  type DeclineCode,
} from '../cards.ts';
import { FormError, formFingerprint, parseForm, type FormObject, type FormValue } from '../form.ts';
import {
  headerValue,
  json,
  type PspApi,
  type PspContext,
  type Route,
  type SimRequest,
  type SimResponse,
  type SimPspModule,
  type StringMap,
  type ThreeDSecureVerifier,
} from '../http.ts';
import { IDEMPOTENCY_KEY_LENGTH_MAX, withIdempotency, type Performed } from '../idempotency.ts';
import { randomId } from '../ids.ts';
import type { CaptureMode, Operation, Payment, PspBook, Refund } from '../store.ts';
import type { PaymentState, WebhookFormat } from '../webhooks.ts';
import {
  AMOUNT_MAX,
  DESCRIPTION_LENGTH_MAX,
  LIST_LIMIT_MAX,
  cardTiming,
  unixSeconds,
} from './common.ts';

export const STRIPE_SECRET_KEY = 'sk_test_sim';

type CardErrorBody = {
  readonly type: 'card_error';
  readonly code: string;
  readonly decline_code: DeclineCode;
  readonly message: string;
};

type StripePaymentDetails = {
  readonly chargeId: string;
  readonly metadata: StringMap;
  readonly description: string | null;
  readonly lastPaymentError: CardErrorBody | null;
  cancellationReason: string | null;
};

type StripeRefundDetails = {
  readonly metadata: StringMap;
  readonly chargeId: string;
  readonly reason: string | null;
};

type Book = PspBook<StripePaymentDetails, StripeRefundDetails>;
type Intent = Payment<StripePaymentDetails>;

// Stripe's error `code` and message for each decline (its `decline_code` is the key).
const DECLINES: Readonly<Record<DeclineCode, { code: string; message: string }>> = {
  generic_decline: { code: 'card_declined', message: 'Your card was declined.' },
  insufficient_funds: { code: 'card_declined', message: 'Your card has insufficient funds.' },
  lost_card: { code: 'card_declined', message: 'Your card was declined.' },
  stolen_card: { code: 'card_declined', message: 'Your card was declined.' },
  expired_card: { code: 'expired_card', message: 'Your card has expired.' },
  incorrect_cvc: { code: 'incorrect_cvc', message: "Your card's security code is incorrect." },
  processing_error: {
    code: 'processing_error',
    message: 'An error occurred while processing your card. Try again in a little bit.',
  },
  card_velocity_exceeded: {
    code: 'card_declined',
    message:
      'Your card was declined for making repeated attempts too frequently or exceeding its amount limit.',
  },
  fraudulent: { code: 'card_declined', message: 'Your card was declined.' },
  authentication_required: {
    code: 'authentication_required',
    message: 'Your card was declined. This transaction requires authentication.',
  },
};

const METADATA_KEYS_MAX = 50;
const METADATA_KEY_LENGTH_MAX = 40;
const METADATA_VALUE_LENGTH_MAX = 500;
const CANCELLATION_REASONS = new Set([
  'duplicate',
  'fraudulent',
  'requested_by_customer',
  'abandoned',
]);
const REFUND_REASONS = new Set(['duplicate', 'fraudulent', 'requested_by_customer']);
const REFUNDABLE = new Set(['captured', 'partially_refunded', 'refunded']);

/** A request Stripe refuses before acting (never stored for idempotent replay). */
class StripeError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string;
  readonly param: string | undefined;

  constructor(status: number, type: string, code: string, message: string, param?: string) {
    super(message);
    this.status = status;
    this.type = type;
    this.code = code;
    this.param = param;
  }

  response(): SimResponse {
    return json(this.status, {
      error: {
        type: this.type,
        code: this.code,
        message: this.message,
        ...(this.param === undefined ? {} : { param: this.param }),
      },
    });
  }
}

function invalid(code: string, message: string, param?: string): StripeError {
  return new StripeError(400, 'invalid_request_error', code, message, param);
}

function invalidResponse(
  code: string,
  message: string,
  param?: string,
  extra: Record<string, unknown> = {},
): SimResponse {
  return json(400, {
    error: {
      type: 'invalid_request_error',
      code,
      message,
      ...(param === undefined ? {} : { param }),
      ...extra,
    },
  });
}

export function createStripeApi(context: PspContext): PspApi {
  const book: Book = context.store.book<StripePaymentDetails, StripeRefundDetails>('stripe');
  context.webhooks.register('stripe', book, STRIPE_WEBHOOKS);
  const handlers = stripeHandlers(book, context.timeoutDelayMs, context.threeDSecure);
  const mutating = (action: Action): Route => ({
    mutating: true,
    handle: (request) => mutate(book, request, action),
  });
  const read = (handle: (request: SimRequest) => SimResponse): Route => ({
    mutating: false,
    handle: (request) => guard(() => handle(request)),
  });
  const routes = {
    create: mutating(handlers.create),
    capture: mutating(handlers.capture),
    cancel: mutating(handlers.cancel),
    refund: mutating(handlers.refund),
    search: read(handlers.search),
    retrieve: read(handlers.retrieve),
    retrieveRefund: read(handlers.retrieveRefund),
  };
  return {
    psp: 'stripe',
    errors: {
      notFound: () =>
        json(404, {
          error: { type: 'invalid_request_error', message: 'Unrecognized request URL.' },
        }),
      serverError: () =>
        json(500, {
          error: {
            type: 'api_error',
            message: 'An unknown error occurred while processing your request (simulated).',
          },
        }),
      tooLarge: () =>
        json(413, {
          error: {
            type: 'invalid_request_error',
            code: 'request_too_large',
            message: 'The request body is too large.',
          },
        }),
      unavailable: (message) =>
        json(503, { error: { type: 'api_error', code: 'simulator_full', message } }),
    },
    authenticate(request) {
      if (headerValue(request.headers, 'authorization') === `Bearer ${STRIPE_SECRET_KEY}`)
        return undefined;
      return json(401, {
        error: {
          type: 'invalid_request_error',
          code: 'api_key_invalid',
          message: 'Invalid API Key provided.',
        },
      });
    },
    match(method, segments) {
      if (segments[0] !== 'v1') return undefined;
      const [, resource, id, action, extra] = segments;
      if (extra !== undefined) return undefined;
      if (resource === 'payment_intents') {
        if (id === undefined) return method === 'POST' ? routes.create : undefined;
        if (action === undefined) {
          if (method !== 'GET') return undefined;
          return id === 'search' ? routes.search : routes.retrieve;
        }
        if (method !== 'POST') return undefined;
        return action === 'capture'
          ? routes.capture
          : action === 'cancel'
            ? routes.cancel
            : undefined;
      }
      if (resource === 'refunds' && action === undefined) {
        if (id === undefined) return method === 'POST' ? routes.refund : undefined;
        return method === 'GET' ? routes.retrieveRefund : undefined;
      }
      return undefined;
    },
  };
}

type Action = (
  params: FormObject,
  key: string | undefined,
  segments: readonly string[],
) => Performed;

function mutate(book: Book, request: SimRequest, action: Action): SimResponse {
  let params: FormObject;
  try {
    params = parseForm(request.bodyText);
  } catch (error) {
    if (error instanceof FormError) return invalidResponse('parameter_invalid', error.message);
    throw error;
  }
  const rawKey = headerValue(request.headers, 'idempotency-key');
  const key = rawKey === undefined || rawKey === '' ? undefined : rawKey;
  if (key !== undefined && key.length > IDEMPOTENCY_KEY_LENGTH_MAX) {
    return invalidResponse(
      'idempotency_key_too_long',
      `Idempotency keys are at most ${IDEMPOTENCY_KEY_LENGTH_MAX} characters.`,
    );
  }
  return withIdempotency(
    book,
    key,
    () => `${request.method} ${request.segments.join('/')} ${formFingerprint(request.bodyText)}`,
    () => guard(() => action(params, key, request.segments)),
    {
      conflict: () =>
        json(400, {
          error: {
            type: 'idempotency_error',
            message:
              'Keys for idempotent requests can only be used with the same parameters they were first used with.',
          },
        }),
      replayHeaders: { 'idempotent-replayed': 'true' },
    },
  );
}

/** Turns a StripeError into its (not replayable) response. */
function guard<T extends SimResponse>(run: () => T): T | Performed {
  try {
    return run();
  } catch (error) {
    if (error instanceof StripeError) return { ...error.response(), keep: false };
    throw error;
  }
}

function stripeHandlers(book: Book, timeoutDelayMs: number, threeDSecure: ThreeDSecureVerifier) {
  const find = (id: string | undefined, param: string): Intent => {
    const payment = id === undefined ? undefined : book.payments.get(id);
    if (payment === undefined)
      throw new StripeError(
        404,
        'invalid_request_error',
        'resource_missing',
        `No such payment_intent: '${id ?? ''}'`,
        param,
      );
    return payment;
  };

  const create: Action = (params, key) => {
    const amount = readAmount(params, 'amount', true) ?? 0;
    const currency = readCurrency(params);
    if (params.confirm !== 'true')
      throw invalid('parameter_invalid', 'The simulator only supports confirm=true.', 'confirm');
    const captureMode = readCaptureMethod(params.capture_method);
    const number = readCard(params);
    const metadata = readMetadata(params.metadata, 'metadata');
    const description = readOptionalString(
      params.description,
      'description',
      DESCRIPTION_LENGTH_MAX,
    );
    const outcome = cardOutcome(
      number,
      readThreeDSecure(params, threeDSecure, number, amount, currency),
    );
    if (outcome.kind === 'error')
      return {
        ...json(500, {
          error: {
            type: 'api_error',
            message: 'An error occurred with our connection to the card network (simulated).',
          },
        }),
        keep: false,
      };
    const id = randomId('pi_');
    const chargeId = randomId('ch_');
    const reference = metadata.reference ?? null;
    if (outcome.kind === 'decline') {
      const decline = DECLINES[outcome.code];
      const lastPaymentError: CardErrorBody = {
        type: 'card_error',
        code: decline.code,
        decline_code: outcome.code,
        message: decline.message,
      };
      const details: StripePaymentDetails = {
        chargeId,
        metadata,
        description,
        lastPaymentError,
        cancellationReason: null,
      };
      const payment = book.authorize({
        id,
        reference,
        amount,
        currency,
        captureMode,
        declineCode: outcome.code,
        idempotencyKey: key,
        details,
      });
      return {
        ...json(402, {
          error: { ...lastPaymentError, charge: chargeId, payment_intent: presentIntent(payment) },
        }),
        keep: true,
      };
    }
    const details: StripePaymentDetails = {
      chargeId,
      metadata,
      description,
      lastPaymentError: null,
      cancellationReason: null,
    };
    const payment = book.authorize({
      id,
      reference,
      amount,
      currency,
      captureMode,
      idempotencyKey: key,
      details,
    });
    return {
      ...json(200, presentIntent(payment)),
      keep: true,
      ...cardTiming(outcome, timeoutDelayMs),
    };
  };

  const capture: Action = (params, key, segments) => {
    const payment = find(segments[2], 'intent');
    const requested = readAmount(params, 'amount_to_capture', false);
    if (payment.status !== 'authorized')
      return { ...unexpectedState(payment, 'captured', 'requires_capture'), keep: true };
    const amount = requested ?? payment.authorized;
    if (amount > payment.authorized) {
      const message = `The amount to capture (${amount}) is greater than the amount capturable (${payment.authorized}).`;
      return { ...invalidResponse('amount_too_large', message, 'amount_to_capture'), keep: true };
    }
    book.capture(payment, amount, key);
    return { ...json(200, presentIntent(payment)), keep: true };
  };

  const cancel: Action = (params, key, segments) => {
    const payment = find(segments[2], 'intent');
    const reason = readOptionalString(params.cancellation_reason, 'cancellation_reason', 100);
    if (reason !== null && !CANCELLATION_REASONS.has(reason))
      throw invalid(
        'parameter_invalid',
        `Invalid cancellation_reason: ${reason}`,
        'cancellation_reason',
      );
    if (payment.status !== 'authorized')
      return { ...unexpectedState(payment, 'canceled', 'requires_capture'), keep: true };
    payment.details.cancellationReason = reason;
    book.void(payment, key);
    return { ...json(200, presentIntent(payment)), keep: true };
  };

  const refund: Action = (params, key) => {
    const intentId = readRequiredString(params.payment_intent, 'payment_intent', 255);
    const payment = find(intentId, 'payment_intent');
    const requested = readAmount(params, 'amount', false);
    const metadata = readMetadata(params.metadata, 'metadata');
    const reason = readOptionalString(params.reason, 'reason', 100);
    if (reason !== null && !REFUND_REASONS.has(reason))
      throw invalid('parameter_invalid', `Invalid reason: ${reason}`, 'reason');
    if (!REFUNDABLE.has(payment.status)) {
      const message = `This PaymentIntent (${payment.id}) does not have a successful charge to refund.`;
      return {
        ...invalidResponse('payment_intent_unexpected_state', message, 'payment_intent'),
        keep: true,
      };
    }
    const left = payment.captured - payment.refunded;
    if (left === 0)
      return {
        ...invalidResponse(
          'charge_already_refunded',
          `Charge ${payment.details.chargeId} has already been refunded.`,
        ),
        keep: true,
      };
    const amount = requested ?? left;
    if (amount > left) {
      const message = `Refund amount (${amount}) is greater than unrefunded amount on charge (${left}).`;
      return { ...invalidResponse('amount_too_large', message, 'amount'), keep: true };
    }
    const details: StripeRefundDetails = { metadata, chargeId: payment.details.chargeId, reason };
    const created = book.refund(payment, {
      id: randomId('re_'),
      reference: metadata.reference ?? null,
      amount,
      idempotencyKey: key,
      details,
    });
    return { ...json(200, presentRefund(created, payment)), keep: true };
  };

  const retrieve = (request: SimRequest): SimResponse =>
    json(200, presentIntent(find(request.segments[2], 'intent')));

  const retrieveRefund = (request: SimRequest): SimResponse => {
    const refundId = request.segments[2] ?? '';
    const found = book.refunds.get(refundId);
    if (found === undefined)
      throw new StripeError(
        404,
        'invalid_request_error',
        'resource_missing',
        `No such refund: '${refundId}'`,
        'id',
      );
    return json(200, presentRefund(found, find(found.paymentId, 'payment_intent')));
  };

  const search = (request: SimRequest): SimResponse => {
    const query = new URLSearchParams(request.query);
    const reference = parseSearchQuery(query.get('query'));
    const limit = readLimit(query.get('limit'));
    const found = book.paymentsByReference.get(reference) ?? [];
    const newestFirst = found.slice(-limit).reverse();
    return json(200, {
      object: 'search_result',
      url: '/v1/payment_intents/search',
      data: newestFirst.map(presentIntent),
      has_more: found.length > limit,
      next_page: null,
    });
  };

  return { create, capture, cancel, refund, retrieve, retrieveRefund, search };
}

function presentIntent(payment: Intent): Record<string, unknown> {
  return {
    id: payment.id,
    object: 'payment_intent',
    amount: payment.amount,
    amount_capturable: payment.status === 'authorized' ? payment.authorized : 0,
    amount_received: payment.captured,
    amount_refunded: payment.refunded,
    currency: payment.currency,
    capture_method: payment.captureMode,
    status: intentStatus(payment),
    metadata: payment.details.metadata,
    latest_charge: payment.details.chargeId,
    description: payment.details.description,
    last_payment_error: payment.details.lastPaymentError,
    cancellation_reason: payment.details.cancellationReason,
    created: unixSeconds(payment.createdMs),
    livemode: false,
  };
}

function intentStatus(payment: Intent): string {
  switch (payment.status) {
    case 'declined':
      return 'requires_payment_method';
    case 'authorized':
      return 'requires_capture';
    case 'voided':
      return 'canceled';
    case 'captured':
    case 'partially_refunded':
    case 'refunded':
      return 'succeeded';
  }
}

function presentRefund(
  refund: Refund<StripeRefundDetails>,
  payment: Intent,
): Record<string, unknown> {
  return {
    id: refund.id,
    object: 'refund',
    amount: refund.amount,
    currency: refund.currency,
    payment_intent: payment.id,
    charge: refund.details.chargeId,
    status: 'succeeded',
    reason: refund.details.reason,
    metadata: refund.details.metadata,
    created: unixSeconds(refund.createdMs),
  };
}

function unexpectedState(payment: Intent, verb: string, allowed: string): SimResponse {
  const status = intentStatus(payment);
  const message = `This PaymentIntent could not be ${verb} because it has a status of ${status}. Only a PaymentIntent with one of the following statuses may be ${verb}: ${allowed}.`;
  return invalidResponse('payment_intent_unexpected_state', message, undefined, {
    payment_intent: presentIntent(payment),
  });
}

function readAmount(params: FormObject, name: string, required: boolean): number | undefined {
  const value = params[name];
  if (value === undefined || value === '') {
    if (required) throw invalid('parameter_missing', `Missing required param: ${name}.`, name);
    return undefined;
  }
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value))
    throw invalid(
      'parameter_invalid_integer',
      `Invalid integer: ${String(value).slice(0, 50)}`,
      name,
    );
  const amount = Number(value);
  if (amount < 1) throw invalid('amount_too_small', `${name} must be at least 1.`, name);
  if (amount > AMOUNT_MAX)
    throw invalid('amount_too_large', `${name} must be at most ${AMOUNT_MAX}.`, name);
  return amount;
}

function readCurrency(params: FormObject): string {
  const currency = readRequiredString(params.currency, 'currency', 3);
  if (!/^[a-z]{3}$/.test(currency))
    throw invalid(
      'parameter_invalid',
      `Invalid currency: ${currency}. Use a lowercase ISO code such as usd.`,
      'currency',
    );
  return currency;
}

function readCaptureMethod(value: FormValue | undefined): CaptureMode {
  if (value === undefined || value === 'automatic' || value === 'automatic_async')
    return 'automatic';
  if (value === 'manual') return 'manual';
  throw invalid(
    'parameter_invalid',
    'Invalid capture_method: must be one of automatic, automatic_async, or manual.',
    'capture_method',
  );
}

/** The validated card number from payment_method_data; card-data errors are 402 card_error like Stripe's. */
function readCard(params: FormObject): string {
  const methodData = readObject(params.payment_method_data, 'payment_method_data', true);
  const type = readRequiredString(methodData.type, 'payment_method_data[type]', 20);
  if (type !== 'card')
    throw invalid(
      'parameter_invalid',
      'The simulator only supports payment_method_data[type]=card.',
      'payment_method_data[type]',
    );
  const card = readObject(methodData.card, 'payment_method_data[card]', true);
  const param = (name: string): string => `payment_method_data[card][${name}]`;
  const rawNumber = readRequiredString(card.number, param('number'), 30);
  const number = normalizeCardNumber(rawNumber);
  if (number === undefined)
    throw new StripeError(
      402,
      'card_error',
      'incorrect_number',
      'Your card number is incorrect.',
      param('number'),
    );
  if (parseExpiryMonth(readRequiredString(card.exp_month, param('exp_month'), 2)) === undefined) {
    throw new StripeError(
      402,
      'card_error',
      'invalid_expiry_month',
      "Your card's expiration month is invalid.",
      param('exp_month'),
    );
  }
  if (parseExpiryYear(readRequiredString(card.exp_year, param('exp_year'), 4)) === undefined) {
    throw new StripeError(
      402,
      'card_error',
      'invalid_expiry_year',
      "Your card's expiration year is invalid.",
      param('exp_year'),
    );
  }
  if (card.cvc !== undefined && !isCvc(card.cvc))
    throw new StripeError(
      402,
      'card_error',
      'invalid_cvc',
      "Your card's security code is invalid.",
      param('cvc'),
    );
  return number;
}

const THREE_D_SECURE_PARAM = 'payment_method_options[card][three_d_secure]';
const THREE_D_SECURE_VERSIONS = new Set(['1.0.2', '2.1.0', '2.2.0']);
const ECI_VALUES = new Set(['01', '02', '05', '06', '07']);
const ARES_STATUSES = new Set(['A', 'C', 'I', 'N', 'R', 'U', 'Y']);

/**
 * Stripe's `payment_method_options[card][three_d_secure]` (authentication done by the merchant's own
 * 3DS server): cryptogram, transaction_id (the dsTransID) and version are required,
 * electronic_commerce_indicator and ares_trans_status optional. Malformed fields are a 400; data
 * that is well formed but not issued by the simulator's 3DS server for this card, amount and
 * currency, or whose ares_trans_status is neither Y nor A, is 'invalid' (a decline).
 */
function readThreeDSecure(
  params: FormObject,
  verifier: ThreeDSecureVerifier,
  cardNumber: string,
  amount: number,
  currency: string,
): AuthenticationEvidence {
  const options = readObject(params.payment_method_options, 'payment_method_options', false);
  const card = readObject(options.card, 'payment_method_options[card]', false);
  if (card.three_d_secure === undefined || card.three_d_secure === '') return 'none';
  const data = readObject(card.three_d_secure, THREE_D_SECURE_PARAM, true);
  const param = (name: string): string => `${THREE_D_SECURE_PARAM}[${name}]`;
  const cryptogram = readRequiredString(data.cryptogram, param('cryptogram'), 5000);
  const transactionId = readRequiredString(data.transaction_id, param('transaction_id'), 5000);
  const version = readRequiredString(data.version, param('version'), 10);
  if (!THREE_D_SECURE_VERSIONS.has(version))
    throw invalid('parameter_invalid', `Invalid ${param('version')}: ${version}`, param('version'));
  const eci = readOptionalString(
    data.electronic_commerce_indicator,
    param('electronic_commerce_indicator'),
    2,
  );
  if (eci !== null && !ECI_VALUES.has(eci))
    throw invalid(
      'parameter_invalid',
      `Invalid ${param('electronic_commerce_indicator')}`,
      param('electronic_commerce_indicator'),
    );
  const aresStatus = readOptionalString(data.ares_trans_status, param('ares_trans_status'), 1);
  if (aresStatus !== null && !ARES_STATUSES.has(aresStatus))
    throw invalid(
      'parameter_invalid',
      `Invalid ${param('ares_trans_status')}`,
      param('ares_trans_status'),
    );
  if (aresStatus !== null && aresStatus !== 'Y' && aresStatus !== 'A') return 'invalid';
  const verified = verifier.verify({
    cardNumber,
    amount,
    currency,
    authenticationValue: cryptogram,
    eci: eci ?? undefined,
    dsTransactionId: transactionId,
  });
  return verified ? 'valid' : 'invalid';
}

function readObject(value: FormValue | undefined, name: string, required: boolean): FormObject {
  if (value === undefined || value === '') {
    if (required) throw invalid('parameter_missing', `Missing required param: ${name}.`, name);
    return Object.create(null) as FormObject;
  }
  if (typeof value === 'string' || Array.isArray(value))
    throw invalid('parameter_invalid', `Invalid object: ${name} must be a hash.`, name);
  return value;
}

function readRequiredString(value: FormValue | undefined, name: string, lengthMax: number): string {
  if (value === undefined || value === '')
    throw invalid('parameter_missing', `Missing required param: ${name}.`, name);
  if (typeof value !== 'string')
    throw invalid('parameter_invalid', `Invalid string: ${name} must be a string.`, name);
  if (value.length > lengthMax)
    throw invalid('parameter_invalid', `${name} must be at most ${lengthMax} characters.`, name);
  return value;
}

function readOptionalString(
  value: FormValue | undefined,
  name: string,
  lengthMax: number,
): string | null {
  return value === undefined || value === '' ? null : readRequiredString(value, name, lengthMax);
}

function readMetadata(value: FormValue | undefined, name: string): StringMap {
  const object = readObject(value, name, false);
  const keys = Object.keys(object);
  if (keys.length > METADATA_KEYS_MAX)
    throw invalid('parameter_invalid', `${name} can have at most ${METADATA_KEYS_MAX} keys.`, name);
  const metadata: StringMap = {};
  for (const key of keys) {
    const entry = object[key];
    if (key.length > METADATA_KEY_LENGTH_MAX)
      throw invalid(
        'parameter_invalid',
        `Metadata keys must be at most ${METADATA_KEY_LENGTH_MAX} characters.`,
        `${name}[${key}]`,
      );
    if (typeof entry !== 'string')
      throw invalid('parameter_invalid', 'Metadata values must be strings.', `${name}[${key}]`);
    if (entry.length > METADATA_VALUE_LENGTH_MAX)
      throw invalid(
        'parameter_invalid',
        `Metadata values must be at most ${METADATA_VALUE_LENGTH_MAX} characters.`,
        `${name}[${key}]`,
      );
    metadata[key] = entry;
  }
  return metadata;
}

/** metadata['reference']:'value' (single or double quotes; \' and \\ escapes) → value. */
function parseSearchQuery(query: string | null): string {
  if (query === null || query === '')
    throw invalid('parameter_missing', 'Missing required param: query.', 'query');
  const match = /^\s*metadata\[(['"])([^'"]+)\1\]\s*:\s*(['"])((?:[^\\'"]|\\.)*)\3\s*$/.exec(query);
  if (match === null || match[2] !== 'reference') {
    throw invalid(
      'parameter_invalid',
      "The simulator's search supports only the query metadata['reference']:'<value>'.",
      'query',
    );
  }
  return (match[4] ?? '').replace(/\\(.)/g, '$1');
}

function readLimit(value: string | null): number {
  if (value === null) return 10;
  const limit = /^\d{1,3}$/.test(value) ? Number(value) : 0;
  if (limit < 1 || limit > LIST_LIMIT_MAX)
    throw invalid(
      'parameter_invalid_integer',
      `limit must be an integer from 1 to ${LIST_LIMIT_MAX}.`,
      'limit',
    );
  return limit;
}

/** The API version events claim (the shapes above are the simulator's subset of it). */
export const STRIPE_API_VERSION = '2024-06-20';

/** Stripe's event type for an operation; none for the authorization of an automatic capture. */
function stripeEventType(payment: Intent, operation: Operation): string | undefined {
  switch (operation.type) {
    case 'authorize':
      if (operation.status === 'declined') return 'payment_intent.payment_failed';
      return payment.captureMode === 'manual'
        ? 'payment_intent.amount_capturable_updated'
        : undefined;
    case 'capture':
      return 'payment_intent.succeeded';
    case 'void':
      return 'payment_intent.canceled';
    case 'refund':
      return 'refund.created';
  }
}

/** t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the endpoint secret> */
export function stripeSignatureHeader(body: string, secret: string, nowMs: number): string {
  const timestamp = unixSeconds(nowMs);
  const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${signature}`;
}

const STRIPE_WEBHOOKS: WebhookFormat<StripePaymentDetails, StripeRefundDetails> = {
  newEventId: () => randomId('evt_'),
  event(
    payment: Intent,
    state: PaymentState,
    operation: Operation,
    refund: Refund<StripeRefundDetails> | undefined,
    eventId: string,
  ) {
    const type = stripeEventType(payment, operation);
    if (type === undefined) return undefined;
    const details = {
      ...payment.details,
      cancellationReason: state.voided ? payment.details.cancellationReason : null,
    };
    const snapshot: Intent = { ...payment, ...state, details };
    const object = refund === undefined ? presentIntent(snapshot) : presentRefund(refund, snapshot);
    const event = {
      id: eventId,
      object: 'event',
      api_version: STRIPE_API_VERSION,
      created: unixSeconds(operation.atMs),
      data: { object },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: operation.idempotencyKey ?? null },
      type,
    };
    return { type, body: JSON.stringify(event) };
  },
  sign(body, secret, _eventId, nowMs) {
    return {
      body,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        'stripe-signature': stripeSignatureHeader(body, secret, nowMs),
      },
    };
  },
};

export const stripeSim: SimPspModule = { psp: 'stripe', create: createStripeApi };
