// Stripe: PaymentIntents confirmed at creation with raw card data, manual or automatic capture,
// partial capture, cancel, repeated partial refunds. Every POST carries `Idempotency-Key`.
import { assertCurrency, assertPositive, authorizationExpectation } from '../guards.ts';
import { httpRequest } from '../http.ts';
import type { HttpMethod, HttpResult } from '../http.ts';
import type { PaymentExpectation } from '../outcomes.ts';
import type { CallContext, Connector } from '../types.ts';
import { joinUrl } from '../wire.ts';
import {
  PSP,
  STRIPE_CAPABILITIES,
  authorizeForm,
  captureForm,
  paymentIntentPath,
  paymentOutcome,
  refundForm,
  refundOutcome,
  searchOutcome,
  searchPath,
} from './transformers.ts';

function call(
  context: CallContext,
  method: HttpMethod,
  path: string,
  form?: string,
): Promise<HttpResult> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${context.credentials.apiKey}`,
    accept: 'application/json',
  };
  if (method === 'POST') {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['idempotency-key'] = context.idempotencyKey;
  }
  const body = method === 'POST' ? (form ?? '') : undefined;
  return httpRequest({
    method,
    url: joinUrl(context.credentials.baseUrl, path),
    headers,
    body,
    timeoutMs: context.timeoutMs,
  });
}

export const stripeConnector: Connector = {
  name: PSP,
  capabilities: STRIPE_CAPABILITIES,

  async authorize(request, context) {
    const expectation = authorizationExpectation(PSP, STRIPE_CAPABILITIES, request);
    const form = authorizeForm(request);
    return paymentOutcome(await call(context, 'POST', '/v1/payment_intents', form), expectation);
  },

  async capture(request, context) {
    assertCurrency(PSP, STRIPE_CAPABILITIES, request.currency);
    assertPositive(PSP, request.amount);
    const reply = await call(
      context,
      'POST',
      paymentIntentPath(request.pspReference, 'capture'),
      captureForm(request),
    );
    return paymentOutcome(reply, { operation: 'capture', ...request });
  },

  async void(request, context) {
    assertCurrency(PSP, STRIPE_CAPABILITIES, request.currency);
    const reply = await call(context, 'POST', paymentIntentPath(request.pspReference, 'cancel'));
    return paymentOutcome(reply, { operation: 'void', ...request });
  },

  async refund(request, context) {
    assertCurrency(PSP, STRIPE_CAPABILITIES, request.currency);
    assertPositive(PSP, request.amount);
    return refundOutcome(await call(context, 'POST', '/v1/refunds', refundForm(request)), request);
  },

  async sync(request, context) {
    assertCurrency(PSP, STRIPE_CAPABILITIES, request.currency);
    const expectation: PaymentExpectation = { operation: 'sync', ...request };
    if (request.pspReference !== undefined) {
      return paymentOutcome(
        await call(context, 'GET', paymentIntentPath(request.pspReference)),
        expectation,
      );
    }
    return searchOutcome(await call(context, 'GET', searchPath(request.reference)), expectation);
  },
};
