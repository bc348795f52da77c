// Payouts on both databases, driven by the test clock: sealed bank accounts, the payable balance,
// FIFO allocation (a partial payout splits its last item), automatic schedules, sending with the
// bank's answers, returns after paid, cancel, and a crash at each step of sending.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { accountIds } from '../../src/accounts/index.ts';
import { PayoutError } from '../../src/payouts/errors.ts';
import { unpaidUnitsSql } from '../../src/payouts/allocation.ts';
import type { Payout } from '../../src/payouts/types.ts';
import { verifyPayouts } from '../../src/payouts/verify.ts';
import type { FaultPoint } from '../../src/fault-points.ts';
import { migrate, readMigrations } from '../../src/storage/migrations.ts';
import { insertBatchRow } from '../support/balance-fixtures.ts';
import { databaseKinds, openTestDatabase } from '../support/databases.ts';
import {
  addAvailable,
  addReserveHold,
  allocations,
  balanceOf,
  Crash,
  createMerchant,
  day,
  openHarness,
  paidAccount,
  rejectedAccount,
  returnedAccount,
  type Harness,
} from './support.ts';

const usBank = (accountNumber: string) => ({
  currency: 'usd',
  country: 'US',
  accountHolderName: 'Jane Shop',
  routingNumber: '110000000',
  accountNumber,
});

async function refusal(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof PayoutError, String(error));
    assert.equal(error.code, code);
    return true;
  });
}

