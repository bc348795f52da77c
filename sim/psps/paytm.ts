// Paytm-like PSP (CONTRACT.md "Paytm-like"): JSON {head:{signature}, body:{…}} signed with a
// base64 HMAC-SHA256 of the exact body text, amounts as major-unit decimal strings, INR only,
// automatic capture only, whole refunds only. orderId and refId are the idempotency keys.
// Webhooks are form posts with a CHECKSUMHASH field, like Paytm's payment status webhook.
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  cardOutcome,
  isCvc,
  normalizeCardNumber,
  parseExpiryMonth,
  parseExpiryYear,
  type DeclineCode,
} from '../cards.ts';
import {
  isPlainObject,
  json,
  type PspApi,
  type PspContext,
  type Route,
  type SimRequest,
  type SimResponse,
  type SimPspModule,
} from '../http.ts';
import { randomId } from '../ids.ts';
import { rawMemberText } from '../json.ts';
import type { Operation, Payment, PspBook, Refund } from '../store.ts';
import type { PaymentState, WebhookFormat } from '../webhooks.ts';
import { AMOUNT_MAX, cardTiming } from './common.ts';

export const PAYTM_MID = 'SIMMID00000000000001';
export const PAYTM_MERCHANT_KEY = 'sim_merchant_key';

type PaytmPaymentDetails = { readonly bankTxnId: string; readonly paymentMode: string };
type PaytmRefundDetails = {
  readonly refId: string;
  readonly orderId: string;
  readonly txnId: string;
};

type Book = PspBook<PaytmPaymentDetails, PaytmRefundDetails>;
type PaytmPayment = Payment<PaytmPaymentDetails>;
type Body = Record<string, unknown>;
type ResultInfo = {
  readonly resultStatus: 'TXN_SUCCESS' | 'TXN_FAILURE' | 'PENDING';
  readonly resultCode: string;
  readonly resultMsg: string;
};

const SUCCESS: ResultInfo = {
  resultStatus: 'TXN_SUCCESS',
  resultCode: '01',
  resultMsg: 'Txn Success',
};
const REFUND_SUCCESS: ResultInfo = {
  resultStatus: 'TXN_SUCCESS',
  resultCode: '10',
  resultMsg: 'Refund Successful',
};
const BAD_CHECKSUM = failure('330', 'Checksum provided is invalid');
const INVALID_REQUEST = failure('1001', 'Request parameters are not valid');
const UNKNOWN_ORDER = failure('334', 'Invalid Order Id');
const ORDER_MISMATCH = failure('627', 'Order Details Mismatch');
const NOT_REFUNDABLE = failure('607', 'Refund can not be initiated for a failed transaction');
const PARTIAL_REFUND = failure('617', 'Partial refund is not allowed');
const ALREADY_REFUNDED = failure('626', 'Transaction is already refunded');
const UNKNOWN_REFUND = failure('631', 'Record not found');
const SYSTEM_ERROR = failure('810', 'System error');

const DECLINES: Readonly<Record<DeclineCode, ResultInfo>> = {
  insufficient_funds: failure('235', 'Insufficient funds'),
  lost_card: failure('295', 'Card reported lost'),
  stolen_card: failure('296', 'Card reported stolen'),
  generic_decline: failure('401', 'Your payment has been declined by your bank'),
  expired_card: failure('267', 'Card expired'),
  incorrect_cvc: failure('266', 'Invalid CVV'),
  processing_error: failure('293', 'Transaction could not be processed by the bank, please retry'),
  card_velocity_exceeded: failure('297', 'Card transaction count or amount limit exceeded'),
  fraudulent: failure('298', 'Transaction declined by risk checks'),
  authentication_required: failure('299', 'Card authentication (3-D Secure) required'),
};

/** Paytm's order and refund ids: letters, digits and @ - _ . up to 50 characters. */
const ORDER_ID_PATTERN = /^[A-Za-z0-9@\-_.]{1,50}$/;
const PAYMENT_MODES = new Set(['CREDIT_CARD', 'DEBIT_CARD']);

function failure(resultCode: string, resultMsg: string): ResultInfo {
  return { resultStatus: 'TXN_FAILURE', resultCode, resultMsg };
}

