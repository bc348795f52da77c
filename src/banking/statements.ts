// Ingestion of the bank's camt.053 statements (architecture §12). Each call fetches the statement
// of every day from the cursor up to a date (never past the system's today), outside any
// database transaction, then applies each booked entry not seen before in its own transaction:
//   settlement credit   bank_credit:<entry ref> (bank ← psp receivable), the batch's funded_amount
//                       grows, and the batch is funded once credits reach accepted − psp fee
//   payout debit        PayoutBankEvents.paid      (the payout reached the merchant's bank)
//   payout return       PayoutBankEvents.returned  (it came back, with the bank's reason code)
//   anything else       kept as a discrepancy for reconciliation
// The entry is marked as seen (keyed by the bank's entry reference and direction) in the same
// transaction, so a statement fetched again, or a line that arrives late on a later day's
// statement, is applied exactly once. A day counts as complete (the cursor passes it) once it was
// fetched `completeAfterDays` after it: until then lines may still be added to it.
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock.ts';
import { DomainError } from '../errors.ts';
import type { Ledger } from '../ledger/index.ts';
import type { MoneyInMetrics, StatementEntryKind } from '../observability/money-in-metrics.ts';
import { connectorSettlementAccounts } from '../accounts/index.ts';
import { recordDiscrepancies, type NewDiscrepancy } from './discrepancies.ts';
import type { Database, Queryable } from '../storage/database.ts';
import { BankUnavailableError, type BankStatementSource } from './bank-client.ts';
import {
  StatementFormatError,
  isReturned,
  payoutIdOf,
  payoutTraceOf,
  settlementReferenceCandidates,
  type Statement,
  type StatementEntry,
} from './camt053.ts';
import {
  expectedFunding,
  lockBatchFunding,
  markFundedIfComplete,
  overshot,
} from '../settlement/funding.ts';
import type { PayoutBankEvents } from './payout-events.ts';
import { recordClosingBalances } from './balances.ts';
import { bankSettlementTransfer } from './postings.ts';
import { bankStatementEntries } from './tables.ts';

export type StatementIngestionOptions = {
  /** Statement days fetched per call at most (the oldest first). */
  readonly daysPerCallMax: number;
  /** A day is complete once fetched this many days after it (later lines may still come). */
  readonly completeAfterDays: number;
  /** Without a cursor, the first day fetched is this many days before the target date. */
  readonly initialLookbackDays: number;
};

export const defaultStatementIngestionOptions: StatementIngestionOptions = {
  daysPerCallMax: 14,
  completeAfterDays: 3,
  initialLookbackDays: 7,
};

export type StatementIngestionDependencies = {
  readonly database: Database;
  readonly ledger: Ledger;
  readonly source: BankStatementSource;
  readonly payoutEvents: PayoutBankEvents;
  readonly clock?: Clock;
  readonly metrics?: MoneyInMetrics;
  readonly logger?: Logger;
};

export type StatementCounts = {
  /** Entries in the statements read (booked or not, seen or not). */
  entries: number;
  /** Booked entries applied for the first time, by kind. Settlement credits count a negative
   * batch's debit too. */
  settlementCredits: number;
  payoutsPaid: number;
  payoutsReturned: number;
  unmatched: number;
  /** Batches that became funded. */
  batchesFunded: number;
  discrepancies: number;
};

export type IngestThroughResult = StatementCounts & {
  readonly days: readonly string[];
  /** The latest complete day after this call, if any. */
  readonly cursor: string | undefined;
  /** The day whose statement could not be fetched or parsed (the call stopped there). */
  readonly failure: { readonly day: string; readonly message: string } | undefined;
};

const dayMs = 86_400_000;

const insertEntries = bankStatementEntries.insertBatch(1);
const claimEntry = `${insertEntries.sql} ON CONFLICT (entry_reference, direction) DO NOTHING`;

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * dayMs).toISOString().slice(0, 10);
}

function dateOf(time: Date): string {
  return time.toISOString().slice(0, 10);
}

function emptyCounts(): StatementCounts {
  return {
    entries: 0,
    settlementCredits: 0,
    payoutsPaid: 0,
    payoutsReturned: 0,
    unmatched: 0,
    batchesFunded: 0,
    discrepancies: 0,
  };
}

