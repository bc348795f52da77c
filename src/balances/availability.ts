// Availability (architecture §12): accepted settlement items move pending → available in ONE
// ledger transfer per (merchant, currency, due day), never one per item, and no item is written
// for it: the unit is the clearing group (migration 025, the accepted items of one batch for one
// merchant and available_on day, aggregated when the batch was acknowledged). The due days are
// found by one set-based query over the groups of every merchant (each compared with its own
// merchant's time, clockSql); then each database transaction takes a chunk of them: one statement
// locks their due groups no one else holds (SKIP LOCKED: two workers never take the same group),
// names each day's transfer on them and sums their items and net per day; the merchants'
// accounts are locked, each day is netted (negative days on the receivable, recovered first by
// later days; a rolling reserve held), and the transfers are posted in the same transaction. So
// an item is available exactly when the ledger transfer that made its group so exists, and never
// twice. One commit serves many merchants; its writes are a few group rows, not the items.
import { presentBalanceAvailability } from '../api-objects/balance-availability.ts';
import { insertEvents, newEvent, type NewEvent } from '../events/events.ts';
import { timeFor, clockSql, type ClockReading } from '../clock.ts';
import { randomBase62, newSortableId } from '../ids.ts';
import {
  ledgerLimits,
  type AccountSpec,
  type Ledger,
  type TransferRequest,
} from '../ledger/index.ts';
import { integerArrayLiteral, textArrayLiteral } from '../storage/arrays.ts';
import type { Database, Queryable } from '../storage/database.ts';
import {
  balanceAccountIds,
  balanceAccountSpecs,
  balanceKey,
  lockBalances,
  type BalanceAccountIds,
} from './accounts.ts';
import { availableAtOnce, balanceTransactions } from './balance-transactions.ts';
import { netGroup } from './netting.ts';

export type AvailabilityOptions = {
  /** Groups (merchant, currency, due day) per call (bounded work); the next call takes the rest. */
  readonly groupsMax?: number;
  /**
   * Groups committed together in one database transaction (each still with its own single
   * ledger transfer): one commit, one marking statement and one ledger batch for many groups.
   */
  readonly groupsPerTransaction?: number;
  /** Transactions committed at once (different merchants do not wait on each other's locks). */
  readonly concurrency?: number;
};

export type AvailabilityResult = {
  /** Merchant, currency and due day groups made available (one transfer each unless zero). */
  readonly groups: number;
  /** Clearing groups (of batches) they combined. */
  readonly clearingGroups: number;
  /** Settlement items made available (the clearing groups' item counts). */
  readonly items: number;
  /** Ledger transfers posted (a zero net posts none). */
  readonly transfers: number;
  readonly negativeGroups: number;
  readonly reserveHolds: number;
};

const defaults = {
  groupsMax: 1_000,
  groupsPerTransaction: 100,
  concurrency: 1,
} as const;

type Group = {
  readonly merchantId: string;
  readonly currency: string;
  readonly dueDay: Date;
  readonly reservePercentBps: bigint;
  readonly reserveDays: number;
};

/** A group whose clearing groups this transaction took, with their item count and net. */
type TakenGroup = Group & {
  readonly transferId: string;
  readonly now: Date;
  readonly clearingGroups: number;
  readonly items: number;
  readonly net: bigint;
};

const emptyResult: AvailabilityResult = {
  groups: 0,
  clearingGroups: 0,
  items: 0,
  transfers: 0,
  negativeGroups: 0,
  reserveHolds: 0,
};

function sum(a: AvailabilityResult, b: AvailabilityResult): AvailabilityResult {
  return {
    groups: a.groups + b.groups,
    clearingGroups: a.clearingGroups + b.clearingGroups,
    items: a.items + b.items,
    transfers: a.transfers + b.transfers,
    negativeGroups: a.negativeGroups + b.negativeGroups,
    reserveHolds: a.reserveHolds + b.reserveHolds,
  };
}

const dayMs = 86_400_000;

export class Availability {
  readonly #database: Database;
  readonly #ledger: Ledger;

  constructor(dependencies: { readonly database: Database; readonly ledger: Ledger }) {
    this.#database = dependencies.database;
    this.#ledger = dependencies.ledger;
  }

