// Razorpay webhooks (sim/CONTRACT.md "Razorpay-like events", as Razorpay documents them): a JSON
// event envelope `{entity:"event", event, contains, payload:{payment:{entity}, refund:{entity}}}`,
// the event id in `X-Razorpay-Event-Id` (the body has none) and `X-Razorpay-Signature` = hex
// HMAC-SHA256 of the exact body with the webhook secret. Razorpay signs no timestamp, so there is
// no replay window: deduplication by event id is what makes a replay harmless.
// Payrail's attempt id is the payment's `receipt` (else `notes.reference`).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseJson, boundedId } from '../webhook-fields.ts';
import type { PspWebhookParser, RawWebhook, WebhookParse, WebhookVerification } from '../types.ts';
import { isObject, objectAt, stringAt } from '../wire.ts';
import type { JsonObject } from '../wire.ts';

const EVENT_ID = /^[A-Za-z0-9_]{1,255}$/;
const EVENT_TYPE = /^[a-z][a-z0-9_.]{0,99}$/;
const SIGNATURE = /^[0-9a-f]{64}$/;

/** The reference Payrail sent: `receipt`, else `notes.reference` (notes is `[]` when empty). */
function referenceOf(entity: JsonObject | undefined): string | undefined {
  return boundedId(stringAt(entity, 'receipt') ?? stringAt(objectAt(entity, 'notes'), 'reference'));
}

function entityOf(payload: JsonObject | undefined, name: string): JsonObject | undefined {
  return objectAt(objectAt(payload, name), 'entity');
}

function parse(webhook: RawWebhook): WebhookParse {
  const body = parseJson(webhook.body);
  if (!isObject(body) || stringAt(body, 'entity') !== 'event')
    return { ok: false, reason: 'the body is not a Razorpay event envelope' };
  const eventId = webhook.headers['x-razorpay-event-id'];
  if (typeof eventId !== 'string' || !EVENT_ID.test(eventId))
    return { ok: false, reason: 'the X-Razorpay-Event-Id header is missing or malformed' };
  const type = stringAt(body, 'event');
  if (type === undefined || !EVENT_TYPE.test(type))
    return { ok: false, reason: 'the event type is missing or malformed' };
  const payload = objectAt(body, 'payload');
  const payment = entityOf(payload, 'payment');
  const refund = entityOf(payload, 'refund');
  if (payment === undefined && refund === undefined)
    return { ok: false, reason: 'the event carries neither a payment nor a refund' };
  return {
    ok: true,
    event: {
      eventId,
      type,
      reference: referenceOf(payment),
      refundReference: referenceOf(refund),
      pspPaymentId: boundedId(stringAt(payment, 'id') ?? stringAt(refund, 'payment_id')),
    },
  };
}

function verify(webhook: RawWebhook, secret: string): WebhookVerification {
  const signature = webhook.headers['x-razorpay-signature'];
  if (typeof signature !== 'string' || !SIGNATURE.test(signature))
    return { ok: false, reason: 'signature_missing' };
  const expected = Buffer.from(
    createHmac('sha256', secret).update(webhook.body).digest('hex'),
    'utf8',
  );
  // Same length by the pattern above, so timingSafeEqual cannot throw.
  return timingSafeEqual(expected, Buffer.from(signature, 'utf8'))
    ? { ok: true }
    : { ok: false, reason: 'signature_mismatch' };
}

export const razorpayWebhookParser: PspWebhookParser = { connector: 'razorpay', parse, verify };
