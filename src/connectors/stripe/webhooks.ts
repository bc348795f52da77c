// Stripe webhooks (sim/CONTRACT.md "Stripe-like events", as Stripe documents them): a JSON Event
// signed in the `Stripe-Signature` header, `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`,
// keyed with the endpoint secret as given (`whsec_…`). Payrail's attempt id is the
// PaymentIntent's `metadata.reference`; a Refund carries our refund id there instead.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { boundedId, parseJson } from '../webhook-fields.ts';
import type {
  Clock,
  PspWebhookEvent,
  PspWebhookParser,
  RawWebhook,
  WebhookParse,
  WebhookRefusal,
  WebhookVerification,
} from '../types.ts';
import { isObject, objectAt, stringAt } from '../wire.ts';
import type { JsonObject } from '../wire.ts';

/** Stripe's libraries refuse a signature timestamp further than this from now (replay window). */
export const STRIPE_TOLERANCE_SECONDS = 300;

const EVENT_ID = /^evt_[A-Za-z0-9]{1,250}$/;
const EVENT_TYPE = /^[a-z][a-z0-9_.]{0,99}$/;
const TIMESTAMP = /^\d{1,15}$/;

function references(
  object: JsonObject,
): Pick<PspWebhookEvent, 'reference' | 'refundReference' | 'pspPaymentId'> {
  const reference = boundedId(stringAt(objectAt(object, 'metadata'), 'reference'));
  switch (stringAt(object, 'object')) {
    case 'payment_intent':
      return {
        reference,
        refundReference: undefined,
        pspPaymentId: boundedId(stringAt(object, 'id')),
      };
    case 'refund':
      return {
        reference: undefined,
        refundReference: reference,
        pspPaymentId: boundedId(stringAt(object, 'payment_intent')),
      };
    default:
      // Objects Payrail never creates (charges, disputes …) name none of its payments.
      return { reference: undefined, refundReference: undefined, pspPaymentId: undefined };
  }
}

function parse(webhook: RawWebhook): WebhookParse {
  const body = parseJson(webhook.body);
  if (!isObject(body) || stringAt(body, 'object') !== 'event')
    return { ok: false, reason: 'the body is not a Stripe Event object' };
  const eventId = stringAt(body, 'id');
  if (eventId === undefined || !EVENT_ID.test(eventId))
    return { ok: false, reason: 'the event id is missing or not evt_…' };
  const type = stringAt(body, 'type');
  if (type === undefined || !EVENT_TYPE.test(type))
    return { ok: false, reason: 'the event type is missing or malformed' };
  const object = objectAt(objectAt(body, 'data'), 'object');
  if (object === undefined) return { ok: false, reason: 'the event has no data.object' };
  return { ok: true, event: { eventId, type, ...references(object) } };
}

/** Constant-time equality of two strings (their lengths are not secret). */
function sameText(expected: string, actual: string): boolean {
  const left = Buffer.from(expected, 'utf8');
  const right = Buffer.from(actual, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

function refuse(reason: WebhookRefusal): WebhookVerification {
  return { ok: false, reason };
}

/** `t=…,v1=…,v1=…,v0=…`: split on `,`, then each part on its first `=`; unknown schemes are ignored. */
function readSignatureHeader(header: string): {
  timestamp: string | undefined;
  signatures: string[];
} {
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't') timestamp = value;
    else if (key === 'v1') signatures.push(value);
  }
  return { timestamp, signatures };
}

function verify(webhook: RawWebhook, secret: string, clock: Clock = Date.now): WebhookVerification {
  const header = webhook.headers['stripe-signature'];
  if (typeof header !== 'string') return refuse('signature_missing');
  const { timestamp, signatures } = readSignatureHeader(header);
  if (timestamp === undefined || !TIMESTAMP.test(timestamp) || signatures.length === 0)
    return refuse('signature_missing');
  const expected = createHmac('sha256', secret)
    .update(`${timestamp}.${webhook.body}`)
    .digest('hex');
  // Every v1 is compared (Stripe sends several while a secret is being rolled).
  let matched = false;
  for (const signature of signatures) matched = sameText(expected, signature) || matched;
  if (!matched) return refuse('signature_mismatch');
  // Checked after the signature, so the timestamp is the PSP's own: an old, genuine event is a replay.
  const ageSeconds = Math.floor(clock() / 1000) - Number(timestamp);
  if (Math.abs(ageSeconds) > STRIPE_TOLERANCE_SECONDS) return refuse('timestamp_out_of_tolerance');
  return { ok: true };
}

export const stripeWebhookParser: PspWebhookParser = { connector: 'stripe', parse, verify };
