// SQL for the ledger writer: locking reads and one set-based write per batch.
import { integerArrayLiteral as integers, textArrayLiteral as texts } from '../storage/arrays.ts';
import type { Queryable } from '../storage/database.ts';
import type { CanonicalRequest } from './canonical.ts';
import type { AccountState, HoldState, PlannedEntry } from './plan.ts';
import type { AccountType, HoldStatus, LimitRule, TransferKind } from './types.ts';

export type TransactionRow = {
  id: string;
  kind: TransferKind;
  pending_id: string | null;
  request: CanonicalRequest;
  description: string | null;
  metadata: Record<string, string>;
  expires_at: Date | null;
  created_at: Date;
};

export const transactionColumns =
  'id, kind, pending_id, request, description, metadata, expires_at, created_at';

export async function selectTransactions(
  tx: Queryable,
  ids: readonly string[],
): Promise<TransactionRow[]> {
  if (ids.length === 0) return [];
  const result = await tx.query<TransactionRow>(
    `SELECT ${transactionColumns} FROM ledger_transactions WHERE id = ANY($1::text[])`,
    [texts(ids)],
  );
  return result.rows;
}

type HoldRow = {
  transaction_id: string;
  status: HoldStatus;
  expires_at: Date | null;
  request: CanonicalRequest;
};

/** Locks the holds in id order (every writer locks holds, then accounts, each sorted: no deadlock). */
export async function lockHolds(tx: Queryable, ids: readonly string[]): Promise<HoldRow[]> {
  if (ids.length === 0) return [];
  const result = await tx.query<HoldRow>(
    `SELECT h.transaction_id, h.status, h.expires_at, t.request
       FROM ledger_holds h JOIN ledger_transactions t ON t.id = h.transaction_id
      WHERE h.transaction_id = ANY($1::text[])
      ORDER BY h.transaction_id FOR UPDATE OF h`,
    [texts([...ids].sort())],
  );
  return result.rows;
}

type AccountRow = {
  id: string;
  type: AccountType;
  currency: string;
  limit_rule: LimitRule;
  posted_debits: bigint;
  posted_credits: bigint;
  pending_debits: bigint;
  pending_credits: bigint;
  entry_count: bigint;
  last_hash: string;
};

