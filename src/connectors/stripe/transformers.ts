// Pure mapping between Payrail's connector types and Stripe's API (form-encoded requests with
// bracket notation, JSON responses): PaymentIntents, Refunds, search, and Stripe's error object.
import { currencyExponent, listCurrencies } from '../../money/index.ts';
import { ConnectorError } from '../errors.ts';
import { defineCapabilities } from '../guards.ts';
import type { HttpResponse, HttpResult } from '../http.ts';
import {
  MULTIPLE_MATCHES,
  NOT_FOUND,
  UNEXPECTED_STATUS,
  UNPARSEABLE_RESPONSE,
  findMismatch,
  noResponsePayment,
  noResponseRefund,
  paymentMismatch,
  pspCodeText,
  pspText,
  refundMismatch,
  scrubPayment,
  scrubRefund,
  unparseableMessage,
} from '../outcomes.ts';
import type { Check, PaymentExpectation, RefundExpectation } from '../outcomes.ts';
import type {
  AuthorizeRequest,
  CapabilityMap,
  CaptureRequest,
  DeclineCode,
  PaymentOutcome,
  PaymentStatus,
  RefundOutcome,
  RefundRequest,
  RefundStatus,
  ThreeDSecureData,
} from '../types.ts';
import { arrayAt, integerAt, isObject, objectAt, stringAt, toWireNumber } from '../wire.ts';
import type { JsonObject } from '../wire.ts';

export const PSP = 'stripe';

// Stripe's API scale differs from ISO 4217 for a few currencies. ISK stays two-decimal in Stripe's
// API (100 = 1 króna) although ISO gives it 0; MGA is in Stripe's zero-decimal list although ISO
// gives it 2. UGX is left out of the capability map: Stripe documents it both as zero-decimal and
// as a two-decimal "special case", and a wrong guess would charge 100 times too much or too little.
const STRIPE_EXPONENT_OVERRIDES: ReadonlyMap<string, number> = new Map([
  ['isk', 2],
  ['mga', 0],
]);
const LEFT_OUT_CURRENCIES: ReadonlySet<string> = new Set(['ugx']);

export const STRIPE_CAPABILITIES: CapabilityMap = defineCapabilities({
  paymentMethods: ['card'],
  currencies: listCurrencies().filter((code) => !LEFT_OUT_CURRENCIES.has(code)),
  captureModes: ['automatic', 'manual'],
  partialCapture: true,
  refunds: { full: true, partial: true, multiple: true },
  void: true,
  // Authentication done by Payrail's 3-D Secure server, passed on as MPI data (authorizeForm).
  threeDSecure: true,
  webhooks: true,
  // A voided authorization of a small amount verifies a card (SetupIntents).
  cardVerification: 'authorize_and_void',
});

// --- amounts at the edge -----------------------------------------------------------------------

function exponentShift(currency: string): number {
  const iso = currencyExponent(currency);
  return (STRIPE_EXPONENT_OVERRIDES.get(currency) ?? iso) - iso;
}

/** Payrail minor units → Stripe's integer amount, as the form value. */
export function toStripeAmount(amount: bigint, currency: string, field = 'amount'): string {
  const shift = exponentShift(currency);
  const factor = 10n ** BigInt(Math.abs(shift));
  if (shift < 0 && amount % factor !== 0n) {
    throw new ConnectorError(
      PSP,
      'invalid_amount',
      `${field} ${amount} ${currency} has a fraction Stripe cannot express (whole units only)`,
    );
  }
  const wire = shift >= 0 ? amount * factor : amount / factor;
  return String(toWireNumber(PSP, wire, field));
}

/** Stripe's integer amount → Payrail minor units; undefined when it has no exact equivalent. */
export function fromStripeAmount(wire: bigint, currency: string): bigint | undefined {
  const shift = exponentShift(currency);
  const factor = 10n ** BigInt(Math.abs(shift));
  if (shift > 0) return wire % factor === 0n ? wire / factor : undefined;
  return wire * factor;
}

// --- requests ----------------------------------------------------------------------------------

export function authorizeForm(request: AuthorizeRequest): string {
  const form = new URLSearchParams();
  form.set('amount', toStripeAmount(request.amount, request.currency));
  form.set('currency', request.currency);
  form.set('confirm', 'true');
  form.set('capture_method', request.captureMode);
  form.set('payment_method_data[type]', 'card');
  form.set('payment_method_data[card][number]', request.card.number);
  form.set('payment_method_data[card][exp_month]', String(request.card.expiryMonth));
  form.set('payment_method_data[card][exp_year]', String(request.card.expiryYear));
  if (request.card.cvc !== undefined) form.set('payment_method_data[card][cvc]', request.card.cvc);
  form.set('metadata[reference]', request.reference);
  if (request.description !== undefined) form.set('description', request.description);
  if (request.threeDSecure !== undefined) setThreeDSecure(form, request.threeDSecure);
  return form.toString();
}