function envelope(body: Record<string, unknown>, status = 200): SimResponse {
  return json(status, { head: { responseTimestamp: String(Date.now()) }, body });
}

export function createPaytmApi(context: PspContext): PspApi {
  const book: Book = context.store.book<PaytmPaymentDetails, PaytmRefundDetails>('paytm');
  context.webhooks.register('paytm', book, PAYTM_WEBHOOKS);
  const handlers = paytmHandlers(book, context.timeoutDelayMs);
  const route = (mutating: boolean, handle: (body: Body) => SimResponse): Route => ({
    mutating,
    handle: (request) => handle(request.parsedBody as Body),
  });
  const routes: Readonly<Record<string, Route>> = {
    'v3/order/pay': route(true, handlers.pay),
    'v3/order/status': route(false, handlers.status),
    'refund/apply': route(true, handlers.refund),
    'v2/refund/status': route(false, handlers.refundStatus),
  };
  return {
    psp: 'paytm',
    errors: {
      notFound: () => json(404, { body: { resultInfo: failure('404', 'Not found') } }),
      serverError: () => json(500, { body: { resultInfo: SYSTEM_ERROR } }),
      tooLarge: () =>
        json(413, { body: { resultInfo: failure('1001', 'Request body too large') } }),
      unavailable: (message) => json(503, { body: { resultInfo: failure('810', message) } }),
    },
    authenticate: authenticate,
    match(method, segments) {
      return method === 'POST' ? routes[segments.join('/')] : undefined;
    },
  };
}

/** Parses the envelope (kept on request.parsedBody) and checks mid and signature. */
function authenticate(request: SimRequest): SimResponse | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.bodyText) as unknown;
  } catch {
    return envelope({ resultInfo: INVALID_REQUEST });
  }
  if (!isPlainObject(parsed) || !isPlainObject(parsed.body))
    return envelope({ resultInfo: INVALID_REQUEST });
  const signature =
    isPlainObject(parsed.head) && typeof parsed.head.signature === 'string'
      ? parsed.head.signature
      : undefined;
  const bodyText = rawMemberText(request.bodyText, 'body');
  if (
    parsed.body.mid !== PAYTM_MID ||
    signature === undefined ||
    bodyText === undefined ||
    !isValidSignature(bodyText, signature)
  ) {
    return envelope({ resultInfo: BAD_CHECKSUM });
  }
  request.parsedBody = parsed.body;
  return undefined;
}

/** base64 HMAC-SHA256 with the merchant key, over the exact text of `body` as sent. */
export function paytmSignature(bodyText: string, merchantKey = PAYTM_MERCHANT_KEY): string {
  return createHmac('sha256', merchantKey).update(bodyText).digest('base64');
}

function isValidSignature(bodyText: string, signature: string): boolean {
  const expected = createHmac('sha256', PAYTM_MERCHANT_KEY).update(bodyText).digest();
  const provided = Buffer.from(signature, 'base64');
  return provided.length === expected.length && timingSafeEqual(provided, expected);
}

