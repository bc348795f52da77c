// Money out end to end (issue 11, architecture §12): a real Payrail server and the
// simulator's stripe, acquirer and bank over HTTP, driven only by the test clock. Each scenario
// starts on a fresh weekday after the previous one's end, with its own merchant, and follows the
// money from the capture to the merchant's bank account: the balance, the balance transactions
// (also `?payout=`), the payouts, the events, and the simulator's ground truth. On PGlite and on
// PostgreSQL (automatic payouts run concurrently across merchants there).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  dayAt,
  MoneyOutDriver,
  nextWeekdayAt,
  paidAccount,
  rejectedAccount,
  returnedAccount,
  stripeFee,
  type Json,
} from '../support/money-out.ts';
import { verifyMoneyOut } from '../../src/money-out/verify.ts';
import { databaseKinds } from '../support/databases.ts';
import { startSimulatedStack } from '../support/simulator.ts';
import { call } from '../support/server.ts';

const thursday = 4;
const friday = 5;
const net = (amount: number): number => amount - stripeFee(amount);
const ids = (rows: readonly Json[]): string[] => rows.map((row) => String(row.id)).sort();

for (const kind of databaseKinds) {
  describe(`money out end to end on ${kind}, over HTTP with the simulator, by the test clock`, () => {
    let driver: MoneyOutDriver;

    before(async () => {
      // No workers: the test runs the pipeline itself, at the instants it chooses.
      const stack = await startSimulatedStack({
        database: kind,
        env: { PAYRAIL_RUN_WORKERS: 'false' },
      });
      driver = new MoneyOutDriver(stack);
      stack.server.forbidInLogs(paidAccount, rejectedAccount, returnedAccount);
    });
    after(async () => {
      try {
        // After every scenario: payrail verify's money-out checks and a balanced ledger.
        assert.deepEqual(await verifyMoneyOut(driver.server.context.database), {
          ok: true,
          problems: [],
        });
        assert.deepEqual(await driver.ledgerImbalances(), []);
      } finally {
        await driver.stack.stop();
      }
    });

    test('happy path: captured Thursday, available Monday (T+2 business days), paid out and paid', async () => {
      const start = nextWeekdayAt(await driver.now(), thursday, 10);
      await driver.at(start);
      const shop = await driver.merchant('Happy shop');
      const amounts = [10_000, 5_000, 2_500];
      const payments = [];
      for (const amount of amounts) payments.push(await driver.pay(shop, amount));
      const refund = await driver.refund(shop, String(payments[1]?.id), 1_000);
      const owed = amounts.reduce((sum, amount) => sum + net(amount), 0) - 1_000;

      // Before the 18:00 cutoff nothing is batched.
      await driver.run();
      assert.deepEqual(await driver.balance(shop), { available: 0, pending: owed, reserved: 0 });
      const items = await driver.clearing(shop.id);
      assert.equal(items.size, 4);
      assert.ok([...items.values()].every((item) => item.status === 'unbatched'));

      // After the cutoff: one batch, submitted, every item accepted, the PSP's report read.
      await driver.runAt(dayAt(start, 0, 19));
      const accepted = await driver.clearing(shop.id);
      assert.ok(
        [...accepted.values()].every((item) => item.status === 'accepted'),
        JSON.stringify([...accepted.values()]),
      );
      const batchId = [...accepted.values()][0]?.batch as string;
      const truth = await driver.truth();
      const batch = truth.acquirer.batches[batchId];
      assert.ok(batch !== undefined, 'the acquirer has the batch');
      assert.equal(batch.executions, 1);
      const ours = batch.items.filter((item) => accepted.has(item.item_id));
      assert.equal(ours.length, 4);
      assert.ok(ours.every((item) => item.result === 'accepted'));
      const stored = await driver.server.context.database.query<{
        status: string;
        psp_fee: bigint | null;
      }>('SELECT status, psp_fee FROM settlement_batches WHERE id = $1', [batchId]);
      assert.equal(stored.rows[0]?.status, 'acknowledged');
      assert.equal(
        BigInt(stored.rows[0]?.psp_fee ?? -1n),
        BigInt(batch.fee_amount),
        'the PSP fee as reported',
      );
      assert.deepEqual(await driver.balance(shop), { available: 0, pending: owed, reserved: 0 });

      // Friday: the bank statement shows the settlement credit; the batch is funded. Still pending.
      await driver.runAt(dayAt(start, 1, 12));
      const funded = await driver.server.context.database.query<{ status: string }>(
        'SELECT status FROM settlement_batches WHERE id = $1',
        [batchId],
      );
      assert.equal(funded.rows[0]?.status, 'funded');
      const credit = (await driver.truth()).bank.credits.find(
        (entry) => entry.batch_id === batchId,
      );
      assert.equal(credit?.amount, batch.accepted_amount - batch.fee_amount);
      assert.equal(credit?.entries[0]?.booked_on, dayAt(start, 1, 0).toISOString().slice(0, 10));
      assert.deepEqual(await driver.balance(shop), { available: 0, pending: owed, reserved: 0 });
      assert.deepEqual(await driver.payouts(shop), []);
      // The merchant heard of its share of the batch when it was acknowledged and when funded.
      const shares = await driver.eventObjects(shop, 'settlement_batch.*');
      assert.deepEqual(
        shares.map((share) => [
          share.id,
          share.status,
          share.accepted_count,
          share.accepted_net,
          share.rejected_count,
          share.funded_at === null,
        ]),
        [
          [batchId, 'acknowledged', 4, owed, 0, true],
          [batchId, 'funded', 4, owed, null, false],
        ],
      );

      // The weekend is no business day: nothing becomes available, nothing is paid out.
      for (const day of [2, 3]) {
        await driver.runAt(dayAt(start, day, 12));
        assert.deepEqual(await driver.balance(shop), { available: 0, pending: owed, reserved: 0 });
      }
      assert.deepEqual(await driver.payouts(shop), []);

      // Monday: available, and the daily automatic payout takes all of it to the bank.
      await driver.runAt(dayAt(start, 4, 9));
      assert.deepEqual(await driver.balance(shop), { available: 0, pending: 0, reserved: 0 });
      const [payout] = await driver.payouts(shop);
      assert.ok(payout !== undefined);
      assert.deepEqual(
        [payout.amount, payout.status, payout.automatic, payout.destination],
        [owed, 'in_transit', true, shop.bankAccount],
      );
      assert.match(String(payout.trace_id), /^\d{15}$/);
      const contents = await driver.transactions(shop, `payout=${String(payout.id)}`);
      const charges = await driver.transactions(shop, 'type=charge');
      const refunds = await driver.transactions(shop, 'type=refund');
      assert.deepEqual(
        ids(contents),
        ids([...charges, ...refunds, { id: payout.balance_transaction }]),
      );
      assert.equal(
        contents.reduce((sum, row) => sum + Number(row.net), 0),
        0,
        'the payout nets its items',
      );
      assert.ok([...charges, ...refunds].every((row) => row.status === 'available'));
      assert.equal(refunds[0]?.source, refund.id);
      const mondayMidnight = Math.floor(dayAt(start, 4, 0).getTime() / 1000);
      assert.ok(
        charges.every((row) => row.available_on === mondayMidnight),
        'T+2 business days',
      );

      // The statement of the day shows the debit: paid, as the bank says, in the ledger.
      await driver.runAt(dayAt(start, 4, 12));
      const paid = await driver.payout(shop, String(payout.id));
      assert.equal(paid.status, 'paid');
      const bank = (await driver.truth()).bank.payouts[String(payout.id)];
      assert.deepEqual(
        [bank?.executions, bank?.amount, bank?.status, bank?.trace_id, bank?.booked_on],
        [1, owed, 'paid', payout.trace_id, dayAt(start, 4, 0).toISOString().slice(0, 10)],
      );
      const ledger = await driver.server.context.database.query<{ id: string; amount: bigint }>(
        `SELECT t.id, sum(e.amount)::bigint AS amount FROM ledger_transactions t
           JOIN ledger_entries e ON e.transaction_id = t.id AND e.direction = 'debit'
          WHERE t.id IN ($1, $2) GROUP BY t.id ORDER BY t.id`,
        [`payout:${String(payout.id)}`, `payout_paid:${String(payout.id)}`],
      );
      assert.deepEqual(
        ledger.rows.map((row) => [row.id, BigInt(row.amount)]),
        [
          [`payout:${String(payout.id)}`, BigInt(owed)],
          [`payout_paid:${String(payout.id)}`, BigInt(owed)],
        ],
      );
      assert.deepEqual(await driver.eventTypes(shop, 'payout.*'), [
        'payout.created',
        'payout.paid',
      ]);
      const [available] = await driver.eventObjects(shop, 'balance.available');
      assert.deepEqual(
        [
          available?.balance_transactions,
          available?.net,
          available?.reserved,
          available?.available,
        ],
        [4, owed, 0, owed],
      );
      assert.equal(available?.available_on, mondayMidnight);
      assert.deepEqual(await driver.ledgerImbalances(), []);
    });

    test('partial acceptance: a rejected capture is retried in the next batch and then paid out', async () => {
      const start = nextWeekdayAt(await driver.now(), thursday, 10);
      await driver.at(start);
      const shop = await driver.merchant('Partly accepted shop');
      const amounts = [4_000, 6_000, 8_000];
      const payments = [];
      for (const amount of amounts) payments.push(await driver.pay(shop, amount));
      const rejected = await driver.pspReference(String(payments[1]?.id));
      await driver.simulatorAdmin('PUT', '/_sim/acquirer/faults', {
        rejectReferences: { [rejected]: 'amount_invalid' },
      });
      try {
        await driver.runAt(dayAt(start, 0, 19));
      } finally {
        await driver.simulatorAdmin('DELETE', '/_sim/acquirer/faults');
      }
      const first = await driver.clearing(shop.id);
      const byStatus = (items: typeof first, status: string) =>
        [...items.values()].filter((item) => item.status === status);
      assert.equal(byStatus(first, 'accepted').length, 2);
      const [retried] = byStatus(first, 'unbatched');
      assert.equal(retried?.reason, 'amount_invalid');
      const firstBatch = String(byStatus(first, 'accepted')[0]?.batch);
      assert.equal(await driver.batchStatus(firstBatch), 'partially_acknowledged');
      const retriedId = [...first].find(([, item]) => item.status === 'unbatched')?.[0] as string;
      const truth = await driver.truth();
      assert.deepEqual(
        truth.acquirer.batches[firstBatch]?.items
          .filter((item) => first.has(item.item_id))
          .map((item) => [item.item_id === retriedId, item.result, item.reason_code ?? null])
          .sort(),
        [
          [false, 'accepted', null],
          [false, 'accepted', null],
          [true, 'rejected', 'amount_invalid'],
        ],
      );

      // Friday: the first batch is funded; at Friday's cutoff the rejected item goes again.
      await driver.runAt(dayAt(start, 1, 12));
      assert.equal(await driver.batchStatus(firstBatch), 'funded');
      await driver.runAt(dayAt(start, 1, 19));
      const second = await driver.clearing(shop.id);
      assert.equal(second.get(retriedId)?.status, 'accepted');
      const secondBatch = String(second.get(retriedId)?.batch);
      assert.notEqual(secondBatch, firstBatch);
      const again = (await driver.truth()).acquirer.batches[secondBatch];
      assert.deepEqual(
        again?.items
          .filter((item) => second.has(item.item_id))
          .map((item) => [item.item_id, item.result]),
        [[retriedId, 'accepted']],
      );
      assert.equal(again?.executions, 1);
      assert.equal((await driver.truth()).acquirer.batches[firstBatch]?.executions, 1);

      // Monday: all three are available and paid out together; the second batch's credit (booked
      // on Monday, Friday's cutoff + 1 business day) funds it.
      const owed = amounts.reduce((sum, amount) => sum + net(amount), 0);
      await driver.runAt(dayAt(start, 4, 9));
      const [payout] = await driver.payouts(shop);
      assert.deepEqual([payout?.amount, payout?.status], [owed, 'in_transit']);
      await driver.runAt(dayAt(start, 4, 12));
      assert.equal(await driver.batchStatus(secondBatch), 'funded');
      assert.equal((await driver.payout(shop, String(payout?.id))).status, 'paid');
      const bank = (await driver.truth()).bank.payouts[String(payout?.id)];
      assert.deepEqual([bank?.amount, bank?.status, bank?.executions], [owed, 'paid', 1]);
      assert.deepEqual(await driver.balance(shop), { available: 0, pending: 0, reserved: 0 });
      assert.equal((await driver.transactions(shop, `payout=${String(payout?.id)}`)).length, 4);
    });

    test('late presentment: captured after the capture window, never submitted, an exception', async () => {
      const start = nextWeekdayAt(await driver.now(), thursday, 10);
      await driver.at(start);
      const shop = await driver.merchant('Late shop');
      const authorized = await driver.pay(shop, 7_000, { manual: true });
      await driver.pay(shop, 3_000);
      await driver.runAt(dayAt(start, 0, 19));
      // Eight days after the authorization (the window is 7): captured, then at the cutoff an exception.
      await driver.at(dayAt(start, 8, 10));
      await driver.capture(shop, String(authorized.id));
      await driver.runAt(dayAt(start, 8, 19));
      const items = await driver.clearing(shop.id);
      const late = [...items].find(([, item]) => item.status !== 'accepted');
      assert.ok(late !== undefined);
      assert.deepEqual(
        [late[1].status, late[1].reason, late[1].batch],
        ['exception', 'authorization_expired', null],
      );
      const truth = await driver.truth();
      const submitted = Object.values(truth.acquirer.batches).flatMap((batch) =>
        batch.items.map((item) => item.item_id),
      );
      assert.ok(!submitted.includes(late[0]), 'never sent to the acquirer');
      // Days later it is still pending (explained by the exception); only the other was paid out.
      await driver.runAt(dayAt(start, 11, 9));
      await driver.runAt(dayAt(start, 12, 9));
      assert.deepEqual(await driver.balance(shop), {
        available: 0,
        pending: net(7_000),
        reserved: 0,
      });
      const payouts = await driver.payouts(shop);
      assert.deepEqual(
        payouts.map((payout) => [payout.amount, payout.status]),
        [[net(3_000), 'paid']],
      );
      const [shown] = await driver.transactions(shop, `source=${String(authorized.id)}`);
      assert.equal(shown?.status, 'pending');
    });

    test('a negative day: refunds exceed captures, no payout, a receivable recovered the next day', async () => {
      const start = nextWeekdayAt(await driver.now(), thursday, 10);
      await driver.at(start);
      const shop = await driver.merchant('Negative shop');
      const first = await driver.pay(shop, 10_000);
      await driver.runAt(dayAt(start, 0, 19));
      // Friday: the whole of Thursday's payment refunded, a small capture.
      await driver.at(dayAt(start, 1, 10));
      await driver.refund(shop, String(first.id), 10_000);
      await driver.pay(shop, 2_000);
      await driver.runAt(dayAt(start, 1, 19));
      // Monday: Thursday's net is available and paid out; a new capture.
      await driver.runAt(dayAt(start, 4, 9));
      const [monday] = await driver.payouts(shop);
      assert.deepEqual([monday?.amount, monday?.status], [net(10_000), 'in_transit']);
      await driver.pay(shop, 20_000);
      await driver.runAt(dayAt(start, 4, 19));
      // Tuesday: Friday's net is negative: nothing to pay out, the shortfall is owed (receivable).
      const shortfall = 10_000 - net(2_000);
      await driver.runAt(dayAt(start, 5, 9));
      assert.deepEqual(await driver.balance(shop), {
        available: -shortfall,
        pending: net(20_000),
        reserved: 0,
      });
      assert.equal((await driver.payouts(shop)).length, 1, 'no payout on a negative day');
      const negative = (await driver.eventObjects(shop, 'balance.available')).at(-1);
      assert.deepEqual([negative?.net, negative?.available], [net(2_000) - 10_000, -shortfall]);
      const receivable = `merchant:${shop.id}:receivable:usd`;
      assert.equal(-(await driver.creditBalance(receivable)), BigInt(shortfall));
      // Friday's batch nets negative: the bank debits it, and Payrail books the debit.
      const fridayBatch = [...(await driver.clearing(shop.id)).values()].find(
        (item) => item.type === 'refund',
      )?.batch;
      const debit = (await driver.truth()).bank.credits.find(
        (credit) => credit.batch_id === fridayBatch,
      );
      assert.ok(debit !== undefined && debit.amount < 0, JSON.stringify(debit));
      assert.equal(await driver.batchStatus(String(fridayBatch)), 'funded');
      // Wednesday: Monday's capture recovers the receivable first; the rest is paid out.
      await driver.runAt(dayAt(start, 6, 9));
      assert.equal(await driver.creditBalance(receivable), 0n);
      const payouts = await driver.payouts(shop);
      assert.equal(payouts.length, 2);
      const wednesday = payouts.find((payout) => payout.id !== monday?.id);
      assert.equal(wednesday?.amount, net(20_000) - shortfall);
      assert.deepEqual(await driver.balance(shop), { available: 0, pending: 0, reserved: 0 });
      const contents = await driver.transactions(shop, `payout=${String(wednesday?.id)}`);
      assert.deepEqual(
        contents.map((row) => [row.type, row.net]).sort(),
        [
          ['charge', net(2_000)],
          ['charge', net(20_000)],
          ['payout', -(net(20_000) - shortfall)],
          ['refund', -10_000],
        ].sort(),
      );
      assert.deepEqual(await driver.ledgerImbalances(), []);
    });

    test('a returned payout and a payout the bank rejects at once: failed, the money back in available, the account errored', async () => {
      const start = nextWeekdayAt(await driver.now(), thursday, 10);
      await driver.at(start);
      const returning = await driver.merchant('Closed account shop', returnedAccount);
      const rejecting = await driver.merchant('Invalid account shop', rejectedAccount);
      await driver.pay(returning, 5_000);
      await driver.pay(rejecting, 3_000);
      await driver.runAt(dayAt(start, 0, 19));
      await driver.runAt(dayAt(start, 4, 9));

      // Rejected at once: failed with the bank's code, reversed, payout.failed.
      const [rejected] = await driver.payouts(rejecting);
      assert.deepEqual([rejected?.status, rejected?.trace_id], ['failed', null]);
      assert.match(String(rejected?.failure_code), /account/);
      assert.deepEqual(await driver.balance(rejecting), {
        available: net(3_000),
        pending: 0,
        reserved: 0,
      });
      assert.deepEqual(await driver.eventTypes(rejecting, 'payout.*'), [
        'payout.created',
        'payout.failed',
      ]);
      const failure = await driver.transactions(rejecting, 'type=payout_failure');
      assert.deepEqual(
        failure.map((row) => [row.amount, row.source, row.status]),
        [[net(3_000), rejected?.id, 'available']],
      );
      const bankRejected = (await driver.truth()).bank.payouts[String(rejected?.id)];
      assert.deepEqual([bankRejected?.status, bankRejected?.executions], ['rejected', 1]);
      assert.equal(await driver.bankAccountStatus(rejecting), 'errored');

      // Paid on Monday, returned on Wednesday (2 days after its debit): failed, money back.
      await driver.runAt(dayAt(start, 4, 12));
      const [payout] = await driver.payouts(returning);
      assert.equal(payout?.status, 'paid');
      assert.equal(await driver.bankAccountStatus(returning), 'new');
      await driver.runAt(dayAt(start, 5, 12));
      assert.equal((await driver.payout(returning, String(payout?.id))).status, 'paid');
      // The errored account gets no automatic payout the next day: the money stays available.
      assert.equal((await driver.payouts(rejecting)).length, 1);
      assert.equal((await driver.balance(rejecting)).available, net(3_000));
      await driver.runAt(dayAt(start, 6, 12));
      const returned = await driver.payout(returning, String(payout?.id));
      assert.equal(returned.status, 'failed');
      assert.equal(returned.failure_code, 'account_closed');
      assert.equal(await driver.bankAccountStatus(returning), 'errored');
      assert.equal((await driver.payouts(returning)).length, 1, 'none again to a closed account');
      assert.deepEqual(await driver.balance(returning), {
        available: net(5_000),
        pending: 0,
        reserved: 0,
      });
      assert.deepEqual(await driver.eventTypes(returning, 'payout.*'), [
        'payout.created',
        'payout.paid',
        'payout.failed',
      ]);
      const bank = (await driver.truth()).bank.payouts[String(payout?.id)];
      assert.deepEqual(
        [bank?.status, bank?.executions, bank?.returned_on],
        ['returned', 1, dayAt(start, 6, 0).toISOString().slice(0, 10)],
      );
      assert.equal(
        await driver.creditBalance(`merchant:${returning.id}:available:usd`),
        BigInt(net(5_000)),
      );
      assert.deepEqual(await driver.ledgerImbalances(), []);
    });

    test('a rolling reserve is held when funds become available and released on its date', async () => {
      const start = nextWeekdayAt(await driver.now(), thursday, 10);
      await driver.at(start);
      const shop = await driver.merchant('Reserved shop');
      await driver.setOperatorPayoutSettings(shop, { reserve_percent_bps: 1_000, reserve_days: 3 });
      await driver.pay(shop, 10_000);
      await driver.runAt(dayAt(start, 0, 19));
      const held = Math.floor((net(10_000) * 1_000 + 5_000) / 10_000);
      // Monday: available, 10 % held for 3 days, the rest paid out.
      await driver.runAt(dayAt(start, 4, 9));
      assert.deepEqual(await driver.balance(shop), { available: 0, pending: 0, reserved: held });
      const [first] = await driver.payouts(shop);
      assert.equal(first?.amount, net(10_000) - held);
      const holds = await driver.transactions(shop, 'type=reserve_hold');
      assert.deepEqual(
        holds.map((row) => [row.amount, row.status]),
        [[-held, 'available']],
      );
      // Tuesday and Wednesday: still held, nothing to pay.
      for (const day of [5, 6]) {
        await driver.runAt(dayAt(start, day, 9));
        assert.deepEqual(await driver.balance(shop), { available: 0, pending: 0, reserved: held });
      }
      assert.equal((await driver.payouts(shop)).length, 1);
      // Thursday (Monday + 3 days): released and paid out.
      await driver.runAt(dayAt(start, 7, 9));
      assert.deepEqual(await driver.balance(shop), { available: 0, pending: 0, reserved: 0 });
      const payouts = await driver.payouts(shop);
      assert.equal(payouts.length, 2);
      const second = payouts.find((payout) => payout.id !== first?.id);
      assert.equal(second?.amount, held);
      const contents = await driver.transactions(shop, `payout=${String(second?.id)}`);
      assert.deepEqual(contents.map((row) => [row.type, row.amount]).sort(), [
        ['payout', -held],
        ['reserve_release', held],
      ]);
      const releaseOn = await driver.server.context.database.query<{ release_on: Date }>(
        'SELECT release_on FROM reserve_holds WHERE merchant_id = $1',
        [shop.id],
      );
      assert.equal(releaseOn.rows[0]?.release_on.toISOString(), dayAt(start, 7, 0).toISOString());
      assert.deepEqual(await driver.ledgerImbalances(), []);
    });

    test('a manual payout of part of the balance: ?payout= lists the clearing group it took part of, under both payouts', async () => {
      const start = nextWeekdayAt(await driver.now(), friday, 10);
      await driver.at(start);
      const shop = await driver.merchant('Manual shop');
      await driver.setPayoutSettings(shop, { schedule: 'manual' });
      const amounts = [4_000, 6_000, 2_000];
      for (const amount of amounts) await driver.pay(shop, amount);
      await driver.runAt(dayAt(start, 0, 19));
      // Friday + 2 business days = Tuesday; no automatic payout on a manual schedule.
      await driver.runAt(dayAt(start, 3, 9));
      assert.equal((await driver.balance(shop)).available, 0, 'Monday: not yet');
      await driver.runAt(dayAt(start, 4, 9));
      const owed = amounts.reduce((sum, amount) => sum + net(amount), 0);
      assert.deepEqual(await driver.balance(shop), { available: owed, pending: 0, reserved: 0 });
      assert.deepEqual(await driver.payouts(shop), []);
      const charges = (await driver.transactions(shop, 'type=charge')).reverse(); // oldest first
      const part = net(4_000) + 1_000;
      const created = await call(driver.server, 'POST', '/v1/payouts', {
        key: shop.key,
        body: { currency: 'usd', amount: part },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      // The three charges are one clearing group (one batch, one day): the payout takes part of
      // it, and ?payout= lists the group's items (under each payout that takes part of it).
      assert.deepEqual(
        ids(await driver.transactions(shop, `payout=${String(created.body.id)}`)),
        ids([...charges, { id: created.body.balance_transaction }]),
      );
      const allocated = await driver.server.context.database.query<{
        items: number;
        amount: bigint;
      }>(
        `SELECT g.item_count AS items, a.amount FROM payout_group_allocations a
           JOIN clearing_groups g ON g.batch_id = a.batch_id AND g.merchant_id = a.merchant_id
                                 AND g.available_on = a.available_on
          WHERE a.payout_id = $1`,
        [created.body.id],
      );
      assert.deepEqual(
        allocated.rows.map((row) => [row.items, Number(row.amount)]),
        [[3, part]],
      );
      assert.deepEqual(await driver.balance(shop), {
        available: owed - part,
        pending: 0,
        reserved: 0,
      });
      await driver.runAt(dayAt(start, 4, 10));
      assert.equal((await driver.payout(shop, String(created.body.id))).status, 'in_transit');
      await driver.runAt(dayAt(start, 4, 12));
      assert.equal((await driver.payout(shop, String(created.body.id))).status, 'paid');
      const bank = (await driver.truth()).bank.payouts[String(created.body.id)];
      assert.deepEqual([bank?.amount, bank?.status, bank?.executions], [part, 'paid', 1]);
      // The rest: what is left of the group.
      const rest = await call(driver.server, 'POST', '/v1/payouts', {
        key: shop.key,
        body: { currency: 'usd' },
      });
      assert.equal(rest.body.amount, owed - part);
      assert.deepEqual(
        ids(await driver.transactions(shop, `payout=${String(rest.body.id)}`)),
        ids([...charges, { id: rest.body.balance_transaction }]),
      );
      assert.deepEqual(await driver.ledgerImbalances(), []);
    });

    test("every connector's report style: PSP fees as each PSP charged them, usd and inr payouts", async () => {
      const start = nextWeekdayAt(await driver.now(), thursday, 10);
      await driver.at(start);
      const shop = await driver.merchant('Every connector shop');
      await driver.addBankAccount(shop, paidAccount, 'inr');
      // The simulator's own fee schedule (sim/CONTRACT.md), not Payrail's prices.
      const payments = [
        { connector: 'stripe', currency: 'usd', amount: 10_000, pspFee: 320 },
        { connector: 'adyen', currency: 'usd', amount: 10_000, pspFee: 11 + 60 + 2 + 30 },
        { connector: 'razorpay', currency: 'usd', amount: 10_000, pspFee: 200 + 36 },
        { connector: 'paytm', currency: 'inr', amount: 50_000, pspFee: 995 + 179 },
      ];
      for (const payment of payments) await driver.pay(shop, payment.amount, payment);
      await driver.runAt(dayAt(start, 0, 19));
      const items = await driver.clearing(shop.id);
      assert.ok([...items.values()].every((item) => item.status === 'accepted'));
      const database = driver.server.context.database;
      const batches = await database.query<{
        id: string;
        connector: string;
        status: string;
        psp_fee: bigint;
      }>(
        `SELECT b.id, b.connector, b.status, b.psp_fee FROM settlement_batches b
          WHERE b.id = ANY($1::text[]) ORDER BY b.connector`,
        [[...new Set([...items.values()].map((item) => item.batch))]],
      );
      const truth = await driver.truth();
      assert.deepEqual(
        batches.rows.map((batch) => [batch.connector, batch.status, Number(batch.psp_fee)]),
        payments
          .map((payment) => [payment.connector, 'acknowledged', payment.pspFee])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      );
      for (const batch of batches.rows) {
        assert.equal(Number(batch.psp_fee), truth.acquirer.batches[batch.id]?.fee_amount);
        const posted = await database.query<{ amount: bigint }>(
          `SELECT sum(amount)::bigint AS amount FROM ledger_entries
            WHERE transaction_id = $1 AND direction = 'debit'`,
          [`psp_fee:${batch.id}`],
        );
        assert.equal(Number(posted.rows[0]?.amount), Number(batch.psp_fee), `psp_fee:${batch.id}`);
      }
      // Friday: every settlement credited (each PSP's payout: accepted − its fees), batches funded.
      await driver.runAt(dayAt(start, 1, 12));
      const funded = await database.query<{ status: string }>(
        'SELECT status FROM settlement_batches WHERE id = ANY($1::text[])',
        [batches.rows.map((batch) => batch.id)],
      );
      assert.ok(
        funded.rows.every((batch) => batch.status === 'funded'),
        JSON.stringify(funded.rows),
      );
      // Monday: one payout per currency, each paid.
      await driver.runAt(dayAt(start, 4, 9));
      await driver.runAt(dayAt(start, 4, 12));
      const charges = await driver.transactions(shop, 'type=charge');
      const owed = (currency: string) =>
        charges
          .filter((charge) => charge.currency === currency)
          .reduce((sum, charge) => sum + Number(charge.net), 0);
      const payouts = await driver.payouts(shop);
      assert.deepEqual(
        payouts.map((payout) => [payout.currency, payout.amount, payout.status]).sort(),
        [
          ['inr', owed('inr'), 'paid'],
          ['usd', owed('usd'), 'paid'],
        ],
      );
      const bank = (await driver.truth()).bank.payouts;
      for (const payout of payouts)
        assert.deepEqual(
          [
            bank[String(payout.id)]?.amount,
            bank[String(payout.id)]?.currency,
            bank[String(payout.id)]?.status,
          ],
          [payout.amount, payout.currency, 'paid'],
        );
      for (const currency of ['usd', 'inr'])
        assert.deepEqual(await driver.balance(shop, currency), {
          available: 0,
          pending: 0,
          reserved: 0,
        });
    });
  });
}
