// Pure mapping between Payrail's connector types and Paytm's API: JSON `{head:{signature}, body}`
// requests signed with the merchant key, amounts as major-unit decimal strings ("10.00") that are
// converted only here (src/money), and `resultInfo {resultStatus, resultCode, resultMsg}` answers.
import { createHmac } from 'node:crypto';
import { formatDecimal, parseDecimal } from '../../money/index.ts';
import { defineCapabilities } from '../guards.ts';
import type { HttpResult } from '../http.ts';
import {
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
  CardData,
  DeclineCode,
  PaymentOutcome,
  RefundOutcome,
  RefundRequest,
} from '../types.ts';
import { isObject, objectAt, stringAt } from '../wire.ts';
import type { JsonObject } from '../wire.ts';

export const PSP = 'paytm';
const CURRENCY = 'inr';

export const PAYTM_CAPABILITIES: CapabilityMap = defineCapabilities({
  paymentMethods: ['card'],
  currencies: [CURRENCY],
  captureModes: ['automatic'],
  partialCapture: false,
  refunds: { full: true, partial: false, multiple: false },
  void: false,
  threeDSecure: false,
  webhooks: true,
  // No void: a verification authorization could not be released.
  cardVerification: 'none',
});

// --- requests ----------------------------------------------------------------------------------

export type PayBody = {
  mid: string;
  orderId: string;
  txnAmount: { value: string; currency: 'INR' };
  paymentMode: 'CREDIT_CARD';
  cardInfo: string;
};

/** Paytm's card string: `cardId|number|cvv|MMYYYY`, with no saved-card id. */
export function cardInfo(card: CardData): string {
  const year = card.expiryYear < 100 ? 2000 + card.expiryYear : card.expiryYear;
  return `|${card.number}|${card.cvc ?? ''}|${String(card.expiryMonth).padStart(2, '0')}${String(year)}`;
}

export function payBody(request: AuthorizeRequest, mid: string): PayBody {
  return {
    mid,
    orderId: request.reference,
    txnAmount: { value: formatDecimal(request.amount, CURRENCY), currency: 'INR' },
    paymentMode: 'CREDIT_CARD',
    cardInfo: cardInfo(request.card),
  };
}

export function statusBody(mid: string, orderId: string): { mid: string; orderId: string } {
  return { mid, orderId };
}

export type RefundApplyBody = {
  mid: string;
  txnType: 'REFUND';
  orderId: string;
  txnId: string;
  refId: string;
  refundAmount: string;
};

export function refundApplyBody(request: RefundRequest, mid: string): RefundApplyBody {
  return {
    mid,
    txnType: 'REFUND',
    orderId: request.reference,
    txnId: request.pspReference,
    refId: request.refundReference,
    refundAmount: formatDecimal(request.amount, CURRENCY),
  };
}

export function signature(bodyText: string, merchantKey: string): string {
  return createHmac('sha256', merchantKey).update(bodyText, 'utf8').digest('base64');
}

/** The request text: the signature covers exactly the bytes of `body` that are sent. */
export function signedRequest(body: object, merchantKey: string): string {
  const bodyText = JSON.stringify(body);
  return `{"head":${JSON.stringify({ signature: signature(bodyText, merchantKey) })},"body":${bodyText}}`;
}

// --- responses ---------------------------------------------------------------------------------

const DECLINE_CODES: ReadonlyMap<string, DeclineCode> = new Map([
  ['235', 'insufficient_funds'],
  ['295', 'lost_card'],
  ['296', 'stolen_card'],
  ['227', 'do_not_honor'],
  ['267', 'expired_card'],
  ['266', 'incorrect_cvc'],
  ['293', 'processing_error'],
  ['297', 'card_velocity_exceeded'],
  ['298', 'fraudulent'],
  ['299', 'authentication_required'],
  ['401', 'generic_decline'],
]);
/** "System error": Paytm could not say what happened. */
const SYSTEM_ERROR_CODES: ReadonlySet<string> = new Set(['810', '501']);
const CHECKSUM_INVALID = '330';
const INVALID_ORDER_ID = '334';

export function declineCodeOf(resultCode: string | undefined): DeclineCode {
  return DECLINE_CODES.get(resultCode ?? '') ?? 'generic_decline';
}

type ResultInfo = { status?: string; code?: string; message?: string };

function readReply(reply: Exclude<HttpResult, { kind: 'no_response' }>): {
  body?: JsonObject;
  result?: ResultInfo;
} {
  const body = objectAt(isObject(reply.body) ? reply.body : undefined, 'body');
  const info = objectAt(body, 'resultInfo');
  if (body === undefined || info === undefined) return {};
  return {
    body,
    result: {
      status: stringAt(info, 'resultStatus'),
      code: stringAt(info, 'resultCode'),
      message: stringAt(info, 'resultMsg'),
    },
  };
}

function decimalAt(object: JsonObject, key: string): bigint | undefined {
  const text = stringAt(object, key);
  if (text === undefined) return undefined;
  try {
    return parseDecimal(text, CURRENCY);
  } catch {
    return undefined;
  }
}

/** A field Paytm may leave out of a failure: checked only when it is there. */
function ifPresent(check: Check, required: boolean): Check {
  return required || check.actual !== undefined ? check : { ...check, expected: undefined };
}

/** Outcome of `order/pay` (authorize) and `order/status` (sync): the same transaction shape. */
export function transactionOutcome(
  reply: HttpResult,
  expectation: PaymentExpectation,
): PaymentOutcome {
  return scrubPayment(rawTransactionOutcome(reply, expectation), expectation.secrets);
}