for (const kind of databaseKinds) {
  describe(`payouts (${kind})`, () => {
    let h: Harness;
    before(async () => {
      h = await openHarness(kind);
    });
    after(() => h.close());

    test('a bank account is sealed at rest, shown masked, found again by its fingerprint', async () => {
      const merchant = await createMerchant(h.database);
      const first = await h.payouts.createBankAccount(merchant, usBank(paidAccount));
      assert.equal(first.last4, '6789');
      assert.equal(first.defaultForCurrency, true);
      const stored = await h.database.query<{ sealed_account_number: Uint8Array }>(
        'SELECT sealed_account_number FROM merchant_bank_accounts WHERE id = $1',
        [first.id],
      );
      const bytes = Buffer.from(stored.rows[0]?.sealed_account_number ?? []);
      assert.ok(bytes.length > 0);
      assert.equal(bytes.includes(paidAccount), false);
      assert.equal(bytes.toString('utf8').includes(paidAccount.slice(-6)), false);
      assert.equal(JSON.stringify(first).includes(paidAccount), false);
      await refusal(
        h.payouts.createBankAccount(merchant, usBank(paidAccount)),
        'bank_account_exists',
      );
      const second = await h.payouts.createBankAccount(merchant, usBank(rejectedAccount));
      assert.equal(second.defaultForCurrency, false);
      // Another merchant may hold the same account; it does not see the first merchant's.
      const other = await createMerchant(h.database);
      const theirs = await h.payouts.createBankAccount(other, usBank(paidAccount));
      assert.notEqual(theirs.id, first.id);
      await refusal(h.payouts.retrieveBankAccount(other, first.id), 'resource_missing');
      // Removing the default makes the next one the default.
      await h.payouts.deleteBankAccount(merchant, first.id);
      assert.equal(
        (await h.payouts.retrieveBankAccount(merchant, second.id)).defaultForCurrency,
        true,
      );
      await refusal(h.payouts.retrieveBankAccount(merchant, first.id), 'resource_missing');
      const listed = await h.payouts.listBankAccounts(merchant, { limit: 10 });
      assert.deepEqual(
        listed.bankAccounts.map((account) => account.id),
        [second.id],
      );
      // Bad input never echoes the number.
      await assert.rejects(
        h.payouts.createBankAccount(merchant, usBank('12-34')),
        (error: Error) => !error.message.includes('12-34'),
      );
    });

    test('payable: available net of reserve holds, minus receivable and the minimum balance', async () => {
      const merchant = await createMerchant(h.database);
      await h.payouts.createBankAccount(merchant, usBank(paidAccount));
      await addAvailable(h, merchant, 10_000n);
      await addReserveHold(h, merchant, 1_000n);
      await addAvailable(h, merchant, -500n, { toReceivable: true });
      await h.payouts.updateSettings(merchant, { minimumBalances: { usd: 2_000n } });
      const payable = await h.payouts.payable(merchant, 'usd');
      assert.deepEqual(payable, {
        available: 9_000n,
        receivable: 500n,
        minimum: 2_000n,
        payable: 6_500n,
      });
      await refusal(
        h.payouts.create(merchant, { currency: 'usd', amount: 6_501n }),
        'balance_insufficient',
      );
      const payout = await h.payouts.create(merchant, { currency: 'usd' });
      assert.equal(payout.amount, 6_500n);
      assert.equal(payout.status, 'pending');
      assert.equal(payout.method, 'manual');
      assert.equal((await h.payouts.payable(merchant, 'usd')).payable, 0n);
      await refusal(h.payouts.create(merchant, { currency: 'usd' }), 'balance_insufficient');
      // Negatives first (the hold and the refund), then the charge, in part.
      const allocated = await allocations(h, payout.id);
      assert.equal(
        allocated.reduce((sum, row) => sum + row.amount, 0n),
        6_500n,
      );
    });

    test('no default bank account: refused', async () => {
      const merchant = await createMerchant(h.database);
      await addAvailable(h, merchant, 1_000n);
      await refusal(h.payouts.create(merchant, { currency: 'usd' }), 'no_external_account');
    });

    test('a manual payout of part of the balance pays its last item in part; the next takes the rest', async () => {
      const merchant = await createMerchant(h.database);
      await h.payouts.createBankAccount(merchant, usBank(paidAccount));
      const a = await addAvailable(h, merchant, 1_000n);
      const b = await addAvailable(h, merchant, -300n);
      const c = await addAvailable(h, merchant, 2_000n);
      const d = await addAvailable(h, merchant, 500n);
      const first = await h.payouts.create(merchant, { currency: 'usd', amount: 1_500n });
      const firstAllocations = new Map(
        (await allocations(h, first.id)).map((row) => [row.balance_transaction_id, row.amount]),
      );
      assert.deepEqual(
        [
          firstAllocations.get(a),
          firstAllocations.get(b),
          firstAllocations.get(c),
          firstAllocations.get(d),
        ],
        [1_000n, -300n, 800n, undefined],
      );
      const second = await h.payouts.create(merchant, { currency: 'usd' });
      assert.equal(second.amount, 1_700n);
      const secondAllocations = new Map(
        (await allocations(h, second.id)).map((row) => [row.balance_transaction_id, row.amount]),
      );
      assert.deepEqual(
        [secondAllocations.get(a), secondAllocations.get(c), secondAllocations.get(d)],
        [undefined, 1_200n, 500n],
      );
      // The payout's own balance transaction.
      const own = await h.database.query<{ type: string; amount: bigint; availability_id: string }>(
        'SELECT type, amount, availability_id FROM balance_transactions WHERE id = $1',
        [second.balanceTransactionId],
      );
      assert.deepEqual(
        { ...own.rows[0], amount: BigInt(own.rows[0]?.amount ?? 0) },
        { type: 'payout', amount: -1_700n, availability_id: `payout:${second.id}` },
      );
      assert.equal(await balanceOf(h, accountIds.merchantAvailable(merchant, 'usd')), 0n);
      assert.equal((await balanceOf(h, accountIds.payoutsInTransit('usd'))) >= 3_200n, true);
    });

    test('a payout of the whole balance contains every item, a refund after the charges too', async () => {
      const merchant = await createMerchant(h.database);
      await h.payouts.createBankAccount(merchant, usBank(paidAccount));
      const a = await addAvailable(h, merchant, 9_680n);
      const b = await addAvailable(h, merchant, 4_825n);
      const c = await addAvailable(h, merchant, 2_397n);
      const refund = await addAvailable(h, merchant, -1_000n);
      const payout = await h.payouts.create(merchant, { currency: 'usd' });
      assert.equal(payout.amount, 15_902n);
      // Taken "as it came", the refund would fall after the cut (the running sum reaches the
      // amount at c): it would belong to no payout and 1,000 of c would stay unpaid forever.
      assert.deepEqual(
        new Map(
          (await allocations(h, payout.id)).map((row) => [row.balance_transaction_id, row.amount]),
        ),
        new Map([
          [a, 9_680n],
          [b, 4_825n],
          [c, 2_397n],
          [refund, -1_000n],
        ]),
      );
      // A part of the balance: the refund first, then the charges FIFO, the last one in part.
      const d = await addAvailable(h, merchant, 3_000n);
      const e = await addAvailable(h, merchant, -500n);
      const part = await h.payouts.create(merchant, { currency: 'usd', amount: 1_000n });
      assert.deepEqual(
        new Map(
          (await allocations(h, part.id)).map((row) => [row.balance_transaction_id, row.amount]),
        ),
        new Map([
          [e, -500n],
          [d, 1_500n],
        ]),
      );
    });

    test('sending: accepted → in_transit → paid; rejected at once → failed and the money back', async () => {
      const merchant = await createMerchant(h.database);
      await h.payouts.createBankAccount(merchant, usBank(paidAccount));
      await addAvailable(h, merchant, 4_000n);
      const payout = await h.payouts.create(merchant, { currency: 'usd', amount: 3_000n });
      const summary = await h.payouts.sendPending();
      assert.ok(summary.inTransit >= 1);
      const sent = await h.payouts.retrieve(merchant, payout.id);
      assert.equal(sent.status, 'in_transit');
      assert.match(sent.traceId ?? '', /^trace_/);
      await refusal(h.payouts.cancel(merchant, payout.id), 'payout_not_cancelable');
      const bankBefore = await balanceOf(h, accountIds.bank('usd'));
      assert.equal(await h.payouts.paid(payout.id, sent.traceId ?? '', h.clock.now()), 'applied');
      assert.equal(
        await h.payouts.paid(payout.id, sent.traceId ?? '', h.clock.now()),
        'already_applied',
      );
      assert.equal((await h.payouts.retrieve(merchant, payout.id)).status, 'paid');
      // bank:usd is an asset: paying out lowers it.
      assert.equal(await balanceOf(h, accountIds.bank('usd')), bankBefore - 3_000n);

      const rejecting = await createMerchant(h.database);
      await h.payouts.createBankAccount(rejecting, usBank(rejectedAccount));
      await addAvailable(h, rejecting, 2_500n);
      const refused = await h.payouts.create(rejecting, { currency: 'usd' });
      assert.equal(await balanceOf(h, accountIds.merchantAvailable(rejecting, 'usd')), 0n);
      await h.payouts.sendPending();
      const failed = await h.payouts.retrieve(rejecting, refused.id);
      assert.equal(failed.status, 'failed');
      assert.equal(failed.failureCode, 'invalid_account_number');
      assert.equal(await balanceOf(h, accountIds.merchantAvailable(rejecting, 'usd')), 2_500n);
      const events = await h.database.query<{ type: string }>(
        'SELECT type FROM events WHERE object_id = $1 ORDER BY id',
        [refused.id],
      );
      assert.deepEqual(
        events.rows.map((row) => row.type),
        ['payout.created', 'payout.failed'],
      );
      // The failure's balance transaction is paid out with the next payout.
      const again = await h.payouts.create(rejecting, { currency: 'usd' });
      assert.equal(again.amount, 2_500n);
      const types = await h.database.query<{ type: string }>(
        `SELECT bt.type FROM payout_allocations a JOIN balance_transactions bt ON bt.id = a.balance_transaction_id
          WHERE a.payout_id = $1`,
        [again.id],
      );
      assert.deepEqual(
        types.rows.map((row) => row.type),
        ['payout_failure'],
      );
    });

    test('returned after paid: failed, the money back in available', async () => {
      const merchant = await createMerchant(h.database);
      await h.payouts.createBankAccount(merchant, usBank(returnedAccount));
      await addAvailable(h, merchant, 1_234n);
      const payout = await h.payouts.create(merchant, { currency: 'usd' });
      await h.payouts.sendPending();
      const sent = await h.payouts.retrieve(merchant, payout.id);
      await h.payouts.paid(payout.id, sent.traceId ?? '', h.clock.now());
      h.clock.advance(2 * day);
      assert.equal(await h.payouts.returned(payout.id, 'AC04', h.clock.now()), 'applied');
      assert.equal(await h.payouts.returned(payout.id, 'AC04', h.clock.now()), 'already_applied');
      const returned = await h.payouts.retrieve(merchant, payout.id);
      assert.equal(returned.status, 'failed');
      assert.equal(returned.failureCode, 'account_closed');
      assert.equal(await balanceOf(h, accountIds.merchantAvailable(merchant, 'usd')), 1_234n);
      const ledger = await h.ledger.getTransaction(`payout_returned:${payout.id}`);
      assert.equal(ledger?.legs[0]?.accountId, accountIds.bank('usd'));
      assert.equal(
        await h.payouts.returned('po_unknown0000', 'AC04', h.clock.now()),
        'unknown_payout',
      );
    });

    test("a failure for the account's sake makes it errored: no more automatic payouts there", async () => {
      const closed = await createMerchant(h.database);
      const account = await h.payouts.createBankAccount(closed, usBank(rejectedAccount));
      const unlucky = await createMerchant(h.database);
      const unluckyAccount = await h.payouts.createBankAccount(unlucky, usBank(paidAccount));
      for (const merchant of [closed, unlucky]) await addAvailable(h, merchant, 1_000n);
      const first = await h.payouts.createDue();
      const ours = first.created.filter((payout) => [closed, unlucky].includes(payout.merchantId));
      assert.equal(ours.length, 2);
      await h.payouts.sendPending();
      // The bank refused the closed merchant's at once; the other's came back for lack of funds.
      const unluckyPayout = ours.find((payout) => payout.merchantId === unlucky) as Payout;
      const sent = await h.payouts.retrieve(unlucky, unluckyPayout.id);
      await h.payouts.paid(sent.id, sent.traceId ?? '', h.clock.now());
      assert.equal(await h.payouts.returned(sent.id, 'AM04', h.clock.now()), 'applied');
      assert.equal((await h.payouts.retrieveBankAccount(closed, account.id)).status, 'errored');
      assert.equal((await h.payouts.retrieveBankAccount(unlucky, unluckyAccount.id)).status, 'new');
      h.clock.advance(day);
      const next = await h.payouts.createDue();
      assert.deepEqual(
        next.created
          .filter((payout) => [closed, unlucky].includes(payout.merchantId))
          .map((payout) => [payout.merchantId, payout.amount]),
        [[unlucky, 1_000n]],
        'the errored account gets nothing; the other is paid again',
      );
      assert.equal(await balanceOf(h, accountIds.merchantAvailable(closed, 'usd')), 1_000n);
    });

    test('cancel while pending: canceled, reversed, never sent', async () => {
      const merchant = await createMerchant(h.database);
      await h.payouts.createBankAccount(merchant, usBank(paidAccount));
      await addAvailable(h, merchant, 900n);
      const payout = await h.payouts.create(merchant, { currency: 'usd' });
      const canceled = await h.payouts.cancel(merchant, payout.id);
      assert.equal(canceled.status, 'canceled');
      assert.equal(await balanceOf(h, accountIds.merchantAvailable(merchant, 'usd')), 900n);
      await refusal(h.payouts.cancel(merchant, payout.id), 'payout_not_cancelable');
      await h.payouts.sendPending();
      assert.equal(h.bank.executions.has(payout.id), false);
      const other = await createMerchant(h.database);
      await refusal(h.payouts.cancel(other, payout.id), 'resource_missing');
      await refusal(h.payouts.retrieve(other, payout.id), 'resource_missing');
    });

    for (const point of [
      'payout_after_send_recorded',
      'payout_after_bank_call',
      'payout_after_result_recorded',
    ] as const satisfies readonly FaultPoint[]) {
      test(`a crash at ${point}: sent again, executed once by the bank`, async () => {
        for (const accountNumber of [paidAccount, rejectedAccount]) {
          const merchant = await createMerchant(h.database);
          await h.payouts.createBankAccount(merchant, usBank(accountNumber));
          await addAvailable(h, merchant, 700n);
          const payout = await h.payouts.create(merchant, { currency: 'usd' });
          h.crashAt = point;
          await assert.rejects(h.payouts.sendPending(), Crash);
          await h.payouts.sendPending();
          await h.payouts.sendPending();
          assert.equal(h.bank.executions.get(payout.id), 1);
          // Sent again after a crash past the bank call, always under the same payout id.
          const requests = h.bank.requests.filter((body) => body.payout_id === payout.id).length;
          assert.equal(
            requests,
            point === 'payout_after_send_recorded' ? 1 : point === 'payout_after_bank_call' ? 2 : 1,
          );
          const after = await h.payouts.retrieve(merchant, payout.id);
          assert.equal(after.status, accountNumber === paidAccount ? 'in_transit' : 'failed');
          assert.equal(
            await balanceOf(h, accountIds.merchantAvailable(merchant, 'usd')),
            accountNumber === paidAccount ? 0n : 700n,
          );
        }
      });
    }

    test('everything above verifies: allocations, items, ledger transfers, in transit', async () => {
      assert.deepEqual(await verifyPayouts(h.database), []);
    });
  });

  describe(`verifying payouts (${kind})`, () => {
    let h: Harness;
    before(async () => {
      h = await openHarness(kind);
    });
    after(() => h.close());

    test('every kind of payout verifies; a broken allocation or transfer is found', async () => {
      const merchant = await createMerchant(h.database);
      await h.payouts.createBankAccount(merchant, usBank(paidAccount));
      for (let index = 0; index < 5; index++) await addAvailable(h, merchant, 1_000n);
      const paid = await h.payouts.create(merchant, { currency: 'usd', amount: 1_500n });
      const returned = await h.payouts.create(merchant, { currency: 'usd', amount: 1_000n });
      await h.payouts.sendPending();
      await h.payouts.paid(paid.id, 'trace_a', h.clock.now());
      await h.payouts.returned(returned.id, 'AC04', h.clock.now());
      const canceled = await h.payouts.create(merchant, { currency: 'usd', amount: 700n });
      await h.payouts.cancel(merchant, canceled.id);
      await h.payouts.create(merchant, { currency: 'usd', amount: 300n });
      const rejecting = await createMerchant(h.database);
      await h.payouts.createBankAccount(rejecting, usBank(rejectedAccount));
      await addAvailable(h, rejecting, 800n);
      await h.payouts.create(rejecting, { currency: 'usd' });
      await h.payouts.sendPending();
      assert.deepEqual(await verifyPayouts(h.database), []);

      await h.database.query(
        'UPDATE payout_group_allocations SET amount = amount + 1 WHERE payout_id = $1 AND amount > 1',
        [paid.id],
      );
      const problems = await verifyPayouts(h.database);
      assert.deepEqual(
        [...new Set(problems.map((problem) => `${problem.check} ${problem.subject}`))].filter(
          (found) => !found.startsWith('group_over_allocated'),
        ),
        [`allocations_sum ${paid.id}`],
      );
      // The paid payout's first group was paid out in full: one more is beyond its net (and is not
      // what the group says was paid out of it).
      assert.ok(problems.some((problem) => problem.check === 'group_over_allocated'));
      await h.database.query(
        'UPDATE payout_group_allocations SET amount = amount - 1 WHERE payout_id = $1 AND amount > 2',
        [paid.id],
      );
      await h.database.query("UPDATE payouts SET status = 'in_transit' WHERE id = $1", [paid.id]);
      assert.deepEqual((await verifyPayouts(h.database)).map((problem) => problem.check).sort(), [
        'in_transit_balance',
        'ledger_transfers',
      ]);
    });
  });

  describe(`a payout and the merchant's history (${kind})`, () => {
    let h: Harness;
    before(async () => {
      h = await openHarness(kind);
    });
    after(() => h.close());

    /** Years of units paid out in full: clearing groups and payout failures (rows only). */
    async function paidHistory(merchant: string, groups: number, items: number): Promise<void> {
      const now = h.clock.now();
      const batch = await insertBatchRow(h.database, 'stripe', 'usd', now);
      await h.database.query(
        `INSERT INTO clearing_groups (batch_id, merchant_id, currency, available_on, item_count, net,
           availability_id, created_at)
         SELECT $1, $2, 'usd', $3::timestamptz - k * interval '1 day', 1, 1000 + k, 'avail:history' || k,
                $3::timestamptz - k * interval '1 day'
           FROM generate_series(1, $4::int) AS k`,
        [batch, merchant, now, groups],
      );
      await h.database.query(
        `INSERT INTO balance_transactions (id, merchant_id, currency, type, source, amount, fee, net,
           ledger_transaction_id, created_at, available_on, availability_id)
         SELECT 'txn_history' || lpad(k::text, 8, '0') || replace($2, '_', ''), $2, 'usd', 'payout_failure', 'po_history' || k,
                500, 0, 500, 'payout_failed:history' || k || $2, $3::timestamptz - k * interval '1 day',
                $3::timestamptz - k * interval '1 day', 'payout_failed:history' || k || $2
           FROM generate_series(1, $1::int) AS k`,
        [items, merchant, now],
      );
    }

    test('reads only the units not fully paid out: a long paid history changes nothing', async () => {
      const fresh = await createMerchant(h.database);
      const aged = await createMerchant(h.database);
      await paidHistory(aged, 3_000, 1_000);
      const taken: bigint[][] = [];
      for (const merchant of [fresh, aged]) {
        await h.payouts.createBankAccount(merchant, usBank(paidAccount));
        const units = [
          await addAvailable(h, merchant, 1_000n),
          await addAvailable(h, merchant, -300n),
          await addAvailable(h, merchant, 2_000n),
        ];
        const payout = await h.payouts.create(merchant, { currency: 'usd', amount: 1_500n });
        const of = new Map(
          (await allocations(h, payout.id)).map((row) => [row.balance_transaction_id, row.amount]),
        );
        taken.push(units.map((unit) => of.get(unit) ?? 0n));
        assert.equal(of.size, 3, 'nothing of the history');
      }
      assert.deepEqual(taken, [
        [1_000n, -300n, 800n],
        [1_000n, -300n, 800n],
      ]);
      // What the units' query reads for the aged merchant: its unpaid units, not its history.
      await h.database.query('ANALYZE clearing_groups');
      await h.database.query('ANALYZE balance_transactions');
      const explained = await h.database.query<{ 'QUERY PLAN': unknown }>(
        `EXPLAIN (ANALYZE, FORMAT JSON) ${unpaidUnitsSql(`'${aged}'`, "'usd'")}`,
      );
      type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] };
      const raw = explained.rows[0]?.['QUERY PLAN'];
      const root = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
      const reads: [string, number][] = [];
      const walk = (node: PlanNode) => {
        const relation = node['Relation Name'];
        if (typeof relation === 'string' && !node['Node Type']?.toString().includes('Bitmap Index'))
          reads.push([
            relation,
            Number(node['Actual Rows']) * Number(node['Actual Loops'] ?? 1) +
              Number(node['Rows Removed by Filter'] ?? 0) +
              Number(node['Rows Removed by Index Recheck'] ?? 0),
          ]);
        for (const child of node.Plans ?? []) walk(child);
      };
      walk((root[0] as { Plan: PlanNode }).Plan);
      assert.deepEqual(reads.map(([relation]) => relation).sort(), [
        'balance_transactions',
        'clearing_groups',
      ]);
      // One row: the clearing group of the 2,000 unit, 1,200 of it left (the others are paid out).
      for (const [relation, read] of reads) assert.ok(read <= 1, `${relation}: ${read} rows read`);
    });
  });

  describe(`automatic payouts (${kind})`, () => {
    let h: Harness;
    before(async () => {
      h = await openHarness(kind); // Monday 2026-12-07 10:00 UTC
    });
    after(() => h.close());

    test('daily: one per merchant, currency and day; weekly on its anchor; manual never', async () => {
      const daily = await createMerchant(h.database);
      const weekly = await createMerchant(h.database);
      const manual = await createMerchant(h.database);
      const noAccount = await createMerchant(h.database);
      for (const merchant of [daily, weekly, manual])
        await h.payouts.createBankAccount(merchant, usBank(paidAccount));
      await h.payouts.updateSettings(weekly, { schedule: 'weekly', weeklyAnchor: 3 }); // Wednesday
      await h.payouts.updateSettings(manual, { schedule: 'manual' });
      for (const merchant of [daily, weekly, manual, noAccount])
        await addAvailable(h, merchant, 1_000n);

      const monday = await h.payouts.createDue();
      assert.deepEqual(
        monday.created.map((payout) => [payout.merchantId, payout.amount, payout.method]),
        [[daily, 1_000n, 'automatic']],
      );
      await addAvailable(h, daily, 50n);
      assert.equal((await h.payouts.createDue()).created.length, 0, 'at most once a day');

      h.clock.advance(day); // Tuesday
      const tuesday = await h.payouts.createDue();
      assert.deepEqual(
        tuesday.created.map((payout) => [payout.merchantId, payout.amount]),
        [[daily, 50n]],
      );
      h.clock.advance(day); // Wednesday
      await addAvailable(h, daily, 10n);
      const wednesday = await h.payouts.createDue();
      assert.deepEqual(
        wednesday.created.map((payout) => payout.merchantId).sort(),
        [daily, weekly].sort(),
      );
      // A merchant whose own clock runs a day ahead gets its day's payout by its own time.
      h.clock.advance(day, weekly);
      await addAvailable(h, weekly, 10n);
      assert.equal((await h.payouts.createDue()).created.length, 0, 'Thursday is not its anchor');
      const manualPayouts = await h.payouts.list(manual, { limit: 10 });
      assert.equal(manualPayouts.payouts.length, 0);
      const listed = await h.payouts.list(daily, { limit: 10, status: 'pending' });
      assert.equal(listed.payouts.length, 3);
      assert.ok(listed.payouts.every((payout) => payout.method === 'automatic'));
    });
  });
}

