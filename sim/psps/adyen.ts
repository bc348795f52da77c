// Adyen-like PSP (CONTRACT.md "Adyen-like"): the Checkout API's JSON, `X-API-Key` auth, the
// merchant account in every body, `Idempotency-Key`, card payments answered with a resultCode,
// and captures, cancels and refunds answered `status: "received"` whose outcome goes out as a
// standard webhook (notificationItems, HMAC-signed with the hex key).
import { createHmac } from 'node:crypto';
import {
  cardOutcome,
  isCvc,
  type AuthenticationEvidence,
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
  type SimPspModule,
  type SimRequest,
  type SimResponse,
  type ThreeDSecureVerifier,
} from '../http.ts';
import { IDEMPOTENCY_KEY_LENGTH_MAX, withIdempotency, type Performed } from '../idempotency.ts';
import { randomId } from '../ids.ts';
import { canonicalJson } from '../json.ts';
import type { Operation, Payment, PspBook, Refund } from '../store.ts';
import type { PaymentState, WebhookFormat } from '../webhooks.ts';
import { AMOUNT_MAX, cardTiming } from './common.ts';

export const ADYEN_API_KEY = 'AQE_sim_api_key';
export const ADYEN_MERCHANT_ACCOUNT = 'PayrailSimECOM';
const REFERENCE_LENGTH_MAX = 80;

type Refusal = { readonly code: string; readonly reason: string; readonly raw?: string };
type AdyenPaymentDetails = {
  readonly refusal: Refusal | null;
  readonly cardLast4: string;
  /** Our merchantReference of each modification, and its own pspReference. */
  capture: { readonly pspReference: string; readonly reference: string } | null;
  cancel: { readonly pspReference: string; readonly reference: string } | null;
};
type AdyenRefundDetails = { readonly reference: string };
type Book = PspBook<AdyenPaymentDetails, AdyenRefundDetails>;
type AdyenPayment = Payment<AdyenPaymentDetails>;
type Body = Record<string, unknown>;

// Adyen's refusalReasonCode and refusalReason for each simulator decline; the raw acquirer
// response (ISO 8583 code and text) tells a lost card from a stolen one.
const REFUSALS: Readonly<Record<DeclineCode, Refusal>> = {
  insufficient_funds: { code: '12', reason: 'Not enough balance', raw: '51 : Insufficient funds' },
  lost_card: { code: '5', reason: 'Blocked Card', raw: '41 : Lost card' },
  stolen_card: { code: '5', reason: 'Blocked Card', raw: '43 : Stolen card' },
  // Refused (2) without a raw response code: the issuer gave no reason.
  generic_decline: { code: '2', reason: 'Refused' },
  expired_card: { code: '6', reason: 'Expired Card', raw: '54 : Expired card' },
  incorrect_cvc: { code: '24', reason: 'CVC Declined', raw: 'N7 : Decline for CVV2 failure' },
  processing_error: { code: '4', reason: 'Acquirer Error', raw: '96 : System malfunction' },
  card_velocity_exceeded: {
    code: '28',
    reason: 'Withdrawal count exceeded',
    raw: '65 : Exceeds withdrawal count limit',
  },
  fraudulent: { code: '20', reason: 'FRAUD' },
  authentication_required: {
    code: '38',
    reason: 'Authentication required',
    raw: '1A : Additional customer authentication required',
  },
};

/** A request Adyen refuses before acting (never stored for idempotent replay). */
class AdyenError extends Error {
  readonly status: number;
  readonly errorCode: string;
  readonly errorType: string;

  constructor(status: number, errorCode: string, message: string, errorType = 'validation') {
    super(message);
    this.status = status;
    this.errorCode = errorCode;
    this.errorType = errorType;
  }

  response(): SimResponse {
    return errorResponse(this.status, this.errorCode, this.message, this.errorType);
  }
}

function errorResponse(
  status: number,
  errorCode: string,
  message: string,
  errorType: string,
): SimResponse {
  return json(status, { status, errorCode, message, errorType });
}

function invalid(errorCode: string, message: string): AdyenError {
  return new AdyenError(422, errorCode, message);
}

