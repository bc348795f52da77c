// Conservation of money out (issue 11), a property over random days: a real Payrail server
// (in-process PGlite) and one simulator, the test clock driving cutoffs, availability, reserves
// and payouts. Each run is a new merchant (random weekday to start on, rolling reserve, payout
// schedule, bank account that pays or returns) with random days of captures and refunds, some
// captures rejected by the acquirer once (retried) or always (an exception after the last
// submission). After every day and at the end:
//   - per currency the ledger sums to zero (posted and pending layers);
//   - every cent the merchant was owed (captures − fees − refunds) is available, reserved,
//     pending (not yet available, or an exception item), in a payout on its way or paid out;
//     what the balance shows as available is what its available balance transactions add up to;
//   - at the end every item is available or an exception, and the bank's ground truth agrees
//     with the ledger: each payout executed once, the sum of paid payouts equals what the ledger
//     says was paid (payout_paid − payout_returned), for the merchant and for the whole platform.
// FC_SEED and FC_RUNS override the seed and the number of runs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { availabilityIdSql } from '../../src/balances/index.ts';
import { verifyMoneyOut } from '../../src/money-out/verify.ts';
import {
  dayAt,
  MoneyOutDriver,
  nextWeekdayAt,
  paidAccount,
  returnedAccount,
  stripeFee,
} from '../support/money-out.ts';
import type { Merchant } from '../support/merchants.ts';
import { startSimulatedStack } from '../support/simulator.ts';

type Reject = 'none' | 'once' | 'always';
type Day = {
  readonly captures: readonly { readonly amount: number; readonly reject: Reject }[];
  /** Refunds of payments captured so far: `pick` chooses one, `percent` of what is left. */
  readonly refunds: readonly { readonly pick: number; readonly percent: number }[];
};
type Scenario = {
  readonly weekday: number;
  readonly returnedAccount: boolean;
  readonly reserveBps: number;
  readonly reserveDays: number;
  readonly schedule: 'daily' | 'weekly';
  readonly days: readonly Day[];
};

const dayArbitrary: fc.Arbitrary<Day> = fc.record({
  captures: fc.array(
    fc.record({
      amount: fc.integer({ min: 50, max: 60_000 }),
      reject: fc.constantFrom<Reject>('none', 'none', 'none', 'once', 'always'),
    }),
    { maxLength: 3 },
  ),
  refunds: fc.array(
    fc.record({ pick: fc.nat({ max: 1_000 }), percent: fc.integer({ min: 1, max: 100 }) }),
    { maxLength: 2 },
  ),
});

const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  weekday: fc.integer({ min: 1, max: 7 }),
  returnedAccount: fc.boolean(),
  reserveBps: fc.constantFrom(0, 0, 500, 2_500),
  reserveDays: fc.integer({ min: 1, max: 3 }),
  schedule: fc.constantFrom<'daily' | 'weekly'>('daily', 'daily', 'weekly'),
  days: fc.array(dayArbitrary, { minLength: 1, maxLength: 3 }),
});

const seed =
  process.env.FC_SEED === undefined || process.env.FC_SEED === ''
    ? undefined
    : Number(process.env.FC_SEED);
const runs =
  process.env.FC_RUNS === undefined || process.env.FC_RUNS === '' ? 8 : Number(process.env.FC_RUNS);

/** Days after the last day of activity run one by one, so that everything settles. */
const settleDays = 7;
/** Then on a manual schedule, for returns of the last payouts to come back (2 days). */
const quietDays = 3;

