// A payout's row and the pieces every way of making or changing one shares (architecture §12.4):
// reading payouts, their ledger moves, their events and their balance transactions.
import { accountIds } from '../accounts/index.ts';
import { presentPayout } from '../api-objects/payout.ts';
import { balanceTransactions } from '../balances/balance-transactions.ts';
import { newEvent, type EventType } from '../events/events.ts';
import { newSortableId } from '../ids.ts';
import type { AccountSpec, TransferRequest } from '../ledger/index.ts';
import { textArrayLiteral } from '../storage/arrays.ts';
import type { Queryable } from '../storage/database.ts';
import { errorConstraint, sqlState } from '../storage/database.ts';
import type { Payout, PayoutStatus } from './types.ts';

export const payoutColumns = `p.id, p.merchant_id, p.currency, p.amount, p.method, p.status, p.bank_account_id,
  p.description, p.metadata, p.trace_id, p.failure_code, p.failure_message, p.send_attempts,
  p.arrival_date, p.created_at, p.updated_at,
  (SELECT bt.id FROM balance_transactions bt WHERE bt.ledger_transaction_id = 'payout:' || p.id) AS balance_transaction_id`;

export type PayoutRow = {
  id: string;
  merchant_id: string;
  currency: string;
  amount: bigint;
  method: Payout['method'];
  status: PayoutStatus;
  bank_account_id: string;
  description: string | null;
  metadata: Record<string, string>;
  trace_id: string | null;
  failure_code: string | null;
  failure_message: string | null;
  send_attempts: number;
  arrival_date: Date;
  created_at: Date;
  updated_at: Date;
  balance_transaction_id: string | null;
};

export function payoutFromRow(row: PayoutRow): Payout {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    currency: row.currency,
    amount: BigInt(row.amount),
    method: row.method,
    status: row.status,
    bankAccountId: row.bank_account_id,
    description: row.description,
    metadata: row.metadata,
    traceId: row.trace_id,
    failureCode: row.failure_code,
    failureMessage: row.failure_message,
    sendAttempts: row.send_attempts,
    arrivalDate: row.arrival_date,
    balanceTransactionId: row.balance_transaction_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function selectPayout(
  queryable: Queryable,
  id: string,
  options: { merchantId?: string; lock?: boolean } = {},
): Promise<Payout | undefined> {
  const result = await queryable.query<PayoutRow>(
    `SELECT ${payoutColumns} FROM payouts p WHERE p.id = $1 AND ($2::text IS NULL OR p.merchant_id = $2)
     ${options.lock === true ? 'FOR UPDATE' : ''}`,
    [id, options.merchantId ?? null],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : payoutFromRow(row);
}

export async function selectPayouts(
  queryable: Queryable,
  ids: readonly string[],
): Promise<Payout[]> {
  const result = await queryable.query<PayoutRow>(
    `SELECT ${payoutColumns} FROM payouts p WHERE p.id = ANY($1::text[]) ORDER BY p.id`,
    [textArrayLiteral(ids)],
  );
  return result.rows.map(payoutFromRow);
}

/** A merchant, currency and the merchant's time, due for its automatic payout. */
export type Due = { readonly merchantId: string; readonly currency: string; readonly now: Date };

/** Another process made the merchant's automatic payout of the day first. */
export function isAutomaticDayConflict(error: unknown): boolean {
  return sqlState(error) === '23505' && errorConstraint(error) === 'payouts_automatic_day';
}

export const insertBalanceTransactions = balanceTransactions.insertBatch(1);

export function availableAccount(merchantId: string, currency: string): AccountSpec {
  return {
    id: accountIds.merchantAvailable(merchantId, currency),
    type: 'liability',
    currency,
    owner: merchantId,
    limit: 'debits_must_not_exceed_credits',
  };
}

export function move(
  id: string,
  from: string,
  to: string,
  amount: bigint,
  currency: string,
  description: string,
): TransferRequest {
  return {
    kind: 'posted',
    id,
    legs: [
      { accountId: from, direction: 'debit', amount, currency },
      { accountId: to, direction: 'credit', amount, currency },
    ],
    description,
  };
}

/** A failure code as Stripe names it, from the bank's (or an ISO 20022 return reason). */

export function payoutEvent(type: EventType, payout: Payout) {
  return newEvent(payout.merchantId, type, presentPayout(payout));
}

export type NewBalanceTransaction = {
  readonly merchantId: string;
  readonly currency: string;
  readonly type: 'payout' | 'payout_failure' | 'payout_cancel';
  readonly source: string;
  readonly amount: bigint;
  readonly ledgerTransactionId: string;
  readonly description: string | null;
  readonly now: Date;
};

/**
 * A payout's own balance transaction, or its failure's or cancel's: available at once; a failure's
 * or cancel's is a payout unit (`unpaid`), paid out again by the next payout.
 */
export async function insertBalanceTransaction(
  tx: Queryable,
  row: NewBalanceTransaction,
): Promise<void> {
  await tx.query(
    `INSERT INTO balance_transactions (id, merchant_id, currency, type, source, amount, fee, net, description,
        ledger_transaction_id, created_at, available_on, availability_id, unpaid)
     VALUES ($1, $2, $3, $4, $5, $6, 0, $6, $7, $8, $9, $9, $8, CASE WHEN $4 <> 'payout' THEN $6::bigint END)`,
    [
      newSortableId('txn', row.now.getTime()),
      row.merchantId,
      row.currency,
      row.type,
      row.source,
      row.amount,
      row.description,
      row.ledgerTransactionId,
      row.now,
    ],
  );
}