  /** Makes due clearing groups available, at most `groupsMax` (merchant, currency, day) per call. */
  async makeDue(
    reading: ClockReading,
    options: AvailabilityOptions = {},
  ): Promise<AvailabilityResult> {
    const perTransaction = Math.max(
      1,
      options.groupsPerTransaction ?? defaults.groupsPerTransaction,
    );
    const concurrency = Math.max(1, options.concurrency ?? defaults.concurrency);
    const groups = await this.#dueGroups(reading, options.groupsMax ?? defaults.groupsMax);
    const chunks: Group[][] = [];
    for (let start = 0; start < groups.length; start += perTransaction)
      chunks.push(groups.slice(start, start + perTransaction));
    let total = emptyResult;
    const failures: unknown[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < chunks.length) {
        const chunk = chunks[next++] as Group[];
        const result = await this.#makeChunkAvailable(chunk, reading, failures);
        total = sum(total, result);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker));
    // The other groups are committed; the failed ones stay due and fail loudly here.
    if (failures.length > 0)
      throw new AggregateError(failures, `${failures.length} availability groups failed`);
    return total;
  }

  /**
   * A chunk in one transaction; if it fails, each of its groups alone, so that one group the
   * ledger refuses (a bug, or a net beyond the largest amount) does not hold back the others.
   */
  async #makeChunkAvailable(
    chunk: readonly Group[],
    reading: ClockReading,
    failures: unknown[],
  ): Promise<AvailabilityResult> {
    try {
      return await this.#makeAvailable(chunk, reading);
    } catch (error) {
      if (chunk.length === 1) {
        failures.push(error);
        return emptyResult;
      }
    }
    let total = emptyResult;
    for (const group of chunk)
      total = sum(total, await this.#makeChunkAvailable([group], reading, failures));
    return total;
  }

  /**
   * The due groups (merchant, currency, UTC day of the due clearing groups), oldest day first,
   * with each merchant's reserve settings; read from clearing_groups_due (migration 025).
   */
  async #dueGroups(reading: ClockReading, groupsMax: number): Promise<Group[]> {
    const clock = clockSql(reading, 'merchant_id', 1);
    const limit = `$${clock.values.length + 1}`;
    const result = await this.#database.query<{
      merchant_id: string;
      currency: string;
      due_day: Date;
      reserve_percent_bps: number;
      reserve_days: number;
    }>(
      `SELECT g.merchant_id, g.currency, g.due_day,
              coalesce(s.reserve_percent_bps, 0) AS reserve_percent_bps,
              coalesce(s.reserve_days, 0)::int AS reserve_days
         FROM (SELECT merchant_id, currency,
                      date_trunc('day', available_on AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS due_day
                 FROM clearing_groups
                WHERE availability_id IS NULL AND available_on <= ${clock.bound}
                  AND available_on <= ${clock.now}
                GROUP BY 1, 2, 3 ORDER BY 3, 1, 2 LIMIT ${limit}) AS g
         LEFT JOIN merchant_payout_settings s ON s.merchant_id = g.merchant_id
        ORDER BY g.due_day, g.merchant_id, g.currency`,
      [...clock.values, groupsMax],
    );
    return result.rows.map((row) => ({
      merchantId: row.merchant_id,
      currency: row.currency,
      dueDay: row.due_day,
      reservePercentBps: BigInt(row.reserve_percent_bps),
      reserveDays: row.reserve_days,
    }));
  }

  /** One database transaction: the groups' clearing groups marked, one ledger transfer per group. */
  async #makeAvailable(
    groups: readonly Group[],
    reading: ClockReading,
  ): Promise<AvailabilityResult> {
    return this.#database.transaction(async (tx) => {
      const taken = await markClearingGroups(tx, groups, reading);
      if (taken.length === 0) return emptyResult;
      const specs = new Map<string, AccountSpec>();
      for (const group of taken)
        for (const spec of balanceAccountSpecs(group.merchantId, group.currency))
          specs.set(spec.id, spec);
      await this.#ledger.ensureAccountsWithin(tx, [...specs.values()]);
      const balances = await lockBalances(tx, taken);
      const transfers: TransferRequest[] = [];
      const holds: { group: TakenGroup; hold: ReserveHold }[] = [];
      const events: NewEvent[] = [];
      for (const group of taken) {
        const key = balanceKey(group.merchantId, group.currency);
        const accounts = balanceAccountIds(group.merchantId, group.currency);
        const netting = netGroup(
          group.net,
          group.currency,
          accounts,
          balances.get(key) ?? { available: 0n, receivable: 0n },
          group.reservePercentBps,
        );
        balances.set(key, netting.after);
        if (netting.legs.length > 0)
          transfers.push({
            kind: 'posted',
            id: group.transferId,
            legs: netting.legs,
            description: `availability of ${group.items} items of ${isoDay(group.dueDay)}`,
          });
        if (netting.reserve > 0n) {
          const hold = reserveHold(accounts, group, netting.reserve);
          transfers.push(hold.request);
          holds.push({ group, hold });
        }
        events.push(
          newEvent(
            group.merchantId,
            'balance.available',
            presentBalanceAvailability({
              ...group,
              reserved: netting.reserve,
              available: netting.after.available - netting.after.receivable,
            }),
          ),
        );
      }
      for (let start = 0; start < transfers.length; start += ledgerLimits.transfersPerBatchMax) {
        const batch = transfers.slice(start, start + ledgerLimits.transfersPerBatchMax);
        const results = await this.#ledger.transferBatchWithin(tx, batch);
        for (const result of results) if (result.status === 'rejected') throw result.error;
      }
      await recordReserveHolds(tx, holds);
      await insertEvents(tx, events, reading.system);
      return {
        groups: taken.length,
        clearingGroups: taken.reduce((count, group) => count + group.clearingGroups, 0),
        items: taken.reduce((count, group) => count + group.items, 0),
        transfers: taken.filter((group) => group.net !== 0n).length,
        negativeGroups: taken.filter((group) => group.net < 0n).length,
        reserveHolds: holds.length,
      };
    });
  }
}

