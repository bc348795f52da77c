// Money out end to end (issue 11, architecture §12): a real Payrail server (PGlite) and the
// simulator's stripe, acquirer and bank over HTTP, driven only by the test clock. Each scenario
// starts on a fresh weekday after the previous one's end, with its own merchant, and follows the
// money from the capture to the merchant's bank account: the balance, the balance transactions
// (also `?payout=`), the payouts, the events, and the simulator's ground truth.
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
import { startSimulatedStack } from '../support/simulator.ts';
import { call, testAdminKey } from '../support/server.ts';

const thursday = 4;
const friday = 5;
const net = (amount: number): number => amount - stripeFee(amount);
const ids = (rows: readonly Json[]): string[] => rows.map((row) => String(row.id)).sort();

describe('money out end to end, over HTTP with the simulator, by the test clock', () => {
  let driver: MoneyOutDriver;

  before(async () => {
    // No workers: the test runs the pipeline itself, at the instants it chooses.
    const stack = await startSimulatedStack({ env: { PAYRAIL_RUN_WORKERS: 'false' } });
    driver = new MoneyOutDriver(stack);
    stack.server.forbidInLogs(paidAccount, rejectedAccount, returnedAccount);
  });
  after(() => driver.stack.stop());

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
    const credit = (await driver.truth()).bank.credits.find((entry) => entry.batch_id === batchId);
    assert.equal(credit?.amount, batch.accepted_amount - batch.fee_amount);
    assert.equal(credit?.entries[0]?.booked_on, dayAt(start, 1, 0).toISOString().slice(0, 10));
    assert.deepEqual(await driver.balance(shop), { available: 0, pending: owed, reserved: 0 });
    assert.deepEqual(await driver.payouts(shop), []);

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
    assert.deepEqual(await driver.eventTypes(shop, 'payout.*'), ['payout.created', 'payout.paid']);
    assert.deepEqual(await driver.ledgerImbalances(), []);
  });
});