/** Adyen's pspReference: 16 characters, capital letters and digits. */
function newPspReference(): string {
  return randomId('', 16).toUpperCase();
}

export function createAdyenApi(context: PspContext): PspApi {
  const book: Book = context.store.book<AdyenPaymentDetails, AdyenRefundDetails>('adyen');
  context.webhooks.register('adyen', book, ADYEN_WEBHOOKS);
  const actions = adyenActions(book, context.timeoutDelayMs, context.threeDSecure);
  const mutating = (action: Action): Route => ({
    mutating: true,
    handle: (request) => mutate(book, request, action),
  });
  const routes = {
    payments: mutating(actions.payment),
    captures: mutating(actions.capture),
    cancels: mutating(actions.cancel),
    refunds: mutating(actions.refund),
  };
  return {
    psp: 'adyen',
    errors: {
      notFound: () => errorResponse(404, '000', 'HTTP Status Response - Not Found', 'internal'),
      serverError: () => errorResponse(500, '000', 'Internal error', 'internal'),
      tooLarge: () => errorResponse(413, '000', 'Request entity too large', 'validation'),
      unavailable: (message) => errorResponse(503, '000', message, 'internal'),
    },
    authenticate(request) {
      if (headerValue(request.headers, 'x-api-key') === ADYEN_API_KEY) return undefined;
      return errorResponse(401, '000', 'HTTP Status Response - Unauthorized', 'security');
    },
    match(method, segments) {
      const [version, resource, pspReference, modification, extra] = segments;
      if (method !== 'POST' || !/^v\d{2}$/.test(version ?? '') || resource !== 'payments')
        return undefined;
      if (pspReference === undefined) return routes.payments;
      if (extra !== undefined) return undefined;
      if (modification === 'captures') return routes.captures;
      if (modification === 'cancels') return routes.cancels;
      if (modification === 'refunds') return routes.refunds;
      return undefined;
    },
  };
}

type Action = (body: Body, key: string | undefined, segments: readonly string[]) => Performed;

function mutate(book: Book, request: SimRequest, action: Action): SimResponse {
  let body: unknown;
  try {
    body = JSON.parse(request.bodyText) as unknown;
  } catch {
    return errorResponse(400, '702', 'Structure of the request is not valid JSON', 'validation');
  }
  if (!isPlainObject(body))
    return errorResponse(400, '702', 'The request must be a JSON object', 'validation');
  const rawKey = headerValue(request.headers, 'idempotency-key');
  const key = rawKey === undefined || rawKey === '' ? undefined : rawKey;
  if (key !== undefined && key.length > IDEMPOTENCY_KEY_LENGTH_MAX)
    return errorResponse(
      422,
      '702',
      `Idempotency-Key may be at most ${IDEMPOTENCY_KEY_LENGTH_MAX} characters`,
      'validation',
    );
  return withIdempotency(
    book,
    key,
    () => `${request.segments.join('/')} ${canonicalJson(body)}`,
    () => guard(() => action(body, key, request.segments)),
    {
      conflict: () =>
        errorResponse(
          422,
          '704',
          'request already processed or in progress (Idempotency-Key reused)',
          'validation',
        ),
    },
  );
}

function guard(run: () => Performed): Performed {
  try {
    return run();
  } catch (error) {
    if (error instanceof AdyenError) return { ...error.response(), keep: false };
    throw error;
  }
}

