// Pure mapping between Payrail's connector types and Razorpay's API (JSON both ways, integer
// minor units, uppercase currency codes): the payment and refund entities and the error body.
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
import type { PaymentExpectation, RefundExpectation } from '../outcomes.ts';
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
} from '../types.ts';
import {
  arrayAt,
  booleanAt,
  integerAt,
  isObject,
  objectAt,
  stringAt,
  toWireNumber,
} from '../wire.ts';
import type { JsonObject } from '../wire.ts';

export const PSP = 'razorpay';

export const RAZORPAY_CAPABILITIES: CapabilityMap = defineCapabilities({
  paymentMethods: ['card'],
  currencies: ['inr', 'usd', 'eur', 'gbp', 'sgd', 'aed', 'myr'],
  captureModes: ['automatic', 'manual'],
  partialCapture: false,
  refunds: { full: true, partial: true, multiple: true },
  void: false,
  threeDSecure: false,
  webhooks: true,
  // No void: a verification authorization could not be released.
  cardVerification: 'none',
});

// --- requests ----------------------------------------------------------------------------------

export type CreatePaymentBody = {
  amount: number;
  currency: string;
  method: 'card';
  card: { number: string; expiry_month: string; expiry_year: string; cvv?: string; name?: string };
  receipt: string;
  notes: { reference: string };
  capture: boolean;
  description?: string;
};

export function createPaymentBody(request: AuthorizeRequest): CreatePaymentBody {
  const card: CreatePaymentBody['card'] = {
    number: request.card.number,
    expiry_month: String(request.card.expiryMonth).padStart(2, '0'),
    expiry_year: String(request.card.expiryYear),
  };
  if (request.card.cvc !== undefined) card.cvv = request.card.cvc;
  if (request.card.holderName !== undefined) card.name = request.card.holderName;
  const body: CreatePaymentBody = {
    amount: toWireNumber(PSP, request.amount, 'amount'),
    currency: request.currency.toUpperCase(),
    method: 'card',
    card,
    receipt: request.reference,
    notes: { reference: request.reference },
    capture: request.captureMode === 'automatic',
  };
  if (request.description !== undefined) body.description = request.description;
  return body;
}

export function captureBody(request: CaptureRequest): { amount: number; currency: string } {
  return {
    amount: toWireNumber(PSP, request.amount, 'amount'),
    currency: request.currency.toUpperCase(),
  };
}

/** Always names the amount: Razorpay's default ("the rest") would refund more than asked. */
export function refundBody(request: RefundRequest): {
  amount: number;
  receipt: string;
  notes: { reference: string };
} {
  return {
    amount: toWireNumber(PSP, request.amount, 'amount'),
    receipt: request.refundReference,
    notes: { reference: request.refundReference },
  };
}

export function paymentPath(pspReference: string, action?: 'capture' | 'refund'): string {
  const base = `/v1/payments/${encodeURIComponent(pspReference)}`;
  return action === undefined ? base : `${base}/${action}`;
}

export function receiptSearchPath(reference: string): string {
  return `/v1/payments?${new URLSearchParams({ receipt: reference }).toString()}`;
}

export function basicAuthorization(keyId: string, keySecret: string): string {
  if (keyId.includes(':'))
    throw new ConnectorError(PSP, 'missing_credentials', 'the key id must not contain ":"');
  return `Basic ${Buffer.from(`${keyId}:${keySecret}`, 'utf8').toString('base64')}`;
}

// --- responses: payments -----------------------------------------------------------------------

// Razorpay payment states: created → authorized → captured (→ refunded when fully refunded);
// failed. 'refunded' is still a captured payment as far as our status goes.
const PAYMENT_STATUSES: ReadonlyMap<string, PaymentStatus> = new Map([
  ['captured', 'captured'],
  ['refunded', 'captured'],
  ['authorized', 'authorized'],
  ['failed', 'failed'],
  ['created', 'pending'],
]);

const DECLINE_REASONS: ReadonlyMap<string, DeclineCode> = new Map([
  ['insufficient_balance', 'insufficient_funds'],
  ['insufficient_funds', 'insufficient_funds'],
  ['card_reported_lost', 'lost_card'],
  ['card_reported_stolen', 'stolen_card'],
  ['payment_declined_by_bank', 'do_not_honor'],
  ['do_not_honour', 'do_not_honor'],
  ['do_not_honor', 'do_not_honor'],
  ['card_expired', 'expired_card'],
  ['expired_card', 'expired_card'],
  ['incorrect_cvv', 'incorrect_cvc'],
  ['invalid_cvv', 'incorrect_cvc'],
  ['bank_technical_error', 'processing_error'],
  ['card_velocity_exceeded', 'card_velocity_exceeded'],
  ['payment_risk_check_failed', 'fraudulent'],
  ['authentication_required', 'authentication_required'],
  ['payment_failed', 'generic_decline'],
]);