function paytmHandlers(book: Book, timeoutDelayMs: number) {
  const byOrderId = (orderId: string): PaytmPayment | undefined =>
    book.paymentsByReference.get(orderId)?.[0];

  const pay = (body: Body): SimResponse => {
    const orderId = readId(body.orderId);
    if (orderId === undefined) return envelope({ resultInfo: INVALID_REQUEST });
    const existing = byOrderId(orderId);
    if (existing !== undefined) return transaction(existing);
    const amount = readTxnAmount(body.txnAmount);
    const card = readCardInfo(body.cardInfo);
    const paymentMode = body.paymentMode;
    if (
      amount === undefined ||
      card === undefined ||
      typeof paymentMode !== 'string' ||
      !PAYMENT_MODES.has(paymentMode)
    ) {
      return envelope({ resultInfo: INVALID_REQUEST, orderId });
    }
    const outcome = cardOutcome(card);
    if (outcome.kind === 'error') return json(500, { body: { resultInfo: SYSTEM_ERROR } });
    const declineCode = outcome.kind === 'decline' ? outcome.code : undefined;
    const details: PaytmPaymentDetails = {
      bankTxnId: declineCode === undefined ? randomId('btx_', 20) : '',
      paymentMode,
    };
    const payment = book.authorize({
      id: randomId('txn_'),
      reference: orderId,
      amount,
      currency: 'inr',
      captureMode: 'automatic',
      ...(declineCode === undefined ? {} : { declineCode }),
      details,
    });
    return { ...transaction(payment), ...cardTiming(outcome, timeoutDelayMs) };
  };

  const status = (body: Body): SimResponse => {
    const orderId = readId(body.orderId);
    if (orderId === undefined) return envelope({ resultInfo: INVALID_REQUEST });
    const payment = byOrderId(orderId);
    return payment === undefined
      ? envelope({ resultInfo: UNKNOWN_ORDER, orderId })
      : transaction(payment);
  };

  const refund = (body: Body): SimResponse => {
    const orderId = readId(body.orderId);
    const refId = readId(body.refId);
    const txnId =
      typeof body.txnId === 'string' && body.txnId.length <= 64 ? body.txnId : undefined;
    const amount = readMajor(body.refundAmount);
    if (
      orderId === undefined ||
      refId === undefined ||
      txnId === undefined ||
      amount === undefined ||
      body.txnType !== 'REFUND'
    ) {
      return envelope({ resultInfo: INVALID_REQUEST });
    }
    const existing = book.refundsByReference.get(refId);
    if (existing !== undefined) return refundState(existing);
    const answer = (resultInfo: ResultInfo): SimResponse =>
      envelope({ resultInfo, refId, txnId, orderId, refundAmount: body.refundAmount });
    const payment = byOrderId(orderId);
    if (payment === undefined) return answer(UNKNOWN_ORDER);
    if (payment.id !== txnId) return answer(ORDER_MISMATCH);
    if (payment.captured === 0) return answer(NOT_REFUNDABLE);
    if (payment.refunded > 0) return answer(ALREADY_REFUNDED);
    if (amount !== payment.captured) return answer(PARTIAL_REFUND);
    const created = book.refund(payment, {
      id: randomId('rfd_'),
      reference: refId,
      amount,
      details: { refId, orderId, txnId },
    });
    return refundState(created);
  };

  const refundStatus = (body: Body): SimResponse => {
    const orderId = readId(body.orderId);
    const refId = readId(body.refId);
    if (orderId === undefined || refId === undefined)
      return envelope({ resultInfo: INVALID_REQUEST });
    const found = book.refundsByReference.get(refId);
    if (found === undefined || found.details.orderId !== orderId)
      return envelope({ resultInfo: UNKNOWN_REFUND, orderId, refId });
    return refundState(found);
  };

  return { pay, status, refund, refundStatus };
}

function transaction(payment: PaytmPayment): SimResponse {
  const resultInfo = payment.declineCode === undefined ? SUCCESS : DECLINES[payment.declineCode];
  return envelope({
    resultInfo,
    txnId: payment.id,
    orderId: payment.reference,
    txnAmount: formatMajor(payment.amount),
    bankTxnId: payment.details.bankTxnId,
    paymentMode: payment.details.paymentMode,
    refundAmt: formatMajor(payment.refunded),
    txnDate: new Date(payment.createdMs).toISOString(),
  });
}

function refundState(refund: Refund<PaytmRefundDetails>): SimResponse {
  return envelope({
    resultInfo: REFUND_SUCCESS,
    refundId: refund.id,
    refId: refund.details.refId,
    txnId: refund.details.txnId,
    orderId: refund.details.orderId,
    refundAmount: formatMajor(refund.amount),
  });
}

function readId(value: unknown): string | undefined {
  return typeof value === 'string' && ORDER_ID_PATTERN.test(value) ? value : undefined;
}

function readTxnAmount(value: unknown): number | undefined {
  if (!isPlainObject(value) || value.currency !== 'INR') return undefined;
  return readMajor(value.value);
}

/** "10.00" (or "10", "10.5") in rupees → paise; undefined unless positive and within bounds. */
export function readMajor(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(value);
  if (match === null) return undefined;
  const minor = Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  return minor >= 1 && minor <= AMOUNT_MAX ? minor : undefined;
}