describe('concurrent payouts (postgres)', () => {
  let h: Harness;
  before(async () => {
    h = await openHarness('postgres');
  });
  after(() => h.close());

  test('many concurrent payouts never overdraw available nor allocate an item twice', async () => {
    const merchant = await createMerchant(h.database);
    await h.payouts.createBankAccount(merchant, usBank(paidAccount));
    for (let index = 0; index < 20; index++) await addAvailable(h, merchant, 1_000n);
    await addAvailable(h, merchant, -2_000n);
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, () =>
        h.payouts.create(merchant, { currency: 'usd', amount: 700n }),
      ),
    );
    const made = results.filter((result) => result.status === 'fulfilled');
    for (const result of results)
      if (result.status === 'rejected')
        assert.equal((result.reason as PayoutError).code, 'balance_insufficient');
    assert.equal(made.length, Math.floor(18_000 / 700));
    assert.equal(
      await balanceOf(h, accountIds.merchantAvailable(merchant, 'usd')),
      18_000n - BigInt(made.length) * 700n,
    );
    const overAllocated = await h.database.query(
      `SELECT g.batch_id FROM clearing_groups g JOIN payout_group_allocations a
           ON a.batch_id = g.batch_id AND a.merchant_id = g.merchant_id AND a.available_on = g.available_on
        WHERE g.merchant_id = $1 GROUP BY g.batch_id, g.net, g.unpaid
       HAVING (g.net > 0 AND sum(a.amount) > g.net) OR (g.net < 0 AND sum(a.amount) < g.net)
           OR sum(a.amount) <> g.net - coalesce(g.unpaid, 0)`,
      [merchant],
    );
    assert.equal(overAllocated.rows.length, 0);
    const sums = await h.database.query<{ payout_id: string; total: bigint; amount: bigint }>(
      `SELECT p.id AS payout_id, sum(a.amount)::bigint AS total, p.amount FROM payouts p
         JOIN payout_group_allocations a ON a.payout_id = p.id WHERE p.merchant_id = $1 GROUP BY p.id, p.amount`,
      [merchant],
    );
    assert.equal(sums.rows.length, made.length);
    for (const row of sums.rows) assert.equal(BigInt(row.total), BigInt(row.amount));
    assert.deepEqual(await verifyPayouts(h.database), []);
  });

  test("two createDue runs at once make each merchant's payout once; a merchant whose items disagree with the ledger fails alone", async () => {
    const merchants: string[] = [];
    for (let index = 0; index < 30; index++) {
      const merchant = await createMerchant(h.database);
      await h.payouts.createBankAccount(merchant, usBank(paidAccount));
      await addAvailable(h, merchant, BigInt(1_000 + index));
      merchants.push(merchant);
    }
    // Money in its available account that no balance transaction itemizes.
    const broken = merchants[17] as string;
    await h.ledger.transfer({
      kind: 'posted',
      id: `avail:broken${broken}`,
      legs: [
        {
          accountId: accountIds.merchantPending(broken, 'usd'),
          direction: 'debit',
          amount: 500n,
          currency: 'usd',
        },
        {
          accountId: accountIds.merchantAvailable(broken, 'usd'),
          direction: 'credit',
          amount: 500n,
          currency: 'usd',
        },
      ],
    });
    const reading = h.clock.reading();
    const runs = await Promise.allSettled(
      [0, 1].map(() =>
        h.payouts.createDue(reading, { merchantsPerTransaction: 8, concurrency: 2 }),
      ),
    );
    // The broken merchant fails loudly in at least one run; the others are made all the same.
    assert.ok(runs.some((run) => run.status === 'rejected'));
    for (const run of runs)
      if (run.status === 'rejected') {
        assert.ok(run.reason instanceof AggregateError);
        assert.match(String(run.reason.errors[0]), new RegExp(broken));
      }
    const made = await h.database.query<{ merchant_id: string; count: number; amount: bigint }>(
      `SELECT merchant_id, count(*)::int AS count, sum(amount)::bigint AS amount FROM payouts
        WHERE merchant_id = ANY($1::text[]) GROUP BY merchant_id`,
      [merchants],
    );
    assert.deepEqual(
      new Map(made.rows.map((row) => [row.merchant_id, [row.count, BigInt(row.amount)]])),
      new Map(
        merchants
          .filter((merchant) => merchant !== broken)
          .map((merchant) => [merchant, [1, BigInt(1_000 + merchants.indexOf(merchant))]]),
      ),
    );
    assert.deepEqual(await verifyPayouts(h.database), []);
  });
});