export function declineCodeOf(reason: string | undefined): DeclineCode {
  return DECLINE_REASONS.get(reason ?? '') ?? 'generic_decline';
}

export function paymentOutcome(reply: HttpResult, expectation: PaymentExpectation): PaymentOutcome {
  return scrubPayment(rawPaymentOutcome(reply, expectation), expectation.secrets);
}

function rawPaymentOutcome(reply: HttpResult, expectation: PaymentExpectation): PaymentOutcome {
  if (reply.kind === 'no_response') return noResponsePayment(PSP, reply);
  if (!isSuccess(reply.status)) return errorOutcome(reply, expectation);
  return entityOutcome(reply.body, reply.status, expectation);
}

/** Outcome of `GET /v1/payments?receipt=…` (sync without a pspReference). */
export function collectionOutcome(
  reply: HttpResult,
  expectation: PaymentExpectation,
): PaymentOutcome {
  if (reply.kind === 'no_response') return noResponsePayment(PSP, reply);
  if (!isSuccess(reply.status)) return errorOutcome(reply, expectation);
  const items = arrayAt(isObject(reply.body) ? reply.body : undefined, 'items');
  if (items === undefined)
    return {
      status: 'unknown',
      pspCode: UNPARSEABLE_RESPONSE,
      message: unparseableMessage(PSP, reply.status),
    };
  const [first, ...rest] = items;
  if (first === undefined) {
    return {
      status: 'unknown',
      pspCode: NOT_FOUND,
      message: `${PSP} has no payment with receipt '${expectation.reference}' (yet)`,
    };
  }
  if (rest.length > 0) {
    return {
      status: 'unknown',
      pspCode: MULTIPLE_MATCHES,
      message: `${PSP} has ${items.length} payments with receipt '${expectation.reference}'`,
    };
  }
  return entityOutcome(first, reply.status, expectation);
}

/** Our reference: the contract's `receipt`, else `notes.reference` (where real Razorpay keeps it). */
function referenceOf(entity: JsonObject): string | undefined {
  return stringAt(entity, 'receipt') ?? stringAt(objectAt(entity, 'notes'), 'reference');
}

function entityOutcome(
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
  const amount = integerAt(body, 'amount');
  const mismatch = findMismatch([
    { field: 'receipt', expected: expectation.reference, actual: referenceOf(body) },
    {
      field: 'currency',
      expected: expectation.currency,
      actual: stringAt(body, 'currency')?.toLowerCase(),
    },
    { field: 'id', expected: expectation.pspReference, actual: id },
    { field: 'amount', expected: expectation.amount, actual: amount },
  ]);
  if (mismatch !== undefined) return paymentMismatch(PSP, mismatch);
  if (id === undefined)
    return paymentMismatch(PSP, { field: 'id', expected: 'a payment id', actual: undefined });
  const rawStatus = stringAt(body, 'status');
  const status = PAYMENT_STATUSES.get(rawStatus ?? '');
  if (status === undefined) {
    return {
      status: 'unknown',
      pspReference: id,
      pspCode: UNEXPECTED_STATUS,
      message: pspText(`${PSP} payment status '${rawStatus ?? ''}' is not one Payrail knows`),
    };
  }
  return {
    status,
    pspReference: id,
    ...entityAmounts(body, status),
    ...entityFailure(body, status),
  };
}

function entityAmounts(entity: JsonObject, status: PaymentStatus): Partial<PaymentOutcome> {
  const amount = integerAt(entity, 'amount');
  const refunded = integerAt(entity, 'amount_refunded');
  const amounts: { amountAuthorized?: bigint; amountCaptured?: bigint; amountRefunded?: bigint } =
    {};
  if (amount !== undefined && (status === 'authorized' || status === 'captured'))
    amounts.amountAuthorized = amount;
  if (amount !== undefined && status === 'captured' && booleanAt(entity, 'captured') !== false)
    amounts.amountCaptured = amount;
  if (refunded !== undefined) amounts.amountRefunded = refunded;
  return amounts;
}

function entityFailure(entity: JsonObject, status: PaymentStatus): Partial<PaymentOutcome> {
  if (status !== 'failed') return {};
  const reason = stringAt(entity, 'error_reason');
  return {
    declineCode: declineCodeOf(reason),
    pspCode: pspCodeText(reason ?? stringAt(entity, 'error_code') ?? 'failed'),
    message: pspText(stringAt(entity, 'error_description')),
  };
}

// --- responses: errors -------------------------------------------------------------------------

// 400 BAD_REQUEST_ERROR and 401 are Razorpay refusing the request (a declined payment is one of
// them: it is stored as failed). GATEWAY_ERROR and SERVER_ERROR, 409, 5xx and anything else
// prove nothing. A reused idempotency key means an earlier request under it may have acted.
const NOTHING_DONE_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 404, 429]);