type Applied = {
  readonly kind: StatementEntryKind;
  readonly matchedId: string | null;
  readonly ledgerTransactionId: string | null;
  readonly funded: boolean;
  readonly discrepancies: readonly NewDiscrepancy[];
};

export class StatementIngestion {
  readonly #database: Database;
  readonly #ledger: Ledger;
  readonly #source: BankStatementSource;
  readonly #events: PayoutBankEvents;
  readonly #clock: Clock;
  readonly #metrics: MoneyInMetrics | undefined;
  readonly #logger: Logger | undefined;
  readonly #options: StatementIngestionOptions;

  constructor(
    dependencies: StatementIngestionDependencies,
    options: StatementIngestionOptions = defaultStatementIngestionOptions,
  ) {
    this.#database = dependencies.database;
    this.#ledger = dependencies.ledger;
    this.#source = dependencies.source;
    this.#events = dependencies.payoutEvents;
    this.#clock = dependencies.clock ?? systemClock;
    this.#metrics = dependencies.metrics;
    this.#logger = dependencies.logger;
    this.#options = options;
  }

  /** The latest complete statement day, if any. */
  async cursor(): Promise<string | undefined> {
    const result = await this.#database.query<{ day: string | null }>(
      `SELECT max(booking_date) AS day FROM bank_statement_days WHERE complete`,
    );
    return result.rows[0]?.day ?? undefined;
  }

  /**
   * Fetches and applies the statements of the days after the cursor through `date` (YYYY-MM-DD;
   * default and at most the system's today), at most daysPerCallMax days per call.
   */
  async ingestThrough(date?: string): Promise<IngestThroughResult> {
    const today = dateOf(this.#clock.now());
    if (date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(date))
      throw new RangeError(`ingestThrough: '${date}' is not a date YYYY-MM-DD`);
    const through = date === undefined || date > today ? today : date;
    const cursor = await this.cursor();
    let day =
      cursor === undefined
        ? addDays(through, -this.#options.initialLookbackDays)
        : addDays(cursor, 1);
    const days: string[] = [];
    const counts = emptyCounts();
    add(counts, await this.rematchUnmatched());
    let failure: IngestThroughResult['failure'];
    while (day <= through && days.length < this.#options.daysPerCallMax) {
      let statement: Statement;
      try {
        statement = await this.#source.fetch(day);
      } catch (error) {
        if (!(error instanceof BankUnavailableError) && !(error instanceof StatementFormatError))
          throw error;
        // The day is fetched again on the next call; later days wait for it (the cursor's order).
        this.#logger?.warn({ day, err: error.message }, 'bank statement not ingested');
        failure = { day, message: error.message };
        break;
      }
      add(counts, await this.applyStatement(statement));
      const complete = addDays(day, this.#options.completeAfterDays) <= today;
      await this.#database.query(
        `INSERT INTO bank_statement_days (booking_date, complete, entry_count, fetched_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (booking_date) DO UPDATE SET complete = bank_statement_days.complete OR $2,
           entry_count = $3, fetched_at = $4`,
        [day, complete, statement.entries.length, this.#clock.now()],
      );
      days.push(day);
      day = addDays(day, 1);
    }
    return { ...counts, days, cursor: await this.cursor(), failure };
  }

  /**
   * Settlement movements seen before Payrail knew their batch's settlement reference (the bank
   * booked the credit while the acquirer's answer was still on its way, or lost with a crashed
   * process) were kept unmatched; once a batch names that reference, each is applied as it would
   * have been, and its unmatched discrepancy is resolved. Bounded per call; the rest next time.
   */
  async rematchUnmatched(): Promise<StatementCounts> {
    const counts = emptyCounts();
    const found = await this.#database.query<UnmatchedRow>(
      `SELECT entry.* FROM bank_statement_entries entry
        WHERE entry.kind = 'unmatched' AND entry.return_reason IS NULL
          AND entry.matched_id IS NULL
          AND EXISTS (SELECT 1 FROM settlement_batches batch
                       WHERE batch.currency = entry.currency
                         AND (batch.settlement_reference = entry.end_to_end_id
                              OR batch.settlement_reference = entry.remittance
                              OR batch.settlement_reference = ANY (
                                   regexp_split_to_array(entry.remittance, '\\s+'))))
        ORDER BY entry.booking_date, entry.entry_reference, entry.direction LIMIT $1`,
      [rematchPerCallMax],
    );
    for (const row of found.rows) {
      const entry = entryOfRow(row);
      const applied = await this.#database.transaction(async (tx) => {
        const locked = await tx.query(
          `SELECT 1 FROM bank_statement_entries
            WHERE entry_reference = $1 AND direction = $2 AND kind = 'unmatched' FOR UPDATE`,
          [entry.entryReference, entry.direction],
        );
        if (locked.rowCount === 0) return undefined;
        const now = this.#clock.now();
        const result = await this.#settlement(tx, entry, now);
        if (result.kind === 'unmatched') return undefined;
        await tx.query(
          `UPDATE money_in_discrepancies SET resolved_at = $2 WHERE key = $1 AND resolved_at IS NULL`,
          [bankDiscrepancy(entry, unmatchedKindOf(entry), {}).key, now],
        );
        await recordApplied(tx, entry, result, now);
        return result;
      });
      if (applied === undefined) continue;
      counts.settlementCredits += 1;
      if (applied.funded) counts.batchesFunded += 1;
      counts.discrepancies += applied.discrepancies.length;
    }
    return counts;
  }

  /** Applies the booked entries of one statement that were not seen before. */
  async applyStatement(statement: Statement): Promise<StatementCounts> {
    const counts = emptyCounts();
    counts.entries = statement.entries.length;
    const booked = statement.entries.filter((entry) => entry.status === 'booked');
    const seen = await this.#seen(booked);
    for (const entry of booked) {
      if (seen.has(`${entry.direction}:${entry.entryReference}`)) continue;
      const applied = await this.#applyEntry(entry);
      if (applied === undefined) continue;
      this.#metrics?.recordStatementEntry(applied.kind);
      this.#metrics?.recordDiscrepancies('bank_statement', applied.discrepancies.length);
      counts.discrepancies += applied.discrepancies.length;
      if (applied.funded) counts.batchesFunded++;
      if (applied.kind === 'settlement_credit' || applied.kind === 'settlement_debit')
        counts.settlementCredits++;
      else if (applied.kind === 'payout_debit') counts.payoutsPaid++;
      else if (applied.kind === 'payout_return') counts.payoutsReturned++;
      else counts.unmatched++;
    }
    // After its entries: a closing balance is kept only for a statement whose lines were applied.
    await recordClosingBalances(this.#database, statement.balances ?? [], null, this.#clock.now());
    return counts;
  }

  async #seen(entries: readonly StatementEntry[]): Promise<Set<string>> {
    if (entries.length === 0) return new Set();
    const result = await this.#database.query<{ entry_reference: string; direction: string }>(
      `SELECT e.entry_reference, e.direction FROM bank_statement_entries e
         JOIN unnest($1::text[], $2::text[]) AS input (entry_reference, direction)
           ON e.entry_reference = input.entry_reference AND e.direction = input.direction`,
      [entries.map((entry) => entry.entryReference), entries.map((entry) => entry.direction)],
    );
    return new Set(result.rows.map((row) => `${row.direction}:${row.entry_reference}`));
  }

  /** One entry in one transaction; undefined when another process applied it first. */
  async #applyEntry(entry: StatementEntry): Promise<Applied | undefined> {
    try {
      return await this.#inTransaction(entry, (tx, now) => this.#classify(tx, entry, now));
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      // The payouts module refused the event: keep the entry, seen, as a discrepancy.
      this.#logger?.warn(
        { entry: entry.entryReference, code: error.code, err: error.message },
        'bank statement entry refused by payouts; kept as a discrepancy',
      );
      return this.#inTransaction(entry, async () => ({
        kind: 'unmatched',
        matchedId: entry.endToEndId ?? null,
        ledgerTransactionId: null,
        funded: false,
        discrepancies: [
          bankDiscrepancy(entry, 'bank_payout_event_refused', {
            code: error.code,
            message: error.message,
          }),
        ],
      }));
    }
  }

  async #inTransaction(
    entry: StatementEntry,
    work: (tx: Queryable, now: Date) => Promise<Applied>,
  ): Promise<Applied | undefined> {
    return this.#database.transaction(
      async (tx) => {
        const now = this.#clock.now();
        // Claim the entry first: a concurrent ingestion of the same line waits here, then skips it.
        const claimed = await tx.query(
          claimEntry,
          insertEntries.parameters([
            {
              entryReference: entry.entryReference,
              direction: entry.direction,
              bookingDate: entry.bookingDate,
              currency: entry.currency,
              amount: entry.amount,
              kind: 'unmatched',
              endToEndId: entry.endToEndId ?? null,
              remittance: entry.remittance ?? null,
              returnReason: entry.returnReason ?? null,
              matchedId: null,
              ledgerTransactionId: null,
              seenAt: now,
            },
          ]),
        );
        if (claimed.rowCount === 0) return undefined;
        const applied = await work(tx, now);
        await recordApplied(tx, entry, applied, now);
        return applied;
      },
      { retryOn: (error) => error.code === '23505' },
    );
  }

  async #classify(tx: Queryable, entry: StatementEntry, now: Date): Promise<Applied> {
    if (isReturned(entry)) return this.#payoutEvent(tx, entry, 'returned');
    if (entry.direction === 'debit') {
      // A payout, or the settlement of a negative batch (the PSP takes back what it is owed).
      const payout = await findPayout(tx, payoutIdOf(entry));
      if (payout !== undefined) return this.#payoutEvent(tx, entry, 'paid');
    }
    return this.#settlement(tx, entry, now);
  }

  async #settlement(tx: Queryable, entry: StatementEntry, now: Date): Promise<Applied> {
    const unmatchedKind = unmatchedKindOf(entry);
    const batch = await findBatch(tx, entry);
    const funding = batch === undefined ? undefined : await lockBatchFunding(tx, batch.id);
    if (batch === undefined || funding === undefined)
      return unmatched(entry, bankDiscrepancy(entry, unmatchedKind, {}));
    await this.#ledger.ensureAccountsWithin(
      tx,
      connectorSettlementAccounts(batch.connector, entry.currency),
    );
    const transfer = bankSettlementTransfer(
      entry,
      batch.connector,
      entry.currency,
      entry.amount,
      batch.id,
    );
    const [posted] = await this.#ledger.transferBatchWithin(tx, [transfer], { now });
    if (posted?.status === 'rejected') throw posted.error;
    const signed = entry.direction === 'credit' ? entry.amount : -entry.amount;
    const fundedAmount = funding.fundedAmount + signed;
    await tx.query(`UPDATE settlement_batches SET funded_amount = $2 WHERE id = $1`, [
      batch.id,
      fundedAmount,
    ]);
    const state = { ...funding, fundedAmount };
    const funded = await markFundedIfComplete(tx, state, now);
    const expected = expectedFunding(state);
    const discrepancies =
      expected !== undefined && overshot(fundedAmount, expected)
        ? [
            bankDiscrepancy(entry, 'bank_overfunded', {
              batch_id: batch.id,
              expected: expected.toString(),
              funded: fundedAmount.toString(),
            }),
          ]
        : [];
    return {
      kind: entry.direction === 'credit' ? 'settlement_credit' : 'settlement_debit',
      matchedId: batch.id,
      ledgerTransactionId: transfer.id,
      funded,
      discrepancies,
    };
  }

  async #payoutEvent(
    tx: Queryable,
    entry: StatementEntry,
    event: 'paid' | 'returned',
  ): Promise<Applied> {
    const unmatchedKind = event === 'paid' ? 'bank_unmatched_debit' : 'bank_unmatched_return';
    const payoutId = payoutIdOf(entry);
    const payout = await findPayout(tx, payoutId);
    if (payoutId === undefined || payout === undefined)
      return unmatched(entry, bankDiscrepancy(entry, unmatchedKind, {}));
    if (payout.amount !== entry.amount || payout.currency !== entry.currency)
      return unmatched(
        entry,
        bankDiscrepancy(entry, 'bank_amount_mismatch', {
          payout_id: payoutId,
          payout_amount: payout.amount.toString(),
          payout_currency: payout.currency,
        }),
      );
    const bookedAt = new Date(`${entry.bookingDate}T00:00:00Z`);
    const traceId = payoutTraceOf(entry);
    const result =
      event === 'paid'
        ? await this.#events.paid(payoutId, traceId, bookedAt, tx)
        : await this.#events.returned(payoutId, entry.returnReason ?? 'reversal', bookedAt, tx);
    if (result === 'unknown_payout')
      return unmatched(entry, bankDiscrepancy(entry, unmatchedKind, { payout_id: payoutId }));
    return {
      kind: event === 'paid' ? 'payout_debit' : 'payout_return',
      matchedId: payoutId,
      ledgerTransactionId: null,
      funded: false,
      discrepancies: [],
    };
  }
}

