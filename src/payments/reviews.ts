// The review queue (Stripe's reviews). A payment a `review` rule matched is authorized with
// manual capture whatever its capture method, and a review is opened in the same transaction that
// records the authorization (record.ts): the money is held, not taken. The merchant approves it
// (then it is captured, when the intent's capture method is automatic) or closes it by refunding
// or canceling the payment; a review left open closes when the authorization expires (status sync
// cancels the intent). The closes by refund and cancel follow the charge's events (a consumer),
// so they happen however the payment was refunded or canceled.
import { insertEvents, newEvent, type NewEvent, type StoredEvent } from '../events/events.ts';
import type { EventConsumer } from '../events/consumer.ts';
import { presentReview } from '../api-objects/review.ts';
import { attemptIdOf, reviewIdOf } from '../ids.ts';
import type { Database, Queryable } from '../storage/database.ts';
import { keysetPage, type PageRequest, type TimeRange } from '../storage/pagination.ts';
import { boolean, defineTable, nullable, text, timestamptz } from '../storage/table.ts';
import { PaymentError } from './errors.ts';
import type { Attempt, PaymentIntent, Review, ReviewClosedReason } from './types.ts';

export type { Review, ReviewClosedReason } from './types.ts';

export const reviews = defineTable<Review>({
  name: 'reviews',
  columns: {
    id: text('id'),
    merchantId: text('merchant_id'),
    paymentIntentId: text('payment_intent_id'),
    attemptId: text('attempt_id'),
    open: boolean('open'),
    openedReason: text('opened_reason'),
    ruleId: nullable(text('rule_id')),
    closedReason: nullable(text('closed_reason')),
    ipAddress: nullable(text('ip_address')),
    createdAt: timestamptz('created_at'),
    closedAt: nullable(timestamptz('closed_at')),
  },
  databaseOnly: [timestamptz('updated_at')],
  updatedAt: 'updated_at',
  createdAt: 'createdAt',
});

const insertReview = reviews.insert();
const closeReview = reviews.update(['open', 'closedReason', 'closedAt']);

/** Whether an authorized attempt opens a review: its risk decision said so. */
export function opensReview(attempt: Attempt): boolean {
  return attempt.risk?.action === 'review';
}

/** The review an attempt's authorization opens, and its `review.opened` event. */
export function newReview(
  intent: PaymentIntent,
  attempt: Attempt,
  now: Date,
): { review: Review; event: NewEvent } {
  const review: Review = {
    id: reviewIdOf(attempt.id),
    merchantId: intent.merchantId,
    paymentIntentId: intent.id,
    attemptId: attempt.id,
    open: true,
    openedReason: 'rule',
    ruleId: attempt.risk?.rule?.id ?? null,
    closedReason: null,
    ipAddress: intent.radarOptions?.ip_address ?? null,
    createdAt: now,
    closedAt: null,
  };
  return { review, event: newEvent(intent.merchantId, 'review.opened', presentReview(review)) };
}

/** Inside the transaction that records the authorization. */
export async function openReview(tx: Queryable, opened: { review: Review; event: NewEvent }) {
  await tx.query(insertReview.sql, insertReview.parameters(opened.review));
  await insertEvents(tx, [opened.event], opened.review.createdAt);
}

export function noSuchReview(id: string): PaymentError {
  return new PaymentError('resource_missing', `No such review: '${id}'`, { param: 'id' });
}

/** Closes the review, under its row lock, if there is one and it is open (with its event). */
export async function closeIfOpen(
  tx: Queryable,
  merchantId: string,
  id: string,
  reason: ReviewClosedReason,
  now: Date,
): Promise<void> {
  const review = await reviews.findOwned(tx, merchantId, id, true);
  if (review === undefined || !review.open) return;
  const closed = await closeReview.run(
    tx,
    id,
    { open: false, closedReason: reason, closedAt: now },
    now,
  );
  await insertEvents(tx, [newEvent(merchantId, 'review.closed', presentReview(closed))], now);
}

export type ReviewListFilters = { readonly created?: TimeRange; readonly open?: boolean };

export async function listReviews(
  database: Database,
  merchantId: string,
  filters: ReviewListFilters,
  page: PageRequest<string>,
): Promise<{ items: Review[]; hasMore: boolean }> {
  const result = await keysetPage(
    database,
    {
      select: '*',
      from: 'reviews',
      scope: 'merchant_id = $1',
      scopeParameters: [merchantId],
      equals: { open: filters.open },
      key: 'id',
      keyType: 'text',
      order: 'newest_first',
      noun: 'review',
      timeRange: { column: 'created_at', range: filters.created },
    },
    page,
  );
  return { items: result.rows.map(reviews.fromRow), hasMore: result.hasMore };
}

export function findReview(
  queryable: Queryable,
  merchantId: string,
  id: string,
): Promise<Review | undefined> {
  return reviews.findOwned(queryable, merchantId, id);
}

/**
 * Why a payment event closes its review, if it does: a capture approves it; and every way a held
 * payment ends uncaptured tells `charge.refunded`: a cancel (also the authorization's expiry) releases
 * the authorization with no refund; a refund of it is the same release with a refund, and one
 * for fraud is Stripe's refunded_as_fraud.
 */
function closingReason(event: StoredEvent): ReviewClosedReason | undefined {
  // The merchant captured the held payment itself: as good as an approval.
  if (event.type === 'charge.captured') return 'approved';
  if (event.type !== 'charge.refunded') return undefined;
  const refunds = event.data.object.refunds as { data?: { reason?: string | null }[] } | undefined;
  const given = refunds?.data ?? [];
  if (given.length === 0) return 'canceled';
  return given.some((refund) => refund.reason === 'fraudulent') ? 'refunded_as_fraud' : 'refunded';
}

/** The review holding an event's charge (a review's id derives from its attempt's). */
function reviewOf(event: StoredEvent): string | undefined {
  const attemptId = attemptIdOf(event.objectId);
  return attemptId === undefined ? undefined : reviewIdOf(attemptId);
}

/**
 * Closes reviews when their payment is refunded or canceled (also by the authorization's expiry),
 * exactly once per event (the bus's inbox) and only if still open.
 */
export function reviewClosingConsumer(): EventConsumer {
  return {
    name: 'review_closes',
    eventTypes: new Set(['charge.refunded', 'charge.captured']),
    async handle(tx, event) {
      const reason = closingReason(event);
      const id = reason === undefined ? undefined : reviewOf(event);
      if (reason === undefined || id === undefined) return;
      await closeIfOpen(tx, event.merchantId, id, reason, event.createdAt);
    },
  };
}
