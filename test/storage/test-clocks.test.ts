// Test clocks kept in the database: moves forward only, per merchant or for the whole system,
// seen by every clock reading the same database, and used per row by SQL through clockSql.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clockSql, OffsetClock } from '../../src/clock.ts';
import { Ledger } from '../../src/ledger/index.ts';
import { Merchants } from '../../src/merchants/merchants.ts';
import { DatabaseClock } from '../../src/testmode/clock.ts';
import {
  assertLiveMerchantAllowed,
  TestClockError,
  TestClocks,
} from '../../src/testmode/clock-service.ts';
import { openTestDatabase, type TestDatabase } from '../support/databases.ts';
import { move, standardAccounts } from '../support/ledger-fixtures.ts';
import { waitUntil } from '../support/wait.ts';

const realMs = Date.parse('2030-01-01T00:00:00Z');
const hour = 3_600_000;
const day = 24 * hour;

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`test clocks (${kind})`, () => {
    let test_: TestDatabase;
    let merchantA: string;
    let merchantB: string;
    let clock: DatabaseClock;
    let clocks: TestClocks;
    // Real time stands still in these tests, so every expected time is exact.
    const realNow = () => realMs;

    before(async () => {
      test_ = await openTestDatabase(kind);
      const merchants = new Merchants(test_.database);
      merchantA = (await merchants.create({ name: 'A' })).merchant.id;
      merchantB = (await merchants.create({ name: 'B' })).merchant.id;
      clock = new DatabaseClock(test_.database, realNow);
      await clock.start();
      clocks = new TestClocks(test_.database, clock, realNow);
    });
    after(async () => {
      clock.stop();
      await test_.drop();
    });

    test('the system and one merchant move forward; another process sees it on refresh', async () => {
      const system = await clocks.move({ kind: 'advance', milliseconds: day });
      assert.equal(system.now.getTime(), realMs + day);
      assert.equal(system.merchantId, undefined);
      const merchant = await clocks.move({ kind: 'advance', milliseconds: 2 * day }, merchantA);
      assert.equal(merchant.now.getTime(), realMs + 3 * day, "beyond the system's time");
      assert.equal(merchant.offsetMs, 3 * day);
      assert.equal(clock.now(merchantA).getTime(), realMs + 3 * day, 'this process at once');
      assert.equal(clock.now(merchantB).getTime(), realMs + day);

      const other = new DatabaseClock(test_.database, realNow);
      assert.equal(other.now(merchantA).getTime(), realMs, 'not read yet');
      await other.refresh();
      assert.equal(other.now(merchantA).getTime(), realMs + 3 * day);
      assert.equal(other.now().getTime(), realMs + day);

      const view = await clocks.show();
      assert.equal(view.system.now.getTime(), realMs + day);
      assert.deepEqual(
        view.merchants.map((scope) => [scope.merchantId, scope.now.getTime()]),
        [[merchantA, realMs + 3 * day]],
      );
    });

    test('set moves to a time, never back; an unknown merchant is refused', async () => {
      const target = new Date(realMs + 10 * day);
      const set = await clocks.move({ kind: 'set', to: target }, merchantB);
      assert.equal(set.now.getTime(), target.getTime());
      await assert.rejects(
        clocks.move({ kind: 'set', to: new Date(realMs + 9 * day) }, merchantB),
        (error: unknown) =>
          error instanceof TestClockError &&
          error.code === 'clock_backwards' &&
          error.param === 'to',
      );
      await assert.rejects(
        clocks.move({ kind: 'set', to: new Date(realMs) }),
        (error: unknown) => error instanceof TestClockError && error.code === 'clock_backwards',
        'the system is already a day ahead',
      );
      await assert.rejects(
        clocks.move({ kind: 'advance', milliseconds: 1000 }, 'acct_missing'),
        (error: unknown) =>
          error instanceof TestClockError &&
          error.code === 'merchant_not_found' &&
          error.param === 'merchant',
      );
      await assert.rejects(
        clocks.move({ kind: 'advance', milliseconds: 200 * 365 * day }),
        (error: unknown) => error instanceof TestClockError && error.code === 'clock_out_of_range',
      );
      assert.equal(clock.now(merchantB).getTime(), target.getTime(), 'unchanged by refusals');
    });

    test('SQL compares each row with its own merchant time', async () => {
      const at = clockSql(clock.reading(), 'r.merchant_id', 1);
      const result = await test_.database.query<{ merchant_id: string; now: Date; bound: Date }>(
        `SELECT r.merchant_id, ${at.now} AS now, ${at.bound} AS bound
           FROM (VALUES ($${at.values.length + 1}::text), ($${at.values.length + 2}::text), ('acct_other')) AS r(merchant_id)`,
        [...at.values, merchantA, merchantB],
      );
      assert.deepEqual(
        result.rows.map((row) => [row.merchant_id, new Date(row.now).getTime()]),
        [
          [merchantA, realMs + 3 * day],
          [merchantB, realMs + 10 * day],
          ['acct_other', realMs + day],
        ],
      );
      assert.equal(new Date(result.rows[0]?.bound ?? 0).getTime(), realMs + 10 * day);
    });

    test("the ledger dates entries and expires holds on the clock's time", async () => {
      const clock = new OffsetClock();
      clock.advance(30 * day);
      const ledger = new Ledger(test_.database, { clock });
      await ledger.createAccounts(standardAccounts());
      const funded = await ledger.transfer({
        kind: 'posted',
        id: 'clock-fund',
        legs: move('bank:usd', 'merchant:a:available:usd', 1_000n),
      });
      const aheadMs = funded.transaction.createdAt.getTime() - Date.now();
      assert.ok(aheadMs > 30 * day - 60_000 && aheadMs <= 30 * day, `ahead by ${aheadMs} ms`);
      const entry = await test_.database.query<{ created_at: Date }>(
        "SELECT created_at FROM ledger_entries WHERE transaction_id = 'clock-fund' LIMIT 1",
      );
      // clock_timestamp() moves on between rows of the statement: the same time within a second.
      const entryAheadMs =
        new Date(entry.rows[0]?.created_at ?? 0).getTime() - funded.transaction.createdAt.getTime();
      assert.ok(Math.abs(entryAheadMs) < 1_000, `entry ${entryAheadMs} ms from its transaction`);
      await ledger.transfer({
        kind: 'pending',
        id: 'clock-hold',
        legs: move('merchant:a:available:usd', 'merchant:b:available:usd', 100n),
        expiresAt: new Date(clock.now().getTime() + hour),
      });
      assert.deepEqual(await ledger.expireHolds(), [], 'not yet on the clock');
      clock.advance(hour + 1_000);
      const expired = await ledger.expireHolds();
      assert.equal(expired.length, 1);
      assert.equal((await ledger.getHold('clock-hold'))?.status, 'expired');
    });

    test('reset is the explicit way back: one merchant, then everything', async () => {
      const merchantReset = await clocks.reset(merchantB);
      assert.deepEqual(
        merchantReset.merchants.map((scope) => scope.merchantId),
        [merchantA],
      );
      assert.equal(clock.now(merchantB).getTime(), realMs + day, 'back to the system time');
      const all = await clocks.reset();
      assert.equal(all.system.now.getTime(), realMs);
      assert.deepEqual(all.merchants, []);
      assert.equal(clock.now(merchantA).getTime(), realMs);
    });
  });
}