async function findPayout(
  tx: Queryable,
  payoutId: string | undefined,
): Promise<{ amount: bigint; currency: string } | undefined> {
  if (payoutId === undefined) return undefined;
  const found = await tx.query<{ amount: bigint; currency: string }>(
    `SELECT amount, currency FROM payouts WHERE id = $1`,
    [payoutId],
  );
  const row = found.rows[0];
  return row === undefined ? undefined : { amount: BigInt(row.amount), currency: row.currency };
}

function add(total: StatementCounts, part: StatementCounts): void {
  for (const key of Object.keys(total) as (keyof StatementCounts)[]) total[key] += part[key];
}

const rematchPerCallMax = 100;

/** Writes what applying a claimed entry found, and its discrepancies, in the caller's transaction. */
async function recordApplied(
  tx: Queryable,
  entry: StatementEntry,
  applied: Applied,
  now: Date,
): Promise<void> {
  await tx.query(
    `UPDATE bank_statement_entries SET kind = $3, matched_id = $4, ledger_transaction_id = $5
      WHERE entry_reference = $1 AND direction = $2`,
    [
      entry.entryReference,
      entry.direction,
      applied.kind,
      applied.matchedId,
      applied.ledgerTransactionId,
    ],
  );
  await recordDiscrepancies(tx, applied.discrepancies, now);
}

