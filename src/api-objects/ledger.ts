// The ledger's API objects: accounts with their balances, entries, and the verification report.
import { Type, type Static } from 'typebox';
import { balanceOf, type Account, type Entry, type VerifyReport } from '../ledger/index.ts';
import { Int64, StringMap, Timestamp, testMode, unixSeconds } from './json.ts';

const Balance = Type.Object({ posted: Int64, pending: Int64, available: Int64 });

export const LedgerAccountSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('ledger_account'),
  type: Type.String(),
  currency: Type.String(),
  owner: Type.String(),
  limit: Type.String(),
  balance: Balance,
  totals: Type.Object({
    posted_debits: Int64,
    posted_credits: Int64,
    pending_debits: Int64,
    pending_credits: Int64,
  }),
  entry_count: Int64,
  created: Timestamp,
  livemode: Type.Boolean(),
  metadata: StringMap,
});

export const LedgerEntrySchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('ledger_entry'),
  transaction: Type.String(),
  leg: Type.Integer(),
  account: Type.String(),
  sequence: Int64,
  currency: Type.String(),
  layer: Type.String(),
  direction: Type.String(),
  amount: Int64,
  balance_after: Balance,
  hash: Type.String(),
  created: Timestamp,
  livemode: Type.Boolean(),
});

export const LedgerVerificationSchema = Type.Object({
  object: Type.Literal('ledger_verification'),
  ok: Type.Boolean(),
  accounts: Type.Integer(),
  entries: Type.Integer(),
  transactions: Type.Integer(),
  problems: Type.Array(Type.String()),
  duration_ms: Type.Integer(),
});

export function presentLedgerAccount(
  account: Account,
  livemode = testMode,
): Static<typeof LedgerAccountSchema> {
  return {
    id: account.id,
    object: 'ledger_account',
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
    livemode,
    metadata: account.metadata,
  };
}

/** `account` is the entry's own account: its type decides the sign of the balance after. */
export function presentLedgerEntry(
  entry: Entry,
  account: Account,
  livemode = testMode,
): Static<typeof LedgerEntrySchema> {
  return {
    id: `${entry.transactionId}.${entry.leg}`,
    object: 'ledger_entry',
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
    livemode,
  };
}

export function presentLedgerVerification(
  report: VerifyReport,
  durationMs: number,
): Static<typeof LedgerVerificationSchema> {
  return {
    object: 'ledger_verification',
    ok: report.ok,
    accounts: report.accounts,
    entries: report.entries,
    transactions: report.transactions,
    problems: [...report.problems],
    duration_ms: durationMs,
  };
}
