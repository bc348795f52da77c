// Tamper evidence: each account's entries form a SHA-256 chain. An entry's hash covers the
// previous entry's hash and every money field of the entry, including the balances after it.
// The chain is per account (not global) so that transfers on different accounts never wait on
// one shared row; `verify` walks every chain.
import crypto from 'node:crypto';
import type { Entry } from './types.ts';

export const genesisHash = '0'.repeat(64);

export type HashedFields = Omit<Entry, 'hash' | 'createdAt'>;

export function entryHash(previousHash: string, entry: HashedFields): string {
  const totals = entry.totalsAfter;
  // '|' cannot occur in ids (the id pattern excludes it), so the encoding is unambiguous.
  const content = [
    previousHash,
    entry.transactionId,
    entry.leg,
    entry.accountId,
    entry.currency,
    entry.layer,
    entry.direction,
    entry.amount,
    entry.accountSequence,
    totals.postedDebits,
    totals.postedCredits,
    totals.pendingDebits,
    totals.pendingCredits,
  ].join('|');
  return crypto.createHash('sha256').update(content).digest('hex');
}
