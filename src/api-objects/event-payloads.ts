// What each event type carries: the Event with that `type` and its `data.object` schema. The
// OpenAPI document's `webhooks` section is made from it (src/http/app.ts), and tests check the
// events Payrail writes against it. Typed as a Record over the catalogue, so an event type without
// its payload does not compile.
import { Type, type TSchema } from 'typebox';
import { BalanceAvailabilitySchema } from './balance-availability.ts';
import { ChargeSchema } from './charge.ts';
import { CheckoutSessionSchema } from './checkout-session.ts';
import { eventDataSchema, eventFields } from './event.ts';
import { eventTypes, type EventType } from './event-types.ts';
import { PaymentIntentSchema } from './payment-intent.ts';
import { PayoutSchema } from './payout.ts';
import { ReconciliationExceptionSchema } from './reconciliation.ts';
import { RefundSchema } from './refund.ts';
import { ReviewSchema } from './review.ts';
import { SettlementShareSchema } from './settlement-share.ts';

/** The `data.object` of each event type, with what the event means. */
export const eventCatalogue: Record<EventType, { object: TSchema; description: string }> = {
  'payment_intent.created': {
    object: PaymentIntentSchema,
    description: 'A payment intent was created.',
  },
  'payment_intent.processing': {
    object: PaymentIntentSchema,
    description: 'A payment intent is processing: its outcome is not known yet.',
  },
  'payment_intent.amount_capturable_updated': {
    object: PaymentIntentSchema,
    description: 'A payment intent was authorized and can be captured (requires_capture).',
  },
  'payment_intent.succeeded': {
    object: PaymentIntentSchema,
    description: 'A payment intent succeeded (captured).',
  },
  'payment_intent.payment_failed': {
    object: PaymentIntentSchema,
    description: 'An attempt to pay failed; last_payment_error says why.',
  },
  'payment_intent.canceled': {
    object: PaymentIntentSchema,
    description: 'A payment intent was canceled (or its authorization released).',
  },
  'payment_intent.requires_action': {
    object: PaymentIntentSchema,
    description:
      'A payment intent requires action: the card holder must authenticate (3-D Secure) at ' +
      'next_action.',
  },
  'charge.pending': {
    object: ChargeSchema,
    description: 'A charge is pending: its outcome at the PSP is not known yet.',
  },
  'charge.succeeded': {
    object: ChargeSchema,
    description: 'A charge (an authorization attempt) succeeded.',
  },
  'charge.failed': {
    object: ChargeSchema,
    description: 'A charge (an authorization attempt) failed; failure_code says why.',
  },
  'charge.captured': { object: ChargeSchema, description: 'A charge was captured.' },
  'charge.refunded': {
    object: ChargeSchema,
    description: 'A charge was refunded, fully or partly (or its authorization released).',
  },
  'charge.refund.updated': {
    object: RefundSchema,
    description: "A refund of a charge changed (sent with each refund.updated, as Stripe's is).",
  },
  'refund.created': { object: RefundSchema, description: 'A refund was created.' },
  'refund.updated': {
    object: RefundSchema,
    description: 'A refund changed (its status, e.g. pending to succeeded).',
  },
  'refund.failed': { object: RefundSchema, description: 'A refund failed.' },
  'review.opened': {
    object: ReviewSchema,
    description: 'A review rule held a payment: authorized, not captured until approved.',
  },
  'review.closed': {
    object: ReviewSchema,
    description: 'A review was closed: approved, refunded, or canceled (also when it expired).',
  },
  'balance.available': {
    object: BalanceAvailabilitySchema,
    description: "Funds moved from the merchant's pending to its available balance.",
  },
  'settlement_batch.acknowledged': {
    object: SettlementShareSchema,
    description: "The acquirer acknowledged a settlement batch holding the merchant's captures.",
  },
  'settlement_batch.funded': {
    object: SettlementShareSchema,
    description: "The acquirer funded a settlement batch holding the merchant's captures.",
  },
  'payout.created': { object: PayoutSchema, description: 'A payout was created.' },
  'payout.paid': {
    object: PayoutSchema,
    description: 'A payout is expected to be in the bank account.',
  },
  'payout.failed': { object: PayoutSchema, description: 'A payout failed or was returned.' },
  'payout.canceled': { object: PayoutSchema, description: 'A payout was canceled.' },
  'checkout.session.completed': {
    object: CheckoutSessionSchema,
    description:
      "A Checkout Session's payment was authorized (captured unless its capture is manual): " +
      'the buyer paid on the hosted page.',
  },
  'checkout.session.expired': {
    object: CheckoutSessionSchema,
    description: 'A Checkout Session expired (at expires_at, or by POST …/expire) unpaid.',
  },
  'reconciliation_exception.created': {
    object: ReconciliationExceptionSchema,
    description: 'Reconciliation found a difference (platform account only).',
  },
  'reconciliation_exception.resolved': {
    object: ReconciliationExceptionSchema,
    description: 'An operator resolved a reconciliation exception (platform account only).',
  },
};

/** The Event of one type: its `type` fixed, its `data.object` that type's object. */
export function eventPayloadSchema(type: EventType): TSchema {
  const { object, description } = eventCatalogue[type];
  return Type.Object(
    { ...eventFields, data: eventDataSchema(object), type: Type.Literal(type) },
    { title: `${type} event`, description },
  );
}

/** Every event type's payload schema, in the catalogue's order. */
export const eventPayloadSchemas: readonly { type: EventType; schema: TSchema }[] = eventTypes.map(
  (type) => ({ type, schema: eventPayloadSchema(type) }),
);