describe('money out conserves every cent (property, over HTTP with the simulator)', () => {
  let driver: MoneyOutDriver;

  before(async () => {
    const stack = await startSimulatedStack({ env: { PAYRAIL_RUN_WORKERS: 'false' } });
    driver = new MoneyOutDriver(stack);
    stack.server.forbidInLogs(paidAccount, returnedAccount);
  });
  after(() => driver.stack.stop());

  /** The merchant's cents, every way they can be, against what it was owed. */
  async function assertConserved(shop: Merchant, owedByModel: number): Promise<void> {
    assert.deepEqual(await driver.ledgerImbalances(), [], 'the ledger sums to zero per currency');
    const database = driver.server.context.database;
    const items = await database.query<{ owed: bigint; available: bigint }>(
      `SELECT coalesce(sum(net) FILTER (WHERE type IN ('charge', 'refund')), 0)::bigint AS owed,
              coalesce(sum(net) FILTER (WHERE availability_id IS NOT NULL), 0)::bigint AS available
         FROM (SELECT bt.type, bt.net, ${availabilityIdSql('bt')} AS availability_id
                 FROM balance_transactions bt WHERE bt.merchant_id = $1 AND bt.currency = 'usd') AS items`,
      [shop.id],
    );
    const owed = Number(items.rows[0]?.owed ?? 0n);
    assert.equal(owed, owedByModel, 'every capture and refund is an item, net of our fee');
    const balance = await driver.balance(shop);
    const payouts = await driver.payouts(shop);
    const outgoing = payouts
      .filter((payout) => ['pending', 'in_transit', 'paid'].includes(String(payout.status)))
      .reduce((sum, payout) => sum + Number(payout.amount), 0);
    assert.equal(
      balance.available + balance.reserved + balance.pending + outgoing,
      owed,
      `owed ${owed} = available ${balance.available} + reserved ${balance.reserved} + pending ${balance.pending} + paid out or on its way ${outgoing}`,
    );
    assert.equal(
      balance.available,
      Number(items.rows[0]?.available ?? 0n),
      'the available balance is what its available balance transactions add up to',
    );
    // payrail verify's money-out checks: items against the ledger, payouts against allocations.
    assert.deepEqual(await verifyMoneyOut(database), { ok: true, problems: [] });
  }

  test('random days of captures, refunds, rejects, reserves and returned payouts', async () => {
    let runIndex = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary, async (scenario) => {
        runIndex++;
        const start = nextWeekdayAt(await driver.now(), scenario.weekday, 10);
        await driver.at(start);
        const shop = await driver.merchant(
          `Conservation ${runIndex}`,
          scenario.returnedAccount ? returnedAccount : paidAccount,
        );
        if (scenario.reserveBps > 0)
          await driver.setOperatorPayoutSettings(shop, {
            reserve_percent_bps: scenario.reserveBps,
            reserve_days: scenario.reserveDays,
          });
        if (scenario.schedule === 'weekly')
          await driver.setPayoutSettings(shop, { schedule: 'weekly', weekly_anchor: 'wednesday' });

        const payments: { id: string; refundable: number }[] = [];
        const always: Record<string, string> = {};
        let owed = 0;
        const setRejects = async (once: Record<string, string>) => {
          const references = { ...always, ...once };
          if (Object.keys(references).length === 0)
            await driver.simulatorAdmin('DELETE', '/_sim/acquirer/faults');
          else
            await driver.simulatorAdmin('PUT', '/_sim/acquirer/faults', {
              rejectReferences: references,
            });
        };
        try {
          for (const [index, day] of scenario.days.entries()) {
            await driver.at(dayAt(start, index, 10));
            const once: Record<string, string> = {};
            for (const capture of day.captures) {
              const paid = await driver.pay(shop, capture.amount);
              payments.push({ id: String(paid.id), refundable: capture.amount });
              owed += capture.amount - stripeFee(capture.amount);
              if (capture.reject === 'none') continue;
              const reference = await driver.pspReference(String(paid.id));
              if (capture.reject === 'once') once[reference] = 'amount_invalid';
              else always[reference] = 'unknown_reference';
            }
            for (const refund of day.refunds) {
              const open = payments.filter((payment) => payment.refundable > 0);
              const payment = open[refund.pick % Math.max(1, open.length)];
              if (payment === undefined) continue;
              const amount = Math.max(1, Math.floor((payment.refundable * refund.percent) / 100));
              await driver.refund(shop, payment.id, amount);
              payment.refundable -= amount;
              owed -= amount;
            }
            await setRejects(once);
            await driver.runAt(dayAt(start, index, 19));
            await setRejects({});
            await assertConserved(shop, owed);
          }
          const last = scenario.days.length - 1;
          for (let day = last + 1; day <= last + settleDays; day++) {
            await driver.runAt(dayAt(start, day, 9));
            await assertConserved(shop, owed);
          }
          await driver.setPayoutSettings(shop, { schedule: 'manual' });
          for (let day = last + settleDays + 1; day <= last + settleDays + quietDays; day++)
            await driver.runAt(dayAt(start, day, 9));
        } finally {
          await driver.simulatorAdmin('DELETE', '/_sim/acquirer/faults');
        }
        await assertConserved(shop, owed);

        // Everything settled: each item is available or an exception (explained, still pending).
        const database = driver.server.context.database;
        const left = await database.query<{ pending: bigint; exceptions: bigint; other: number }>(
          `SELECT coalesce(sum(net) FILTER (WHERE availability_id IS NULL), 0)::bigint AS pending,
                  coalesce(sum(net) FILTER (WHERE clearing_status = 'exception'), 0)::bigint AS exceptions,
                  count(*) FILTER (WHERE availability_id IS NULL AND clearing_status <> 'exception')::int AS other
             FROM (SELECT bt.net, bt.clearing_status, ${availabilityIdSql('bt')} AS availability_id
                     FROM balance_transactions bt WHERE bt.merchant_id = $1) AS items`,
          [shop.id],
        );
        assert.equal(left.rows[0]?.other, 0, 'every item that is not an exception is available');
        const balance = await driver.balance(shop);
        assert.equal(balance.pending, Number(left.rows[0]?.exceptions ?? 0n));
        assert.equal(balance.reserved, 0, 'every reserve released');
        const exceptions = await database.query<{ psp_reference: string }>(
          `SELECT a.psp_reference FROM balance_transactions i JOIN payment_attempts a ON a.id = i.attempt_id
            WHERE i.merchant_id = $1 AND i.clearing_status = 'exception'`,
          [shop.id],
        );
        assert.deepEqual(
          exceptions.rows.map((row) => row.psp_reference).sort(),
          Object.keys(always).sort(),
          'the exceptions are exactly the captures the acquirer always rejects',
        );

        // The bank and the ledger agree, payout by payout and in sum.
        const truth = await driver.truth();
        const payouts = await driver.payouts(shop);
        for (const payout of payouts) {
          const bank = truth.bank.payouts[String(payout.id)];
          assert.ok(bank !== undefined, `the bank knows ${String(payout.id)}`);
          assert.equal(bank.executions, 1, 'never sent twice');
          assert.equal(bank.amount, payout.amount);
          const expected = { paid: 'paid', rejected: 'failed', returned: 'failed' }[bank.status];
          assert.equal(payout.status, expected, `${String(payout.id)}: bank ${bank.status}`);
        }
        const paidByBank = Object.values(truth.bank.payouts)
          .filter((payout) => payout.status === 'paid')
          .reduce((sum, payout) => sum + payout.amount, 0);
        const ledgerPaid = await database.query<{ paid: bigint }>(
          `SELECT coalesce(sum(CASE WHEN t.id LIKE 'payout_paid:%' THEN e.amount ELSE -e.amount END), 0)::bigint AS paid
             FROM ledger_transactions t
             JOIN ledger_entries e ON e.transaction_id = t.id AND e.direction = 'debit'
            WHERE t.id LIKE 'payout_paid:%' OR t.id LIKE 'payout_returned:%'`,
        );
        assert.equal(
          Number(ledgerPaid.rows[0]?.paid ?? 0n),
          paidByBank,
          'what the bank paid is what the ledger says was paid',
        );
        assert.ok(
          Object.values(truth.acquirer.batches).every((batch) => batch.executions === 1),
          'no batch submitted twice',
        );
      }),
      {
        numRuns: runs,
        endOnFailure: true,
        ...(seed === undefined ? {} : { seed }),
      },
    );
  });
});
