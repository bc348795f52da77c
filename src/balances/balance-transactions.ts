// Balance transactions (architecture §12): the merchant-facing itemization of the ledger, Stripe's
// balance transaction. One row per charge, refund, payout, payout failure or cancel, reserve hold
// and release; every row points at the ledger transaction that moved its money. A row available
// at once names its own transfer in availability_id; a settlement item is never rewritten for its
// availability: it is available when its clearing group is (migration 025, availabilityIdSql).
// One definition of the row (src/storage/table.ts): every write and read of whole rows derives
// from it.
import { bigint, defineTable, nullable, smallint, text, timestamptz } from '../storage/table.ts';

export type BalanceTransactionType =
  | 'charge'
  | 'refund'
  | 'payout'
  | 'payout_failure'
  | 'payout_cancel'
  | 'reserve_hold'
  | 'reserve_release';

/** 'batched': in batch_id; accepted once that batch is acknowledged (the item is not rewritten). */
export type ClearingStatus = 'unbatched' | 'batched' | 'rejected' | 'exception';

export type BalanceTransaction = {
  readonly id: string;
  readonly merchantId: string;
  readonly currency: string;
  readonly type: BalanceTransactionType;
  /** The object that caused it: a payment intent, refund, payout or reserve hold id. */
  readonly source: string;
  /** Signed: + for money in (charge, payout failure, reserve release), − for money out. */
  readonly amount: bigint;
  /** Payrail's fee (charges only). */
  readonly fee: bigint;
  readonly net: bigint;
  readonly description: string | null;
  readonly ledgerTransactionId: string;
  readonly createdAt: Date;
  readonly availableOn: Date;
  /**
   * The ledger transfer that made it available. Stored for a row available at once (its own
   * transfer) and for items made available one by one before migration 025; a settlement item
   * accepted in a batch takes its clearing group's, read through availabilityIdSql.
   */
  readonly availabilityId: string | null;
  // Clearing: charges and refunds only (src/settlement).
  readonly connector: string | null;
  readonly attemptId: string | null;
  readonly clearingStatus: ClearingStatus | null;
  readonly batchId: string | null;
  /** Times the acquirer rejected it (a retry is bounded by it). */
  readonly rejections: number;
  readonly rejectReason: string | null;
  /** What clearing presents: the PSP's payment id (charge) or refund id (refund). */
  readonly pspReference: string | null;
  /** When the charge's authorization was made. */
  readonly authorizedAt: Date | null;
  /**
   * What payouts have not yet taken of this row (signed like its net; null once paid out in full)
   * when it is a payout unit of its own: an available row other than a payout's, that is no
   * settlement item of a clearing group (whose group keeps it instead). Migration 028.
   */
  readonly unpaid: bigint | null;
};

export const balanceTransactions = defineTable<BalanceTransaction>({
  name: 'balance_transactions',
  columns: {
    id: text('id'),
    merchantId: text('merchant_id'),
    currency: text('currency'),
    type: text<BalanceTransactionType>('type'),
    source: text('source'),
    amount: bigint('amount'),
    fee: bigint('fee'),
    net: bigint('net'),
    description: nullable(text('description')),
    ledgerTransactionId: text('ledger_transaction_id'),
    createdAt: timestamptz('created_at'),
    availableOn: timestamptz('available_on'),
    availabilityId: nullable(text('availability_id')),
    connector: nullable(text('connector')),
    attemptId: nullable(text('attempt_id')),
    clearingStatus: nullable(text<ClearingStatus>('clearing_status')),
    batchId: nullable(text('batch_id')),
    rejections: smallint('rejections'),
    rejectReason: nullable(text('reject_reason')),
    pspReference: nullable(text('psp_reference')),
    authorizedAt: nullable(timestamptz('authorized_at')),
    unpaid: nullable(bigint('unpaid')),
  },
});

/**
 * The ledger transfer that made the row `alias` available, or NULL while it is pending: its own
 * availability_id, or for a settlement item its clearing group's (the group of a 'batched' item is
 * (batch_id, merchant_id, available_on), made when its batch was acknowledged). A correlated
 * lookup by the group's primary key: for a page or one merchant's rows, not for a whole table
 * (verify joins the groups instead).
 */
export function availabilityIdSql(alias: string): string {
  return `coalesce(${alias}.availability_id, (SELECT g.availability_id FROM clearing_groups g
    WHERE ${inClearingGroupSql(alias, 'g')}))`;
}

/**
 * SQL: the settlement item `item` is one of the clearing group `group`'s items (a 'batched' item
 * of the group's batch, merchant and available_on day; migration 025). The one definition of the
 * join, for a lookup, a join or verify.
 */
export function inClearingGroupSql(item: string, group: string): string {
  return `${item}.clearing_status = 'batched' AND ${group}.batch_id = ${item}.batch_id
    AND ${group}.merchant_id = ${item}.merchant_id AND ${group}.available_on = ${item}.available_on`;
}

/**
 * A row available at creation (payouts, their reversals, reserve holds and releases): its own
 * ledger transaction made it so, and but for a payout's own row it is a payout unit, nothing of
 * it paid out yet. `id` is a sortable id (lists are newest first by id).
 */
export function availableAtOnce(
  row: Pick<
    BalanceTransaction,
    'id' | 'merchantId' | 'currency' | 'type' | 'source' | 'amount' | 'description'
  > & { readonly ledgerTransactionId: string; readonly at: Date },
): BalanceTransaction {
  return {
    id: row.id,
    merchantId: row.merchantId,
    currency: row.currency,
    type: row.type,
    source: row.source,
    amount: row.amount,
    fee: 0n,
    net: row.amount,
    description: row.description,
    ledgerTransactionId: row.ledgerTransactionId,
    createdAt: row.at,
    availableOn: row.at,
    availabilityId: row.ledgerTransactionId,
    connector: null,
    attemptId: null,
    clearingStatus: null,
    batchId: null,
    rejections: 0,
    rejectReason: null,
    pspReference: null,
    authorizedAt: null,
    unpaid: row.type === 'payout' || row.amount === 0n ? null : row.amount,
  };
}
