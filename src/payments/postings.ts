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
import { accountIds } from '../accounts/index.ts';
import type { TransferRequest } from '../ledger/index.ts';
import { percentageOf } from '../money/index.ts';

export type Price = { readonly percentBps: bigint; readonly fixedAmount: bigint };

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
