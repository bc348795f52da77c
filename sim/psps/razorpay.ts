// Razorpay-like PSP (CONTRACT.md "Razorpay-like"): JSON requests and responses, HTTP Basic auth,
// X-Idempotency-Key, S2S card payments with capture only of the full amount, partial and repeated
// refunds, and a payment collection filtered by receipt; webhooks are Razorpay event envelopes
// signed with X-Razorpay-Signature.
import { createHmac } from 'node:crypto';
import {
  cardOutcome,
  isCvc,
  normalizeCardNumber,
  parseExpiryMonth,
  parseExpiryYear,
  type DeclineCode,
} from '../cards.ts';
import {
  headerValue,
  isPlainObject,
  json,
  type PspApi,
  type PspContext,
  type Route,
  type SimRequest,
  type SimResponse,
  type SimPspModule,
  type StringMap,
} from '../http.ts';
import { IDEMPOTENCY_KEY_LENGTH_MAX, withIdempotency, type Performed } from '../idempotency.ts';
import { randomId } from '../ids.ts';
import { canonicalJson } from '../json.ts';
import type { Operation, Payment, PspBook, Refund } from '../store.ts';
import type { PaymentState, WebhookFormat } from '../webhooks.ts';
import {
  AMOUNT_MAX,
  DESCRIPTION_LENGTH_MAX,
  LIST_LIMIT_MAX,
  cardTiming,
  unixSeconds,
} from './common.ts';

export const RAZORPAY_KEY_ID = 'rzp_test_sim';
export const RAZORPAY_KEY_SECRET = 'sim_secret';
const AUTHORIZATION = `Basic ${Buffer.from(`${RAZORPAY_KEY_ID}:${RAZORPAY_KEY_SECRET}`).toString('base64')}`;

type PaymentError = { readonly description: string; readonly reason: string };

type RazorpayPaymentDetails = {
  readonly receipt: string | null;
  readonly notes: StringMap;
  readonly description: string | null;
  readonly error: PaymentError | null;
  readonly cardLast4: string;
};

type RazorpayRefundDetails = { readonly receipt: string | null; readonly notes: StringMap };

type Book = PspBook<RazorpayPaymentDetails, RazorpayRefundDetails>;
type RazorpayPayment = Payment<RazorpayPaymentDetails>;
type Body = Record<string, unknown>;

const DECLINES: Readonly<Record<DeclineCode, PaymentError>> = {
  insufficient_funds: {
    reason: 'insufficient_balance',
    description:
      'Your payment could not be completed due to insufficient account balance. Try again with another account.',
  },
  lost_card: {
    reason: 'card_reported_lost',
    description:
      'Your payment could not be completed as the card was reported lost. Try another card.',
  },
  stolen_card: {
    reason: 'card_reported_stolen',
    description:
      'Your payment could not be completed as the card was reported stolen. Try another card.',
  },
  generic_decline: {
    reason: 'payment_failed',
    description: 'Payment failed. Try another payment method or contact your bank.',
  },
  incorrect_cvc: {
    reason: 'incorrect_cvv',
    description: 'Your payment could not be completed as the CVV entered is incorrect.',
  },
  processing_error: {
    reason: 'bank_technical_error',
    description:
      'Your payment could not be completed due to a temporary technical issue at the bank. Try again.',
  },
  card_velocity_exceeded: {
    reason: 'card_velocity_exceeded',
    description:
      'Your payment could not be completed as the card exceeded its transaction count or amount limit.',
  },
  fraudulent: {
    reason: 'payment_risk_check_failed',
    description: 'The payment has been blocked by risk checks. Try another payment method.',
  },
  authentication_required: {
    reason: 'authentication_required',
    description: 'Your payment could not be completed as the card requires authentication.',
  },
  expired_card: {
    reason: 'card_expired',
    description: 'Your payment could not be completed as this card has expired. Try another card.',
  },
};

const RECEIPT_LENGTH_MAX = 40;
const NOTES_KEYS_MAX = 15;
const NOTE_LENGTH_MAX = 256;

/** A request Razorpay refuses before acting (never stored for idempotent replay). */
class RazorpayError extends Error {
  readonly status: number;
  readonly field: string | undefined;

  constructor(status: number, description: string, field?: string) {
    super(description);
    this.status = status;
    this.field = field;
  }

