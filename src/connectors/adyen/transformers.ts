// Adyen Checkout API (as Adyen documents it): pure functions between Payrail's connector types and
// Adyen's JSON. Amounts are `{value, currency}` with `value` in minor units and an uppercase ISO
// currency; `reference` is our attempt id (our refund id on a refund). A payment answers with a
// `resultCode` at once; a capture, cancel or refund (a "modification") answers only
// `status: "received"`: its outcome comes later, in a webhook (notifications.ts).
import { defineCapabilities } from '../guards.ts';
import type { HttpResponse, HttpResult } from '../http.ts';
import {
  findMismatch,
  noResponsePayment,
  paymentMismatch,
  pspCodeText,
  pspText,
  scrubPayment,
  scrubRefund,
  unparseableMessage,
  UNEXPECTED_STATUS,
  UNPARSEABLE_RESPONSE,
  type Check,
  type PaymentExpectation,
} from '../outcomes.ts';
import type {
  AuthorizeRequest,
  CapabilityMap,
  CaptureMode,
  CaptureRequest,
  DeclineCode,
  PaymentOutcome,
  RefundOutcome,
  RefundRequest,
  ThreeDSecureData,
  VoidRequest,
} from '../types.ts';
import { integerAt, isObject, objectAt, stringAt, toWireNumber } from '../wire.ts';
import type { JsonObject } from '../wire.ts';

export const PSP = 'adyen';
export const API_VERSION = 'v71';

/**
 * Currencies whose minor unit is the same at Adyen as in ISO 4217 (Payrail's), so `value` needs
 * no rescaling. Adyen takes many more; each would be added with its scale checked.
 */
export const ADYEN_CAPABILITIES: CapabilityMap = defineCapabilities({
  paymentMethods: ['card'],
  currencies: ['aud', 'cad', 'chf', 'dkk', 'eur', 'gbp', 'inr', 'jpy', 'nok', 'sek', 'sgd', 'usd'],
  captureModes: ['automatic', 'manual'],
  // One partial capture: Adyen releases the rest (multiple partial captures need Adyen's support).
  partialCapture: true,
  refunds: { full: true, partial: true, multiple: true },
  void: true,
  // Authentication done by Payrail's 3-D Secure server, passed on as mpiData (paymentBody). Adyen's
  // own 3DS (a payment answered RedirectShopper/ChallengeShopper) is refused (see resultOutcome).
  threeDSecure: true,
  webhooks: true,
  // A voided authorization of a small amount verifies a card (SetupIntents).
  cardVerification: 'authorize_and_void',
});

// --- requests ----------------------------------------------------------------------------------

export type AdyenAmount = { value: number; currency: string };

export type PaymentBody = {
  amount: AdyenAmount;
  reference: string;
  merchantAccount: string;
  paymentMethod: {
    type: 'scheme';
    number: string;
    expiryMonth: string;
    expiryYear: string;
    cvc?: string;
    holderName?: string;
  };
  shopperInteraction: 'Ecommerce';
  /** Manual capture is asked per payment; without it the account's automatic capture applies. */
  additionalData?: { manualCapture: 'true' };
  /** A 3-D Secure authentication done by a third-party 3DS server ("MPI data"). */
  mpiData?: MpiData;
};

/** Adyen's mpiData for 3D Secure 2 authenticated outside Adyen. */
export type MpiData = {
  cavv: string;
  eci: string;
  dsTransID: string;
  threeDSVersion: string;
  /** The final transStatus (ARes when frictionless, RReq after a challenge). */
  authenticationResponse: 'Y' | 'A';
  /** The ARes transStatus: C when the card holder was challenged. */
  directoryResponse: 'Y' | 'A' | 'C';
};

export function mpiDataOf(data: ThreeDSecureData): MpiData {
  return {
    cavv: data.authenticationValue,
    eci: data.eci,
    dsTransID: data.dsTransactionId,
    threeDSVersion: data.version,
    authenticationResponse: data.transactionStatus,
    directoryResponse: data.authenticationFlow === 'challenge' ? 'C' : data.transactionStatus,
  };
}

function amountOf(amount: bigint, currency: string): AdyenAmount {
  return { value: toWireNumber(PSP, amount, 'amount'), currency: currency.toUpperCase() };
}

