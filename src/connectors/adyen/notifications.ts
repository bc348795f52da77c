// Adyen's standard webhooks ("notifications") and what Payrail keeps of them. Adyen has no API to
// look a payment up by pspReference: a capture, cancel or refund answers only "received", and
// its outcome, like that of a payment whose answer was lost, comes only in a notification. So
// once the webhook parser has verified a notification's HMAC signature, the notification is
// remembered here, and the connector's capture, void, refund and sync answer from it: Payrail's
// webhook receiver verifies, then syncs, and the sync finds what Adyen said.
//
// The journal is in memory and bounded: it needs to hold a notification only from its
// verification to the sync that follows it in the same request. If the process stops between
// the two, the event is not marked processed, Payrail answers 500, and Adyen sends it again.
import { boundedId, parseJson } from '../webhook-fields.ts';
import type { CaptureMode, PaymentOutcome, RefundOutcome, SyncRequest } from '../types.ts';
import { arrayAt, integerAt, isObject, objectAt, stringAt } from '../wire.ts';
import type { JsonObject } from '../wire.ts';

/** One NotificationRequestItem, with the fields its HMAC signature covers kept as sent. */
export type NotificationItem = {
  readonly pspReference: string;
  readonly originalReference: string;
  readonly merchantAccountCode: string;
  readonly merchantReference: string;
  readonly value: bigint;
  readonly currency: string;
  readonly eventCode: string;
  readonly success: boolean;
  readonly reason: string | undefined;
  readonly hmacSignature: string | undefined;
};

export type ItemParse =
  | { readonly ok: true; readonly item: NotificationItem }
  | { readonly ok: false; readonly reason: string };

const EVENT_CODE = /^[A-Z][A-Z_]{0,63}$/;
const CURRENCY = /^[A-Z]{3}$/;

/**
 * The one item of a JSON webhook. Adyen sends one item per message; a body with more is refused
 * (answered as malformed, so Adyen sends it again) rather than half processed.
 */
export function parseNotification(text: string): ItemParse {
  const body = parseJson(text);
  const items = arrayAt(isObject(body) ? body : undefined, 'notificationItems');
  if (items === undefined) return { ok: false, reason: 'the body has no notificationItems' };
  if (items.length !== 1)
    return { ok: false, reason: 'a notification must carry exactly one item' };
  const first: unknown = items[0];
  const item = objectAt(isObject(first) ? first : undefined, 'NotificationRequestItem');
  if (item === undefined) return { ok: false, reason: 'the item is not a NotificationRequestItem' };
  return readItem(item);
}

function readItem(item: JsonObject): ItemParse {
  const pspReference = boundedId(stringAt(item, 'pspReference'));
  const eventCode = stringAt(item, 'eventCode');
  const success = stringAt(item, 'success');
  const amount = objectAt(item, 'amount');
  const value = integerAt(amount, 'value');
  const currency = stringAt(amount, 'currency');
  if (pspReference === undefined) return { ok: false, reason: 'pspReference is missing' };
  if (eventCode === undefined || !EVENT_CODE.test(eventCode))
    return { ok: false, reason: 'eventCode is missing or malformed' };
  if (success !== 'true' && success !== 'false')
    return { ok: false, reason: 'success is neither "true" nor "false"' };
  if (value === undefined || currency === undefined || !CURRENCY.test(currency))
    return { ok: false, reason: 'amount is missing or malformed' };
  return {
    ok: true,
    item: {
      pspReference,
      originalReference: stringAt(item, 'originalReference') ?? '',
      merchantAccountCode: stringAt(item, 'merchantAccountCode') ?? '',
      merchantReference: stringAt(item, 'merchantReference') ?? '',
      value,
      currency,
      eventCode,
      success: success === 'true',
      reason: stringAt(item, 'reason'),
      hmacSignature: stringAt(objectAt(item, 'additionalData'), 'hmacSignature'),
    },
  };
}