type UnmatchedRow = {
  entry_reference: string;
  direction: 'credit' | 'debit';
  booking_date: string;
  currency: string;
  amount: bigint;
  end_to_end_id: string | null;
  remittance: string | null;
};

/** A stored entry as the statement reader parsed it (what a settlement match reads of it). */
function entryOfRow(row: UnmatchedRow): StatementEntry {
  return {
    index: 1,
    entryReference: row.entry_reference,
    direction: row.direction,
    status: 'booked',
    amount: BigInt(row.amount),
    currency: row.currency,
    bookingDate: row.booking_date,
    endToEndId: row.end_to_end_id ?? undefined,
    instructionId: undefined,
    transactionReference: undefined,
    remittance: row.remittance ?? undefined,
    returnReason: undefined,
    reversal: false,
  };
}

function unmatchedKindOf(entry: StatementEntry): NewDiscrepancy['kind'] {
  return entry.direction === 'credit' ? 'bank_unmatched_credit' : 'bank_unmatched_debit';
}

function unmatched(entry: StatementEntry, discrepancy: NewDiscrepancy): Applied {
  return {
    kind: 'unmatched',
    matchedId: null,
    ledgerTransactionId: null,
    funded: false,
    discrepancies: [discrepancy],
  };
}

function bankDiscrepancy(
  entry: StatementEntry,
  kind: NewDiscrepancy['kind'],
  details: Record<string, unknown>,
): NewDiscrepancy {
  return {
    key: `bank_statement:${entry.direction}:${entry.entryReference}:${kind}`,
    source: 'bank_statement',
    kind,
    connector: null,
    batchId: typeof details.batch_id === 'string' ? details.batch_id : null,
    reference: entry.entryReference,
    currency: entry.currency,
    amount: entry.direction === 'credit' ? entry.amount : -entry.amount,
    details: {
      ...details,
      booking_date: entry.bookingDate,
      end_to_end_id: entry.endToEndId ?? null,
      remittance: entry.remittance ?? null,
      return_reason: entry.returnReason ?? null,
    },
  };
}

/**
 * The batch a settlement entry settles: its end-to-end id or its remittance is the batch's
 * settlement reference (the whole remittance, else one of its words), in the entry's currency;
 * none or several is no match.
 */
async function findBatch(
  tx: Queryable,
  entry: StatementEntry,
): Promise<{ id: string; connector: string } | undefined> {
  for (const reference of settlementReferenceCandidates(entry)) {
    const result = await tx.query<{ id: string; connector: string }>(
      `SELECT id, connector FROM settlement_batches
        WHERE settlement_reference = $1 AND currency = $2 LIMIT 2`,
      [reference, entry.currency],
    );
    if (result.rows.length === 1) return result.rows[0];
    if (result.rows.length > 1) return undefined;
  }
  return undefined;
}
