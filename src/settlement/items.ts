// Settlement items (architecture §12): every capture and refund that moved a merchant's pending
// balance becomes a `balance_transactions` row, written in the same database transaction as its
// ledger transfer (the payments' ledger poster calls `insertSettlementItems`), so an item exists
// iff its money was posted. One set-based statement per poster batch; `ledger_transaction_id` is
// unique, so a posting seen twice (the poster and the sweeper) makes one item.
//
// An item goes straight into its connector's and currency's intake batch ('batched'), whose row
// the statement locks FOR SHARE: closing the intake (FOR UPDATE, src/settlement/batches.ts) waits
// for the postings in flight, and a posting that waited on it re-reads the row, finds the intake
// closed and writes its items 'unbatched' (closing picks those up one by one). So closing never
// rewrites the items that came in the normal way.
//
// This module imports nothing of payments (payments imports it): the poster decides which of its
// transfers are items and hands them over as plain values.
import { newSortableId } from '../ids.ts';
import { integerArrayLiteral, textArrayLiteral } from '../storage/arrays.ts';
import type { Queryable } from '../storage/database.ts';

/** A capture or a refund that the ledger has just posted to a merchant's pending account. */
export type NewSettlementItem = {
  readonly merchantId: string;
  readonly connector: string;
  readonly currency: string;
  readonly type: 'charge' | 'refund';
  /** `capture:<attempt>` or `refund:<refund>`. */
  readonly ledgerTransactionId: string;
  /** The attempt (charges) or the refund (refunds). */
  readonly reference: string;
  /** Positive: the captured or refunded amount (the item's amount is signed by its type). */
  readonly amount: bigint;
  /** Our fee on a capture (the `fee:<attempt>` transfer), 0 for a refund. */
  readonly fee: bigint;
  /** The merchant's business time of the posting (src/clock.ts). */
  readonly createdAt: Date;
};

/** Business days from a posting to its availability when the merchant has no settings row. */
export const defaultDelayDays = 2;

// source: the payment intent (charge) or the refund (refund); attempt: the charge's own, or the
// refunded one; psp_reference: what clearing presents (the PSP's payment or refund id);
// authorized_at: when the charge's attempt was made (its capture window starts there).
// available_on from the merchant's delay by migration 019's business-day function,
// which depends only on the UTC date and the delay: called once per distinct pair of the batch
// (usually one or two), not once per item.
const insertItems = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::bigint[], $8::bigint[], $9::timestamptz[], $10::text[])
             AS input (id, merchant_id, currency, type, ledger_transaction_id, reference, amount, fee,
                       created_at, connector)
  ), delays AS (
    SELECT merchants.merchant_id, coalesce(settings.delay_days, ${defaultDelayDays}) AS delay_days
      FROM (SELECT DISTINCT merchant_id FROM input) AS merchants
      LEFT JOIN merchant_payout_settings settings ON settings.merchant_id = merchants.merchant_id
  ), dated AS (
    SELECT input.*, (input.created_at AT TIME ZONE 'UTC')::date AS day, delays.delay_days
      FROM input JOIN delays ON delays.merchant_id = input.merchant_id
  ), intake AS (
    SELECT id, connector, currency FROM settlement_batches
     WHERE intake_open AND (connector, currency) IN (SELECT connector, currency FROM input)
       FOR SHARE
  ), due AS (
    SELECT days.day, days.delay_days,
           payrail_business_days_after(days.day::timestamp AT TIME ZONE 'UTC', days.delay_days) AS available_on
      FROM (SELECT DISTINCT day, delay_days FROM dated) AS days
  )
  INSERT INTO balance_transactions (id, merchant_id, currency, type, source, amount, fee, net,
    ledger_transaction_id, created_at, available_on, connector, attempt_id, clearing_status,
    batch_id, psp_reference, authorized_at)
  SELECT dated.id, dated.merchant_id, dated.currency, dated.type,
         CASE WHEN dated.type = 'charge' THEN coalesce(attempt.payment_intent_id, dated.reference)
              ELSE dated.reference END,
         CASE WHEN dated.type = 'charge' THEN dated.amount ELSE -dated.amount END,
         dated.fee,
         CASE WHEN dated.type = 'charge' THEN dated.amount ELSE -dated.amount END - dated.fee,
         dated.ledger_transaction_id, dated.created_at, due.available_on, dated.connector,
         CASE WHEN dated.type = 'charge' THEN dated.reference ELSE refund.attempt_id END,
         CASE WHEN intake.id IS NULL THEN 'unbatched' ELSE 'batched' END, intake.id,
         CASE WHEN dated.type = 'charge' THEN attempt.psp_reference ELSE refund.psp_reference END,
         attempt.created_at
    FROM dated
    JOIN due ON due.day = dated.day AND due.delay_days = dated.delay_days
    LEFT JOIN intake ON intake.connector = dated.connector AND intake.currency = dated.currency
    LEFT JOIN payment_attempts attempt ON dated.type = 'charge' AND attempt.id = dated.reference
    LEFT JOIN refunds refund ON dated.type = 'refund' AND refund.id = dated.reference
  ON CONFLICT (ledger_transaction_id) DO NOTHING`;

/** Writes the items (one statement); an item already written is left as it is. Returns how many were new. */
export async function insertSettlementItems(
  tx: Queryable,
  items: readonly NewSettlementItem[],
): Promise<number> {
  if (items.length === 0) return 0;
  const result = await tx.query(insertItems, [
    textArrayLiteral(items.map((item) => newSortableId('txn', item.createdAt.getTime()))),
    textArrayLiteral(items.map((item) => item.merchantId)),
    textArrayLiteral(items.map((item) => item.currency)),
    textArrayLiteral(items.map((item) => item.type)),
    textArrayLiteral(items.map((item) => item.ledgerTransactionId)),
    textArrayLiteral(items.map((item) => item.reference)),
    integerArrayLiteral(items.map((item) => item.amount)),
    integerArrayLiteral(items.map((item) => item.fee)),
    textArrayLiteral(items.map((item) => item.createdAt.toISOString())),
    textArrayLiteral(items.map((item) => item.connector)),
  ]);
  return result.rowCount;
}
