// The chart of accounts (architecture §7, §12): how every ledger account of Payrail is named and
// typed. Payments, settlement, banking, balances and payouts all post to these accounts, so their
// names live here, below all of them, and not in any one of them.
import type { AccountSpec } from '../ledger/index.ts';

export const accountIds = {
  pspReceivable: (connector: string, currency: string) => `psp:${connector}:receivable:${currency}`,
  merchantPending: (merchantId: string, currency: string) =>
    `merchant:${merchantId}:pending:${currency}`,
  merchantAvailable: (merchantId: string, currency: string) =>
    `merchant:${merchantId}:available:${currency}`,
  platformFees: (currency: string) => `platform:fees:${currency}`,
  /** Money a PSP took for an attempt Payrail had abandoned, until it is refunded. */
  platformSuspense: (currency: string) => `platform:suspense:${currency}`,
  // Money out (architecture §12).
  /** What a merchant owes the platform after a negative day, recovered from later settlements. */
  merchantReceivable: (merchantId: string, currency: string) =>
    `merchant:${merchantId}:receivable:${currency}`,
  /** Rolling-reserve holds on the merchant's available balance (pending credits only). */
  merchantReserve: (merchantId: string, currency: string) =>
    `merchant:${merchantId}:reserve:${currency}`,
  /** The fees a PSP charged, as its settlement report says. */
  pspFees: (connector: string, currency: string) => `psp:${connector}:fees:${currency}`,
  /** The platform's bank account in this currency. */
  bank: (currency: string) => `bank:${currency}`,
  /** Payouts the bank took but has not yet paid. */
  payoutsInTransit: (currency: string) => `platform:payouts_in_transit:${currency}`,
  /** Reconciliation resolutions (architecture §13): the other side of every operator correction. */
  reconAdjustments: (currency: string) => `recon:adjustments:${currency}`,
};

/** The account a reconciliation resolution posts against (an expense: written-off differences). */
export function reconAdjustmentAccount(currency: string): AccountSpec {
  return {
    id: accountIds.reconAdjustments(currency),
    type: 'expense',
    currency,
    owner: 'platform',
  };
}

/** The accounts money out uses for one merchant and currency. */
export function merchantMoneyOutAccounts(merchantId: string, currency: string): AccountSpec[] {
  return [
    {
      id: accountIds.merchantReceivable(merchantId, currency),
      type: 'asset',
      currency,
      owner: merchantId,
    },
    {
      id: accountIds.merchantReserve(merchantId, currency),
      type: 'liability',
      currency,
      owner: merchantId,
    },
    { id: accountIds.bank(currency), type: 'asset', currency, owner: 'platform' },
    {
      id: accountIds.payoutsInTransit(currency),
      type: 'liability',
      currency,
      owner: 'platform',
    },
  ];
}

/** The accounts a connector's settlement uses in one currency. */
export function connectorSettlementAccounts(connector: string, currency: string): AccountSpec[] {
  return [
    {
      id: accountIds.pspReceivable(connector, currency),
      type: 'asset',
      currency,
      owner: 'platform',
    },
    { id: accountIds.pspFees(connector, currency), type: 'expense', currency, owner: 'platform' },
    { id: accountIds.bank(currency), type: 'asset', currency, owner: 'platform' },
  ];
}

export function paymentAccounts(
  merchantId: string,
  connector: string,
  currency: string,
): AccountSpec[] {
  return [
    {
      id: accountIds.pspReceivable(connector, currency),
      type: 'asset',
      currency,
      owner: 'platform',
    },
    // No limit on pending: a refund the PSP has made must always be recordable.
    {
      id: accountIds.merchantPending(merchantId, currency),
      type: 'liability',
      currency,
      owner: merchantId,
    },
    {
      id: accountIds.merchantAvailable(merchantId, currency),
      type: 'liability',
      currency,
      owner: merchantId,
      limit: 'debits_must_not_exceed_credits',
    },
    { id: accountIds.platformFees(currency), type: 'revenue', currency, owner: 'platform' },
    { id: accountIds.platformSuspense(currency), type: 'liability', currency, owner: 'platform' },
  ];
}