export function paymentBody(request: AuthorizeRequest, merchantAccount: string): PaymentBody {
  const paymentMethod: PaymentBody['paymentMethod'] = {
    type: 'scheme',
    number: request.card.number,
    expiryMonth: String(request.card.expiryMonth).padStart(2, '0'),
    expiryYear: String(request.card.expiryYear),
  };
  if (request.card.cvc !== undefined) paymentMethod.cvc = request.card.cvc;
  if (request.card.holderName !== undefined) paymentMethod.holderName = request.card.holderName;
  const body: PaymentBody = {
    amount: amountOf(request.amount, request.currency),
    reference: request.reference,
    merchantAccount,
    paymentMethod,
    shopperInteraction: 'Ecommerce',
  };
  if (request.captureMode === 'manual') body.additionalData = { manualCapture: 'true' };
  if (request.threeDSecure !== undefined) body.mpiData = mpiDataOf(request.threeDSecure);
  return body;
}

export type ModificationBody = { merchantAccount: string; reference: string; amount?: AdyenAmount };

export function captureBody(request: CaptureRequest, merchantAccount: string): ModificationBody {
  return {
    merchantAccount,
    reference: request.reference,
    amount: amountOf(request.amount, request.currency),
  };
}

export function cancelBody(request: VoidRequest, merchantAccount: string): ModificationBody {
  return { merchantAccount, reference: request.reference };
}

export function refundBody(request: RefundRequest, merchantAccount: string): ModificationBody {
  return {
    merchantAccount,
    reference: request.refundReference,
    amount: amountOf(request.amount, request.currency),
  };
}

export type Modification = 'captures' | 'cancels' | 'refunds';

export function modificationPath(pspReference: string, modification: Modification): string {
  return `/${API_VERSION}/payments/${encodeURIComponent(pspReference)}/${modification}`;
}

export const PAYMENTS_PATH = `/${API_VERSION}/payments`;

// --- refusals ----------------------------------------------------------------------------------

// Adyen's refusalReasonCode values (its "Refusal reasons" page) that name a reason Payrail has a
// decline code for. Blocked Card (5) covers lost and stolen cards; the raw acquirer response,
// when Adyen sends it, tells which.
const DECLINE_CODES: ReadonlyMap<string, DeclineCode> = new Map([
  ['4', 'processing_error'],
  ['6', 'expired_card'],
  ['12', 'insufficient_funds'],
  ['20', 'fraudulent'],
  ['24', 'incorrect_cvc'],
  ['28', 'card_velocity_exceeded'],
  ['38', 'authentication_required'],
]);

export const BLOCKED_CARD = '5';
/** Refused (2): Adyen's refusal without a reason; the raw acquirer code 05 says "do not honor". */
export const REFUSED = '2';

export function declineCodeOf(
  refusalReasonCode: string | undefined,
  refusalReasonRaw: string | undefined,
): DeclineCode {
  if (refusalReasonCode === BLOCKED_CARD)
    return /stolen/i.test(refusalReasonRaw ?? '') ? 'stolen_card' : 'lost_card';
  if (refusalReasonCode === REFUSED)
    return /^05\b/.test(refusalReasonRaw ?? '') ? 'do_not_honor' : 'generic_decline';
  return DECLINE_CODES.get(refusalReasonCode ?? '') ?? 'generic_decline';
}

// --- responses: payments -----------------------------------------------------------------------

/** resultCode values that ask the shopper for an action (3-D Secure, a redirect): not supported. */
const SHOPPER_ACTIONS: ReadonlySet<string> = new Set([
  'RedirectShopper',
  'IdentifyShopper',
  'ChallengeShopper',
  'PresentToShopper',
]);

export const AUTHENTICATION_REQUIRED = 'authentication_required';

function amountChecks(
  amount: JsonObject | undefined,
  expected: { amount: bigint; currency: string },
): Check[] {
  return [
    { field: 'amount.currency', expected: expected.currency, actual: currencyOf(amount) },
    { field: 'amount.value', expected: expected.amount, actual: integerAt(amount, 'value') },
  ];
}

function currencyOf(amount: JsonObject | undefined): string | undefined {
  return stringAt(amount, 'currency')?.toLowerCase();
}

