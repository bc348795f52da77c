// Domain objects → API objects (snake_case, Stripe-style `object`, `created`, `livemode`).
import type { Account, Entry } from '../ledger/index.ts';
import { balanceOf } from '../ledger/index.ts';
import type { Merchant } from '../merchants/merchants.ts';
import type { Attempt, IntentWithAttempts, Refund } from '../payments/types.ts';
import type { PaymentMethod } from '../vault/index.ts';
import { unixSeconds } from './serialize.ts';

export function presentMerchant(merchant: Merchant) {
  return {
    id: merchant.id,
    object: 'merchant' as const,
    name: merchant.name,
    email: merchant.email,
    created: unixSeconds(merchant.createdAt),
    livemode: merchant.livemode,
    metadata: merchant.metadata,
  };
}

export function presentAccount(account: Account) {
  return {
    id: account.id,
    object: 'ledger_account' as const,
    type: account.type,
    currency: account.currency,
    owner: account.owner,
    limit: account.limit,
    balance: account.balance,
    totals: {
      posted_debits: account.totals.postedDebits,
      posted_credits: account.totals.postedCredits,
      pending_debits: account.totals.pendingDebits,
      pending_credits: account.totals.pendingCredits,
    },
    entry_count: account.entryCount,
    created: unixSeconds(account.createdAt),
    livemode: false,
    metadata: account.metadata,
  };
}

export function presentEntry(entry: Entry, account: Account) {
  return {
    id: `${entry.transactionId}.${entry.leg}`,
    object: 'ledger_entry' as const,
    transaction: entry.transactionId,
    leg: entry.leg,
    account: entry.accountId,
    sequence: entry.accountSequence,
    currency: entry.currency,
    layer: entry.layer,
    direction: entry.direction,
    amount: entry.amount,
    balance_after: balanceOf(account.type, entry.totalsAfter),
    hash: entry.hash,
    created: unixSeconds(entry.createdAt),
    livemode: false,
  };
}

export function presentAttempt(attempt: Attempt) {
  return {
    id: attempt.id,
    object: 'payment_attempt' as const,
    connector: attempt.connector,
    status: attempt.status,
    amount: attempt.amount,
    currency: attempt.currency,
    psp_reference: attempt.pspReference,
    decline_code: attempt.declineCode,
    psp_code: attempt.pspCode,
    failure_message: attempt.failureMessage,
    abandoned: attempt.abandoned,
    created: unixSeconds(attempt.createdAt),
  };
}

export function presentIntent({ intent, attempts }: IntentWithAttempts) {
  const error = intent.lastPaymentError;
  return {
    id: intent.id,
    object: 'payment_intent' as const,
    amount: intent.amount,
    amount_capturable: intent.amountCapturable,
    amount_received: intent.amountReceived,
    amount_refunded: intent.amountRefunded,
    capture_method: intent.captureMethod,
    confirmation_method: 'automatic' as const,
    created: unixSeconds(intent.createdAt),
    currency: intent.currency,
    description: intent.description,
    last_payment_error:
      error === null
        ? null
        : {
            type: 'card_error',
            code: error.code,
            decline_code: error.decline_code ?? null,
            message: error.message,
          },
    livemode: false,
    metadata: intent.metadata,
    payment_method: intent.paymentMethodId,
    status: intent.status,
    canceled_at: intent.canceledAt === null ? null : unixSeconds(intent.canceledAt),
    cancellation_reason: intent.cancellationReason,
    connector: intent.connector,
    attempts: attempts.map(presentAttempt),
  };
}

export function presentRefund(refund: Refund) {
  return {
    id: refund.id,
    object: 'refund' as const,
    amount: refund.amount,
    currency: refund.currency,
    payment_intent: refund.paymentIntentId,
    status: refund.status,
    reason: refund.reason,
    failure_reason: refund.failureReason,
    metadata: refund.metadata,
    created: unixSeconds(refund.createdAt),
    livemode: false,
  };
}

export function presentPaymentMethod(method: PaymentMethod) {
  return {
    id: method.id,
    object: 'payment_method' as const,
    type: 'card' as const,
    card: {
      brand: method.brand,
      last4: method.last4,
      exp_month: method.expMonth,
      exp_year: method.expYear,
      fingerprint: method.fingerprint,
      country: method.country,
    },
    billing_details: { name: method.holderName },
    created: unixSeconds(method.createdAt),
    livemode: false,
    metadata: method.metadata,
  };
}
