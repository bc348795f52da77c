// Paytm: INR card payments captured at once, full refunds only, no void. Paytm has no
// idempotency header: our references are its keys (orderId = attempt id, refId = refund id), and
// a repeat of either returns the stored transaction or refund instead of acting again.
import {
  assertCurrency,
  assertPositive,
  authorizationExpectation,
  requireSecret,
  unsupported,
} from '../guards.ts';
import { httpRequest } from '../http.ts';
import type { HttpResult } from '../http.ts';
import type { CallContext, Connector } from '../types.ts';
import { joinUrl } from '../wire.ts';
import {
  PAYTM_CAPABILITIES,
  PSP,
  payBody,
  refundApplyBody,
  refundOutcome,
  signedRequest,
  statusBody,
  transactionOutcome,
} from './transformers.ts';

type Merchant = { readonly mid: string; readonly merchantKey: string };

function merchantOf(context: CallContext): Merchant {
  return {
    mid: requireSecret(PSP, context.credentials, 'merchantAccount'),
    merchantKey: requireSecret(PSP, context.credentials, 'apiSecret'),
  };
}

function post(
  context: CallContext,
  merchant: Merchant,
  path: string,
  body: object,
): Promise<HttpResult> {
  return httpRequest({
    method: 'POST',
    url: joinUrl(context.credentials.baseUrl, path),
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: signedRequest(body, merchant.merchantKey),
    timeoutMs: context.timeoutMs,
  });
}

export const paytmConnector: Connector = {
  name: PSP,
  capabilities: PAYTM_CAPABILITIES,

  async authorize(request, context) {
    const expectation = authorizationExpectation(PSP, PAYTM_CAPABILITIES, request);
    const merchant = merchantOf(context);
    const reply = await post(context, merchant, '/v3/order/pay', payBody(request, merchant.mid));
    return transactionOutcome(reply, expectation);
  },

  capture() {
    return Promise.reject(unsupported(PSP, 'capture (Paytm captures at authorization)'));
  },

  void() {
    return Promise.reject(unsupported(PSP, 'void'));
  },

  async refund(request, context) {
    assertCurrency(PSP, PAYTM_CAPABILITIES, request.currency);
    assertPositive(PSP, request.amount);
    const merchant = merchantOf(context);
    return refundOutcome(
      await post(context, merchant, '/refund/apply', refundApplyBody(request, merchant.mid)),
      request,
    );
  },

  /** Paytm looks transactions up by orderId only; a given pspReference is checked against txnId. */
  async sync(request, context) {
    assertCurrency(PSP, PAYTM_CAPABILITIES, request.currency);
    const merchant = merchantOf(context);
    const reply = await post(
      context,
      merchant,
      '/v3/order/status',
      statusBody(merchant.mid, request.reference),
    );
    return transactionOutcome(reply, { operation: 'sync', ...request });
  },
};
