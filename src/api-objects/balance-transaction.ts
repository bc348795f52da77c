import { Type, type Static } from 'typebox';
import type { BalanceTransaction, BalanceTransactionType } from '../balances/index.ts';
import { Enum, Int64, Nullable, Timestamp, unixSeconds } from './json.ts';

/** Stripe's reporting category of each type (every type named: the record is exhaustive). */
const reportingCategories: Readonly<Record<BalanceTransactionType, string>> = {
  charge: 'charge',
  refund: 'refund',
  payout: 'payout',
  payout_failure: 'payout_reversal',
  payout_cancel: 'payout_reversal',
  reserve_hold: 'risk_reserved_funds',
  reserve_release: 'risk_reserved_funds',
};

export const BalanceTransactionTypeEnum = Enum(
  Object.keys(reportingCategories) as BalanceTransactionType[],
);

const FeeDetail = Type.Object({
  amount: Int64,
  currency: Type.String(),
  type: Type.Literal('payrail_fee'),
  description: Type.String(),
});

/** Stripe's balance transaction: one movement of the merchant's balance. */
export const BalanceTransactionSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('balance_transaction'),
  amount: Int64,
  fee: Int64,
  fee_details: Type.Array(FeeDetail),
  net: Int64,
  currency: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('available')]),
  available_on: Timestamp,
  created: Timestamp,
  reporting_category: Type.String(),
  source: Type.String(),
  type: BalanceTransactionTypeEnum,
  description: Nullable(Type.String()),
  exchange_rate: Type.Null(),
});

export function presentBalanceTransaction(
  transaction: BalanceTransaction,
): Static<typeof BalanceTransactionSchema> {
  return {
    id: transaction.id,
    object: 'balance_transaction',
    amount: transaction.amount,
    fee: transaction.fee,
    fee_details:
      transaction.fee === 0n
        ? []
        : [
            {
              amount: transaction.fee,
              currency: transaction.currency,
              type: 'payrail_fee',
              description: 'Payrail processing fees',
            },
          ],
    net: transaction.net,
    currency: transaction.currency,
    // Available once the availability transfer names it, or (a settlement item) its clearing group
    // (availabilityIdSql: the service reads rows through it).
    status: transaction.availabilityId === null ? 'pending' : 'available',
    available_on: unixSeconds(transaction.availableOn),
    created: unixSeconds(transaction.createdAt),
    reporting_category: reportingCategories[transaction.type],
    source: transaction.source,
    type: transaction.type,
    description: transaction.description,
    exchange_rate: null,
  };
}
