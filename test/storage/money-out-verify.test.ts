// `payrail verify`'s money-out checks find what they must: clean after items are posted, made
// available (a negative day on the receivable, a reserve held) and released; a balance transaction
// without its money, or money without its item, is reported, and so is a clearing group that is
// not its items or names a transfer that does not exist; each group made available says so in a
// balance.available event with the merchant and currency.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Availability, Reserves } from '../../src/balances/index.ts';
import { OffsetClock } from '../../src/clock.ts';
import { Ledger } from '../../src/ledger/index.ts';
import { verifyMoneyOut } from '../../src/money-out/verify.ts';
import { createMerchants, newMerchantId, seedItems } from '../support/balance-fixtures.ts';
import { openTestDatabase } from '../support/databases.ts';

const start = Date.parse('2026-03-06T12:00:00Z');

test('money-out verify: clean through availability and reserves, corruption named', async () => {
  const testDatabase = await openTestDatabase('pglite');
  try {
    const database = testDatabase.database;
    const clock = new OffsetClock(() => start);
    const ledger = new Ledger(database, { clock });
    const [merchantId, other] = [newMerchantId(), newMerchantId()] as [string, string];
    await createMerchants(database, [merchantId, other]);
    await database.query(
      `INSERT INTO merchant_payout_settings (merchant_id, reserve_percent_bps, reserve_days, updated_at)
       VALUES ($1, 1000, 3, now())`,
      [merchantId],
    );
    const due = new Date('2026-03-06T00:00:00Z');
    await seedItems(database, ledger, [
      { merchantId, type: 'charge', amount: 10_000n, fee: 320n, availableOn: due },
      { merchantId, type: 'refund', amount: 2_000n, availableOn: due },
      { merchantId: other, type: 'refund', amount: 500n, availableOn: due },
      {
        merchantId,
        type: 'charge',
        amount: 7_000n,
        fee: 200n,
        availableOn: new Date('2026-03-20T00:00:00Z'),
      },
    ]);
    assert.deepEqual((await verifyMoneyOut(database)).problems, []);
    const made = await new Availability({ database, ledger }).makeDue(clock.reading());
    assert.equal(made.items, 3);
    assert.equal(made.reserveHolds, 1);
    assert.equal(made.negativeGroups, 1);
    assert.deepEqual((await verifyMoneyOut(database)).problems, []);
    // One balance.available per group: what became available, what the reserve held, what is left.
    const events = await database.query<{ merchant_id: string; object: Record<string, unknown> }>(
      `SELECT merchant_id, data -> 'object' AS object FROM events WHERE type = 'balance.available'`,
    );
    const byMerchant = new Map(events.rows.map((row) => [row.merchant_id, row.object]));
    assert.equal(events.rows.length, 2);
    assert.deepEqual(
      [
        byMerchant.get(merchantId)?.net,
        byMerchant.get(merchantId)?.reserved,
        byMerchant.get(merchantId)?.available,
      ],
      [7680, 768, 6912],
    );
    assert.deepEqual([byMerchant.get(other)?.net, byMerchant.get(other)?.available], [-500, -500]);
    clock.advance(5 * 86_400_000);
    assert.equal(
      (await new Reserves({ database, ledger }).releaseDue(clock.reading())).released,
      1,
    );
    assert.deepEqual((await verifyMoneyOut(database)).problems, []);

    // An item with no money behind it: the pending sum disagrees, and its transaction is missing.
    await database.query(
      `INSERT INTO balance_transactions (id, merchant_id, currency, type, source, amount, fee, net,
         ledger_transaction_id, created_at, available_on, connector, clearing_status)
       VALUES ('txn_0000forged00001', $1, 'usd', 'charge', 'pi_forged', 999, 0, 999,
         'capture:forged', now(), now(), 'stripe', 'unbatched')`,
      [merchantId],
    );
    const report = await verifyMoneyOut(database);
    assert.equal(report.ok, false);
    assert.ok(
      report.problems.some((problem) => problem.startsWith(`pending_items ${merchantId} usd`)),
      report.problems.join('\n'),
    );
    assert.ok(
      report.problems.some((problem) =>
        problem.startsWith('item_ledger_transaction txn_0000forged00001'),
      ),
      report.problems.join('\n'),
    );

    // A clearing group that is not its items, and one whose availability transfer is missing.
    await database.query(
      `UPDATE clearing_groups SET net = net + 1, item_count = item_count + 1
        WHERE merchant_id = $1 AND availability_id IS NULL`,
      [merchantId],
    );
    await database.query(
      `UPDATE clearing_groups SET availability_id = 'avail:missing' WHERE merchant_id = $1`,
      [other],
    );
    const groups = await verifyMoneyOut(database);
    assert.ok(
      groups.problems.some((problem) => problem.startsWith(`clearing_group_items clearing group `)),
      groups.problems.join('\n'),
    );
    assert.ok(
      groups.problems.some(
        (problem) =>
          problem.startsWith('item_ledger_transaction clearing group') &&
          problem.includes('avail:missing'),
      ),
      groups.problems.join('\n'),
    );
  } finally {
    await testDatabase.drop();
  }
});