  response(): SimResponse {
    if (this.status === 400 && this.field !== undefined)
      return badRequest(this.message, 'input_validation_failed', this.field);
    return json(this.status, { error: { code: 'BAD_REQUEST_ERROR', description: this.message } });
  }
}

function badRequest(description: string, reason: string, field?: string): SimResponse {
  return json(400, {
    error: {
      code: 'BAD_REQUEST_ERROR',
      description,
      source: 'business',
      step: 'payment_initiation',
      reason,
      metadata: {},
      ...(field === undefined ? {} : { field }),
    },
  });
}

function invalid(description: string, field: string): RazorpayError {
  return new RazorpayError(400, description, field);
}

export function createRazorpayApi(context: PspContext): PspApi {
  const book: Book = context.store.book<RazorpayPaymentDetails, RazorpayRefundDetails>('razorpay');
  context.webhooks.register('razorpay', book, RAZORPAY_WEBHOOKS);
  const handlers = razorpayHandlers(book, context.timeoutDelayMs);
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
    refund: mutating(handlers.refund),
    retrieve: read(handlers.retrieve),
    list: read(handlers.list),
    paymentRefunds: read(handlers.paymentRefunds),
    retrieveRefund: read(handlers.retrieveRefund),
  };
  return {
    psp: 'razorpay',
    errors: {
      notFound: () =>
        json(404, {
          error: {
            code: 'BAD_REQUEST_ERROR',
            description: 'The requested URL was not found on the server.',
          },
        }),
      serverError: () =>
        json(500, {
          error: {
            code: 'SERVER_ERROR',
            description:
              'The server encountered an error. The incident has been reported to admins.',
          },
        }),
      tooLarge: () =>
        json(413, {
          error: { code: 'BAD_REQUEST_ERROR', description: 'The request body is too large.' },
        }),
      unavailable: (message) =>
        json(503, { error: { code: 'SERVER_ERROR', description: message } }),
    },
    authenticate(request) {
      if (headerValue(request.headers, 'authorization') === AUTHORIZATION) return undefined;
      return json(401, {
        error: { code: 'BAD_REQUEST_ERROR', description: 'Authentication failed' },
      });
    },
    match(method, segments) {
      if (segments[0] !== 'v1') return undefined;
      const [, resource, id, action, extra] = segments;
      if (resource === 'payments') {
        if (id === undefined) return method === 'GET' ? routes.list : undefined;
        if (id === 'create')
          return method === 'POST' && action === 'json' && extra === undefined
            ? routes.create
            : undefined;
        if (extra !== undefined) return undefined;
        if (action === undefined) return method === 'GET' ? routes.retrieve : undefined;
        if (action === 'refunds') return method === 'GET' ? routes.paymentRefunds : undefined;
        if (method !== 'POST') return undefined;
        return action === 'capture'
          ? routes.capture
          : action === 'refund'
            ? routes.refund
            : undefined;
      }
      if (resource === 'refunds' && id !== undefined && action === undefined && method === 'GET')
        return routes.retrieveRefund;
      return undefined;
    },
  };
}

type Action = (body: Body, key: string | undefined, segments: readonly string[]) => Performed;

function mutate(book: Book, request: SimRequest, action: Action): SimResponse {
  let body: unknown;
  try {
    body = request.bodyText === '' ? {} : (JSON.parse(request.bodyText) as unknown);
  } catch {
    return badRequest('The request body is not valid JSON.', 'input_validation_failed');
  }
  if (!isPlainObject(body))
    return badRequest('The request body must be a JSON object.', 'input_validation_failed');
  const rawKey = headerValue(request.headers, 'x-idempotency-key');
  const key = rawKey === undefined || rawKey === '' ? undefined : rawKey;
  if (key !== undefined && key.length > IDEMPOTENCY_KEY_LENGTH_MAX) {
    return badRequest(
      `X-Idempotency-Key must be at most ${IDEMPOTENCY_KEY_LENGTH_MAX} characters.`,
      'input_validation_failed',
    );
  }
  return withIdempotency(
    book,
    key,
    () => `${request.method} ${request.segments.join('/')} ${canonicalJson(body)}`,
    () => guard(() => action(body, key, request.segments)),
    {
      conflict: () =>
        json(400, {
          error: {
            code: 'BAD_REQUEST_ERROR',
            description: 'The idempotency key was already used with a different request.',
            reason: 'idempotency_key_reused',
          },
        }),
    },
  );
}