/** The answer to POST /payments; `captureMode` tells what an Authorised payment now is. */
export function paymentOutcome(
  reply: HttpResult,
  expectation: PaymentExpectation,
  captureMode: CaptureMode,
): PaymentOutcome {
  return scrubPayment(rawPaymentOutcome(reply, expectation, captureMode), expectation.secrets);
}

function rawPaymentOutcome(
  reply: HttpResult,
  expectation: PaymentExpectation,
  captureMode: CaptureMode,
): PaymentOutcome {
  if (reply.kind === 'no_response') return noResponsePayment(PSP, reply);
  if (reply.status !== 200) return errorPaymentOutcome(reply);
  const body = isObject(reply.body) ? reply.body : undefined;
  if (body === undefined)
    return {
      status: 'unknown',
      pspCode: UNPARSEABLE_RESPONSE,
      message: unparseableMessage(PSP, reply.status),
    };
  const pspReference = stringAt(body, 'pspReference');
  const mismatch = findMismatch([
    { field: 'merchantReference', expected: expectation.reference, actual: referenceOf(body) },
    ...amountChecks(objectAt(body, 'amount'), expectation),
  ]);
  if (mismatch !== undefined) return paymentMismatch(PSP, mismatch);
  if (pspReference === undefined)
    return paymentMismatch(PSP, {
      field: 'pspReference',
      expected: 'a pspReference',
      actual: undefined,
    });
  return resultOutcome(body, pspReference, expectation.amount, captureMode);
}

/** Adyen echoes our reference as `merchantReference`; an answer without one is not checked on it. */
function referenceOf(body: JsonObject): string | undefined {
  return stringAt(body, 'merchantReference');
}

function resultOutcome(
  body: JsonObject,
  pspReference: string,
  amount: bigint,
  captureMode: CaptureMode,
): PaymentOutcome {
  const resultCode = stringAt(body, 'resultCode') ?? '';
  switch (resultCode) {
    case 'Authorised':
      // With automatic capture the capture is part of the payment request, as at the other PSPs.
      return captureMode === 'automatic'
        ? { status: 'captured', pspReference, amountAuthorized: amount, amountCaptured: amount }
        : { status: 'authorized', pspReference, amountAuthorized: amount };
    case 'Refused':
    case 'Cancelled':
    case 'Error':
      return refusedOutcome(body, pspReference, resultCode);
    case 'Pending':
    case 'Received':
      return { status: 'pending', pspReference, pspCode: resultCode };
    default:
      if (SHOPPER_ACTIONS.has(resultCode))
        return {
          status: 'failed',
          pspReference,
          pspCode: AUTHENTICATION_REQUIRED,
          message: `${PSP} asked for a shopper action (${resultCode}), which Payrail does not support`,
        };
      return {
        status: 'unknown',
        pspReference,
        pspCode: UNEXPECTED_STATUS,
        message: pspText(`${PSP} resultCode '${resultCode}' is not one Payrail knows`),
      };
  }
}

function refusedOutcome(body: JsonObject, pspReference: string, resultCode: string) {
  const code = stringAt(body, 'refusalReasonCode');
  const raw = stringAt(objectAt(body, 'additionalData'), 'refusalReasonRaw');
  return {
    status: 'failed',
    pspReference,
    // An Error or a Cancelled payment is not the issuer's decline: no decline code.
    ...(resultCode === 'Refused' ? { declineCode: declineCodeOf(code, raw) } : {}),
    pspCode: pspCodeText(code ?? resultCode),
    message: pspText(stringAt(body, 'refusalReason')) ?? `${PSP} answered ${resultCode}`,
  } satisfies PaymentOutcome;
}

// --- responses: errors -------------------------------------------------------------------------

// Adyen's error body: {status, errorCode, message, errorType, pspReference?}. 400, 401, 403, 404,
// 422 (validation) and 429 are Adyen refusing the request before it acted. Error code 704 ("the
// request is already processed or in progress", an idempotency key in use) proves nothing; nor
// do 409, 5xx or anything else.
const NOTHING_DONE_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 404, 422, 429]);
export const IN_PROGRESS = '704';

type AdyenError = { errorCode?: string; message?: string; errorType?: string };

