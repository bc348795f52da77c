// Recomputes the ledger from its entries and re-checks every invariant:
//  * each ledger transaction balances per currency and layer;
//  * each account's entries form an unbroken hash chain with contiguous sequence numbers;
//  * the running totals stored in every entry equal the recomputed ones, never break the
//    account's limit at the end of a transaction, and end at the account's materialized totals.
import type { Database } from '../storage/database.ts';
import { applyEntry, withinLimit, zeroTotals } from './balances.ts';
import { entryHash, genesisHash } from './hash.ts';
import { entryColumns, entryFromRow, type EntryRow } from './ledger.ts';
import type { Entry, LimitRule, Totals } from './types.ts';

export type VerifyReport = {
  readonly ok: boolean;
  readonly accounts: number;
  readonly entries: number;
  readonly transactions: number;
  /** At most `problemsMax` descriptions; `ok` is false when there is any. */
  readonly problems: readonly string[];
};

const accountPageSize = 1000;
const entryPageSize = 10_000;
const problemsMax = 100;

type AccountRow = {
  id: string;
  limit_rule: LimitRule;
  posted_debits: bigint;
  posted_credits: bigint;
  pending_debits: bigint;
  pending_credits: bigint;
  entry_count: bigint;
  last_hash: string;
};

function sameTotals(a: Readonly<Totals>, b: Readonly<Totals>): boolean {
  return (
    a.postedDebits === b.postedDebits &&
    a.postedCredits === b.postedCredits &&
    a.pendingDebits === b.pendingDebits &&
    a.pendingCredits === b.pendingCredits
  );
}

class AccountWalk {
  readonly account: AccountRow;
  readonly totals: Totals = zeroTotals();
  hash = genesisHash;
  sequence = 0n;
  previousTransaction: string | undefined;
  constructor(account: AccountRow) {
    this.account = account;
  }

  /** Checks one entry in sequence order; returns a problem or undefined. */
  step(entry: Entry): string | undefined {
    if (
      this.previousTransaction !== undefined &&
      this.previousTransaction !== entry.transactionId &&
      !withinLimit(this.account.limit_rule, this.totals)
    ) {
      return `account ${this.account.id} broke its limit after transaction ${this.previousTransaction}`;
    }
    this.sequence += 1n;
    if (entry.accountSequence !== this.sequence)
      return `account ${this.account.id}: entry sequence ${entry.accountSequence}, expected ${this.sequence}`;
    applyEntry(this.totals, entry.layer, entry.direction, entry.amount);
    if (!sameTotals(this.totals, entry.totalsAfter))
      return `account ${this.account.id}: totals after entry ${entry.accountSequence} do not match its entries`;
    this.hash = entryHash(this.hash, entry);
    if (this.hash !== entry.hash)
      return `account ${this.account.id}: hash chain broken at entry ${entry.accountSequence}`;
    this.previousTransaction = entry.transactionId;
    return undefined;
  }

  finish(): string | undefined {
    const row = this.account;
    const stored = {
      postedDebits: row.posted_debits,
      postedCredits: row.posted_credits,
      pendingDebits: row.pending_debits,
      pendingCredits: row.pending_credits,
    };
    if (!withinLimit(row.limit_rule, this.totals)) return `account ${row.id} breaks its limit`;
    if (!sameTotals(stored, this.totals))
      return `account ${row.id}: materialized balances differ from the sum of its entries`;
    if (row.entry_count !== this.sequence)
      return `account ${row.id}: entry count ${row.entry_count}, found ${this.sequence} entries`;
    if (row.last_hash !== this.hash) return `account ${row.id}: last hash differs from its chain`;
    return undefined;
  }
}

async function unbalancedTransactions(
  database: Database,
): Promise<{ count: number; problems: string[] }> {
  const result = await database.query<{ transaction_id: string; currency: string; layer: string }>(
    `SELECT transaction_id, currency, layer FROM ledger_entries GROUP BY transaction_id, currency, layer
      HAVING sum(CASE WHEN direction = 'debit' THEN amount ELSE -amount END) <> 0 LIMIT $1`,
    [problemsMax],
  );
  const count = await database.query<{ count: bigint }>(
    'SELECT count(*)::bigint AS count FROM ledger_transactions',
  );
  return {
    count: Number(count.rows[0]?.count ?? 0n),
    problems: result.rows.map(
      (row) =>
        `transaction ${row.transaction_id} does not balance in ${row.currency} (${row.layer})`,
    ),
  };
}

async function walkAccountPage(
  database: Database,
  accounts: readonly AccountRow[],
  problems: string[],
): Promise<number> {
  const first = accounts[0];
  const last = accounts[accounts.length - 1];
  if (first === undefined || last === undefined) return 0;
  const walks = new Map(accounts.map((account) => [account.id, new AccountWalk(account)]));
  const broken = new Set<string>();
  let cursor: { accountId: string; sequence: bigint } = { accountId: first.id, sequence: 0n };
  let entryCount = 0;
  for (;;) {
    const page = await database.query<EntryRow>(
      `SELECT ${entryColumns} FROM ledger_entries
        WHERE (account_id, account_sequence) > ($1, $2) AND account_id <= $3
        ORDER BY account_id, account_sequence LIMIT $4`,
      [cursor.accountId, cursor.sequence, last.id, entryPageSize],
    );
    for (const row of page.rows) {
      entryCount++;
      const entry = entryFromRow(row);
      const walk = walks.get(entry.accountId);
      if (walk === undefined || broken.has(entry.accountId)) continue;
      const problem = walk.step(entry);
      if (problem !== undefined) {
        broken.add(entry.accountId);
        problems.push(problem);
      }
      cursor = { accountId: entry.accountId, sequence: entry.accountSequence };
    }
    if (page.rows.length < entryPageSize) break;
  }
  for (const walk of walks.values()) {
    if (broken.has(walk.account.id)) continue;
    const problem = walk.finish();
    if (problem !== undefined) problems.push(problem);
  }
  return entryCount;
}

export async function verifyLedger(database: Database): Promise<VerifyReport> {
  const balance = await unbalancedTransactions(database);
  const problems = [...balance.problems];
  let accountCount = 0;
  let entryCount = 0;
  let after = '';
  for (;;) {
    const page = await database.query<AccountRow>(
      `SELECT id, limit_rule, posted_debits, posted_credits, pending_debits, pending_credits, entry_count, encode(last_hash, 'hex') AS last_hash
         FROM ledger_accounts WHERE id > $1 ORDER BY id LIMIT $2`,
      [after, accountPageSize],
    );
    accountCount += page.rows.length;
    entryCount += await walkAccountPage(database, page.rows, problems);
    const last = page.rows[page.rows.length - 1];
    if (last === undefined || page.rows.length < accountPageSize) break;
    after = last.id;
  }
  return {
    ok: problems.length === 0,
    accounts: accountCount,
    entries: entryCount,
    transactions: balance.count,
    problems: problems.slice(0, problemsMax),
  };
}