function adyenActions(book: Book, timeoutDelayMs: number, threeDSecure: ThreeDSecureVerifier) {
  const find = (pspReference: string | undefined): AdyenPayment => {
    const payment = pspReference === undefined ? undefined : book.payments.get(pspReference);
    if (payment === undefined)
      throw invalid('167', 'Original pspReference required for this operation');
    return payment;
  };

  const payment: Action = (body, key) => {
    readMerchantAccount(body);
    const { value, currency } = readAmount(body.amount);
    const reference = readReference(body.reference);
    const number = readCard(body.paymentMethod);
    const manual =
      isPlainObject(body.additionalData) && body.additionalData.manualCapture === 'true';
    const evidence = readMpiData(body.mpiData, threeDSecure, number, value, currency);
    const outcome = cardOutcome(number, evidence);
    if (outcome.kind === 'error')
      return { ...errorResponse(500, '000', 'Internal error', 'internal'), keep: false };
    const declineCode = outcome.kind === 'decline' ? outcome.code : undefined;
    const refusal = declineCode === undefined ? null : REFUSALS[declineCode];
    const pspReference = newPspReference();
    const created = book.authorize({
      id: pspReference,
      reference,
      amount: value,
      currency: currency.toLowerCase(),
      captureMode: manual ? 'manual' : 'automatic',
      ...(declineCode === undefined ? {} : { declineCode }),
      idempotencyKey: key,
      details: {
        refusal,
        cardLast4: number.slice(-4),
        // An automatic capture is a modification of its own at Adyen, with its own reference.
        capture: manual || refusal !== null ? null : { pspReference: newPspReference(), reference },
        cancel: null,
      },
    });
    return {
      ...json(200, presentPayment(created)),
      keep: true,
      ...(refusal === null ? cardTiming(outcome, timeoutDelayMs) : {}),
    };
  };

  const capture: Action = (body, key, segments) => {
    const found = find(segments[2]);
    readMerchantAccount(body);
    const amount = readAmount(body.amount);
    const reference = readOptionalReference(body.reference);
    if (found.status !== 'authorized')
      throw invalid('167', 'Original pspReference is not in a state that can be captured');
    if (amount.currency.toLowerCase() !== found.currency)
      throw invalid('137', 'Invalid amount specified: currency differs from the payment');
    if (amount.value > found.authorized)
      throw invalid('137', 'Invalid amount specified: more than authorised');
    const pspReference = newPspReference();
    found.details.capture = { pspReference, reference: reference ?? '' };
    book.capture(found, amount.value, key);
    return { ...modificationAnswer(found, pspReference, reference, amount), keep: true };
  };

  const cancel: Action = (body, key, segments) => {
    const found = find(segments[2]);
    readMerchantAccount(body);
    const reference = readOptionalReference(body.reference);
    if (found.status !== 'authorized')
      throw invalid('167', 'Original pspReference is not in a state that can be cancelled');
    const pspReference = newPspReference();
    found.details.cancel = { pspReference, reference: reference ?? '' };
    book.void(found, key);
    return { ...modificationAnswer(found, pspReference, reference, undefined), keep: true };
  };

  const refund: Action = (body, key, segments) => {
    const found = find(segments[2]);
    readMerchantAccount(body);
    const amount = readAmount(body.amount);
    const reference = readOptionalReference(body.reference);
    if (amount.currency.toLowerCase() !== found.currency)
      throw invalid('137', 'Invalid amount specified: currency differs from the payment');
    if (found.captured === 0)
      throw invalid('167', 'Original pspReference is not in a state that can be refunded');
    if (amount.value > found.captured - found.refunded)
      throw invalid('137', 'Invalid amount specified: more than is left to refund');
    const pspReference = newPspReference();
    book.refund(found, {
      id: pspReference,
      reference,
      amount: amount.value,
      idempotencyKey: key,
      details: { reference: reference ?? '' },
    });
    return { ...modificationAnswer(found, pspReference, reference, amount), keep: true };
  };

  return { payment, capture, cancel, refund };
}

function modificationAnswer(
  payment: AdyenPayment,
  pspReference: string,
  reference: string | null,
  amount: { value: number; currency: string } | undefined,
): SimResponse {
  return json(201, {
    merchantAccount: ADYEN_MERCHANT_ACCOUNT,
    paymentPspReference: payment.id,
    pspReference,
    ...(reference === null ? {} : { reference }),
    status: 'received',
    ...(amount === undefined ? {} : { amount }),
  });
}

function presentPayment(payment: AdyenPayment): Record<string, unknown> {
  const refusal = payment.details.refusal;
  const common = {
    pspReference: payment.id,
    merchantReference: payment.reference,
    amount: { value: payment.amount, currency: payment.currency.toUpperCase() },
  };
  if (refusal === null) return { ...common, resultCode: 'Authorised' };
  return {
    ...common,
    resultCode: 'Refused',
    refusalReason: refusal.reason,
    refusalReasonCode: refusal.code,
    ...(refusal.raw === undefined ? {} : { additionalData: { refusalReasonRaw: refusal.raw } }),
  };
}

