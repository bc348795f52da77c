// The ledger postings of payments (architecture §7). Transfer ids derive from the attempt or refund
// id, so a posting can never be made twice: a repeat returns the existing transfer.
//
//   authorization (manual capture)  hold  psp receivable  → merchant pending
//   capture of a hold               post the hold for the captured amount, release the rest
//   automatic capture               psp receivable → merchant pending
//   fee                             merchant pending → platform fees
//   refund                          merchant pending → psp receivable
//   cancel of an authorization      void the hold
//   abandoned attempt captured      psp receivable → platform suspense, refunded back at once
import type { AccountSpec, TransferRequest } from '../ledger/index.ts';
import { percentageOf } from '../money/index.ts';

export type Price = { readonly percentBps: bigint; readonly fixedAmount: bigint };

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
};

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

/** Whose money moves, through which PSP, in which currency: it names the accounts. */
export type Movement = {
  readonly merchantId: string;
  readonly connector: string;
  readonly currency: string;
};

type Legs = [
  { accountId: string; direction: 'debit'; amount: bigint; currency: string },
  { accountId: string; direction: 'credit'; amount: bigint; currency: string },
];

function legs(from: string, to: string, amount: bigint, currency: string): Legs {
  return [
    { accountId: from, direction: 'debit', amount, currency },
    { accountId: to, direction: 'credit', amount, currency },
  ];
}

/** The PSP owes us what the merchant is owed: the legs of an authorization or a capture. */
function receivableToMerchant(movement: Movement, amount: bigint): Legs {
  return legs(
    accountIds.pspReceivable(movement.connector, movement.currency),
    accountIds.merchantPending(movement.merchantId, movement.currency),
    amount,
    movement.currency,
  );
}

export function authorizationHold(
  attemptId: string,
  movement: Movement,
  amount: bigint,
): TransferRequest {
  return {
    kind: 'pending',
    id: `auth:${attemptId}`,
    legs: receivableToMerchant(movement, amount),
    description: `authorization of attempt ${attemptId}`,
  };
}

export function captureOfHold(attemptId: string, amount: bigint): TransferRequest {
  return {
    kind: 'post_pending',
    id: `capture:${attemptId}`,
    pendingId: `auth:${attemptId}`,
    amount,
    description: `capture of attempt ${attemptId}`,
  };
}

export function voidOfHold(attemptId: string): TransferRequest {
  return {
    kind: 'void_pending',
    id: `void:${attemptId}`,
    pendingId: `auth:${attemptId}`,
    description: `release of attempt ${attemptId}`,
  };
}

export function directCapture(
  attemptId: string,
  movement: Movement,
  amount: bigint,
): TransferRequest {
  return {
    kind: 'posted',
    id: `capture:${attemptId}`,
    legs: receivableToMerchant(movement, amount),
    description: `capture of attempt ${attemptId}`,
  };
}

/** The fee on a captured amount: percentage (half up) plus fixed, never more than the amount. */
export function feeFor(captured: bigint, price: Price): bigint {
  const fee = percentageOf(captured, price.percentBps) + price.fixedAmount;
  return fee > captured ? captured : fee;
}

export function feeTransfer(
  attemptId: string,
  movement: Movement,
  fee: bigint,
): TransferRequest | undefined {
  if (fee <= 0n) return undefined;
  return {
    kind: 'posted',
    id: `fee:${attemptId}`,
    legs: legs(
      accountIds.merchantPending(movement.merchantId, movement.currency),
      accountIds.platformFees(movement.currency),
      fee,
      movement.currency,
    ),
    description: `fee for attempt ${attemptId}`,
  };
}

export function refundTransfer(
  refundId: string,
  movement: Movement,
  amount: bigint,
): TransferRequest {
  return {
    kind: 'posted',
    id: `refund:${refundId}`,
    legs: legs(
      accountIds.merchantPending(movement.merchantId, movement.currency),
      accountIds.pspReceivable(movement.connector, movement.currency),
      amount,
      movement.currency,
    ),
    description: `refund ${refundId}`,
  };
}

/**
 * An abandoned attempt (failover) that the PSP captured anyway, and its full refund: recorded
 * through the platform's suspense account, so the PSP's records and the ledger agree and the
 * merchant's balance never sees it.
 */
export function orphanCaptureAndRefund(
  attemptId: string,
  movement: Movement,
  amount: bigint,
): TransferRequest[] {
  const receivable = accountIds.pspReceivable(movement.connector, movement.currency);
  const suspense = accountIds.platformSuspense(movement.currency);
  return [
    {
      kind: 'posted',
      id: `capture:${attemptId}`,
      legs: legs(receivable, suspense, amount, movement.currency),
      description: `capture of abandoned attempt ${attemptId}`,
    },
    {
      kind: 'posted',
      id: `refund:${attemptId}`,
      legs: legs(suspense, receivable, amount, movement.currency),
      description: `refund of abandoned attempt ${attemptId}`,
    },
  ];
}