/** The text Adyen signs: eight fields joined by ':' in its documented order. */
export function signedText(item: NotificationItem): string {
  return [
    item.pspReference,
    item.originalReference,
    item.merchantAccountCode,
    item.merchantReference,
    String(item.value),
    item.currency,
    item.eventCode,
    item.success ? 'true' : 'false',
  ].join(':');
}

// --- the journal -------------------------------------------------------------------------------

type Result = { readonly success: boolean; readonly amount: bigint; readonly reason?: string };
type PaymentRecord = {
  authorisation?: Result & { readonly currency: string; readonly reference: string };
  /** By the modification's own pspReference, so that a resent notification counts once. */
  readonly captures: Map<string, Result>;
  cancellation?: Result;
};

/** Per map: far more than the notifications that can wait between verification and sync. */
const ENTRIES_MAX = 50_000;

export class AdyenNotifications {
  readonly #payments = new Map<string, PaymentRecord>();
  /** Our attempt id (merchantReference of the payment) → Adyen's payment pspReference. */
  readonly #byReference = new Map<string, string>();
  /** Our refund id (merchantReference of the refund) → its outcome. */
  readonly #refunds = new Map<string, Result & { readonly pspReference: string }>();
  /** Capture mode per attempt id, from authorizations this process sent. */
  readonly #captureModes = new Map<string, CaptureMode>();

