// Domain objects → API objects (snake_case, Stripe-style `object`, `created`, `livemode`).
import type { Account, Entry } from '../ledger/index.ts';
import { balanceOf } from '../ledger/index.ts';
import type { Merchant } from '../merchants/merchants.ts';
import { unixSeconds } from './serialize.ts';

export function presentMerchant(merchant: Merchant) {
  return {
    id: merchant.id,
    object: 'merchant' as const,
    name: merchant.name,
    email: merchant.email,
    created: unixSeconds(merchant.createdAt),
    livemode: false,
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
