// Paytm webhooks (sim/CONTRACT.md "Paytm-like events"): a form post of string fields, modelled on
// Paytm's payment-status notification, with `EVENTID` and `EVENTTYPE` (PAYMENT_STATUS or
// REFUND_STATUS) added. `CHECKSUMHASH` = base64 HMAC-SHA256 with the webhook secret over the
// decoded values of every other field, ordered by field name, joined with `|`. (Real Paytm uses
// its own salted checksum library; the simulator's HMAC is what the contract specifies.)
// Payrail's attempt id is `ORDERID`; a refund's own reference is `REFID`.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { boundedId } from '../webhook-fields.ts';
import type { PspWebhookParser, RawWebhook, WebhookParse, WebhookVerification } from '../types.ts';

const EVENT_ID = /^[A-Za-z0-9_]{1,255}$/;
const EVENT_TYPE = /^[A-Z][A-Z_]{0,99}$/;
const CHECKSUM = /^[A-Za-z0-9+/]{43}=$/;
/** More fields than any Paytm notification has: a bound on the work of parsing and signing. */
const FIELDS_MAX = 100;

/** The fields in body order, or undefined when the body is not a plain form (a name repeats, too many fields). */
function fieldsOf(body: string): Map<string, string> | undefined {
  const fields = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(body)) {
    // A repeated name would make the signed text ambiguous.
    if (fields.has(name) || fields.size >= FIELDS_MAX) return undefined;
    fields.set(name, value);
  }
  return fields;
}

function parse(webhook: RawWebhook): WebhookParse {
  const fields = fieldsOf(webhook.body);
  if (fields === undefined)
    return { ok: false, reason: 'the body is not a form with distinct field names' };
  const eventId = fields.get('EVENTID');
  if (eventId === undefined || !EVENT_ID.test(eventId))
    return { ok: false, reason: 'EVENTID is missing or malformed' };
  const type = fields.get('EVENTTYPE');
  if (type === undefined || !EVENT_TYPE.test(type))
    return { ok: false, reason: 'EVENTTYPE is missing or malformed' };
  const reference = boundedId(fields.get('ORDERID'));
  if (reference === undefined) return { ok: false, reason: 'ORDERID is missing or malformed' };
  if (!fields.has('CHECKSUMHASH')) return { ok: false, reason: 'CHECKSUMHASH is missing' };
  return {
    ok: true,
    event: {
      eventId,
      type,
      reference,
      refundReference: type === 'REFUND_STATUS' ? boundedId(fields.get('REFID')) : undefined,
      pspPaymentId: boundedId(fields.get('TXNID')),
    },
  };
}

/** The contract's checksum: values of every field but CHECKSUMHASH, by name in code-unit order, joined with `|`. */
export function paytmChecksum(fields: ReadonlyMap<string, string>, secret: string): string {
  const names = [...fields.keys()].filter((name) => name !== 'CHECKSUMHASH').sort();
  return createHmac('sha256', secret)
    .update(names.map((name) => fields.get(name)).join('|'))
    .digest('base64');
}

function verify(webhook: RawWebhook, secret: string): WebhookVerification {
  const fields = fieldsOf(webhook.body);
  const provided = fields?.get('CHECKSUMHASH');
  if (fields === undefined || provided === undefined || !CHECKSUM.test(provided))
    return { ok: false, reason: 'signature_missing' };
  const expected = Buffer.from(paytmChecksum(fields, secret), 'utf8');
  // Both are 44 characters (pattern above), so timingSafeEqual cannot throw.
  return timingSafeEqual(expected, Buffer.from(provided, 'utf8'))
    ? { ok: true }
    : { ok: false, reason: 'signature_mismatch' };
}

export const paytmWebhookParser: PspWebhookParser = { connector: 'paytm', parse, verify };
