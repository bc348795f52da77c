// The catalogue of event types merchants can receive: part of the public API (webhook endpoints
// subscribe to them), so it lives with the API objects; src/events writes them.
export const eventTypes = [
  'payment_intent.created',
  'payment_intent.processing',
  'payment_intent.requires_action',
  'payment_intent.amount_capturable_updated',
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'charge.pending',
  'charge.succeeded',
  'charge.failed',
  'charge.captured',
  'charge.refunded',
  'charge.refund.updated',
  'refund.created',
  'refund.updated',
  'refund.failed',
  'review.opened',
  'review.closed',
  'balance.available',
  'settlement_batch.acknowledged',
  'settlement_batch.funded',
  'payout.created',
  'payout.paid',
  'payout.failed',
  'payout.canceled',
  'checkout.session.completed',
  'checkout.session.expired',
  // Operator events, on the platform account (src/merchants/platform.ts)
  'reconciliation_exception.created',
  'reconciliation_exception.resolved',
] as const;

export type EventType = (typeof eventTypes)[number];
