// The ledger postings of payments. A posting is written to `ledger_outbox` in the same database
// transaction as the payment's state change (so they commit together or not at all), then posted
// right after the commit by a group-committing poster: the postings of many concurrent payments
// share one ledger transaction, so the hot accounts (the PSP's receivable, the platform's fees)
// are locked once per batch instead of once per payment. The caller waits for its posting, so an
// answer is only given once the ledger shows it. A posting left behind by a crash is posted by
// `sweep`. Transfer ids are idempotent: posting a row twice changes nothing.
import { systemClock, type Clock } from '../clock.ts';
import type { Ledger, Leg, TransferRequest, TransferResult } from '../ledger/index.ts';
import { insertSettlementItems, type NewSettlementItem } from '../settlement/items.ts';
import { GroupCommit } from '../storage/batcher.ts';
import type { Database, Queryable } from '../storage/database.ts';
import { bigint, defineTable, jsonb, text, timestamptz } from '../storage/table.ts';
import { accountIds, paymentAccounts } from '../accounts/index.ts';
import type { Movement } from './postings.ts';

type StoredLeg = {
  accountId: string;
  direction: 'debit' | 'credit';
  amount: string;
  currency: string;
};
type StoredTransfer = {
  kind: TransferRequest['kind'];
  id: string;
  legs?: StoredLeg[];
  pendingId?: string;
  amount?: string;
  description?: string;
};
/** A row of `ledger_outbox`: the postings of one committed change, waiting to be posted. */
export type OutboxEntry = {
  readonly id: bigint;
  readonly merchantId: string;
  readonly connector: string;
  readonly currency: string;
  readonly transfers: readonly StoredTransfer[];
  /** The system time it was written (src/clock.ts): the sweeper posts rows older than a while. */
  readonly createdAt: Date;
};

/** Written by `post` and by the fast record path's statement (record.ts), read by the poster. */
export const ledgerOutbox = defineTable<OutboxEntry>({
  name: 'ledger_outbox',
  columns: {
    id: bigint('id'),
    merchantId: text('merchant_id'),
    connector: text('connector'),
    currency: text('currency'),
    transfers: jsonb('transfers'),
    createdAt: timestamptz('created_at'),
  },
});
const insertOutboxEntry = ledgerOutbox.insert(['id']);

function store(transfer: TransferRequest): StoredTransfer {
  const stored: StoredTransfer = { kind: transfer.kind, id: transfer.id };
  if ('legs' in transfer && transfer.legs !== undefined)
    stored.legs = transfer.legs.map((leg) => ({ ...leg, amount: leg.amount.toString() }));
  if ('pendingId' in transfer) stored.pendingId = transfer.pendingId;
  if (transfer.kind === 'post_pending' && transfer.amount !== undefined)
    stored.amount = transfer.amount.toString();
  if (transfer.description !== undefined) stored.description = transfer.description;
  return stored;
}

function restore(stored: StoredTransfer): TransferRequest {
  const legs = stored.legs?.map((leg): Leg => ({ ...leg, amount: BigInt(leg.amount) }));
  const common = { id: stored.id, description: stored.description };
  switch (stored.kind) {
    case 'posted':
    case 'pending':
      return { ...common, kind: stored.kind, legs: legs ?? [] };
    case 'post_pending':
      return {
        ...common,
        kind: 'post_pending',
        pendingId: stored.pendingId ?? '',
        amount: stored.amount === undefined ? undefined : BigInt(stored.amount),
        legs,
      };
    default:
      return { ...common, kind: stored.kind, pendingId: stored.pendingId ?? '' };
  }
}

/** The outbox's `transfers` column for these transfers (undefined ones are skipped), or null when none remain. */
export function storedTransfers(
  transfers: readonly (TransferRequest | undefined)[],
): StoredTransfer[] | null {
  const requests = transfers.filter(
    (transfer): transfer is TransferRequest => transfer !== undefined,
  );
  return requests.length === 0 ? null : requests.map(store);
}

/**
 * The outbox row a posting writes (without its id, drawn by the database, and its time, the
 * writer's clock), or undefined when it has no transfer.
 */
export function outboxEntry(
  posting: PostingRequest | undefined,
): Omit<OutboxEntry, 'id' | 'createdAt'> | undefined {
  const transfers = posting === undefined ? null : storedTransfers(posting.transfers);
  if (posting === undefined || transfers === null) return undefined;
  const { merchantId, connector, currency } = posting.movement;
  return { merchantId, connector, currency, transfers };
}