function readMerchantAccount(body: Body): void {
  if (body.merchantAccount === undefined)
    throw invalid('901', "Required field 'merchantAccount' is not provided.");
  if (body.merchantAccount !== ADYEN_MERCHANT_ACCOUNT)
    throw new AdyenError(403, '901', 'Invalid Merchant Account', 'security');
}

function readAmount(value: unknown): { value: number; currency: string } {
  if (!isPlainObject(value)) throw invalid('100', 'Required field amount is not provided.');
  const minor = value.value;
  if (typeof minor !== 'number' || !Number.isSafeInteger(minor) || minor < 1 || minor > AMOUNT_MAX)
    throw invalid('137', 'Invalid amount specified');
  if (typeof value.currency !== 'string' || !/^[A-Z]{3}$/.test(value.currency))
    throw invalid('138', 'Unsupported currency specified');
  return { value: minor, currency: value.currency };
}

function readReference(value: unknown): string {
  const reference = readOptionalReference(value);
  if (reference === null) throw invalid('130', "Required field 'reference' is not provided.");
  return reference;
}

function readOptionalReference(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > REFERENCE_LENGTH_MAX)
    throw invalid('130', `Field 'reference' must be 1 to ${REFERENCE_LENGTH_MAX} characters.`);
  return value;
}

function readCard(value: unknown): string {
  if (!isPlainObject(value) || value.type !== 'scheme')
    throw invalid('702', "Required field 'paymentMethod.type' must be 'scheme'.");
  const number = normalizeCardNumber(value.number);
  if (number === undefined) throw invalid('101', 'Invalid card number');
  if (typeof value.expiryMonth !== 'string' || parseExpiryMonth(value.expiryMonth) === undefined)
    throw invalid('129', 'Expiry Date Invalid: expiryMonth');
  if (typeof value.expiryYear !== 'string' || parseExpiryYear(value.expiryYear) === undefined)
    throw invalid('129', 'Expiry Date Invalid: expiryYear');
  // A stored card (card on file) is charged without its CVC; one that is given must be valid.
  if (value.cvc !== undefined && !isCvc(value.cvc)) throw invalid('105', 'Invalid CVC');
  if (
    value.holderName !== undefined &&
    (typeof value.holderName !== 'string' || value.holderName.length > 100)
  )
    throw invalid('125', 'Invalid holderName');
  return number;
}

/**
 * Adyen's `mpiData` (authentication done by the merchant's own 3DS server): cavv, eci, dsTransID
 * and threeDSVersion are required; authenticationResponse (the transStatus), when given, must be
 * Y or A for the data to count. Data the simulator's 3DS server did not issue for this card,
 * amount and currency is 'invalid' (refused 38, authentication required).
 */
function readMpiData(
  value: unknown,
  verifier: ThreeDSecureVerifier,
  cardNumber: string,
  amount: number,
  currency: string,
): AuthenticationEvidence {
  if (value === undefined || value === null) return 'none';
  if (!isPlainObject(value)) throw invalid('702', "Field 'mpiData' must be an object.");
  const field = (name: string, lengthMax: number): string => {
    const text = value[name];
    if (typeof text !== 'string' || text.length === 0 || text.length > lengthMax)
      throw invalid('702', `Required field 'mpiData.${name}' is not provided or invalid.`);
    return text;
  };
  const cavv = field('cavv', 5000);
  const eci = field('eci', 2);
  const dsTransactionId = field('dsTransID', 100);
  field('threeDSVersion', 10);
  const response = value.authenticationResponse;
  if (response !== undefined && response !== 'Y' && response !== 'A') return 'invalid';
  const verified = verifier.verify({
    cardNumber,
    amount,
    currency,
    authenticationValue: cavv,
    eci,
    dsTransactionId,
  });
  return verified ? 'valid' : 'invalid';
}

// --- webhooks ----------------------------------------------------------------------------------