function readError(body: unknown): AdyenError {
  const error = isObject(body) ? body : undefined;
  return {
    errorCode: stringAt(error, 'errorCode'),
    message: stringAt(error, 'message'),
    errorType: stringAt(error, 'errorType'),
  };
}

export function provesNothingDone(status: number, error: AdyenError): boolean {
  return error.errorCode !== IN_PROGRESS && NOTHING_DONE_STATUSES.has(status);
}

function errorFields(reply: HttpResponse, error: AdyenError) {
  return {
    pspCode: pspCodeText(error.errorCode ?? `http_${reply.status}`),
    message: pspText(error.message) ?? `${PSP} answered HTTP ${reply.status}`,
  };
}

function errorPaymentOutcome(reply: HttpResponse): PaymentOutcome {
  const error = readError(reply.body);
  return {
    status: provesNothingDone(reply.status, error) ? 'failed' : 'unknown',
    ...errorFields(reply, error),
  };
}

// --- responses: modifications ------------------------------------------------------------------

export type ModificationExpectation = {
  readonly pspReference: string;
  readonly reference: string;
  /** Undefined for a cancel, which names no amount. */
  readonly amount?: bigint;
  readonly currency: string;
};

export const RECEIVED = 'received';

/**
 * The answer to a capture, cancel or refund: 'received' means Adyen accepted the request, not that
 * it succeeded, so it is `pending` until the webhook says (or `failed` when refused at once).
 */
export type ModificationAnswer =
  | { readonly status: 'received'; readonly pspReference: string }
  | { readonly status: 'failed' | 'unknown'; readonly pspCode?: string; readonly message?: string };

export function modificationAnswer(
  reply: HttpResult,
  expectation: ModificationExpectation,
): ModificationAnswer {
  if (reply.kind === 'no_response') return unknownAnswer(noResponsePayment(PSP, reply));
  if (reply.status !== 201 && reply.status !== 200) {
    const error = readError(reply.body);
    return {
      status: provesNothingDone(reply.status, error) ? 'failed' : 'unknown',
      ...errorFields(reply, error),
    };
  }
  const body = isObject(reply.body) ? reply.body : undefined;
  if (body === undefined)
    return {
      status: 'unknown',
      pspCode: UNPARSEABLE_RESPONSE,
      message: unparseableMessage(PSP, reply.status),
    };
  const amount = objectAt(body, 'amount');
  const mismatch = findMismatch([
    {
      field: 'paymentPspReference',
      expected: expectation.pspReference,
      actual: stringAt(body, 'paymentPspReference'),
    },
    { field: 'reference', expected: expectation.reference, actual: stringAt(body, 'reference') },
    ...(expectation.amount === undefined
      ? []
      : amountChecks(amount, { amount: expectation.amount, currency: expectation.currency })),
  ]);
  if (mismatch !== undefined) return unknownAnswer(paymentMismatch(PSP, mismatch));
  const pspReference = stringAt(body, 'pspReference');
  const status = stringAt(body, 'status');
  if (status !== RECEIVED || pspReference === undefined)
    return {
      status: 'unknown',
      pspCode: UNEXPECTED_STATUS,
      message: pspText(`${PSP} modification status '${status ?? ''}' is not 'received'`),
    };
  return { status: 'received', pspReference };
}

/** A capture or cancel answer as a payment outcome: received → pending. */
export function modificationPaymentOutcome(answer: ModificationAnswer): PaymentOutcome {
  if (answer.status === 'received')
    return {
      status: 'pending',
      pspCode: RECEIVED,
      message: `${PSP} received the request; its outcome comes by webhook`,
    };
  return scrubPayment(answer);
}

/** A refund answer as a refund outcome: received → pending (the refund's pspReference kept). */
export function modificationRefundOutcome(answer: ModificationAnswer): RefundOutcome {
  if (answer.status === 'received')
    return { status: 'pending', pspRefundReference: answer.pspReference, pspCode: RECEIVED };
  return scrubRefund(answer);
}

function unknownAnswer(outcome: PaymentOutcome): ModificationAnswer {
  return {
    status: 'unknown',
    ...(outcome.pspCode === undefined ? {} : { pspCode: outcome.pspCode }),
    ...(outcome.message === undefined ? {} : { message: outcome.message }),
  };
}