/** The postings of one state change: whose accounts, and the transfers. */
export type PostingRequest = {
  readonly movement: Movement;
  readonly transfers: readonly (TransferRequest | undefined)[];
};

/** An outbox row written by a committed change, to be posted now. */
export type WrittenPosting = { readonly id: bigint; readonly movement: Movement };

function accountsKey(movement: Movement): string {
  return `${movement.merchantId}|${movement.connector}|${movement.currency}`;
}

/** Outbox rows whose postings the ledger refused: kept for the sweeper, and reported. */
export type PostingProblem = {
  readonly outboxId: bigint;
  readonly transferId: string;
  readonly code: string;
  readonly message: string;
};

export class PaymentLedger {
  readonly #ledger: Ledger;
  readonly #database: Database;
  readonly #onProblem: (problem: PostingProblem) => void;
  /** Account sets known to be committed; bounded, since it only saves an idempotent insert. */
  readonly #ensured = new Set<string>();
  static readonly #ensuredMax = 100_000;
  /** Outbox rows written by each open transaction, to post once it commits. */
  readonly #written = new WeakMap<Queryable, WrittenPosting[]>();
  readonly #poster: GroupCommit<bigint, true>;

  readonly #beforePost: () => void;
  readonly #onCommit: () => void;
  readonly #clock: Clock;

  constructor(
    ledger: Ledger,
    database: Database,
    hooks: {
      onProblem: (problem: PostingProblem) => void;
      beforePost?: () => void;
      onCommit?: () => void;
      /** When a posting was left in the outbox is system time (src/clock.ts). */
      clock?: Clock;
    },
  ) {
    this.#clock = hooks.clock ?? systemClock;
    this.#ledger = ledger;
    this.#database = database;
    this.#onProblem = hooks.onProblem;
    this.#beforePost = hooks.beforePost ?? (() => {});
    this.#onCommit = hooks.onCommit ?? (() => {});
    this.#poster = new GroupCommit<bigint, true>((ids) => this.#postRows(ids), {
      batchSizeMax: 500,
      batchesInFlightMax: 1,
    });
  }

  /**
   * Runs `work` in a transaction; the postings it wrote are on the ledger when this returns.
   * `onCommit` runs after every commit (the event bus is told that events may be waiting).
   */
  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    let written: WrittenPosting[] = [];
    const result = await this.#database.transaction(async (tx) => {
      written = [];
      this.#written.set(tx, written);
      return work(tx);
    });
    this.#onCommit();
    await this.afterCommit(written);
    return result;
  }

  /** Posts outbox rows that a committed change wrote (in a transaction or a single statement). */
  async afterCommit(written: readonly WrittenPosting[]): Promise<void> {
    if (written.length === 0) return;
    this.#beforePost();
    for (const { movement } of written) await this.#prepare(movement);
    await Promise.all(written.map(({ id }) => this.#poster.submit(id)));
  }

  /** Records postings in the outbox, inside a transaction opened by `transaction`. */
  async post(
    tx: Queryable,
    movement: Movement,
    transfers: readonly (TransferRequest | undefined)[],
  ): Promise<void> {
    const entry = outboxEntry({ movement, transfers });
    if (entry === undefined) return;
    const written = this.#written.get(tx);
    if (written === undefined)
      throw new Error('PaymentLedger.post must run inside PaymentLedger.transaction');
    const inserted = await tx.query<{ id: bigint }>(
      insertOutboxEntry.sql,
      insertOutboxEntry.parameters({ ...entry, createdAt: this.#clock.now() }),
    );
    written.push({ id: (inserted.rows[0] as { id: bigint }).id, movement });
  }

  /** Posts outbox rows older than `olderThanMs` (left behind by a crash); returns how many were posted. */
  async sweep(olderThanMs: number, limit = 500): Promise<number> {
    const due = await this.#database.query<{ id: bigint }>(
      `SELECT id FROM ledger_outbox WHERE created_at <= $3::timestamptz - $1 * interval '1 millisecond' ORDER BY id LIMIT $2`,
      [olderThanMs, limit, this.#clock.now()],
    );
    if (due.rows.length === 0) return 0;
    await this.#postRows(due.rows.map((row) => row.id));
    return due.rows.length;
  }

  /** One ledger transaction for many outbox rows, in id order; a row is deleted once posted. */
  async #postRows(ids: readonly bigint[]): Promise<true[]> {
    await this.#database.transaction(async (tx) => {
      const rows = (
        await tx.query(
          'SELECT * FROM ledger_outbox WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE SKIP LOCKED',
          [ids],
        )
      ).rows.map(ledgerOutbox.fromRow);
      if (rows.length === 0) return;
      for (const row of rows) await this.#ensureAccounts(tx, row);
      const requests = rows.flatMap((row) => row.transfers.map(restore));
      const results = await this.#ledger.transferBatchWithin(tx, requests);
      const done: bigint[] = [];
      const items: NewSettlementItem[] = [];
      let index = 0;
      for (const row of rows) {
        const rowResults = results.slice(index, index + row.transfers.length);
        index += row.transfers.length;
        settlementItemsOf(row, rowResults, this.#clock, items);
        const refused = rowResults.find((result) => result.status === 'rejected');
        if (refused === undefined || refused.status !== 'rejected') done.push(row.id);
        else
          this.#onProblem({
            outboxId: row.id,
            transferId: row.transfers[rowResults.indexOf(refused)]?.id ?? '?',
            code: refused.error.code,
            message: refused.error.message,
          });
      }
      // The settlement items of the captures and refunds just posted (architecture §12).
      await insertSettlementItems(tx, items);
      if (done.length > 0)
        await tx.query('DELETE FROM ledger_outbox WHERE id = ANY($1::bigint[])', [done]);
    });
    return ids.map(() => true as const);
  }

  /**
   * Creates a movement's accounts in their own committed statement and remembers that. Only a
   * committed creation may be cached: another batch must never skip creating accounts that a
   * still-open (or rolled-back) transaction created.
   */
  async #prepare(movement: Movement): Promise<void> {
    const key = accountsKey(movement);
    if (this.#ensured.has(key)) return;
    await this.#ledger.ensureAccountsWithin(
      this.#database,
      paymentAccounts(movement.merchantId, movement.connector, movement.currency),
    );
    if (this.#ensured.size >= PaymentLedger.#ensuredMax) this.#ensured.clear();
    this.#ensured.add(key);
  }

  /** Inside a posting transaction: rows from the sweeper may name accounts not yet created. */
  async #ensureAccounts(tx: Queryable, movement: Movement): Promise<void> {
    if (this.#ensured.has(accountsKey(movement))) return;
    await this.#ledger.ensureAccountsWithin(
      tx,
      paymentAccounts(movement.merchantId, movement.connector, movement.currency),
    );
  }
}