function guard<T extends SimResponse>(run: () => T): T | Performed {
  try {
    return run();
  } catch (error) {
    if (error instanceof RazorpayError) return { ...error.response(), keep: false };
    throw error;
  }
}

function razorpayHandlers(book: Book, timeoutDelayMs: number) {
  const find = (id: string | undefined): RazorpayPayment => {
    const payment = id === undefined ? undefined : book.payments.get(id);
    if (payment === undefined) throw new RazorpayError(400, 'The id provided does not exist');
    return payment;
  };

  const create: Action = (body, key) => {
    const amount = readAmount(body.amount, 'amount', true) ?? 0;
    const currency = readCurrency(body.currency);
    if (body.method !== 'card') throw invalid('The method must be card.', 'method');
    const number = readCard(body.card);
    const receipt = readOptionalString(body.receipt, 'receipt', RECEIPT_LENGTH_MAX);
    const notes = readNotes(body.notes);
    const description = readOptionalString(body.description, 'description', DESCRIPTION_LENGTH_MAX);
    const capture = readCaptureFlag(body.capture);
    const outcome = cardOutcome(number);
    if (outcome.kind === 'error')
      return {
        ...json(500, {
          error: {
            code: 'SERVER_ERROR',
            description:
              'The server encountered an error. The incident has been reported to admins.',
          },
        }),
        keep: false,
      };
    const id = randomId('pay_', 14);
    const reference = receipt ?? notes.reference ?? null;
    const base = {
      id,
      reference,
      amount,
      currency: currency.toLowerCase(),
      captureMode: capture ? 'automatic' : 'manual',
      idempotencyKey: key,
    } as const;
    if (outcome.kind === 'decline') {
      const error = DECLINES[outcome.code];
      book.authorize({
        ...base,
        declineCode: outcome.code,
        details: { receipt, notes, description, error, cardLast4: number.slice(-4) },
      });
      const failure = {
        code: 'BAD_REQUEST_ERROR',
        description: error.description,
        source: 'bank',
        step: 'payment_authorization',
        reason: error.reason,
        metadata: { payment_id: id },
      };
      return { ...json(400, { error: failure }), keep: true };
    }
    const payment = book.authorize({
      ...base,
      details: { receipt, notes, description, error: null, cardLast4: number.slice(-4) },
    });
    return {
      ...json(200, presentPayment(payment)),
      keep: true,
      ...cardTiming(outcome, timeoutDelayMs),
    };
  };

  const capture: Action = (body, key, segments) => {
    const payment = find(segments[2]);
    const amount = readAmount(body.amount, 'amount', true) ?? 0;
    const currency = readCurrency(body.currency);
    if (payment.status !== 'authorized') {
      const description =
        payment.captured > 0
          ? 'This payment has already been captured'
          : 'Only payments which have been authorized and not yet captured can be captured';
      return { ...badRequest(description, 'payment_capture_failed'), keep: true };
    }
    if (currency.toLowerCase() !== payment.currency)
      return {
        ...badRequest(
          'Currency should be same as payment currency',
          'input_validation_failed',
          'currency',
        ),
        keep: true,
      };
    if (amount !== payment.authorized)
      return {
        ...badRequest(
          'Capture amount must be equal to the amount authorized',
          'input_validation_failed',
          'amount',
        ),
        keep: true,
      };
    book.capture(payment, amount, key);
    return { ...json(200, presentPayment(payment)), keep: true };
  };

  const refund: Action = (body, key, segments) => {
    const payment = find(segments[2]);
    const requested = readAmount(body.amount, 'amount', false);
    const receipt = readOptionalString(body.receipt, 'receipt', RECEIPT_LENGTH_MAX);
    const notes = readNotes(body.notes);
    if (payment.captured === 0)
      return {
        ...badRequest(
          'Refund is not allowed on a payment that has not been captured',
          'payment_not_captured',
        ),
        keep: true,
      };
    const left = payment.captured - payment.refunded;
    if (left === 0)
      return {
        ...badRequest('The payment has been fully refunded already', 'payment_fully_refunded'),
        keep: true,
      };
    const amount = requested ?? left;
    if (amount > left)
      return {
        ...badRequest(
          'The refund amount provided is greater than amount captured',
          'input_validation_failed',
          'amount',
        ),
        keep: true,
      };
    const reference = receipt ?? notes.reference ?? null;
    const created = book.refund(payment, {
      id: randomId('rfnd_', 14),
      reference,
      amount,
      idempotencyKey: key,
      details: { receipt, notes },
    });
    return { ...json(200, presentRefund(created)), keep: true };
  };

  const retrieve = (request: SimRequest): SimResponse =>
    json(200, presentPayment(find(request.segments[2])));

  const list = (request: SimRequest): SimResponse => {
    const query = new URLSearchParams(request.query);
    const count = readCount(query.get('count'), 'count', 10, 1, LIST_LIMIT_MAX);
    const skip = readCount(query.get('skip'), 'skip', 0, 0, Number.MAX_SAFE_INTEGER);
    const receipt = query.get('receipt');
    const source =
      receipt === null
        ? book.paymentList
        : (book.paymentsByReference.get(receipt) ?? []).filter(
            (payment) => payment.details.receipt === receipt,
          );
    const end = Math.max(0, source.length - skip);
    const items = source.slice(Math.max(0, end - count), end).reverse();
    return json(200, {
      entity: 'collection',
      count: items.length,
      items: items.map(presentPayment),
    });
  };

  const paymentRefunds = (request: SimRequest): SimResponse => {
    const payment = find(request.segments[2]);
    const items = payment.refundIds.flatMap((refundId) => {
      const found = book.refunds.get(refundId);
      return found === undefined ? [] : [presentRefund(found)];
    });
    return json(200, { entity: 'collection', count: items.length, items });
  };

  const retrieveRefund = (request: SimRequest): SimResponse => {
    const found = book.refunds.get(request.segments[2] ?? '');
    if (found === undefined) throw new RazorpayError(400, 'The id provided does not exist');
    return json(200, presentRefund(found));
  };

  return { create, capture, refund, retrieve, list, paymentRefunds, retrieveRefund };
}