type RazorpayError = {
  code?: string;
  description?: string;
  reason?: string;
  step?: string;
  source?: string;
  paymentId?: string;
};

function readError(body: unknown): RazorpayError {
  const error = objectAt(isObject(body) ? body : undefined, 'error');
  return {
    code: stringAt(error, 'code'),
    description: stringAt(error, 'description'),
    reason: stringAt(error, 'reason'),
    step: stringAt(error, 'step'),
    source: stringAt(error, 'source'),
    paymentId: stringAt(objectAt(error, 'metadata'), 'payment_id'),
  };
}

export function provesNothingDone(status: number, error: RazorpayError): boolean {
  if (error.reason === 'idempotency_key_reused') return false;
  if (error.code === 'GATEWAY_ERROR' || error.code === 'SERVER_ERROR') return false;
  return NOTHING_DONE_STATUSES.has(status);
}

function isDecline(error: RazorpayError): boolean {
  if (error.reason !== undefined && DECLINE_REASONS.has(error.reason)) return true;
  return (
    error.step === 'payment_authorization' || error.source === 'bank' || error.source === 'issuer'
  );
}

function errorOutcome(reply: HttpResponse, expectation: PaymentExpectation): PaymentOutcome {
  const error = readError(reply.body);
  const details = {
    pspCode: pspCodeText(error.reason ?? error.code ?? `http_${reply.status}`),
    message: pspText(error.description) ?? `${PSP} answered HTTP ${reply.status}`,
  };
  if (expectation.operation === 'sync') {
    const missing = /does not exist/i.test(error.description ?? '') || reply.status === 404;
    return { status: 'unknown', ...details, ...(missing ? { pspCode: NOT_FOUND } : {}) };
  }
  if (!provesNothingDone(reply.status, error)) return { status: 'unknown', ...details };
  if (expectation.operation === 'authorize' && isDecline(error)) {
    return {
      status: 'failed',
      ...(error.paymentId === undefined ? {} : { pspReference: error.paymentId }),
      declineCode: declineCodeOf(error.reason),
      ...details,
    };
  }
  return { status: 'failed', ...details };
}

// --- responses: refunds ------------------------------------------------------------------------

const REFUND_STATUSES: ReadonlyMap<string, RefundStatus> = new Map([
  ['processed', 'succeeded'],
  ['pending', 'pending'],
  ['failed', 'failed'],
]);

export function refundOutcome(reply: HttpResult, expectation: RefundExpectation): RefundOutcome {
  return scrubRefund(rawRefundOutcome(reply, expectation));
}

function rawRefundOutcome(reply: HttpResult, expectation: RefundExpectation): RefundOutcome {
  if (reply.kind === 'no_response') return noResponseRefund(PSP, reply);
  if (!isSuccess(reply.status)) {
    const error = readError(reply.body);
    return {
      status: provesNothingDone(reply.status, error) ? 'failed' : 'unknown',
      pspCode: pspCodeText(error.reason ?? error.code ?? `http_${reply.status}`),
      message: pspText(error.description) ?? `${PSP} answered HTTP ${reply.status}`,
    };
  }
  const refund = isObject(reply.body) ? reply.body : undefined;
  if (refund === undefined)
    return {
      status: 'unknown',
      pspCode: UNPARSEABLE_RESPONSE,
      message: unparseableMessage(PSP, reply.status),
    };
  const amount = integerAt(refund, 'amount');
  const mismatch = findMismatch([
    { field: 'receipt', expected: expectation.refundReference, actual: referenceOf(refund) },
    {
      field: 'payment_id',
      expected: expectation.pspReference,
      actual: stringAt(refund, 'payment_id'),
    },
    {
      field: 'currency',
      expected: expectation.currency,
      actual: stringAt(refund, 'currency')?.toLowerCase(),
    },
    { field: 'amount', expected: expectation.amount, actual: amount },
  ]);
  if (mismatch !== undefined) return refundMismatch(PSP, mismatch);
  const id = stringAt(refund, 'id');
  if (id === undefined)
    return refundMismatch(PSP, { field: 'id', expected: 'a refund id', actual: undefined });
  const rawStatus = stringAt(refund, 'status');
  const status = REFUND_STATUSES.get(rawStatus ?? '');
  if (status === undefined) {
    return {
      status: 'unknown',
      pspRefundReference: id,
      pspCode: UNEXPECTED_STATUS,
      message: pspText(`${PSP} refund status '${rawStatus ?? ''}' is not one Payrail knows`),
    };
  }
  return {
    status,
    pspRefundReference: id,
    amount,
    ...(status === 'failed' ? { pspCode: 'failed' } : {}),
  };
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}
