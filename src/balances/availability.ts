// Availability (architecture §12): items whose day has come move pending → available in ONE ledger
// transfer per (merchant, currency, due day) group, never one per item. The group is found by one
// set-based query over every merchant (each row compared with its own merchant's time, clockSql);
// each group then commits alone: its items are locked (SKIP LOCKED: two workers never take the
// same item), marked with the transfer's id, summed in SQL, and the transfer (with a reserve hold
// when the merchant has a rolling reserve) is posted in the same database transaction. So an item
// is available exactly when the ledger transfer that made it so exists, and never twice.
import { timeFor, clockSql, type ClockReading } from '../clock.ts';
import { randomBase62, newSortableId } from '../ids.ts';
import type { Ledger, TransferRequest } from '../ledger/index.ts';
import type { Database, Queryable } from '../storage/database.ts';
import {
  balanceAccountIds,
  balanceAccountSpecs,
  lockBalances,
  type BalanceAccountIds,
} from './accounts.ts';
import { availableAtOnce, balanceTransactions } from './balance-transactions.ts';
import { netGroup } from './netting.ts';

export type AvailabilityOptions = {
  /** Groups per call (bounded work); the next call takes the rest. */
  readonly groupsMax?: number;
  /** Items per group transaction; a larger group is finished by the next call. */
  readonly itemsPerGroupMax?: number;
  /** Groups committed at once (different merchants do not wait on each other's locks). */
  readonly concurrency?: number;
};

export type AvailabilityResult = {
  readonly groups: number;
  readonly items: number;
  /** Ledger transfers posted (a zero net posts none). */
  readonly transfers: number;
  readonly negativeGroups: number;
  readonly reserveHolds: number;
};

const defaults = { groupsMax: 1_000, itemsPerGroupMax: 50_000, concurrency: 1 } as const;

type Group = {
  readonly merchantId: string;
  readonly currency: string;
  readonly dueDay: Date;
  readonly reservePercentBps: bigint;
  readonly reserveDays: number;
};

type GroupOutcome = {
  readonly items: number;
  readonly transfer: boolean;
  readonly negative: boolean;
  readonly reserve: boolean;
};

/** Items that may become available: not charges or refunds, or ones the acquirer accepted. */
export const eligibleItem = `(type NOT IN ('charge', 'refund') OR clearing_status = 'accepted')`;

const dayMs = 86_400_000;

export class Availability {
  readonly #database: Database;
  readonly #ledger: Ledger;

  constructor(dependencies: { readonly database: Database; readonly ledger: Ledger }) {
    this.#database = dependencies.database;
    this.#ledger = dependencies.ledger;
  }