function presentPayment(payment: RazorpayPayment): Record<string, unknown> {
  const error = payment.details.error;
  return {
    id: payment.id,
    entity: 'payment',
    amount: payment.amount,
    currency: payment.currency.toUpperCase(),
    status: paymentStatus(payment),
    order_id: null,
    method: 'card',
    captured: payment.captured > 0,
    amount_refunded: payment.refunded,
    refund_status:
      payment.refunded === 0 ? null : payment.refunded === payment.captured ? 'full' : 'partial',
    description: payment.details.description,
    card: { last4: payment.details.cardLast4 },
    receipt: payment.details.receipt,
    notes: payment.details.notes,
    error_code: error === null ? null : 'BAD_REQUEST_ERROR',
    error_description: error === null ? null : error.description,
    error_source: error === null ? null : 'bank',
    error_step: error === null ? null : 'payment_authorization',
    error_reason: error === null ? null : error.reason,
    created_at: unixSeconds(payment.createdMs),
  };
}

function paymentStatus(payment: RazorpayPayment): string {
  switch (payment.status) {
    case 'declined':
      return 'failed';
    case 'authorized':
      return 'authorized';
    case 'captured':
    case 'partially_refunded':
      return 'captured';
    case 'refunded':
      return 'refunded';
    case 'voided':
      // Razorpay has no void; a voided payment cannot be made here. Closest: Razorpay's own
      // state for an authorization it has released.
      return 'refunded';
  }
}

function presentRefund(refund: Refund<RazorpayRefundDetails>): Record<string, unknown> {
  return {
    id: refund.id,
    entity: 'refund',
    amount: refund.amount,
    currency: refund.currency.toUpperCase(),
    payment_id: refund.paymentId,
    receipt: refund.details.receipt,
    notes: refund.details.notes,
    status: 'processed',
    speed_processed: 'normal',
    created_at: unixSeconds(refund.createdMs),
  };
}

