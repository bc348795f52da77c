// Balance transactions (architecture §12): the merchant-facing itemization of the ledger, Stripe's
// balance transaction. One row per charge, refund, payout, payout failure or cancel, reserve hold
// and release; every row points at the ledger transaction that moved its money, and, once
// available, at the (aggregate) availability transfer that made it so. One definition of the row
// (src/storage/table.ts): every write and read of whole rows derives from it.
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
  /** Set (in the same database transaction) by the ledger transfer that made it available. */
  readonly availabilityId: string | null;
  // Clearing: charges and refunds only (src/settlement).
  readonly connector: string | null;
  readonly attemptId: string | null;
  readonly clearingStatus: ClearingStatus | null;
  readonly batchId: string | null;
  readonly submissions: number;
  readonly rejectReason: string | null;
  /** What clearing presents: the PSP's payment id (charge) or refund id (refund). */
  readonly pspReference: string | null;
  /** When the charge's authorization was made. */
  readonly authorizedAt: Date | null;
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
    submissions: smallint('submissions'),
    rejectReason: nullable(text('reject_reason')),
    pspReference: nullable(text('psp_reference')),
    authorizedAt: nullable(timestamptz('authorized_at')),
  },
});

/**
 * A row available at creation (payouts, their reversals, reserve holds and releases): its own
 * ledger transaction made it so. `id` is a sortable id (lists are newest first by id).
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
    submissions: 0,
    rejectReason: null,
    pspReference: null,
    authorizedAt: null,
  };
}
