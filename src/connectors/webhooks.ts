// Webhooks from PSPs: one pure parser + verifier per connector, by connector name. A parser reads
// the raw body and headers in its PSP's own format and names the event and the payment it is
// about WITHOUT trusting anything yet: the caller uses the reference to find the merchant, hence
// the merchant's webhook secret, and only then asks the parser to verify the signature.
// The PSP folders import only types from here (no runtime import cycle).
import { paytmWebhookParser } from './paytm/webhooks.ts';
import { razorpayWebhookParser } from './razorpay/webhooks.ts';
import { stripeWebhookParser } from './stripe/webhooks.ts';

/** Header names in lowercase, as Node gives them. */
export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A webhook exactly as received: the body's text is what the PSP signed, so it is never re-serialized. */
export type RawWebhook = { readonly body: string; readonly headers: WebhookHeaders };

/** What a webhook claims. Unverified until `verify` says so: use it only to look up the secret. */
export type PspWebhookEvent = {
  /** The PSP's event id; a duplicate or a resend carries the same one. */
  readonly eventId: string;
  readonly type: string;
  /** Our attempt id, as sent to the PSP as its reference (metadata, receipt, order id). */
  readonly reference: string | undefined;
  /** Our refund id, when the event is about a refund and carries it. */
  readonly refundReference: string | undefined;
  /** The PSP's own id of the payment. */
  readonly pspPaymentId: string | undefined;
};

export type WebhookParse =
  | { readonly ok: true; readonly event: PspWebhookEvent }
  | { readonly ok: false; readonly reason: string };

export type WebhookRefusal =
  'signature_missing' | 'signature_mismatch' | 'timestamp_out_of_tolerance';
export type WebhookVerification =
  { readonly ok: true } | { readonly ok: false; readonly reason: WebhookRefusal };

/** Milliseconds since the epoch; injectable so that timestamp tolerance can be tested. */
export type Clock = () => number;

export type PspWebhookParser = {
  readonly connector: string;
  parse(webhook: RawWebhook): WebhookParse;
  verify(webhook: RawWebhook, secret: string, clock?: Clock): WebhookVerification;
};

const PARSERS: readonly PspWebhookParser[] = [
  stripeWebhookParser,
  razorpayWebhookParser,
  paytmWebhookParser,
];

export const pspWebhookParsers: ReadonlyMap<string, PspWebhookParser> = new Map(
  PARSERS.map((parser) => [parser.connector, parser]),
);