describe('migration 028 on a database of before (pglite)', () => {
  test('items made available one by one become units with what earlier payouts left of them', async () => {
    const testDatabase = await openTestDatabase('pglite', { migrated: false });
    try {
      const database = testDatabase.database;
      const all = readMigrations();
      await migrate(
        database,
        all.filter((migration) => migration.name < '028'),
      );
      const at = new Date('2026-03-02T12:00:00Z');
      await database.query(
        "INSERT INTO merchants (id, name) VALUES ('mch_old0000001', 'Old shop')",
      );
      await database.query(
        `INSERT INTO merchant_bank_accounts (id, merchant_id, currency, country, account_holder_name,
           sealed_account_number, last4, fingerprint, created_at)
         VALUES ('ba_old0000001', 'mch_old0000001', 'usd', 'US', 'Old shop', '\\x00'::bytea, '6789', 'fp', $1)`,
        [at],
      );
      await database.query(
        `INSERT INTO settlement_batches (id, connector, currency, cutoff_at, status, created_at)
         VALUES ('sb_old0000001', 'stripe', 'usd', $1, 'funded', $1)`,
        [at],
      );
      await database.query(
        `INSERT INTO payouts (id, merchant_id, currency, amount, method, status, bank_account_id,
           arrival_date, created_at, updated_at)
         VALUES ('po_old0000001', 'mch_old0000001', 'usd', 700, 'manual', 'paid', 'ba_old0000001', $1, $1, $1)`,
        [at],
      );
      const item = (
        id: string,
        type: string,
        net: number,
        availability: string | null,
        batched: boolean,
      ) =>
        database.query(
          `INSERT INTO balance_transactions (id, merchant_id, currency, type, source, amount, fee, net,
             ledger_transaction_id, created_at, available_on, availability_id, connector, clearing_status,
             batch_id)
           VALUES ($1, 'mch_old0000001', 'usd', $2, 'src_' || $1, $3, 0, $3, 'ledger:' || $1, $4, $4, $5,
                   CASE WHEN $6 THEN 'stripe' END, CASE WHEN $6 THEN 'batched' END,
                   CASE WHEN $6 THEN 'sb_old0000001' END)`,
          [id, type, net, at, availability, batched],
        );
      await item('txn_oldcharge01', 'charge', 1_000, 'avail:old', true);
      await item('txn_oldrefund01', 'refund', -200, 'avail:old', true);
      await item('txn_oldfailure1', 'payout_failure', 300, 'ledger:txn_oldfailure1', false);
      await item('txn_oldpayout01', 'payout', -700, 'ledger:txn_oldpayout01', false);
      await database.query(
        `INSERT INTO payout_allocations (payout_id, balance_transaction_id, amount)
         VALUES ('po_old0000001', 'txn_oldcharge01', 900), ('po_old0000001', 'txn_oldrefund01', -200)`,
      );
      await migrate(database);
      const units = await database.query<{ id: string; unpaid: bigint | null }>(
        'SELECT id, unpaid FROM balance_transactions ORDER BY id',
      );
      assert.deepEqual(
        units.rows.map((row) => [row.id, row.unpaid === null ? null : BigInt(row.unpaid)]),
        [
          ['txn_oldcharge01', 100n],
          ['txn_oldfailure1', 300n],
          ['txn_oldpayout01', null],
          ['txn_oldrefund01', null],
        ],
      );
      const unpaid = await database.query<{ key: string; remaining: bigint }>(
        `SELECT key, remaining FROM (${unpaidUnitsSql("'mch_old0000001'", "'usd'")}) AS u ORDER BY key`,
      );
      assert.deepEqual(
        unpaid.rows.map((row) => [row.key, BigInt(row.remaining)]),
        [
          ['txn_oldcharge01', 100n],
          ['txn_oldfailure1', 300n],
        ],
      );
    } finally {
      await testDatabase.drop();
    }
  });
});