  /** A verified notification. Events Payrail does not act on are ignored. */
  record(item: NotificationItem): void {
    const result = {
      success: item.success,
      amount: item.value,
      ...(item.reason === undefined ? {} : { reason: item.reason }),
    };
    switch (item.eventCode) {
      case 'AUTHORISATION':
        this.#payment(item.pspReference).authorisation = {
          ...result,
          currency: item.currency.toLowerCase(),
          reference: item.merchantReference,
        };
        bounded(this.#byReference).set(item.merchantReference, item.pspReference);
        return;
      case 'CAPTURE':
        this.#payment(item.originalReference).captures.set(item.pspReference, result);
        return;
      case 'CAPTURE_FAILED':
        this.#payment(item.originalReference).captures.set(item.pspReference, {
          ...result,
          success: false,
        });
        return;
      case 'CANCELLATION':
        this.#payment(item.originalReference).cancellation = result;
        return;
      case 'REFUND':
      case 'REFUND_FAILED':
        bounded(this.#refunds).set(item.merchantReference, {
          ...result,
          success: item.eventCode === 'REFUND' && item.success,
          pspReference: item.pspReference,
        });
        return;
    }
  }

  rememberCaptureMode(reference: string, mode: CaptureMode): void {
    bounded(this.#captureModes).set(reference, mode);
  }

  /** What the notifications say of a payment; undefined when no AUTHORISATION came. */
  payment(request: SyncRequest): PaymentOutcome | undefined {
    const pspReference = request.pspReference ?? this.#byReference.get(request.reference);
    const record = pspReference === undefined ? undefined : this.#payments.get(pspReference);
    const authorisation = record?.authorisation;
    if (record === undefined || authorisation === undefined || pspReference === undefined)
      return undefined;
    if (
      authorisation.reference !== request.reference ||
      authorisation.currency !== request.currency ||
      authorisation.amount !== request.amount
    )
      return {
        status: 'unknown',
        pspReference,
        pspCode: 'response_mismatch',
        message: 'adyen notification does not match the payment (reference, amount or currency)',
      };
    return stateOf(record, authorisation, pspReference, this.#captureModes.get(request.reference));
  }

  /** A capture of `amount` as the notifications tell it; undefined while none came. */
  capture(pspReference: string, amount: bigint): PaymentOutcome | undefined {
    const captures = [...(this.#payments.get(pspReference)?.captures.values() ?? [])];
    if (captures.some((capture) => capture.success && capture.amount === amount))
      return { status: 'captured', pspReference, amountCaptured: amount };
    const failure = captures.find((capture) => !capture.success && capture.amount === amount);
    return failure === undefined ? undefined : failedModification(pspReference, failure);
  }

  cancel(pspReference: string): PaymentOutcome | undefined {
    const cancellation = this.#payments.get(pspReference)?.cancellation;
    if (cancellation === undefined) return undefined;
    return cancellation.success
      ? { status: 'voided', pspReference }
      : failedModification(pspReference, cancellation);
  }

  refund(refundReference: string, amount: bigint): RefundOutcome | undefined {
    const refund = this.#refunds.get(refundReference);
    if (refund === undefined) return undefined;
    if (refund.amount !== amount)
      return {
        status: 'unknown',
        pspCode: 'response_mismatch',
        message: 'adyen refund notification does not match the refund amount',
      };
    return refund.success
      ? { status: 'succeeded', pspRefundReference: refund.pspReference, amount }
      : {
          status: 'failed',
          pspRefundReference: refund.pspReference,
          pspCode: 'refund_failed',
          ...(refund.reason === undefined ? {} : { message: refund.reason }),
        };
  }

  #payment(pspReference: string): PaymentRecord {
    let record = this.#payments.get(pspReference);
    if (record === undefined) {
      record = { captures: new Map() };
      bounded(this.#payments).set(pspReference, record);
    }
    return record;
  }
}

/** Drops the oldest entry when the map is full (maps keep insertion order). */
function bounded<K, V>(map: Map<K, V>): Map<K, V> {
  if (map.size >= ENTRIES_MAX) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  return map;
}

function stateOf(
  record: PaymentRecord,
  authorisation: Result,
  pspReference: string,
  captureMode: CaptureMode | undefined,
): PaymentOutcome {
  if (!authorisation.success)
    return {
      status: 'failed',
      pspReference,
      declineCode: declineCodeOfReason(authorisation.reason),
      pspCode: 'refused',
      ...(authorisation.reason === undefined ? {} : { message: authorisation.reason }),
    };
  const amount = authorisation.amount;
  if (record.cancellation?.success === true) return { status: 'voided', pspReference };
  const captured = [...record.captures.values()]
    .filter((capture) => capture.success)
    .reduce((sum, capture) => sum + capture.amount, 0n);
  if (captured > 0n || captureMode === 'automatic')
    return {
      status: 'captured',
      pspReference,
      amountAuthorized: amount,
      amountCaptured: captured > 0n ? captured : amount,
    };
  if (captureMode === 'manual')
    return { status: 'authorized', pspReference, amountAuthorized: amount };
  return {
    status: 'unknown',
    pspReference,
    pspCode: 'capture_mode_unknown',
    message: 'adyen authorised the payment; whether it was captured comes with its CAPTURE webhook',
  };
}

function failedModification(pspReference: string, result: Result): PaymentOutcome {
  return {
    status: 'failed',
    pspReference,
    pspCode: 'modification_failed',
    ...(result.reason === undefined ? {} : { message: result.reason }),
  };
}

/** An AUTHORISATION notification names the refusal only in words (its `reason`). */
const REASONS: readonly [RegExp, PaymentOutcome['declineCode']][] = [
  [/not enough balance/i, 'insufficient_funds'],
  [/expired card/i, 'expired_card'],
  [/cvc declined/i, 'incorrect_cvc'],
  [/stolen/i, 'stolen_card'],
  [/blocked card|lost/i, 'lost_card'],
  [/acquirer error/i, 'processing_error'],
  [/withdrawal count exceeded/i, 'card_velocity_exceeded'],
  [/^fraud/i, 'fraudulent'],
  [/authentication required/i, 'authentication_required'],
  // "Refused" is Adyen's refusal without a reason.
  [/^refused$/i, 'generic_decline'],
];

function declineCodeOfReason(reason: string | undefined): PaymentOutcome['declineCode'] {
  return REASONS.find(([pattern]) => pattern.test(reason ?? ''))?.[1] ?? 'generic_decline';
}
