// The ledger service: accounts, single and batched transfers, holds, expiry and reads.
// Domain code: it speaks SQL through the storage interface and knows nothing of HTTP.
import { systemClock, type Clock } from '../clock.ts';
import crypto from 'node:crypto';
import type { Database, Queryable } from '../storage/database.ts';
import { keysetPage, type PageRequest } from '../storage/pagination.ts';
import { balanceOf } from './balances.ts';
import { canonicalRequest, firstDifference, type CanonicalRequest } from './canonical.ts';
import { GroupCommit, type BatcherLimits } from '../storage/batcher.ts';
import { LedgerError } from './errors.ts';
import {
  holdFromRow,
  planTransfer,
  type AccountState,
  type HoldState,
  type PlannedEntry,
} from './plan.ts';
import {
  lockAccounts,
  lockHolds,
  selectTransactions,
  writeBatch,
  type NewTransaction,
  type TransactionRow,
} from './store.ts';
import type {
  Account,
  AccountSpec,
  Balance,
  Entry,
  Hold,
  LedgerTransaction,
  Leg,
  Totals,
  TransferRequest,
} from './types.ts';
import { ledgerLimits } from './types.ts';
import { expiryIdPrefix, validateAccountSpec, validateTransfer } from './validate.ts';

export type TransferResult =
  | { readonly status: 'created' | 'exists'; readonly transaction: LedgerTransaction }
  | { readonly status: 'rejected'; readonly error: LedgerError };

export type TransferOptions = { readonly now?: Date };

type Slot =
  | { kind: 'rejected'; error: LedgerError }
  | { kind: 'exists'; row: TransactionRow }
  | { kind: 'same_as'; index: number }
  | { kind: 'new'; canonical: CanonicalRequest; legs?: readonly Leg[] };

function checkBatchSize(requests: readonly TransferRequest[]): void {
  if (requests.length > ledgerLimits.transfersPerBatchMax) {
    throw new LedgerError(
      'batch_too_large',
      `a batch may hold at most ${ledgerLimits.transfersPerBatchMax} transfers`,
      'transfers',
    );
  }
}

function transactionFromRow(row: TransactionRow, legs: readonly Leg[]): LedgerTransaction {
  return {
    id: row.id,
    kind: row.kind,
    pendingId: row.pending_id,
    legs,
    description: row.description,
    metadata: row.metadata,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
  };
}

function newTransactionRow(request: TransferRequest, canonical: CanonicalRequest): NewTransaction {
  return {
    id: request.id,
    kind: request.kind,
    pendingId: 'pendingId' in request ? request.pendingId : null,
    request: canonical,
    description: request.description ?? null,
    metadata: { ...(request.metadata ?? {}) },
    expiresAt: request.kind === 'pending' ? (request.expiresAt ?? null) : null,
  };
}

function compareWithStored(
  stored: CanonicalRequest,
  canonical: CanonicalRequest,
  id: string,
): LedgerError | undefined {
  const field = firstDifference(stored, canonical);
  if (field === undefined) return undefined;
  return new LedgerError(
    'id_conflict',
    `transfer ${id} already exists with a different ${field}`,
    field,
  );
}

export type LedgerOptions = {
  readonly groupCommit?: BatcherLimits;
  /** Business time (holds' expiry, entries' times); real time when not given. */
  readonly clock?: Clock;
};

const defaultGroupCommit: BatcherLimits = { batchSizeMax: 1000, batchesInFlightMax: 2 };

export class Ledger {
  readonly #database: Database;
  readonly #batcher: GroupCommit<TransferRequest, TransferResult>;
  readonly #clock: Clock;

