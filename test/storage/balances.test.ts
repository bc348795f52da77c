// Availability with netting, the receivable and rolling reserves, driven by the clock (never by
// sleeping), on PGlite and on the real PostgreSQL; two concurrent workers on PostgreSQL only.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Availability,
  BalancesService,
  Reserves,
  availabilityIdSql,
  balanceAccountIds,
} from '../../src/balances/index.ts';
import { OffsetClock } from '../../src/clock.ts';
import { Ledger, verifyLedger } from '../../src/ledger/index.ts';
import {
  createMerchants,
  newMerchantId,
  seedItems,
  type Item,
} from '../support/balance-fixtures.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.ts';

const dayMs = 86_400_000;
const day = (iso: string): Date => new Date(`${iso}T00:00:00Z`);
// Friday 2026-03-06, noon UTC: the tests' "now" before any clock move.
const start = Date.parse('2026-03-06T12:00:00Z');

type Harness = {
  testDatabase: TestDatabase;
  clock: OffsetClock;
  ledger: Ledger;
  availability: Availability;
  reserves: Reserves;
  service: BalancesService;
};

async function harness(kind: 'pglite' | 'postgres'): Promise<Harness> {
  const testDatabase = await openTestDatabase(kind);
  const clock = new OffsetClock(() => start);
  const database = testDatabase.database;
  const ledger = new Ledger(database, { clock });
  return {
    testDatabase,
    clock,
    ledger,
    availability: new Availability({ database, ledger }),
    reserves: new Reserves({ database, ledger }),
    service: new BalancesService({ database }),
  };
}

/** Moves the system clock to a time (forward only). */
function moveTo(clock: OffsetClock, at: Date): void {
  const ahead = at.getTime() - clock.now().getTime();
  if (ahead > 0) clock.advance(ahead);
}

async function accountBalances(h: Harness, merchantId: string) {
  const ids = balanceAccountIds(merchantId, 'usd');
  const read = async (id: string) => (await h.ledger.getAccount(id))?.balance;
  return {
    pending: (await read(ids.pending))?.posted ?? 0n,
    availablePosted: (await read(ids.available))?.posted ?? 0n,
    available: (await read(ids.available))?.available ?? 0n,
    receivable: (await read(ids.receivable))?.posted ?? 0n,
    reserved: (await read(ids.reserve))?.pending ?? 0n,
  };
}

async function shown(h: Harness, merchantId: string) {
  const balance = await h.service.balance(merchantId);
  const of = (list: readonly { amount: bigint; currency: string }[]) =>
    list.find((entry) => entry.currency === 'usd')?.amount;
  return {
    available: of(balance.available),
    pending: of(balance.pending),
    reserved: of(balance.reserved),
  };
}

/**
 * Per merchant: the items' nets (available ones, pending ones), as the ledger must show them; a
 * settlement item is available when its clearing group is.
 */
async function itemSums(h: Harness, merchantId: string) {
  const result = await h.testDatabase.database.query<{ available: bigint; pending: bigint }>(
    `SELECT coalesce(sum(net) FILTER (WHERE availability IS NOT NULL), 0)::bigint AS available,
            coalesce(sum(net) FILTER (WHERE availability IS NULL AND type IN ('charge', 'refund')), 0)::bigint AS pending
       FROM (SELECT bt.net, bt.type, ${availabilityIdSql('bt')} AS availability
               FROM balance_transactions bt WHERE bt.merchant_id = $1) AS items`,
    [merchantId],
  );
  return result.rows[0] as { available: bigint; pending: bigint };
}

async function availTransfers(h: Harness, merchantId: string): Promise<string[]> {
  const result = await h.testDatabase.database.query<{ id: string }>(
    `SELECT DISTINCT t.id FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id
      WHERE t.id LIKE 'avail:%' AND e.account_id LIKE $1 ORDER BY t.id`,
    [`merchant:${merchantId}:%`],
  );
  return result.rows.map((row) => row.id);
}