function readAmount(value: unknown, field: string, required: boolean): number | undefined {
  if (value === undefined || value === null) {
    if (required) throw invalid(`The ${field} field is required.`, field);
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw invalid(`The ${field} must be an integer.`, field);
  if (value < 1) throw invalid(`The ${field} must be at least 1.`, field);
  if (value > AMOUNT_MAX)
    throw invalid(`The ${field} may not be greater than ${AMOUNT_MAX}.`, field);
  return value;
}

function readCurrency(value: unknown): string {
  if (value === undefined || value === null)
    throw invalid('The currency field is required.', 'currency');
  if (typeof value !== 'string' || !/^[A-Z]{3}$/.test(value))
    throw invalid('The currency must be an uppercase ISO code such as INR.', 'currency');
  return value;
}

function readCard(value: unknown): string {
  if (!isPlainObject(value)) throw invalid('The card field is required.', 'card');
  const number = normalizeCardNumber(value.number);
  if (number === undefined) throw invalid('The card number is invalid.', 'card[number]');
  if (parseExpiryMonth(value.expiry_month) === undefined)
    throw invalid('The card expiry month is invalid.', 'card[expiry_month]');
  if (parseExpiryYear(value.expiry_year) === undefined)
    throw invalid('The card expiry year is invalid.', 'card[expiry_year]');
  // A stored card (card on file) is charged without its CVV; one that is given must be valid.
  const cvv = typeof value.cvv === 'number' ? String(value.cvv) : value.cvv;
  if (cvv !== undefined && !isCvc(cvv)) throw invalid('The card cvv is invalid.', 'card[cvv]');
  if (value.name !== undefined && (typeof value.name !== 'string' || value.name.length > 100))
    throw invalid('The card name is invalid.', 'card[name]');
  return number;
}

function readOptionalString(value: unknown, field: string, lengthMax: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid(`The ${field} must be a string.`, field);
  if (value.length > lengthMax)
    throw invalid(`The ${field} may not be greater than ${lengthMax} characters.`, field);
  return value;
}

function readNotes(value: unknown): StringMap {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw invalid('The notes field must be an object.', 'notes');
  const keys = Object.keys(value);
  if (keys.length > NOTES_KEYS_MAX)
    throw invalid(`The notes may have at most ${NOTES_KEYS_MAX} keys.`, 'notes');
  const notes: StringMap = {};
  for (const key of keys) {
    const note = value[key];
    if (typeof note !== 'string' && typeof note !== 'number')
      throw invalid('Notes values must be strings or numbers.', `notes[${key}]`);
    const text = String(note);
    if (key.length > NOTE_LENGTH_MAX || text.length > NOTE_LENGTH_MAX)
      throw invalid(
        `Notes keys and values may have at most ${NOTE_LENGTH_MAX} characters.`,
        `notes[${key}]`,
      );
    notes[key] = text;
  }
  return notes;
}

function readCaptureFlag(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '0')
    return false;
  if (value === true || value === 1 || value === '1') return true;
  throw invalid('The capture field must be true or false.', 'capture');
}

function readCount(
  value: string | null,
  field: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === null) return fallback;
  const count = /^\d{1,15}$/.test(value) ? Number(value) : -1;
  if (count < min || count > max)
    throw invalid(`The ${field} must be an integer from ${min} to ${max}.`, field);
  return count;
}

/** The merchant account the simulator's events claim to belong to. */
export const RAZORPAY_ACCOUNT_ID = 'acc_SimMerchant0001';

function razorpayEventType(operation: Operation): string | undefined {
  switch (operation.type) {
    case 'authorize':
      return operation.status === 'declined' ? 'payment.failed' : 'payment.authorized';
    case 'capture':
      return 'payment.captured';
    case 'refund':
      return 'refund.processed';
    case 'void':
      return undefined;
  }
}

/** Lowercase hex HMAC-SHA256 of the exact body with the webhook secret. */
export function razorpaySignature(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

const RAZORPAY_WEBHOOKS: WebhookFormat<RazorpayPaymentDetails, RazorpayRefundDetails> = {
  newEventId: () => randomId('evt_', 14),
  event(
    payment: RazorpayPayment,
    state: PaymentState,
    operation: Operation,
    refund: Refund<RazorpayRefundDetails> | undefined,
  ) {
    const type = razorpayEventType(operation);
    if (type === undefined) return undefined;
    const paymentEntity = { entity: presentPayment({ ...payment, ...state }) };
    const payload =
      refund === undefined
        ? { payment: paymentEntity }
        : { refund: { entity: presentRefund(refund) }, payment: paymentEntity };
    const event = {
      entity: 'event',
      account_id: RAZORPAY_ACCOUNT_ID,
      event: type,
      contains: Object.keys(payload),
      payload,
      created_at: unixSeconds(operation.atMs),
    };
    return { type, body: JSON.stringify(event) };
  },
  sign(body, secret, eventId) {
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Razorpay-Webhook/v1',
        'x-razorpay-event-id': eventId,
        'x-razorpay-signature': razorpaySignature(body, secret),
      },
    };
  },
};

export const razorpaySim: SimPspModule = { psp: 'razorpay', create: createRazorpayApi };