export function formatMajor(minor: number): string {
  return `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
}

/** "|<number>|<cvv>|<MMYYYY>" → the card number, when the parts are valid (the CVV may be empty for a stored card). */
function readCardInfo(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const [empty, rawNumber, cvv, expiry, extra] = value.split('|');
  if (empty !== '' || extra !== undefined || expiry === undefined || !/^\d{6}$/.test(expiry))
    return undefined;
  const number = normalizeCardNumber(rawNumber);
  if (number === undefined || (cvv !== '' && !isCvc(cvv))) return undefined;
  if (
    parseExpiryMonth(expiry.slice(0, 2)) === undefined ||
    parseExpiryYear(expiry.slice(2)) === undefined
  )
    return undefined;
  return number;
}

/** The simulated acquiring bank named in webhooks. */
const GATEWAY_NAME = 'SIMBANK';

/**
 * base64 HMAC-SHA256 with the webhook secret over the values of every field but CHECKSUMHASH,
 * taken in field-name order (ascending code units) and joined with "|".
 */
export function paytmWebhookChecksum(fields: Iterable<[string, string]>, secret: string): string {
  const entries = [...fields]
    .filter(([name]) => name !== 'CHECKSUMHASH')
    .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
  return createHmac('sha256', secret)
    .update(entries.map(([, value]) => value).join('|'))
    .digest('base64');
}

function paytmWebhookFields(
  payment: PaytmPayment,
  state: PaymentState,
  operation: Operation,
  refund: Refund<PaytmRefundDetails> | undefined,
  eventId: string,
): Record<string, string> | undefined {
  const common = {
    MID: PAYTM_MID,
    ORDERID: payment.reference ?? '',
    TXNID: payment.id,
    TXNAMOUNT: formatMajor(payment.amount),
    CURRENCY: 'INR',
  };
  if (operation.type === 'refund' && refund !== undefined) {
    return {
      ...common,
      REFID: refund.details.refId,
      REFUNDID: refund.id,
      REFUNDAMOUNT: formatMajor(refund.amount),
      TOTALREFUNDAMT: formatMajor(state.refunded),
      STATUS: REFUND_SUCCESS.resultStatus,
      RESPCODE: REFUND_SUCCESS.resultCode,
      RESPMSG: REFUND_SUCCESS.resultMsg,
      REFUNDDATE: new Date(refund.createdMs).toISOString(),
      EVENTTYPE: 'REFUND_STATUS',
      EVENTID: eventId,
    };
  }
  // A Paytm transaction is final when captured (or declined): the approval alone sends nothing.
  const declined = operation.type === 'authorize' && payment.declineCode !== undefined;
  if (!declined && operation.type !== 'capture') return undefined;
  const resultInfo = payment.declineCode === undefined ? SUCCESS : DECLINES[payment.declineCode];
  return {
    ...common,
    STATUS: resultInfo.resultStatus,
    RESPCODE: resultInfo.resultCode,
    RESPMSG: resultInfo.resultMsg,
    BANKTXNID: payment.details.bankTxnId,
    PAYMENTMODE: payment.details.paymentMode,
    GATEWAYNAME: GATEWAY_NAME,
    TXNDATE: new Date(payment.createdMs).toISOString(),
    EVENTTYPE: 'PAYMENT_STATUS',
    EVENTID: eventId,
  };
}

const PAYTM_WEBHOOKS: WebhookFormat<PaytmPaymentDetails, PaytmRefundDetails> = {
  newEventId: () => randomId('WH'),
  event(payment, state, operation, refund, eventId) {
    const fields = paytmWebhookFields(payment, state, operation, refund, eventId);
    if (fields === undefined) return undefined;
    return { type: fields.EVENTTYPE ?? '', body: new URLSearchParams(fields).toString() };
  },
  sign(body, secret) {
    const checksum = paytmWebhookChecksum(new URLSearchParams(body), secret);
    return {
      body: `${body}&${new URLSearchParams({ CHECKSUMHASH: checksum }).toString()}`,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'Paytm-Webhook/1.0',
      },
    };
  },
};

export const paytmSim: SimPspModule = { psp: 'paytm', create: createPaytmApi };