/**
 * The authentication as Stripe takes one done elsewhere: PaymentIntent confirm's
 * `payment_method_options[card][three_d_secure]` (cryptogram, electronic_commerce_indicator,
 * transaction_id = the dsTransID for 3DS 2, version, ares_trans_status).
 */
function setThreeDSecure(form: URLSearchParams, data: ThreeDSecureData): void {
  const field = (name: string): string => `payment_method_options[card][three_d_secure][${name}]`;
  form.set(field('cryptogram'), data.authenticationValue);
  form.set(field('electronic_commerce_indicator'), data.eci);
  form.set(field('transaction_id'), data.dsTransactionId);
  form.set(field('version'), data.version);
  form.set(field('ares_trans_status'), data.transactionStatus);
}

/** Always names the amount, so a partial capture is explicit and a full one is checked. */
export function captureForm(request: CaptureRequest): string {
  return new URLSearchParams({
    amount_to_capture: toStripeAmount(request.amount, request.currency, 'amount_to_capture'),
  }).toString();
}

export function refundForm(request: RefundRequest): string {
  const form = new URLSearchParams();
  form.set('payment_intent', request.pspReference);
  form.set('amount', toStripeAmount(request.amount, request.currency));
  form.set('metadata[reference]', request.refundReference);
  return form.toString();
}

export function paymentIntentPath(pspReference: string, action?: 'capture' | 'cancel'): string {
  const base = `/v1/payment_intents/${encodeURIComponent(pspReference)}`;
  return action === undefined ? base : `${base}/${action}`;
}