// A live merchant's time is real time: the system clock never runs ahead while one exists, also
// when a move and a live merchant's creation race (the system row serialises them).
for (const kind of ['pglite', 'postgres'] as const) {
  describe(`test clocks and live merchants (${kind})`, () => {
    let test_: TestDatabase;
    let clock: DatabaseClock;
    let clocks: TestClocks;
    let merchants: Merchants;
    const realNow = () => realMs;
    const refusedFor = (param: string) => (error: unknown) =>
      error instanceof TestClockError &&
      error.code === 'merchant_live_mode' &&
      error.param === param;
    const removeLiveMerchants = async () => {
      await test_.database.query(
        'DELETE FROM api_keys WHERE merchant_id IN (SELECT id FROM merchants WHERE livemode)',
      );
      await test_.database.query('DELETE FROM merchants WHERE livemode');
    };
    const liveCount = async () =>
      (await test_.database.query('SELECT 1 FROM merchants WHERE livemode')).rows.length;

    before(async () => {
      test_ = await openTestDatabase(kind);
      clock = new DatabaseClock(test_.database, realNow);
      await clock.start();
      clocks = new TestClocks(test_.database, clock, realNow);
      // As runtime.ts sets merchants up through test mode.
      merchants = new Merchants(test_.database, {
        setUp: async (tx, merchant) => {
          if (merchant.livemode) await assertLiveMerchantAllowed(tx);
        },
      });
    });
    after(async () => {
      clock.stop();
      await test_.drop();
    });

    test('no live merchant while the system clock runs ahead; none of its clock moves', async () => {
      await clocks.move({ kind: 'advance', milliseconds: day });
      await assert.rejects(
        merchants.create({ name: 'Live', livemode: true }),
        refusedFor('livemode'),
      );
      assert.equal(await liveCount(), 0, 'the refused merchant was not created');
      await clocks.reset();
      const live = (await merchants.create({ name: 'Live', livemode: true })).merchant.id;
      await assert.rejects(
        clocks.move({ kind: 'advance', milliseconds: day }),
        refusedFor('merchant'),
        'the system clock',
      );
      await assert.rejects(
        clocks.move({ kind: 'advance', milliseconds: day }, live),
        refusedFor('merchant'),
        "the live merchant's clock",
      );
      const testMerchant = (await merchants.create({ name: 'Test' })).merchant.id;
      const moved = await clocks.move({ kind: 'advance', milliseconds: day }, testMerchant);
      assert.equal(moved.now.getTime(), realMs + day, "a test merchant's clock still moves");
      assert.equal(clock.now(live).getTime(), realMs);
      await removeLiveMerchants();
      await clocks.reset();
    });

    test(
      'a system move waits for a live merchant being created, then refuses',
      { skip: kind === 'pglite' ? 'one session: no two transactions overlap' : false },
      async () => {
        await removeLiveMerchants();
        await clocks.reset();
        // The system row exists at offset 0 (as after any earlier move and its reset by set-up),
        // so only the creation's lock on it, not a pending insert, can hold the move back.
        await test_.database.query(
          `INSERT INTO test_clocks (scope, offset_ms, updated_at) VALUES ('system', 0, now())`,
        );
        let release = () => {};
        const held = new Promise<void>((resolve) => (release = resolve));
        let checked = () => {};
        const passedCheck = new Promise<void>((resolve) => (checked = resolve));
        const slow = new Merchants(test_.database, {
          setUp: async (tx, merchant) => {
            if (merchant.livemode) await assertLiveMerchantAllowed(tx);
            checked();
            await held;
          },
        });
        const creating = slow.create({ name: 'Slow live', livemode: true });
        await passedCheck;
        let moveSettled = false;
        const moving = clocks
          .move({ kind: 'advance', milliseconds: hour })
          .finally(() => (moveSettled = true));
        // Its refusal may come before assert.rejects below looks at it: handled from the start,
        // so it is never an unhandled rejection (the promise stays rejected for the assertion).
        moving.catch(() => {});
        // The move waits on the system row that the creation holds until it commits.
        try {
          await waitUntil(
            'the system move to wait for the lock',
            async () =>
              (
                await test_.database.query(
                  `SELECT 1 FROM pg_stat_activity
                  WHERE datname = current_database() AND wait_event_type = 'Lock'`,
                )
              ).rows.length > 0,
            { timeoutMs: 5_000 },
          );
          assert.equal(moveSettled, false);
        } finally {
          release();
        }
        await creating;
        await assert.rejects(moving, refusedFor('merchant'));
        await clock.refresh();
        assert.equal(clock.now().getTime(), realMs, 'the system clock did not move');
      },
    );

    test('a system move racing live merchants: never both', async () => {
      for (let round = 0; round < 10; round++) {
        await removeLiveMerchants();
        await clocks.reset();
        const results = await Promise.allSettled([
          clocks.move({ kind: 'advance', milliseconds: hour }),
          merchants.create({ name: `Live ${round}`, livemode: true }),
          merchants.create({ name: `Live ${round}b`, livemode: true }),
        ]);
        for (const result of results)
          if (result.status === 'rejected')
            assert.ok(
              refusedFor('merchant')(result.reason) || refusedFor('livemode')(result.reason),
            );
        await clock.refresh();
        const systemAhead = clock.now().getTime() !== realMs;
        assert.ok(!(systemAhead && (await liveCount()) > 0), `round ${round}: both happened`);
        assert.ok(systemAhead || (await liveCount()) > 0, `round ${round}: neither happened`);
      }
    });
  });
}