for (const kind of databaseKinds) {
  describe(`balances on ${kind}`, () => {
    let h: Harness;
    before(async () => {
      h = await harness(kind);
    });
    after(() => h.testDatabase.drop());

    test('payrail_business_days_after skips weekends', async () => {
      const cases: [string, number, string][] = [
        ['2026-03-06T15:00:00Z', 1, '2026-03-09'], // Fri + 1 = Mon
        ['2026-03-06T15:00:00Z', 0, '2026-03-06'], // Fri + 0 = Fri
        ['2026-03-07T15:00:00Z', 0, '2026-03-09'], // Sat + 0 = Mon
        ['2026-03-08T23:59:59Z', 0, '2026-03-09'], // Sun + 0 = Mon
        ['2026-03-07T01:00:00Z', 1, '2026-03-10'], // Sat + 1 = Tue
        ['2026-03-05T10:00:00Z', 2, '2026-03-09'], // Thu + 2 = Mon
        ['2026-03-06T10:00:00Z', 2, '2026-03-10'], // Fri + 2 = Tue
        ['2026-03-09T00:00:00Z', 5, '2026-03-16'], // Mon + 5 = Mon
        ['2026-03-02T10:00:00Z', 10, '2026-03-16'], // two weeks
      ];
      for (const [from, days, expected] of cases) {
        const result = await h.testDatabase.database.query<{ at: Date }>(
          'SELECT payrail_business_days_after($1::timestamptz, $2) AS at',
          [from, days],
        );
        assert.equal(
          result.rows[0]?.at.toISOString(),
          `${expected}T00:00:00.000Z`,
          `${from} + ${days}`,
        );
      }
      await assert.rejects(
        h.testDatabase.database.query('SELECT payrail_business_days_after(now(), -1)'),
        /must not be negative/,
      );
    });

    test('one ledger transfer per merchant, currency and day; the items turn available', async () => {
      const shop = newMerchantId();
      const other = newMerchantId();
      await createMerchants(h.testDatabase.database, [shop, other]);
      const monday = day('2026-03-09');
      const tuesday = day('2026-03-10');
      const items: Item[] = [
        { merchantId: shop, type: 'charge', amount: 10_000n, fee: 320n, availableOn: monday },
        { merchantId: shop, type: 'charge', amount: 5_000n, fee: 175n, availableOn: monday },
        { merchantId: shop, type: 'charge', amount: 2_000n, fee: 88n, availableOn: monday },
        { merchantId: shop, type: 'refund', amount: 1_000n, availableOn: monday },
        // Not yet accepted by the acquirer: stays pending on its day.
        {
          merchantId: shop,
          type: 'charge',
          amount: 7_000n,
          fee: 233n,
          availableOn: monday,
          clearing: 'submitted',
        },
        { merchantId: shop, type: 'charge', amount: 3_000n, fee: 117n, availableOn: tuesday },
        { merchantId: other, type: 'charge', amount: 4_000n, fee: 146n, availableOn: monday },
      ];
      const rows = await seedItems(h.testDatabase.database, h.ledger, items);
      // Friday noon: nothing is due yet.
      assert.equal((await h.availability.makeDue(h.clock.reading())).groups, 0);
      assert.equal((await shown(h, shop)).available, 0n);

      moveTo(h.clock, new Date(monday.getTime() + 60_000));
      const result = await h.availability.makeDue(h.clock.reading());
      assert.deepEqual(result, {
        groups: 2,
        clearingGroups: 2,
        items: 5,
        transfers: 2,
        negativeGroups: 0,
        reserveHolds: 0,
      });
      const transfers = await availTransfers(h, shop);
      assert.equal(transfers.length, 1);
      const transfer = await h.ledger.getTransaction(transfers[0] as string);
      const net = 10_000n - 320n + 5_000n - 175n + 2_000n - 88n - 1_000n;
      assert.deepEqual(
        transfer?.legs.map((leg) => [leg.accountId, leg.direction, leg.amount]),
        [
          [`merchant:${shop}:pending:usd`, 'debit', net],
          [`merchant:${shop}:available:usd`, 'credit', net],
        ],
      );
      // No item is written: each reads its availability through its clearing group.
      const stored = await h.testDatabase.database.query<{ written: number }>(
        'SELECT count(*)::int AS written FROM balance_transactions WHERE merchant_id = $1 AND availability_id IS NOT NULL',
        [shop],
      );
      assert.equal(stored.rows[0]?.written, 0);
      for (const [index, row] of rows.entries()) {
        if (row.merchantId !== shop) continue;
        const expected = index <= 3 ? transfers[0] : null;
        const read = await h.service.retrieveBalanceTransaction(shop, row.id);
        assert.equal(read.availabilityId, expected, `item ${index}`);
      }
      assert.deepEqual(await shown(h, shop), {
        available: net,
        pending: 7_000n - 233n + 3_000n - 117n,
        reserved: 0n,
      });
      // Nothing more is due until Tuesday; then Tuesday's item, in a second transfer.
      assert.equal((await h.availability.makeDue(h.clock.reading())).groups, 0);
      moveTo(h.clock, tuesday);
      assert.equal((await h.availability.makeDue(h.clock.reading())).items, 1);
      assert.equal((await availTransfers(h, shop)).length, 2);
      for (const merchant of [shop, other]) {
        const sums = await itemSums(h, merchant);
        assert.deepEqual(await shown(h, merchant), {
          available: sums.available,
          pending: sums.pending,
          reserved: 0n,
        });
      }
    });

    test("a merchant's own clock decides its items' day", async () => {
      const early = newMerchantId();
      const late = newMerchantId();
      await createMerchants(h.testDatabase.database, [early, late]);
      const due = new Date(h.clock.now().getTime() + 3 * dayMs);
      await seedItems(h.testDatabase.database, h.ledger, [
        { merchantId: early, type: 'charge', amount: 1_000n, availableOn: due },
        { merchantId: late, type: 'charge', amount: 1_000n, availableOn: due },
      ]);
      h.clock.advance(4 * dayMs, early);
      const result = await h.availability.makeDue(h.clock.reading());
      assert.equal(result.items, 1);
      assert.equal((await shown(h, early)).available, 1_000n);
      assert.equal((await shown(h, late)).available, 0n);
    });

    test('a negative day goes to the receivable, never overdraws available, and is recovered later', async () => {
      const shop = newMerchantId();
      await createMerchants(h.testDatabase.database, [shop]);
      const now = h.clock.now();
      const dayOne = new Date(now.getTime() + dayMs);
      const dayTwo = new Date(now.getTime() + 2 * dayMs);
      const dayThree = new Date(now.getTime() + 3 * dayMs);
      await seedItems(h.testDatabase.database, h.ledger, [
        // Day one: 1,000 available (net 1,000).
        { merchantId: shop, type: 'charge', amount: 1_000n, availableOn: dayOne },
        // Day two: refunds exceed captures by 3,000.
        { merchantId: shop, type: 'charge', amount: 2_000n, availableOn: dayTwo },
        { merchantId: shop, type: 'refund', amount: 5_000n, availableOn: dayTwo },
        // Day three: 10,000 − 300 fee.
        { merchantId: shop, type: 'charge', amount: 10_000n, fee: 300n, availableOn: dayThree },
      ]);
      moveTo(h.clock, dayOne);
      await h.availability.makeDue(h.clock.reading());
      assert.equal((await shown(h, shop)).available, 1_000n);

      moveTo(h.clock, dayTwo);
      const negative = await h.availability.makeDue(h.clock.reading());
      assert.equal(negative.negativeGroups, 1);
      let accounts = await accountBalances(h, shop);
      assert.equal(accounts.availablePosted, 0n, 'available is emptied, not overdrawn');
      assert.equal(accounts.receivable, 2_000n);
      assert.equal((await shown(h, shop)).available, -2_000n);

      moveTo(h.clock, dayThree);
      await h.availability.makeDue(h.clock.reading());
      accounts = await accountBalances(h, shop);
      assert.equal(accounts.receivable, 0n, 'the receivable is recovered first');
      assert.equal(accounts.availablePosted, 9_700n - 2_000n);
      const sums = await itemSums(h, shop);
      assert.equal(sums.available, 1_000n + 2_000n - 5_000n + 9_700n);
      assert.deepEqual(await shown(h, shop), {
        available: sums.available,
        pending: 0n,
        reserved: 0n,
      });
      assert.equal((await verifyLedger(h.testDatabase.database)).ok, true);
    });

    test('a negative position larger than a later day is recovered in part', async () => {
      const shop = newMerchantId();
      await createMerchants(h.testDatabase.database, [shop]);
      const now = h.clock.now();
      const dayOne = new Date(now.getTime() + dayMs);
      const dayTwo = new Date(now.getTime() + 2 * dayMs);
      await seedItems(h.testDatabase.database, h.ledger, [
        { merchantId: shop, type: 'refund', amount: 5_000n, availableOn: dayOne },
        { merchantId: shop, type: 'charge', amount: 2_000n, availableOn: dayTwo },
      ]);
      moveTo(h.clock, dayOne);
      await h.availability.makeDue(h.clock.reading());
      assert.equal((await accountBalances(h, shop)).receivable, 5_000n);
      moveTo(h.clock, dayTwo);
      await h.availability.makeDue(h.clock.reading());
      const accounts = await accountBalances(h, shop);
      assert.equal(accounts.receivable, 3_000n);
      assert.equal(accounts.availablePosted, 0n);
      assert.equal((await shown(h, shop)).available, -3_000n);
    });

    test('days of one merchant netted in one transaction follow each other in order', async () => {
      const shop = newMerchantId();
      await createMerchants(h.testDatabase.database, [shop]);
      const now = h.clock.now();
      const days = [1, 2, 3].map((count) => new Date(now.getTime() + count * dayMs));
      await seedItems(h.testDatabase.database, h.ledger, [
        { merchantId: shop, type: 'charge', amount: 1_000n, availableOn: days[0] as Date },
        { merchantId: shop, type: 'refund', amount: 4_000n, availableOn: days[1] as Date },
        { merchantId: shop, type: 'charge', amount: 2_500n, availableOn: days[2] as Date },
      ]);
      moveTo(h.clock, days[2] as Date);
      const made = await h.availability.makeDue(h.clock.reading());
      assert.deepEqual([made.groups, made.transfers, made.negativeGroups], [3, 3, 1]);
      // +1,000 available; −4,000 takes the 1,000 and owes 3,000; +2,500 recovers 2,500 of it.
      const accounts = await accountBalances(h, shop);
      assert.deepEqual([accounts.availablePosted, accounts.receivable], [0n, 500n]);
      assert.equal((await shown(h, shop)).available, -500n);
    });

    test('a group the ledger refuses fails loudly and holds back no other group', async () => {
      const poisoned = newMerchantId();
      const healthy = newMerchantId();
      await createMerchants(h.testDatabase.database, [poisoned, healthy]);
      const due = new Date(h.clock.now().getTime() + dayMs);
      // Two items whose sum is beyond the largest amount a ledger leg may carry.
      await seedItems(h.testDatabase.database, h.ledger, [
        { merchantId: poisoned, type: 'charge', amount: 60_000_000_000n, availableOn: due },
        { merchantId: poisoned, type: 'charge', amount: 60_000_000_000n, availableOn: due },
        { merchantId: healthy, type: 'charge', amount: 1_000n, availableOn: due },
      ]);
      moveTo(h.clock, due);
      await assert.rejects(h.availability.makeDue(h.clock.reading()), AggregateError);
      assert.equal((await shown(h, healthy)).available, 1_000n);
      assert.equal((await shown(h, poisoned)).available, 0n);
      assert.equal((await itemSums(h, poisoned)).pending, 120_000_000_000n, 'still due');
      // Out of the way of the tests below: items the acquirer never accepted are in no group.
      await h.testDatabase.database.query('DELETE FROM clearing_groups WHERE merchant_id = $1', [
        poisoned,
      ]);
      await h.testDatabase.database.query(
        "UPDATE balance_transactions SET clearing_status = 'exception' WHERE merchant_id = $1",
        [poisoned],
      );
    });

    test('a rolling reserve holds a share of a positive day and releases it on its date', async () => {
      const shop = newMerchantId();
      await createMerchants(h.testDatabase.database, [shop]);
      await h.testDatabase.database.query(
        `INSERT INTO merchant_payout_settings (merchant_id, reserve_percent_bps, reserve_days, updated_at)
         VALUES ($1, 1000, 7, now())`,
        [shop],
      );
      const due = day(new Date(h.clock.now().getTime() + 2 * dayMs).toISOString().slice(0, 10));
      await seedItems(h.testDatabase.database, h.ledger, [
        { merchantId: shop, type: 'charge', amount: 10_005n, fee: 300n, availableOn: due },
      ]);
      moveTo(h.clock, due);
      const made = await h.availability.makeDue(h.clock.reading());
      assert.equal(made.reserveHolds, 1);
      const net = 9_705n;
      const held = 971n; // 10 % of 9,705 = 970.5, half up
      assert.deepEqual(await shown(h, shop), {
        available: net - held,
        pending: 0n,
        reserved: held,
      });
      const hold = await h.testDatabase.database.query<{
        ledger_transaction_id: string;
        release_on: Date;
        amount: bigint;
      }>(
        'SELECT ledger_transaction_id, release_on, amount FROM reserve_holds WHERE merchant_id = $1',
        [shop],
      );
      assert.equal(hold.rows.length, 1);
      const holdId = hold.rows[0]?.ledger_transaction_id as string;
      assert.match(holdId, /^reserve:/);
      assert.equal(
        hold.rows[0]?.release_on.toISOString(),
        new Date(due.getTime() + 7 * dayMs).toISOString(),
      );
      assert.equal((await h.ledger.getHold(holdId))?.status, 'pending');
      const rows = await h.service.listBalanceTransactions(shop, {
        limit: 10,
        type: 'reserve_hold',
      });
      assert.equal(rows.balanceTransactions.length, 1);
      assert.equal(rows.balanceTransactions[0]?.net, -held);
      assert.equal(rows.balanceTransactions[0]?.availabilityId, holdId);

      // A day before its date, nothing is released.
      moveTo(h.clock, new Date(due.getTime() + 6 * dayMs));
      assert.equal((await h.reserves.releaseDue(h.clock.reading())).released, 0);
      moveTo(h.clock, new Date(due.getTime() + 7 * dayMs));
      assert.deepEqual(await h.reserves.releaseDue(h.clock.reading()), {
        released: 1,
        amount: held,
      });
      assert.equal((await h.reserves.releaseDue(h.clock.reading())).released, 0, 'once');
      assert.equal((await h.ledger.getHold(holdId))?.status, 'voided');
      assert.deepEqual(await shown(h, shop), { available: net, pending: 0n, reserved: 0n });
      const released = await h.service.listBalanceTransactions(shop, {
        limit: 10,
        source: holdId,
      });
      assert.deepEqual(
        released.balanceTransactions.map((row) => [row.type, row.net]),
        [
          ['reserve_release', held],
          ['reserve_hold', -held],
        ],
      );
      const sums = await itemSums(h, shop);
      assert.equal(sums.available, net);
      assert.equal((await verifyLedger(h.testDatabase.database)).ok, true);
    });

    test('a reserve never holds more than available will have after a recovery', async () => {
      const shop = newMerchantId();
      await createMerchants(h.testDatabase.database, [shop]);
      await h.testDatabase.database.query(
        `INSERT INTO merchant_payout_settings (merchant_id, reserve_percent_bps, reserve_days, updated_at)
         VALUES ($1, 5000, 3, now())`,
        [shop],
      );
      const now = h.clock.now();
      const dayOne = new Date(now.getTime() + dayMs);
      const dayTwo = new Date(now.getTime() + 2 * dayMs);
      await seedItems(h.testDatabase.database, h.ledger, [
        { merchantId: shop, type: 'refund', amount: 900n, availableOn: dayOne },
        { merchantId: shop, type: 'charge', amount: 1_000n, availableOn: dayTwo },
      ]);
      moveTo(h.clock, dayTwo);
      await h.availability.makeDue(h.clock.reading(), { groupsMax: 1 });
      await h.availability.makeDue(h.clock.reading(), { groupsMax: 1 });
      // 1,000 recovers 900 and leaves 100: the 50 % reserve (500) is capped at 100.
      assert.deepEqual(await shown(h, shop), { available: 0n, pending: 0n, reserved: 100n });
      assert.equal((await accountBalances(h, shop)).receivable, 0n);
    });
  });
}

