// Adyen: card payments through the Checkout API, automatic or manual capture, one partial capture,
// cancel, repeated partial refunds. Every POST carries `Idempotency-Key` and `X-API-Key`; the
// merchant account is in every body. Captures, cancels and refunds are asynchronous at Adyen: the
// answer is "received" (pending here) and the outcome comes by webhook. Adyen has no API to look
// a payment up, so capture, void, refund and sync first ask the verified notifications
// (notifications.ts) and only then Adyen; sync without a notification stays unknown.
import {
  assertCurrency,
  assertPositive,
  authorizationExpectation,
  requireSecret,
} from '../guards.ts';
import { httpRequest } from '../http.ts';
import type { HttpResult } from '../http.ts';
import type { CallContext, Connector } from '../types.ts';
import { joinUrl } from '../wire.ts';
import type { AdyenNotifications } from './notifications.ts';
import {
  ADYEN_CAPABILITIES,
  PAYMENTS_PATH,
  PSP,
  cancelBody,
  captureBody,
  modificationAnswer,
  modificationPath,
  modificationPaymentOutcome,
  modificationRefundOutcome,
  paymentBody,
  paymentOutcome,
  refundBody,
} from './transformers.ts';

export const NO_STATUS_API = 'no_status_api';

function post(context: CallContext, path: string, body: object): Promise<HttpResult> {
  return httpRequest({
    method: 'POST',
    url: joinUrl(context.credentials.baseUrl, path),
    headers: {
      'x-api-key': context.credentials.apiKey,
      'content-type': 'application/json',
      accept: 'application/json',
      'idempotency-key': context.idempotencyKey,
    },
    body: JSON.stringify(body),
    timeoutMs: context.timeoutMs,
  });
}

function merchantAccountOf(context: CallContext): string {
  return requireSecret(PSP, context.credentials, 'merchantAccount');
}

export function createAdyenConnector(notifications: AdyenNotifications): Connector {
  return {
    name: PSP,
    capabilities: ADYEN_CAPABILITIES,

    async authorize(request, context) {
      const expectation = authorizationExpectation(PSP, ADYEN_CAPABILITIES, request);
      const body = paymentBody(request, merchantAccountOf(context));
      notifications.rememberCaptureMode(request.reference, request.captureMode);
      const reply = await post(context, PAYMENTS_PATH, body);
      return paymentOutcome(reply, expectation, request.captureMode);
    },

    async capture(request, context) {
      assertCurrency(PSP, ADYEN_CAPABILITIES, request.currency);
      assertPositive(PSP, request.amount);
      const known = notifications.capture(request.pspReference, request.amount);
      if (known !== undefined) return known;
      const body = captureBody(request, merchantAccountOf(context));
      const reply = await post(context, modificationPath(request.pspReference, 'captures'), body);
      return modificationPaymentOutcome(modificationAnswer(reply, { ...request }));
    },

    async void(request, context) {
      assertCurrency(PSP, ADYEN_CAPABILITIES, request.currency);
      const known = notifications.cancel(request.pspReference);
      if (known !== undefined) return known;
      const body = cancelBody(request, merchantAccountOf(context));
      const reply = await post(context, modificationPath(request.pspReference, 'cancels'), body);
      return modificationPaymentOutcome(
        modificationAnswer(reply, {
          pspReference: request.pspReference,
          reference: request.reference,
          currency: request.currency,
        }),
      );
    },

    async refund(request, context) {
      assertCurrency(PSP, ADYEN_CAPABILITIES, request.currency);
      assertPositive(PSP, request.amount);
      const known = notifications.refund(request.refundReference, request.amount);
      if (known !== undefined) return known;
      const body = refundBody(request, merchantAccountOf(context));
      const reply = await post(context, modificationPath(request.pspReference, 'refunds'), body);
      return modificationRefundOutcome(
        modificationAnswer(reply, {
          pspReference: request.pspReference,
          reference: request.refundReference,
          amount: request.amount,
          currency: request.currency,
        }),
      );
    },

    /** Adyen cannot be asked: what its verified notifications said, else unknown. */
    sync(request) {
      assertCurrency(PSP, ADYEN_CAPABILITIES, request.currency);
      return Promise.resolve(
        notifications.payment(request) ?? {
          status: 'unknown',
          ...(request.pspReference === undefined ? {} : { pspReference: request.pspReference }),
          pspCode: NO_STATUS_API,
          message: `${PSP} has no API to look a payment up; its outcome comes by webhook`,
        },
      );
    },
  };
}
