// Adyen standard webhooks, JSON (sim/CONTRACT.md "Adyen-like events", as Adyen documents them):
// `{live, notificationItems: [{NotificationRequestItem: {…}}]}`, one item per message, signed by
// `additionalData.hmacSignature`: base64 HMAC-SHA256, keyed with the hex-decoded HMAC key, of
// pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success.
// Adyen signs no timestamp and sends no event id: the event id is the item's pspReference, event
// code and success flag, so a resent or replayed notification is a duplicate, deduplicated by
// Payrail's receiver. A verified notification is remembered for the connector (notifications.ts).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { PspWebhookParser, RawWebhook, WebhookParse, WebhookVerification } from '../types.ts';
import { parseNotification, signedText, type AdyenNotifications } from './notifications.ts';
import type { NotificationItem } from './notifications.ts';
import { PSP } from './transformers.ts';

const HEX_KEY = /^(?:[0-9a-fA-F]{2}){16,128}$/;
const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;

/** base64 HMAC-SHA256 of the signed fields, keyed with the hex HMAC key. */
export function adyenSignature(item: NotificationItem, hexKey: string): string {
  return createHmac('sha256', Buffer.from(hexKey, 'hex')).update(signedText(item)).digest('base64');
}

function eventOf(item: NotificationItem) {
  const modification = item.originalReference !== '';
  const refund = item.eventCode.startsWith('REFUND');
  const merchantReference = item.merchantReference === '' ? undefined : item.merchantReference;
  return {
    eventId: `${item.eventCode}:${item.pspReference}:${item.success ? 'true' : 'false'}`,
    type: item.eventCode,
    // A payment's and a capture's or cancel's merchantReference is our attempt id, a refund's
    // is our refund id.
    reference: refund ? undefined : merchantReference,
    refundReference: refund ? merchantReference : undefined,
    pspPaymentId: modification ? item.originalReference : item.pspReference,
  };
}

export function createAdyenWebhookParser(notifications: AdyenNotifications): PspWebhookParser {
  function parse(webhook: RawWebhook): WebhookParse {
    const parsed = parseNotification(webhook.body);
    return parsed.ok ? { ok: true, event: eventOf(parsed.item) } : parsed;
  }

  function verify(webhook: RawWebhook, secret: string): WebhookVerification {
    const parsed = parseNotification(webhook.body);
    const signature = parsed.ok ? parsed.item.hmacSignature : undefined;
    if (!parsed.ok || signature === undefined || !BASE64_SHA256.test(signature))
      return { ok: false, reason: 'signature_missing' };
    if (!HEX_KEY.test(secret)) return { ok: false, reason: 'signature_mismatch' };
    const expected = Buffer.from(adyenSignature(parsed.item, secret), 'utf8');
    // Same length by the pattern above, so timingSafeEqual cannot throw.
    if (!timingSafeEqual(expected, Buffer.from(signature, 'utf8')))
      return { ok: false, reason: 'signature_mismatch' };
    notifications.record(parsed.item);
    return { ok: true };
  }

  return { connector: PSP, parse, verify };
}