describe('two workers making items available at once (PostgreSQL)', () => {
  let h: Harness;
  before(async () => {
    h = await harness('postgres');
  });
  after(() => h.testDatabase.drop());

  test('never make an item available twice, and the ledger moves exactly the items', async () => {
    const merchants = Array.from({ length: 12 }, newMerchantId);
    await createMerchants(h.testDatabase.database, merchants);
    const items: Item[] = [];
    for (let index = 0; index < 3_000; index++) {
      const merchantId = merchants[index % merchants.length] as string;
      const refund = index % 7 === 0;
      items.push({
        merchantId,
        type: refund ? 'refund' : 'charge',
        amount: BigInt(100 + ((index * 37) % 5_000)),
        fee: refund ? 0n : BigInt(index % 50),
        availableOn: new Date(start + (1 + (Math.floor(index / merchants.length) % 3)) * dayMs),
      });
    }
    await seedItems(h.testDatabase.database, h.ledger, items);
    moveTo(h.clock, new Date(start + 4 * dayMs));
    const reading = h.clock.reading();
    const workers = [0, 1].map(
      () => new Availability({ database: h.testDatabase.database, ledger: h.ledger }),
    );
    // Each worker takes every due group (bounded by 5 per call) until none is left.
    const results = await Promise.all(
      workers.map(async (worker) => {
        let items = 0;
        for (;;) {
          const result = await worker.makeDue(reading, { groupsMax: 5, concurrency: 3 });
          items += result.items;
          if (result.groups === 0) return items;
        }
      }),
    );
    assert.equal((results[0] as number) + (results[1] as number), items.length);
    const check = await h.testDatabase.database.query<{ left: number; mismatched: number }>(
      `WITH items AS (
         SELECT bt.merchant_id, bt.net, ${availabilityIdSql('bt')} AS availability_id
           FROM balance_transactions bt),
       per_transfer AS (
         SELECT availability_id, merchant_id, sum(net) AS net FROM items GROUP BY 1, 2),
       moved AS (
         SELECT e.transaction_id,
                sum(CASE WHEN e.direction = 'debit' THEN e.amount ELSE -e.amount END) AS net
           FROM ledger_entries e WHERE e.transaction_id LIKE 'avail:%' AND e.account_id LIKE '%:pending:%'
          GROUP BY 1)
       SELECT (SELECT count(*)::int FROM items WHERE availability_id IS NULL) AS left,
              (SELECT count(*)::int FROM per_transfer p FULL JOIN moved m ON m.transaction_id = p.availability_id
                WHERE p.net IS DISTINCT FROM m.net) AS mismatched`,
    );
    assert.deepEqual(check.rows[0], { left: 0, mismatched: 0 });
    for (const merchantId of merchants) {
      const sums = await itemSums(h, merchantId);
      assert.deepEqual(await shown(h, merchantId), {
        available: sums.available,
        pending: 0n,
        reserved: 0n,
      });
      assert.ok((await availTransfers(h, merchantId)).length >= 3);
    }
    assert.equal((await verifyLedger(h.testDatabase.database)).ok, true);
  });

  test('two workers releasing reserves at once release each hold once', async () => {
    const merchants = Array.from({ length: 6 }, newMerchantId);
    await createMerchants(h.testDatabase.database, merchants);
    await h.testDatabase.database.query(
      `INSERT INTO merchant_payout_settings (merchant_id, reserve_percent_bps, reserve_days, updated_at)
       SELECT id, 2500, 1, now() FROM unnest($1::text[]) AS m (id)`,
      [merchants],
    );
    const now = h.clock.now().getTime();
    const items: Item[] = [];
    for (const [index, merchantId] of merchants.entries())
      for (let count = 1; count <= 5; count++)
        items.push({
          merchantId,
          type: 'charge',
          amount: BigInt(1_000 * count + index),
          availableOn: new Date(now + count * dayMs),
        });
    await seedItems(h.testDatabase.database, h.ledger, items);
    moveTo(h.clock, new Date(now + 5 * dayMs));
    const made = await h.availability.makeDue(h.clock.reading());
    assert.equal(made.reserveHolds, 30);
    moveTo(h.clock, new Date(now + 10 * dayMs));
    const reading = h.clock.reading();
    const workers = [0, 1].map(
      () => new Reserves({ database: h.testDatabase.database, ledger: h.ledger }),
    );
    const released = await Promise.all(
      workers.map(async (worker) => {
        let count = 0;
        for (;;) {
          const result = await worker.releaseDue(reading, { limit: 4 });
          count += result.released;
          if (result.released === 0) return count;
        }
      }),
    );
    assert.equal((released[0] as number) + (released[1] as number), 30);
    const check = await h.testDatabase.database.query<{ open: number; releases: number }>(
      `SELECT (SELECT count(*)::int FROM reserve_holds WHERE released_by IS NULL) AS open,
              (SELECT count(*)::int FROM balance_transactions WHERE type = 'reserve_release') AS releases`,
    );
    assert.deepEqual(check.rows[0], { open: 0, releases: 30 });
    for (const merchantId of merchants) {
      const sums = await itemSums(h, merchantId);
      assert.deepEqual(await shown(h, merchantId), {
        available: sums.available,
        pending: 0n,
        reserved: 0n,
      });
    }
    assert.equal((await verifyLedger(h.testDatabase.database)).ok, true);
  });
});