/** The amount a posted transfer moved on an account, in one direction (0 when it did not). */
function movedOn(
  result: TransferResult | undefined,
  accountId: string,
  direction: Leg['direction'],
): bigint {
  if (result === undefined || result.status === 'rejected') return 0n;
  let amount = 0n;
  for (const leg of result.transaction.legs)
    if (leg.accountId === accountId && leg.direction === direction) amount += leg.amount;
  return amount;
}

/**
 * The settlement items of one outbox row (architecture §12): its capture (`capture:<attempt>`,
 * with the fee of its `fee:<attempt>` transfer) and its refund (`refund:<refund>`), when they
 * were posted to the merchant's pending account: an abandoned attempt's capture and refund go
 * through suspense and are no merchant's item. Appends to `items`.
 */
function settlementItemsOf(
  row: OutboxEntry,
  results: readonly (TransferResult | undefined)[],
  clock: Clock,
  items: NewSettlementItem[],
): void {
  let pending: string | undefined;
  let createdAt: Date | undefined;
  for (const [position, transfer] of row.transfers.entries()) {
    const isCapture = transfer.id.startsWith('capture:');
    if (!isCapture && !transfer.id.startsWith('refund:')) continue;
    pending ??= accountIds.merchantPending(row.merchantId, row.currency);
    const amount = movedOn(results[position], pending, isCapture ? 'credit' : 'debit');
    if (amount <= 0n) continue;
    const reference = transfer.id.slice(isCapture ? 'capture:'.length : 'refund:'.length);
    let fee = 0n;
    if (isCapture) {
      const feePosition = row.transfers.findIndex((other) => other.id === `fee:${reference}`);
      if (feePosition >= 0) fee = movedOn(results[feePosition], pending, 'debit');
    }
    createdAt ??= clock.now(row.merchantId);
    items.push({
      merchantId: row.merchantId,
      connector: row.connector,
      currency: row.currency,
      type: isCapture ? 'charge' : 'refund',
      ledgerTransactionId: transfer.id,
      reference,
      amount,
      fee,
      createdAt,
    });
  }
}
