// Razorpay: server-to-server card payments (JSON), capture of the full authorized amount only,
// partial and repeated refunds, no void. Every POST carries `X-Idempotency-Key`.
import {
  assertCurrency,
  assertPositive,
  authorizationExpectation,
  requireSecret,
  unsupported,
} from '../guards.ts';
import { httpRequest } from '../http.ts';
import type { HttpResult } from '../http.ts';
import type { PaymentExpectation } from '../outcomes.ts';
import type { CallContext, Connector } from '../types.ts';
import { joinUrl } from '../wire.ts';
import {
  PSP,
  RAZORPAY_CAPABILITIES,
  basicAuthorization,
  captureBody,
  collectionOutcome,
  createPaymentBody,
  paymentOutcome,
  paymentPath,
  receiptSearchPath,
  refundBody,
  refundOutcome,
} from './transformers.ts';

function headersFor(context: CallContext): Record<string, string> {
  const secret = requireSecret(PSP, context.credentials, 'apiSecret');
  return {
    authorization: basicAuthorization(context.credentials.apiKey, secret),
    accept: 'application/json',
  };
}

function post(context: CallContext, path: string, body: unknown): Promise<HttpResult> {
  const headers = {
    ...headersFor(context),
    'content-type': 'application/json',
    'x-idempotency-key': context.idempotencyKey,
  };
  return httpRequest({
    method: 'POST',
    url: joinUrl(context.credentials.baseUrl, path),
    headers,
    body: JSON.stringify(body),
    timeoutMs: context.timeoutMs,
  });
}

function get(context: CallContext, path: string): Promise<HttpResult> {
  return httpRequest({
    method: 'GET',
    url: joinUrl(context.credentials.baseUrl, path),
    headers: headersFor(context),
    timeoutMs: context.timeoutMs,
  });
}

export const razorpayConnector: Connector = {
  name: PSP,
  capabilities: RAZORPAY_CAPABILITIES,

  async authorize(request, context) {
    const expectation = authorizationExpectation(PSP, RAZORPAY_CAPABILITIES, request);
    const body = createPaymentBody(request);
    return paymentOutcome(await post(context, '/v1/payments/create/json', body), expectation);
  },

  /** The amount must be the whole authorized amount (partialCapture: false); Razorpay refuses less. */
  async capture(request, context) {
    assertCurrency(PSP, RAZORPAY_CAPABILITIES, request.currency);
    assertPositive(PSP, request.amount);
    const reply = await post(
      context,
      paymentPath(request.pspReference, 'capture'),
      captureBody(request),
    );
    return paymentOutcome(reply, { operation: 'capture', ...request });
  },

  void() {
    return Promise.reject(unsupported(PSP, 'void'));
  },

  async refund(request, context) {
    assertCurrency(PSP, RAZORPAY_CAPABILITIES, request.currency);
    assertPositive(PSP, request.amount);
    return refundOutcome(
      await post(context, paymentPath(request.pspReference, 'refund'), refundBody(request)),
      request,
    );
  },

  async sync(request, context) {
    assertCurrency(PSP, RAZORPAY_CAPABILITIES, request.currency);
    const expectation: PaymentExpectation = { operation: 'sync', ...request };
    if (request.pspReference !== undefined)
      return paymentOutcome(await get(context, paymentPath(request.pspReference)), expectation);
    return collectionOutcome(await get(context, receiptSearchPath(request.reference)), expectation);
  },
};