  constructor(database: Database, options: LedgerOptions = {}) {
    this.#database = database;
    this.#clock = options.clock ?? systemClock;
    this.#batcher = new GroupCommit(
      (requests) => this.transferBatch(requests),
      options.groupCommit ?? defaultGroupCommit,
    );
  }

  /** Creates accounts that do not exist; an existing id must match type, currency, owner and limit. */
  async createAccounts(specs: readonly AccountSpec[]): Promise<Account[]> {
    return this.#database.transaction(async (tx) => {
      await this.ensureAccountsWithin(tx, specs);
      const accounts = await this.#readAccounts(
        tx,
        specs.map((spec) => spec.id),
      );
      for (const spec of specs) {
        const account = accounts.get(spec.id);
        const differing =
          account === undefined
            ? 'id'
            : ((['type', 'currency', 'owner'] as const).find(
                (field) => account[field] !== spec[field],
              ) ?? (account.limit !== (spec.limit ?? 'none') ? 'limit' : undefined));
        if (differing !== undefined) {
          throw new LedgerError(
            'account_conflict',
            `account ${spec.id} already exists with a different ${differing}`,
            differing,
          );
        }
      }
      return specs.map((spec) => accounts.get(spec.id) as Account);
    });
  }

  /**
   * Creates missing accounts inside the caller's database transaction (no shape check: for the
   * fixed account layouts of services such as payments).
   */
  async ensureAccountsWithin(tx: Queryable, specs: readonly AccountSpec[]): Promise<void> {
    for (const spec of specs) {
      const problem = validateAccountSpec(spec);
      if (problem !== undefined) throw problem;
    }
    await tx.query(
      `INSERT INTO ledger_accounts (id, type, currency, owner, limit_rule, metadata)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[])
       ON CONFLICT (id) DO NOTHING`,
      [
        specs.map((s) => s.id),
        specs.map((s) => s.type),
        specs.map((s) => s.currency),
        specs.map((s) => s.owner),
        specs.map((s) => s.limit ?? 'none'),
        specs.map((s) => JSON.stringify(s.metadata ?? {})),
      ],
    );
  }

  async createAccount(spec: AccountSpec): Promise<Account> {
    const [account] = await this.createAccounts([spec]);
    return account as Account;
  }

  async getAccount(id: string): Promise<Account | undefined> {
    return (await this.#readAccounts(this.#database, [id])).get(id);
  }

  /** In id order; with `owner`, only that owner's accounts (a cursor must be one of them). */
  async listAccounts(
    options: PageRequest & { readonly owner?: string },
  ): Promise<{ accounts: Account[]; hasMore: boolean }> {
    const { rows, hasMore } = await keysetPage<AccountRow, string>(
      this.#database,
      {
        select: accountColumns,
        from: 'ledger_accounts',
        scope: '$1::text IS NULL OR owner = $1',
        scopeParameters: [options.owner ?? null],
        key: 'id',
        keyType: 'text',
        order: 'oldest_first',
        noun: 'ledger account',
      },
      { ...options, limit: Math.min(options.limit, ledgerLimits.pageSizeMax) },
    );
    return { accounts: rows.map(accountFromRow), hasMore };
  }

  async #readAccounts(queryable: Queryable, ids: readonly string[]): Promise<Map<string, Account>> {
    const result = await queryable.query<AccountRow>(
      `SELECT ${accountColumns} FROM ledger_accounts WHERE id = ANY($1::text[])`,
      [ids],
    );
    return new Map(result.rows.map((row) => [row.id, accountFromRow(row)]));
  }

  /**
   * One transfer; an expected failure is thrown as a LedgerError. Concurrent calls are
   * group-committed (see storage/batcher.ts); a call with its own clock (`now`) goes alone.
   */
  async transfer(
    request: TransferRequest,
    options?: TransferOptions,
  ): Promise<{ status: 'created' | 'exists'; transaction: LedgerTransaction }> {
    const result =
      options?.now === undefined
        ? await this.#batcher.submit(request)
        : (await this.transferBatch([request], options))[0];
    if (result === undefined) throw new Error('transferBatch returned no result for one request');
    if (result.status === 'rejected') throw result.error;
    return result;
  }

  /**
   * Commits many transfers in one database transaction. Each gets its own result: a rejected
   * transfer changes nothing and does not stop the others.
   */
  async transferBatch(
    requests: readonly TransferRequest[],
    options?: TransferOptions,
  ): Promise<TransferResult[]> {
    checkBatchSize(requests);
    const now = options?.now ?? this.#clock.now();
    const problems = requests.map((request) => validateTransfer(request));
    return this.#database.transaction((tx) => this.#applyBatch(tx, requests, problems, now), {
      // Two writers inserting the same new id: the loser runs again and finds the stored transfer.
      retryOn: (error) =>
        error.code === '23505' &&
        (error.constraint === 'ledger_transactions_pkey' ||
          error.constraint === 'ledger_holds_pkey'),
    });
  }

  /**
   * Applies transfers inside the caller's database transaction, so that they commit or roll back
   * together with the caller's own state change. The caller's transaction must be retryable.
   */
  async transferBatchWithin(
    tx: Queryable,
    requests: readonly TransferRequest[],
    options?: TransferOptions,
  ): Promise<TransferResult[]> {
    checkBatchSize(requests);
    return this.#applyBatch(
      tx,
      requests,
      requests.map((request) => validateTransfer(request)),
      options?.now ?? this.#clock.now(),
    );
  }

  async #applyBatch(
    tx: Queryable,
    requests: readonly TransferRequest[],
    problems: readonly (LedgerError | undefined)[],
    now: Date,
  ): Promise<TransferResult[]> {
    // Locks first, then the look-up of stored ids: a resubmission of a transfer that another
    // writer is committing waits on the same locks and then finds it stored ('exists'),
    // instead of being judged anew against balances that transfer already changed.
    const valid = problems.map((problem) => problem === undefined);
    const holds = await this.#lockHolds(tx, requests, valid);
    const accounts = await this.#lockAccounts(tx, requests, valid, holds);
    const slots = await this.#classify(tx, requests, problems);
    const context = { accounts, holds, now };
    const written: NewTransaction[] = [];
    const entries: PlannedEntry[] = [];
    for (const [index, request] of requests.entries()) {
      const slot = slots[index];
      if (slot?.kind !== 'new') continue;
      const planned = planTransfer(request, context);
      if (planned instanceof LedgerError) {
        slots[index] = { kind: 'rejected', error: planned };
        continue;
      }
      slot.legs = planned.legs;
      written.push(newTransactionRow(request, slot.canonical));
      entries.push(...planned.entries);
    }
    const createdAt = await writeBatch(tx, {
      transactions: written,
      entries,
      holds: [...holds.values()].filter((hold) => hold.changed),
      accounts: [...accounts.values()].filter((account) => account.touched),
      aheadMs: this.#clock.systemAheadMs(),
    });
    const existingLegs = await this.#legsOf(
      tx,
      slots.flatMap((slot) => (slot.kind === 'exists' ? [slot.row.id] : [])),
    );
    return slots.map((_, index) => this.#result(slots, index, requests, createdAt, existingLegs));
  }

  /** Sorts requests into invalid, already stored, repeated within this batch, and new. */
  async #classify(
    tx: Queryable,
    requests: readonly TransferRequest[],
    problems: readonly (LedgerError | undefined)[],
  ): Promise<Slot[]> {
    const ids = requests
      .filter((_, index) => problems[index] === undefined)
      .map((request) => request.id);
    const stored = new Map((await selectTransactions(tx, ids)).map((row) => [row.id, row]));
    const firstIndexOf = new Map<string, number>();
    return requests.map((request, index): Slot => {
      const problem = problems[index];
      if (problem !== undefined) return { kind: 'rejected', error: problem };
      const canonical = canonicalRequest(request);
      const row = stored.get(request.id);
      const earlier = firstIndexOf.get(request.id);
      const compareTo =
        row?.request ??
        (earlier === undefined
          ? undefined
          : canonicalRequest(requests[earlier] as TransferRequest));
      if (compareTo !== undefined) {
        const conflict = compareWithStored(compareTo, canonical, request.id);
        if (conflict !== undefined) return { kind: 'rejected', error: conflict };
        return row !== undefined
          ? { kind: 'exists', row }
          : { kind: 'same_as', index: earlier as number };
      }
      firstIndexOf.set(request.id, index);
      return { kind: 'new', canonical };
    });
  }

  async #lockHolds(
    tx: Queryable,
    requests: readonly TransferRequest[],
    valid: readonly boolean[],
  ): Promise<Map<string, HoldState>> {
    const pendingIds = new Set<string>();
    for (const [index, request] of requests.entries()) {
      if (valid[index] === true && 'pendingId' in request) pendingIds.add(request.pendingId);
    }
    const rows = await lockHolds(tx, [...pendingIds]);
    return new Map(rows.map((row) => [row.transaction_id, holdFromRow(row)]));
  }

  async #lockAccounts(
    tx: Queryable,
    requests: readonly TransferRequest[],
    valid: readonly boolean[],
    holds: Map<string, HoldState>,
  ): Promise<Map<string, AccountState>> {
    const accountIds = new Set<string>();
    for (const [index, request] of requests.entries()) {
      if (valid[index] !== true) continue;
      const legs = 'legs' in request && request.legs !== undefined ? request.legs : [];
      for (const leg of legs) accountIds.add(leg.accountId);
      const hold = 'pendingId' in request ? holds.get(request.pendingId) : undefined;
      for (const leg of hold?.legs ?? []) accountIds.add(leg.accountId);
    }
    const states = await lockAccounts(tx, [...accountIds]);
    return new Map(states.map((state) => [state.id, state]));
  }

  async #legsOf(tx: Queryable, transactionIds: readonly string[]): Promise<Map<string, Leg[]>> {
    const legs = new Map<string, Leg[]>();
    if (transactionIds.length === 0) return legs;
    const result = await tx.query<{
      transaction_id: string;
      account_id: string;
      direction: 'debit' | 'credit';
      amount: bigint;
      currency: string;
    }>(
      `SELECT transaction_id, account_id, direction, amount, currency FROM ledger_entries
        WHERE transaction_id = ANY($1::text[]) AND amount > 0 ORDER BY transaction_id, leg`,
      [transactionIds],
    );
    for (const row of result.rows) {
      const list = legs.get(row.transaction_id) ?? [];
      list.push({
        accountId: row.account_id,
        direction: row.direction,
        amount: row.amount,
        currency: row.currency,
      });
      legs.set(row.transaction_id, list);
    }
    return legs;
  }

  #result(
    slots: readonly Slot[],
    index: number,
    requests: readonly TransferRequest[],
    createdAt: Map<string, Date>,
    existingLegs: Map<string, Leg[]>,
  ): TransferResult {
    const slot = slots[index] as Slot;
    const request = requests[index] as TransferRequest;
    switch (slot.kind) {
      case 'rejected':
        return { status: 'rejected', error: slot.error };
      case 'exists':
        return {
          status: 'exists',
          transaction: transactionFromRow(slot.row, existingLegs.get(slot.row.id) ?? []),
        };
      case 'same_as': {
        const first = this.#result(slots, slot.index, requests, createdAt, existingLegs);
        return first.status === 'rejected'
          ? first
          : { status: 'exists', transaction: first.transaction };
      }
      case 'new': {
        const row = newTransactionRow(request, slot.canonical);
        const created = createdAt.get(request.id);
        if (created === undefined)
          throw new Error(`ledger transaction ${request.id} was not written`);
        return {
          status: 'created',
          transaction: {
            id: row.id,
            kind: row.kind,
            pendingId: row.pendingId,
            legs: slot.legs ?? [],
            description: row.description,
            metadata: row.metadata,
            expiresAt: row.expiresAt,
            createdAt: created,
          },
        };
      }
    }
  }

  /** Voids every hold whose expiry has passed (at most `limit` per call). */
  async expireHolds(options?: { now?: Date; limit?: number }): Promise<TransferResult[]> {
    const now = options?.now ?? this.#clock.now();
    const limit = Math.min(options?.limit ?? 1000, ledgerLimits.transfersPerBatchMax);
    const due = await this.#database.query<{ transaction_id: string }>(
      `SELECT transaction_id FROM ledger_holds WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT $2`,
      [now.toISOString(), limit],
    );
    const requests = due.rows.map((row): TransferRequest => ({
      kind: 'expire_pending',
      id: expiryId(row.transaction_id),
      pendingId: row.transaction_id,
    }));
    return requests.length === 0 ? [] : this.transferBatch(requests, { now });
  }

  async getTransaction(id: string): Promise<LedgerTransaction | undefined> {
    const [row] = await selectTransactions(this.#database, [id]);
    if (row === undefined) return undefined;
    const legs = await this.#legsOf(this.#database, [id]);
    return transactionFromRow(row, legs.get(id) ?? []);
  }

  async getHold(id: string): Promise<Hold | undefined> {
    const result = await this.#database.query<{
      transaction_id: string;
      status: Hold['status'];
      expires_at: Date | null;
      resolved_by: string | null;
    }>(
      'SELECT transaction_id, status, expires_at, resolved_by FROM ledger_holds WHERE transaction_id = $1',
      [id],
    );
    const row = result.rows[0];
    return row === undefined
      ? undefined
      : {
          transactionId: row.transaction_id,
          status: row.status,
          expiresAt: row.expires_at,
          resolvedBy: row.resolved_by,
        };
  }

  /** The account's balance right after its last entry at or before `at`. */
  async balanceAsOf(
    accountId: string,
    at: Date,
  ): Promise<{ totals: Totals; balance: Balance } | undefined> {
    const account = await this.getAccount(accountId);
    if (account === undefined) return undefined;
    const result = await this.#database.query<EntryRow>(
      `SELECT ${entryColumns} FROM ledger_entries WHERE account_id = $1 AND created_at <= $2
        ORDER BY created_at DESC, account_sequence DESC LIMIT 1`,
      [accountId, at.toISOString()],
    );
    const row = result.rows[0];
    const totals =
      row === undefined
        ? { postedDebits: 0n, postedCredits: 0n, pendingDebits: 0n, pendingCredits: 0n }
        : entryFromRow(row).totalsAfter;
    return { totals, balance: balanceOf(account.type, totals) };
  }

  /** Entries of one account, newest first, paged by account sequence. */
  async listEntries(
    accountId: string,
    options: PageRequest<bigint>,
  ): Promise<{ entries: Entry[]; hasMore: boolean }> {
    const { rows, hasMore } = await keysetPage<EntryRow, bigint>(
      this.#database,
      {
        select: entryColumns,
        from: 'ledger_entries',
        scope: 'account_id = $1',
        scopeParameters: [accountId],
        key: 'account_sequence',
        keyType: 'bigint',
        order: 'newest_first',
        noun: 'ledger entry',
      },
      { ...options, limit: Math.min(options.limit, ledgerLimits.pageSizeMax) },
    );
    return { entries: rows.map(entryFromRow), hasMore };
  }
}