export async function lockAccounts(tx: Queryable, ids: readonly string[]): Promise<AccountState[]> {
  if (ids.length === 0) return [];
  const result = await tx.query<AccountRow>(
    `SELECT id, type, currency, limit_rule, posted_debits, posted_credits, pending_debits, pending_credits,
            entry_count, encode(last_hash, 'hex') AS last_hash
       FROM ledger_accounts WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
    [texts([...ids].sort())],
  );
  return result.rows.map((row) => ({
    id: row.id,
    type: row.type,
    currency: row.currency,
    limit: row.limit_rule,
    totals: {
      postedDebits: row.posted_debits,
      postedCredits: row.posted_credits,
      pendingDebits: row.pending_debits,
      pendingCredits: row.pending_credits,
    },
    entryCount: row.entry_count,
    lastHash: row.last_hash,
    touched: false,
  }));
}

export type NewTransaction = {
  id: string;
  kind: TransferKind;
  pendingId: string | null;
  request: CanonicalRequest;
  description: string | null;
  metadata: Record<string, string>;
  expiresAt: Date | null;
};

const writeBatchSql = `
WITH new_transactions AS (
  INSERT INTO ledger_transactions (id, kind, pending_id, request, description, metadata, expires_at, created_at)
  SELECT id, kind, pending_id, request, description, metadata, expires_at, clock_timestamp() + $29 * interval '1 millisecond'
    FROM jsonb_to_recordset($1::jsonb)
         AS t(id text, kind text, pending_id text, request jsonb, description text, metadata jsonb, expires_at timestamptz)
  RETURNING id, created_at
), new_entries AS (
  INSERT INTO ledger_entries (transaction_id, leg, account_id, currency, layer, direction, amount, account_sequence,
                              posted_debits_after, posted_credits_after, pending_debits_after, pending_credits_after, hash, created_at)
  SELECT transaction_id, leg, account_id, currency, layer, direction, amount, account_sequence, pd, pc, pnd, pnc, decode(hash, 'hex'),
         clock_timestamp() + $29 * interval '1 millisecond'
    FROM unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[],
                $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::text[])
         AS e(transaction_id, leg, account_id, currency, layer, direction, amount, account_sequence, pd, pc, pnd, pnc, hash)
), new_holds AS (
  INSERT INTO ledger_holds (transaction_id, status, expires_at, resolved_by)
  SELECT transaction_id, status, expires_at::timestamptz, resolved_by
    FROM unnest($15::text[], $16::text[], $17::text[], $18::text[]) AS h(transaction_id, status, expires_at, resolved_by)
), resolved_holds AS (
  UPDATE ledger_holds h SET status = u.status, resolved_by = u.resolved_by
    FROM unnest($19::text[], $20::text[], $21::text[]) AS u(transaction_id, status, resolved_by)
   WHERE h.transaction_id = u.transaction_id
), moved_accounts AS (
  UPDATE ledger_accounts a
     SET posted_debits = u.pd, posted_credits = u.pc, pending_debits = u.pnd, pending_credits = u.pnc,
         entry_count = u.entry_count, last_hash = decode(u.last_hash, 'hex')
    FROM unnest($22::text[], $23::bigint[], $24::bigint[], $25::bigint[], $26::bigint[], $27::bigint[], $28::text[])
         AS u(id, pd, pc, pnd, pnc, entry_count, last_hash)
   WHERE a.id = u.id
)
SELECT id, created_at FROM new_transactions`;

/** Transactions go as one JSON document: their request and metadata are JSON already. */
function transactionParameters(transactions: readonly NewTransaction[]): unknown[] {
  return [
    JSON.stringify(
      transactions.map((t) => ({
        id: t.id,
        kind: t.kind,
        pending_id: t.pendingId,
        request: t.request,
        description: t.description,
        metadata: t.metadata,
        expires_at: t.expiresAt?.toISOString() ?? null,
      })),
    ),
  ];
}

function entryParameters(entries: readonly PlannedEntry[]): unknown[] {
  return [
    texts(entries.map((e) => e.transactionId)),
    integers(entries.map((e) => e.leg)),
    texts(entries.map((e) => e.accountId)),
    texts(entries.map((e) => e.currency)),
    texts(entries.map((e) => e.layer)),
    texts(entries.map((e) => e.direction)),
    integers(entries.map((e) => e.amount)),
    integers(entries.map((e) => e.accountSequence)),
    integers(entries.map((e) => e.totalsAfter.postedDebits)),
    integers(entries.map((e) => e.totalsAfter.postedCredits)),
    integers(entries.map((e) => e.totalsAfter.pendingDebits)),
    integers(entries.map((e) => e.totalsAfter.pendingCredits)),
    texts(entries.map((e) => e.hash)),
  ];
}

function holdParameters(holds: readonly HoldState[]): unknown[] {
  const created = holds.filter((hold) => hold.createdHere);
  const resolved = holds.filter((hold) => !hold.createdHere);
  return [
    texts(created.map((h) => h.transactionId)),
    texts(created.map((h) => h.status)),
    texts(created.map((h) => h.expiresAt?.toISOString() ?? null)),
    texts(created.map((h) => h.resolvedBy)),
    texts(resolved.map((h) => h.transactionId)),
    texts(resolved.map((h) => h.status)),
    texts(resolved.map((h) => h.resolvedBy)),
  ];
}

function accountParameters(accounts: readonly AccountState[]): unknown[] {
  return [
    texts(accounts.map((a) => a.id)),
    integers(accounts.map((a) => a.totals.postedDebits)),
    integers(accounts.map((a) => a.totals.postedCredits)),
    integers(accounts.map((a) => a.totals.pendingDebits)),
    integers(accounts.map((a) => a.totals.pendingCredits)),
    integers(accounts.map((a) => a.entryCount)),
    texts(accounts.map((a) => a.lastHash)),
  ];
}

/**
 * Writes a whole batch with one statement; returns each new transaction's creation time. Times are
 * the database's clock_timestamp() (so they keep the order of account sequences across concurrent
 * batches) moved by `aheadMs`, how far the clock (src/clock.ts) runs ahead of real time.
 */
export async function writeBatch(
  tx: Queryable,
  batch: {
    transactions: readonly NewTransaction[];
    entries: readonly PlannedEntry[];
    holds: readonly HoldState[];
    accounts: readonly AccountState[];
    aheadMs: number;
  },
): Promise<Map<string, Date>> {
  if (batch.transactions.length === 0) return new Map();
  const result = await tx.query<{ id: string; created_at: Date }>(writeBatchSql, [
    ...transactionParameters(batch.transactions),
    ...entryParameters(batch.entries),
    ...holdParameters(batch.holds),
    ...accountParameters(batch.accounts),
    batch.aheadMs,
  ]);
  return new Map(result.rows.map((row) => [row.id, row.created_at]));
}