/**
 * Locks the groups' due clearing groups no one else holds (SKIP LOCKED), names each group's
 * transfer on them (availability_id), makes each a payout unit with all of its net to pay out
 * (unpaid, migration 028) and sums their item counts and nets per group, in one statement. Groups
 * another worker took come back empty. Payouts update only available clearing groups, so they
 * never wait on these locks.
 */
async function markClearingGroups(
  tx: Queryable,
  groups: readonly Group[],
  reading: ClockReading,
): Promise<TakenGroup[]> {
  const transferIds = groups.map(() => `avail:${randomBase62(24)}`);
  const nows = groups.map((group) => timeFor(reading, group.merchantId));
  const result = await tx.query<{
    transfer_id: string;
    clearing_groups: number;
    items: number;
    net: bigint;
  }>(
    `WITH wanted AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[])
         AS w (merchant_id, currency, due_day, now, transfer_id)),
     picked AS (
       SELECT g.batch_id, g.merchant_id, g.available_on, w.transfer_id
         FROM wanted w JOIN clearing_groups g
           ON g.availability_id IS NULL AND g.merchant_id = w.merchant_id AND g.currency = w.currency
          AND g.available_on >= w.due_day AND g.available_on < w.due_day + interval '1 day'
          AND g.available_on <= w.now
        FOR UPDATE OF g SKIP LOCKED),
     marked AS (
       UPDATE clearing_groups AS g SET availability_id = picked.transfer_id, unpaid = nullif(g.net, 0)
         FROM picked
        WHERE g.batch_id = picked.batch_id AND g.merchant_id = picked.merchant_id
          AND g.available_on = picked.available_on
       RETURNING g.availability_id, g.item_count, g.net)
     SELECT availability_id AS transfer_id, count(*)::int AS clearing_groups,
            sum(item_count)::int AS items, sum(net)::bigint AS net
       FROM marked GROUP BY availability_id`,
    [
      textArrayLiteral(groups.map((group) => group.merchantId)),
      textArrayLiteral(groups.map((group) => group.currency)),
      textArrayLiteral(groups.map((group) => group.dueDay.toISOString())),
      textArrayLiteral(nows.map((now) => now.toISOString())),
      textArrayLiteral(transferIds),
    ],
  );
  const byTransfer = new Map(result.rows.map((row) => [row.transfer_id, row]));
  return groups.flatMap((group, index): TakenGroup[] => {
    const transferId = transferIds[index] as string;
    const row = byTransfer.get(transferId);
    if (row === undefined) return [];
    const now = nows[index] as Date;
    return [
      {
        ...group,
        transferId,
        now,
        clearingGroups: row.clearing_groups,
        items: row.items,
        net: BigInt(row.net),
      },
    ];
  });
}

type ReserveHold = {
  readonly request: TransferRequest;
  readonly amount: bigint;
  readonly id: string;
};

function reserveHold(accounts: BalanceAccountIds, group: Group, amount: bigint): ReserveHold {
  const id = `reserve:${randomBase62(24)}`;
  return {
    id,
    amount,
    request: {
      kind: 'pending',
      id,
      legs: [
        { accountId: accounts.available, direction: 'debit', amount, currency: group.currency },
        { accountId: accounts.reserve, direction: 'credit', amount, currency: group.currency },
      ],
      description: `rolling reserve of ${group.reservePercentBps} bps for ${group.reserveDays} days`,
    },
  };
}

/** The holds' schedules and their balance transactions (−held, available at once). */
async function recordReserveHolds(
  tx: Queryable,
  holds: readonly { readonly group: TakenGroup; readonly hold: ReserveHold }[],
): Promise<void> {
  if (holds.length === 0) return;
  await tx.query(
    `INSERT INTO reserve_holds (ledger_transaction_id, merchant_id, currency, amount, release_on, created_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::timestamptz[], $6::timestamptz[])`,
    [
      textArrayLiteral(holds.map(({ hold }) => hold.id)),
      textArrayLiteral(holds.map(({ group }) => group.merchantId)),
      textArrayLiteral(holds.map(({ group }) => group.currency)),
      integerArrayLiteral(holds.map(({ hold }) => hold.amount)),
      textArrayLiteral(
        holds.map(({ group }) =>
          new Date(group.dueDay.getTime() + group.reserveDays * dayMs).toISOString(),
        ),
      ),
      textArrayLiteral(holds.map(({ group }) => group.now.toISOString())),
    ],
  );
  const rows = holds.map(({ group, hold }) =>
    availableAtOnce({
      id: newSortableId('txn', group.now.getTime()),
      merchantId: group.merchantId,
      currency: group.currency,
      type: 'reserve_hold',
      source: hold.id,
      amount: -hold.amount,
      description: `rolling reserve held from ${group.transferId}`,
      ledgerTransactionId: hold.id,
      at: group.now,
    }),
  );
  await tx.query(insertBalanceTransactions.sql, insertBalanceTransactions.parameters(rows));
}

const insertBalanceTransactions = balanceTransactions.insertBatch(1);

function isoDay(day: Date): string {
  return day.toISOString().slice(0, 10);
}