/** Stripe search query language: string values in single quotes, `'` and `\` escaped. */
export function searchPath(reference: string): string {
  const quoted = reference.replace(/[\\']/g, (character) => `\\${character}`);
  return `/v1/payment_intents/search?query=${encodeURIComponent(`metadata['reference']:'${quoted}'`)}`;
}

// --- responses: payments -----------------------------------------------------------------------

const INTENT_STATUSES: ReadonlyMap<string, PaymentStatus> = new Map([
  ['succeeded', 'captured'],
  ['requires_capture', 'authorized'],
  ['canceled', 'voided'],
  ['requires_payment_method', 'failed'],
  ['processing', 'pending'],
  ['requires_action', 'pending'],
  ['requires_confirmation', 'pending'],
]);

const DECLINE_CODES: ReadonlyMap<string, DeclineCode> = new Map([
  ['insufficient_funds', 'insufficient_funds'],
  ['lost_card', 'lost_card'],
  ['stolen_card', 'stolen_card'],
  ['do_not_honor', 'do_not_honor'],
  ['expired_card', 'expired_card'],
  ['incorrect_cvc', 'incorrect_cvc'],
  ['invalid_cvc', 'incorrect_cvc'],
  ['processing_error', 'processing_error'],
  ['card_velocity_exceeded', 'card_velocity_exceeded'],
  ['fraudulent', 'fraudulent'],
  ['authentication_required', 'authentication_required'],
  ['generic_decline', 'generic_decline'],
]);

export function declineCodeOf(
  declineCode: string | undefined,
  code: string | undefined,
): DeclineCode {
  return DECLINE_CODES.get(declineCode ?? '') ?? DECLINE_CODES.get(code ?? '') ?? 'generic_decline';
}

/** Outcome of create, capture, cancel or retrieve of a PaymentIntent. */
export function paymentOutcome(reply: HttpResult, expectation: PaymentExpectation): PaymentOutcome {
  return scrubPayment(rawPaymentOutcome(reply, expectation), expectation.secrets);
}

function rawPaymentOutcome(reply: HttpResult, expectation: PaymentExpectation): PaymentOutcome {
  if (reply.kind === 'no_response') return noResponsePayment(PSP, reply);
  if (!isSuccess(reply.status)) return errorOutcome(reply, expectation);
  return intentOutcome(reply.body, reply.status, expectation);
}

/** Outcome of a search by our reference (sync without a pspReference). */
export function searchOutcome(reply: HttpResult, expectation: PaymentExpectation): PaymentOutcome {
  if (reply.kind === 'no_response') return noResponsePayment(PSP, reply);
  if (!isSuccess(reply.status)) return errorOutcome(reply, expectation);
  const data = arrayAt(isObject(reply.body) ? reply.body : undefined, 'data');
  if (data === undefined)
    return {
      status: 'unknown',
      pspCode: UNPARSEABLE_RESPONSE,
      message: unparseableMessage(PSP, reply.status),
    };
  const [first, ...rest] = data;
  if (first === undefined) {
    return {
      status: 'unknown',
      pspCode: NOT_FOUND,
      message: `${PSP} has no payment with reference '${expectation.reference}' (yet)`,
    };
  }
  if (rest.length > 0) {
    return {
      status: 'unknown',
      pspCode: MULTIPLE_MATCHES,
      message: `${PSP} has ${data.length} payments with reference '${expectation.reference}'`,
    };
  }
  return intentOutcome(first, reply.status, expectation);
}

function intentOutcome(
  body: unknown,
  httpStatus: number,
  expectation: PaymentExpectation,
): PaymentOutcome {
  if (!isObject(body))
    return {
      status: 'unknown',
      pspCode: UNPARSEABLE_RESPONSE,
      message: unparseableMessage(PSP, httpStatus),
    };
  const id = stringAt(body, 'id');
  const intentStatus = stringAt(body, 'status');
  const status = INTENT_STATUSES.get(intentStatus ?? '');
  const mismatch = findMismatch([
    ...identityChecks(body, expectation),
    ...amountChecks(body, expectation, status),
  ]);
  if (mismatch !== undefined) return paymentMismatch(PSP, mismatch);
  if (id === undefined)
    return paymentMismatch(PSP, { field: 'id', expected: 'a PaymentIntent id', actual: undefined });
  if (status === undefined) {
    return {
      status: 'unknown',
      pspReference: id,
      pspCode: UNEXPECTED_STATUS,
      message: pspText(
        `${PSP} PaymentIntent status '${intentStatus ?? ''}' is not one Payrail knows`,
      ),
    };
  }
  return {
    status,
    pspReference: id,
    ...intentAmounts(body, expectation.currency, status),
    ...failureDetails(body, status),
  };
}

function identityChecks(intent: JsonObject, expectation: PaymentExpectation): Check[] {
  return [
    {
      field: 'metadata.reference',
      expected: expectation.reference,
      actual: stringAt(objectAt(intent, 'metadata'), 'reference'),
    },
    { field: 'currency', expected: expectation.currency, actual: stringAt(intent, 'currency') },
    { field: 'id', expected: expectation.pspReference, actual: stringAt(intent, 'id') },
  ];
}

function amountChecks(
  intent: JsonObject,
  expectation: PaymentExpectation,
  status: PaymentStatus | undefined,
): Check[] {
  const { operation, amount } = expectation;
  const check = (field: string): Check => ({
    field,
    expected: amount,
    actual: amountAt(intent, field, expectation.currency),
  });
  if (operation === 'capture') return status === 'captured' ? [check('amount_received')] : [];
  const checks = [check('amount')];
  if (operation === 'authorize' && status === 'captured') checks.push(check('amount_received'));
  if (operation === 'authorize' && status === 'authorized') checks.push(check('amount_capturable'));
  return checks;
}

function amountAt(
  object: JsonObject | undefined,
  field: string,
  currency: string,
): bigint | undefined {
  const wire = integerAt(object, field);
  return wire === undefined ? undefined : fromStripeAmount(wire, currency);
}

function intentAmounts(
  intent: JsonObject,
  currency: string,
  status: PaymentStatus,
): Partial<PaymentOutcome> {
  const amounts: { amountAuthorized?: bigint; amountCaptured?: bigint; amountRefunded?: bigint } =
    {};
  const amount = amountAt(intent, 'amount', currency);
  const received = amountAt(intent, 'amount_received', currency);
  const refunded = amountAt(intent, 'amount_refunded', currency);
  if ((status === 'authorized' || status === 'captured') && amount !== undefined)
    amounts.amountAuthorized = amount;
  if (received !== undefined && (status === 'captured' || received > 0n))
    amounts.amountCaptured = received;
  if (refunded !== undefined) amounts.amountRefunded = refunded;
  return amounts;
}

function failureDetails(intent: JsonObject, status: PaymentStatus): Partial<PaymentOutcome> {
  if (status !== 'failed') return {};
  const error = objectAt(intent, 'last_payment_error');
  const declineCode = stringAt(error, 'decline_code');
  const code = stringAt(error, 'code');
  return {
    declineCode: declineCodeOf(declineCode, code),
    pspCode: pspCodeText(declineCode ?? code ?? 'requires_payment_method'),
    message: pspText(stringAt(error, 'message')),
  };
}

// --- responses: errors -------------------------------------------------------------------------

// Statuses with which Stripe states that nothing was done (its docs: 400 invalid, 401/403 key,
// 402 request failed, 404 missing, 429 rate limited — none stores an idempotent result).
// 409 (same key in flight), 424 and 5xx prove nothing, and neither does any other status.
const NOTHING_DONE_STATUSES: ReadonlySet<number> = new Set([400, 401, 402, 403, 404, 429]);

type StripeError = {
  type?: string;
  code?: string;
  declineCode?: string;
  message?: string;
  intent?: JsonObject;
};

function readError(body: unknown): StripeError {
  const error = objectAt(isObject(body) ? body : undefined, 'error');
  return {
    type: stringAt(error, 'type'),
    code: stringAt(error, 'code'),
    declineCode: stringAt(error, 'decline_code'),
    message: stringAt(error, 'message'),
    intent: objectAt(error, 'payment_intent'),
  };
}

/** Whether a non-2xx reply proves the operation was not performed. */
export function provesNothingDone(status: number, type: string | undefined): boolean {
  if (type === 'idempotency_error' || type === 'api_error') return false;
  return NOTHING_DONE_STATUSES.has(status);
}

function errorOutcome(reply: HttpResponse, expectation: PaymentExpectation): PaymentOutcome {
  const error = readError(reply.body);
  const details = {
    pspCode: pspCodeText(error.declineCode ?? error.code ?? error.type ?? `http_${reply.status}`),
    message: pspText(error.message) ?? `${PSP} answered HTTP ${reply.status}`,
  };
  if (expectation.operation === 'sync') {
    return {
      status: 'unknown',
      ...details,
      ...(reply.status === 404 ? { pspCode: NOT_FOUND } : {}),
    };
  }
  if (!provesNothingDone(reply.status, error.type)) return { status: 'unknown', ...details };
  if (error.type === 'card_error') return declineOutcome(error, expectation, details);
  return { status: 'failed', ...details };
}

function declineOutcome(
  error: StripeError,
  expectation: PaymentExpectation,
  details: { pspCode?: string; message: string },
): PaymentOutcome {
  const intent = error.intent;
  if (intent !== undefined) {
    const checks = [
      ...identityChecks(intent, expectation),
      ...amountChecks(intent, { ...expectation, operation: 'sync' }, undefined),
    ];
    const mismatch = findMismatch(checks);
    if (mismatch !== undefined) return paymentMismatch(PSP, mismatch);
  }
  const pspReference = stringAt(intent, 'id');
  return {
    status: 'failed',
    ...(pspReference === undefined ? {} : { pspReference }),
    declineCode: declineCodeOf(error.declineCode, error.code),
    ...details,
  };
}

// --- responses: refunds ------------------------------------------------------------------------

const REFUND_STATUSES: ReadonlyMap<string, RefundStatus> = new Map([
  ['succeeded', 'succeeded'],
  ['pending', 'pending'],
  ['requires_action', 'pending'],
  ['failed', 'failed'],
  ['canceled', 'failed'],
]);

export function refundOutcome(reply: HttpResult, expectation: RefundExpectation): RefundOutcome {
  return scrubRefund(rawRefundOutcome(reply, expectation));
}

function rawRefundOutcome(reply: HttpResult, expectation: RefundExpectation): RefundOutcome {
  if (reply.kind === 'no_response') return noResponseRefund(PSP, reply);
  if (!isSuccess(reply.status)) {
    const error = readError(reply.body);
    return {
      status: provesNothingDone(reply.status, error.type) ? 'failed' : 'unknown',
      pspCode: pspCodeText(error.code ?? error.type ?? `http_${reply.status}`),
      message: pspText(error.message) ?? `${PSP} answered HTTP ${reply.status}`,
    };
  }
  const refund = isObject(reply.body) ? reply.body : undefined;
  if (refund === undefined)
    return {
      status: 'unknown',
      pspCode: UNPARSEABLE_RESPONSE,
      message: unparseableMessage(PSP, reply.status),
    };
  const amount = amountAt(refund, 'amount', expectation.currency);
  const mismatch = findMismatch([
    {
      field: 'metadata.reference',
      expected: expectation.refundReference,
      actual: stringAt(objectAt(refund, 'metadata'), 'reference'),
    },
    {
      field: 'payment_intent',
      expected: expectation.pspReference,
      actual: stringAt(refund, 'payment_intent'),
    },
    { field: 'currency', expected: expectation.currency, actual: stringAt(refund, 'currency') },
    { field: 'amount', expected: expectation.amount, actual: amount },
  ]);
  if (mismatch !== undefined) return refundMismatch(PSP, mismatch);
  const id = stringAt(refund, 'id');
  if (id === undefined)
    return refundMismatch(PSP, { field: 'id', expected: 'a Refund id', actual: undefined });
  const status = REFUND_STATUSES.get(stringAt(refund, 'status') ?? '');
  if (status === undefined) {
    return {
      status: 'unknown',
      pspRefundReference: id,
      pspCode: UNEXPECTED_STATUS,
      message: pspText(
        `${PSP} refund status '${stringAt(refund, 'status') ?? ''}' is not one Payrail knows`,
      ),
    };
  }
  const failure =
    status === 'failed'
      ? { pspCode: pspCodeText(stringAt(refund, 'failure_reason') ?? stringAt(refund, 'status')) }
      : {};
  return { status, pspRefundReference: id, amount, ...failure };
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}