  /** Makes due items available, at most `groupsMax` groups per call. */
  async makeDue(
    reading: ClockReading,
    options: AvailabilityOptions = {},
  ): Promise<AvailabilityResult> {
    const groupsMax = options.groupsMax ?? defaults.groupsMax;
    const itemsMax = options.itemsPerGroupMax ?? defaults.itemsPerGroupMax;
    const concurrency = Math.max(1, options.concurrency ?? defaults.concurrency);
    const groups = await this.#dueGroups(reading, groupsMax);
    const outcomes: GroupOutcome[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < groups.length) {
        const group = groups[next++] as Group;
        outcomes.push(
          await this.#makeGroupAvailable(group, timeFor(reading, group.merchantId), itemsMax),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, groups.length) }, worker));
    const taken = outcomes.filter((outcome) => outcome.items > 0);
    return {
      groups: taken.length,
      items: taken.reduce((sum, outcome) => sum + outcome.items, 0),
      transfers: taken.filter((outcome) => outcome.transfer).length,
      negativeGroups: taken.filter((outcome) => outcome.negative).length,
      reserveHolds: taken.filter((outcome) => outcome.reserve).length,
    };
  }

  /** The due groups, oldest day first, with each merchant's reserve settings. */
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
                 FROM balance_transactions
                WHERE availability_id IS NULL AND available_on <= ${clock.bound}
                  AND available_on <= ${clock.now} AND ${eligibleItem}
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

  async #makeGroupAvailable(group: Group, now: Date, itemsMax: number): Promise<GroupOutcome> {
    return this.#database.transaction(async (tx) => {
      const transferId = `avail:${randomBase62(24)}`;
      const { items, net } = await markItems(tx, group, now, transferId, itemsMax);
      if (items === 0) return { items, transfer: false, negative: false, reserve: false };
      const accounts = balanceAccountIds(group.merchantId, group.currency);
      await this.#ledger.ensureAccountsWithin(
        tx,
        balanceAccountSpecs(group.merchantId, group.currency),
      );
      const balances = await lockBalances(tx, accounts);
      const netting = netGroup(net, group.currency, accounts, balances, group.reservePercentBps);
      const transfers: TransferRequest[] = [];
      if (netting.legs.length > 0)
        transfers.push({
          kind: 'posted',
          id: transferId,
          legs: netting.legs,
          description: `availability of ${items} items of ${isoDay(group.dueDay)}`,
        });
      const hold = netting.reserve > 0n ? reserveHold(accounts, group, netting.reserve) : undefined;
      if (hold !== undefined) transfers.push(hold.request);
      const results =
        transfers.length === 0 ? [] : await this.#ledger.transferBatchWithin(tx, transfers);
      for (const result of results) if (result.status === 'rejected') throw result.error;
      if (hold !== undefined) await recordReserveHold(tx, group, hold, transferId, now);
      return {
        items,
        transfer: transfers.length > 0,
        negative: net < 0n,
        reserve: hold !== undefined,
      };
    });
  }
}

/** Locks the group's due items no one else holds, names the transfer on them, sums their net. */
async function markItems(
  tx: Queryable,
  group: Group,
  now: Date,
  transferId: string,
  itemsMax: number,
): Promise<{ items: number; net: bigint }> {
  const result = await tx.query<{ items: number; net: bigint }>(
    `WITH picked AS (
       SELECT id FROM balance_transactions
        WHERE availability_id IS NULL AND merchant_id = $1 AND currency = $2
          AND available_on >= $3::timestamptz AND available_on < $3::timestamptz + interval '1 day'
          AND available_on <= $4::timestamptz AND ${eligibleItem}
        ORDER BY id LIMIT $6 FOR UPDATE SKIP LOCKED),
     marked AS (
       UPDATE balance_transactions AS b SET availability_id = $5
         FROM picked WHERE b.id = picked.id RETURNING b.net)
     SELECT count(*)::int AS items, coalesce(sum(net), 0)::bigint AS net FROM marked`,
    [group.merchantId, group.currency, group.dueDay, now, transferId, itemsMax],
  );
  const row = result.rows[0];
  return { items: row?.items ?? 0, net: row?.net ?? 0n };
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

/** The hold's schedule and its balance transaction (−held, available at once). */
async function recordReserveHold(
  tx: Queryable,
  group: Group,
  hold: ReserveHold,
  availabilityTransferId: string,
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO reserve_holds (ledger_transaction_id, merchant_id, currency, amount, release_on, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      hold.id,
      group.merchantId,
      group.currency,
      hold.amount,
      new Date(group.dueDay.getTime() + group.reserveDays * dayMs),
      now,
    ],
  );
  await tx.query(
    insertBalanceTransaction.sql,
    insertBalanceTransaction.parameters(
      availableAtOnce({
        id: newSortableId('txn', now.getTime()),
        merchantId: group.merchantId,
        currency: group.currency,
        type: 'reserve_hold',
        source: hold.id,
        amount: -hold.amount,
        description: `rolling reserve held from ${availabilityTransferId}`,
        ledgerTransactionId: hold.id,
        at: now,
      }),
    ),
  );
}

const insertBalanceTransaction = balanceTransactions.insert();

function isoDay(day: Date): string {
  return day.toISOString().slice(0, 10);
}