function eventCode(operation: Operation): string {
  switch (operation.type) {
    case 'authorize':
      return 'AUTHORISATION';
    case 'capture':
      return 'CAPTURE';
    case 'void':
      return 'CANCELLATION';
    case 'refund':
      return 'REFUND';
  }
}

type Item = {
  pspReference: string;
  originalReference?: string;
  merchantReference: string;
  amount: { value: number; currency: string };
  eventCode: string;
  success: 'true' | 'false';
};

function itemFor(
  payment: AdyenPayment,
  operation: Operation,
  refund: Refund<AdyenRefundDetails> | undefined,
): Item {
  const amount = { value: operation.amount, currency: operation.currency.toUpperCase() };
  const code = eventCode(operation);
  const common = { amount, eventCode: code, success: 'true' } as const;
  switch (operation.type) {
    case 'authorize':
      return {
        ...common,
        pspReference: payment.id,
        merchantReference: payment.reference ?? '',
        success: operation.status === 'declined' ? 'false' : 'true',
      };
    case 'capture':
    case 'void': {
      const modification =
        operation.type === 'capture' ? payment.details.capture : payment.details.cancel;
      return {
        ...common,
        pspReference: modification?.pspReference ?? payment.id,
        originalReference: payment.id,
        merchantReference: modification?.reference ?? '',
      };
    }
    case 'refund':
      return {
        ...common,
        pspReference: refund?.id ?? '',
        originalReference: payment.id,
        merchantReference: refund?.details.reference ?? '',
      };
  }
}

/** Adyen's signed text: eight fields joined by ':'. */
function signedText(item: Item): string {
  return [
    item.pspReference,
    item.originalReference ?? '',
    ADYEN_MERCHANT_ACCOUNT,
    item.merchantReference,
    String(item.amount.value),
    item.amount.currency,
    item.eventCode,
    item.success,
  ].join(':');
}

/** base64 HMAC-SHA256 with the hex-decoded key. */
export function adyenHmac(item: Item, hexKey: string): string {
  return createHmac('sha256', Buffer.from(hexKey, 'hex')).update(signedText(item)).digest('base64');
}

function notification(item: Item, payment: AdyenPayment, atMs: number): Record<string, unknown> {
  const refusal = item.eventCode === 'AUTHORISATION' ? payment.details.refusal : null;
  return {
    live: 'false',
    notificationItems: [
      {
        NotificationRequestItem: {
          additionalData: {},
          amount: item.amount,
          eventCode: item.eventCode,
          eventDate: new Date(atMs).toISOString().replace(/\.\d{3}Z$/, '+00:00'),
          merchantAccountCode: ADYEN_MERCHANT_ACCOUNT,
          merchantReference: item.merchantReference,
          ...(item.originalReference === undefined
            ? {}
            : { originalReference: item.originalReference }),
          paymentMethod: 'visa',
          pspReference: item.pspReference,
          reason: refusal === null ? `sim:${payment.details.cardLast4}` : refusal.reason,
          success: item.success,
        },
      },
    ],
  };
}

const ADYEN_WEBHOOKS: WebhookFormat<AdyenPaymentDetails, AdyenRefundDetails> = {
  // Adyen sends no event id; the simulator's own id names the delivery in its reports.
  newEventId: () => `evt_${newPspReference()}`,
  event(
    payment: AdyenPayment,
    _state: PaymentState,
    operation: Operation,
    refund: Refund<AdyenRefundDetails> | undefined,
  ) {
    const item = itemFor(payment, operation, refund);
    return {
      type: item.eventCode,
      body: JSON.stringify(notification(item, payment, operation.atMs)),
    };
  },
  /** The signature goes inside the body (additionalData.hmacSignature), computed per item. */
  sign(body, secret) {
    const parsed = JSON.parse(body) as {
      notificationItems: {
        NotificationRequestItem: Item & { additionalData: Record<string, string> };
      }[];
    };
    for (const { NotificationRequestItem: item } of parsed.notificationItems)
      item.additionalData.hmacSignature = adyenHmac(item, secret);
    return { body: JSON.stringify(parsed), headers: { 'content-type': 'application/json' } };
  },
};

export const adyenSim: SimPspModule = { psp: 'adyen', create: createAdyenApi };