/** The sweep's transfer id for a hold; the prefix is reserved for expiries (validate.ts). */
function expiryId(holdId: string): string {
  const id = `${expiryIdPrefix}${holdId}`;
  return id.length <= ledgerLimits.idLengthMax
    ? id
    : `${expiryIdPrefix}${crypto.createHash('sha256').update(holdId).digest('hex')}`;
}

type AccountRow = {
  id: string;
  type: Account['type'];
  currency: string;
  owner: string;
  limit_rule: Account['limit'];
  metadata: Record<string, string>;
  posted_debits: bigint;
  posted_credits: bigint;
  pending_debits: bigint;
  pending_credits: bigint;
  entry_count: bigint;
  created_at: Date;
};

const accountColumns =
  'id, type, currency, owner, limit_rule, metadata, posted_debits, posted_credits, pending_debits, pending_credits, entry_count, created_at';

function accountFromRow(row: AccountRow): Account {
  const totals = {
    postedDebits: row.posted_debits,
    postedCredits: row.posted_credits,
    pendingDebits: row.pending_debits,
    pendingCredits: row.pending_credits,
  };
  return {
    id: row.id,
    type: row.type,
    currency: row.currency,
    owner: row.owner,
    limit: row.limit_rule,
    metadata: row.metadata,
    totals,
    balance: balanceOf(row.type, totals),
    entryCount: row.entry_count,
    createdAt: row.created_at,
  };
}

export type EntryRow = {
  transaction_id: string;
  leg: number;
  account_id: string;
  currency: string;
  layer: Entry['layer'];
  direction: Entry['direction'];
  amount: bigint;
  account_sequence: bigint;
  posted_debits_after: bigint;
  posted_credits_after: bigint;
  pending_debits_after: bigint;
  pending_credits_after: bigint;
  hash: string;
  created_at: Date;
};

export const entryColumns = `transaction_id, leg, account_id, currency, layer, direction, amount, account_sequence, posted_debits_after,
  posted_credits_after, pending_debits_after, pending_credits_after, encode(hash, 'hex') AS hash, created_at`;

export function entryFromRow(row: EntryRow): Entry {
  return {
    transactionId: row.transaction_id,
    leg: row.leg,
    accountId: row.account_id,
    currency: row.currency,
    layer: row.layer,
    direction: row.direction,
    amount: row.amount,
    accountSequence: row.account_sequence,
    totalsAfter: {
      postedDebits: row.posted_debits_after,
      postedCredits: row.posted_credits_after,
      pendingDebits: row.pending_debits_after,
      pendingCredits: row.pending_credits_after,
    },
    hash: row.hash,
    createdAt: row.created_at,
  };
}