function rawTransactionOutcome(reply: HttpResult, expectation: PaymentExpectation): PaymentOutcome {
  if (reply.kind === 'no_response') return noResponsePayment(PSP, reply);
  const { body, result } = readReply(reply);
  if (body === undefined || result === undefined) {
    return {
      status: 'unknown',
      pspCode: reply.status >= 500 ? `http_${reply.status}` : UNPARSEABLE_RESPONSE,
      message: unparseableMessage(PSP, reply.status),
    };
  }
  const details = {
    pspCode: pspCodeText(result.code ?? result.status),
    message: pspText(result.message),
  };
  if (reply.status < 200 || reply.status >= 300 || SYSTEM_ERROR_CODES.has(result.code ?? ''))
    return { status: 'unknown', ...details };
  if (result.status === 'TXN_FAILURE' && result.code === INVALID_ORDER_ID)
    return { status: 'unknown', ...details, pspCode: NOT_FOUND };
  if (result.status === 'TXN_FAILURE' && result.code === CHECKSUM_INVALID) {
    return { status: expectation.operation === 'sync' ? 'unknown' : 'failed', ...details };
  }
  const success = result.status === 'TXN_SUCCESS';
  const txnId = stringAt(body, 'txnId');
  const txnAmount = decimalAt(body, 'txnAmount');
  const mismatch = findMismatch([
    ifPresent(
      { field: 'orderId', expected: expectation.reference, actual: stringAt(body, 'orderId') },
      success,
    ),
    ifPresent({ field: 'txnAmount', expected: expectation.amount, actual: txnAmount }, success),
    ifPresent({ field: 'currency', expected: 'INR', actual: stringAt(body, 'currency') }, false),
    ifPresent({ field: 'txnId', expected: expectation.pspReference, actual: txnId }, success),
  ]);
  if (mismatch !== undefined) return paymentMismatch(PSP, mismatch);
  const reference = txnId === undefined || txnId === '' ? {} : { pspReference: txnId };
  if (success) {
    if (txnId === undefined || txnId === '')
      return paymentMismatch(PSP, {
        field: 'txnId',
        expected: 'a transaction id',
        actual: undefined,
      });
    const refunded = decimalAt(body, 'refundAmt');
    const amounts =
      txnAmount === undefined ? {} : { amountAuthorized: txnAmount, amountCaptured: txnAmount };
    return {
      status: 'captured',
      ...reference,
      ...amounts,
      ...(refunded === undefined ? {} : { amountRefunded: refunded }),
    };
  }
  if (result.status === 'PENDING') return { status: 'pending', ...reference, ...details };
  if (result.status === 'TXN_FAILURE')
    return { status: 'failed', ...reference, declineCode: declineCodeOf(result.code), ...details };
  return {
    status: 'unknown',
    ...reference,
    pspCode: UNEXPECTED_STATUS,
    message: pspText(`${PSP} resultStatus '${result.status ?? ''}' is not one Payrail knows`),
  };
}

/** Outcome of `refund/apply`. */
export function refundOutcome(reply: HttpResult, expectation: RefundExpectation): RefundOutcome {
  return scrubRefund(rawRefundOutcome(reply, expectation));
}

function rawRefundOutcome(reply: HttpResult, expectation: RefundExpectation): RefundOutcome {
  if (reply.kind === 'no_response') return noResponseRefund(PSP, reply);
  const { body, result } = readReply(reply);
  if (body === undefined || result === undefined) {
    return {
      status: 'unknown',
      pspCode: reply.status >= 500 ? `http_${reply.status}` : UNPARSEABLE_RESPONSE,
      message: unparseableMessage(PSP, reply.status),
    };
  }
  const details = {
    pspCode: pspCodeText(result.code ?? result.status),
    message: pspText(result.message),
  };
  if (reply.status < 200 || reply.status >= 300 || SYSTEM_ERROR_CODES.has(result.code ?? ''))
    return { status: 'unknown', ...details };
  const success = result.status === 'TXN_SUCCESS';
  const amount = decimalAt(body, 'refundAmount');
  const mismatch = findMismatch([
    ifPresent(
      { field: 'refId', expected: expectation.refundReference, actual: stringAt(body, 'refId') },
      success,
    ),
    ifPresent(
      { field: 'orderId', expected: expectation.reference, actual: stringAt(body, 'orderId') },
      success,
    ),
    ifPresent(
      { field: 'txnId', expected: expectation.pspReference, actual: stringAt(body, 'txnId') },
      success,
    ),
    ifPresent({ field: 'refundAmount', expected: expectation.amount, actual: amount }, success),
  ]);
  if (mismatch !== undefined) return refundMismatch(PSP, mismatch);
  const refundId = stringAt(body, 'refundId');
  const reference =
    refundId === undefined || refundId === '' ? {} : { pspRefundReference: refundId };
  if (success) {
    if (refundId === undefined || refundId === '')
      return refundMismatch(PSP, { field: 'refundId', expected: 'a refund id', actual: undefined });
    return {
      status: 'succeeded',
      pspRefundReference: refundId,
      ...(amount === undefined ? {} : { amount }),
    };
  }
  if (result.status === 'PENDING') return { status: 'pending', ...reference, ...details };
  if (result.status === 'TXN_FAILURE') return { status: 'failed', ...reference, ...details };
  return {
    status: 'unknown',
    ...reference,
    pspCode: UNEXPECTED_STATUS,
    message: pspText(`${PSP} resultStatus '${result.status ?? ''}' is not one Payrail knows`),
  };
}
