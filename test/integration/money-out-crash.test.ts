// SIGKILL at each step of money out, on the real PostgreSQL with the real simulator's acquirer and
// bank (issue 11, "Tests that must exist"): Payrail dies at each fault point of clearing-batch
// submission (settlement_after_close, settlement_after_mark_submitted,
// settlement_after_acquirer_answer, settlement_after_ack_recorded) while the operator's
// money-out run settles a day of payments, and at each fault point of payout sending
// (payout_after_send_recorded, payout_after_bank_call, payout_after_result_recorded) while the run
// sends the day's automatic payout. The test clock drives cutoffs, availability, payouts and bank
// statements; a fresh process finishes the pipeline. Then, from the simulator's ground truth: no
// batch executed twice, no item accepted twice, no payout executed twice, every item cleared or an
// exception, every payout paid as the bank says, the bank's paid payouts equal the ledger's, and
// the ledger and the payouts verify. (test/integration/payouts-crash.test.ts kills the payout steps
// against a fake bank, also for a rejected payout; this test takes payouts through to `paid` on the
// simulator's bank statements.)
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { verifyLedger } from '../../src/ledger/index.ts';
import type { Database } from '../../src/storage/database.ts';
import { openPostgres } from '../../src/storage/postgres.ts';
import { checkMoneyOut, checkSettlement, Findings } from '../chaos/checks.ts';
import { moneyOutTruth, readMoneyOut } from '../chaos/money-out.ts';
import { advanceClock } from '../support/clock.ts';
import { createPostgresDatabase } from '../support/databases.ts';
import {
  withPayrail as runPayrail,
  startSimulator,
  type RunningProcess,
} from '../support/processes.ts';
import { call, testAdminKey } from '../support/server.ts';

const day = 24 * 3_600;
/** Past the submission lease (src/settlement/submission.ts, 5 minutes) of a batch whose worker died. */
const submissionLeaseSeconds = 5 * 60 + 1;
const paidAccount = '000123456789';

function findingsText(findings: Findings): string {
  return findings.samples.map((finding) => `[${finding.kind}] ${finding.detail}`).join('\n');
}

describe('SIGKILL at each step of clearing-batch submission and payout sending', () => {
  let simulator: RunningProcess;
  let postgres: { url: string; drop(): Promise<void> };
  let database: Database;
  let env: Record<string, string>;
  let merchantKey: string;
  let payments = 0;

  const withPayrail = <T>(
    faultPoint: string | undefined,
    work: (payrail: RunningProcess) => Promise<T>,
  ): Promise<T> => runPayrail(env, faultPoint, work);

  function run(payrail: RunningProcess, part: 'settle' | 'payouts' | 'all') {
    return call(payrail, 'POST', '/v1/admin/money_out/run', { key: testAdminKey, body: { part } });
  }

  async function runOk(payrail: RunningProcess, part: 'settle' | 'payouts' | 'all') {
    const answer = await run(payrail, part);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body;
  }

  /** A captured payment, and every other time a partial refund of it: two or one items. */
  async function pay(payrail: RunningProcess): Promise<void> {
    payments++;
    const paid = await call(payrail, 'POST', '/v1/payment_intents', {
      key: merchantKey,
      body: {
        amount: 5_000 + payments * 100,
        currency: 'usd',
        confirm: true,
        payment_method: 'pm_card_visa',
        connector: 'stripe',
      },
    });
    assert.equal(paid.body.status, 'succeeded', JSON.stringify(paid.body));
    if (payments % 2 === 0) {
      const refunded = await call(payrail, 'POST', '/v1/refunds', {
        key: merchantKey,
        body: { payment_intent: paid.body.id, amount: 1_000 },
      });
      assert.equal(refunded.body.status, 'succeeded', JSON.stringify(refunded.body));
    }
  }

  /** Sends the run to a Payrail configured to die at `faultPoint`; true once it died there. */
  async function crashes(payrail: RunningProcess, part: 'settle' | 'all'): Promise<boolean> {
    const answer = await run(payrail, part).catch(() => undefined);
    if (answer !== undefined) {
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return false; // nothing reached the fault point this time
    }
    await payrail.exited;
    assert.equal(payrail.child.signalCode, 'SIGKILL');
    return true;
  }

  async function settlementClean(): Promise<void> {
    const findings = new Findings();
    checkSettlement(await moneyOutTruth(simulator.url), await readMoneyOut(database), findings);
    assert.deepEqual(Object.fromEntries(findings.counts), {}, findingsText(findings));
  }

  before(async () => {
    simulator = await startSimulator();
    postgres = await createPostgresDatabase('payrail_money_out_crash');
    database = openPostgres({ connectionString: postgres.url, poolSize: 2 });
    env = {
      PAYRAIL_TEST_CLOCKS: 'true',
      DATABASE_URL: postgres.url,
      PAYRAIL_SIMULATOR_URL: simulator.url,
      PAYRAIL_ADMIN_KEY: testAdminKey,
      // Only the operator's runs do money-out work: each crash is at a known moment.
      PAYRAIL_RUN_WORKERS: 'false',
      PAYRAIL_VAULT_MASTER_KEY: crypto.randomBytes(32).toString('base64'),
    };
    merchantKey = await withPayrail(undefined, async (payrail) => {
      const created = await call(payrail, 'POST', '/v1/admin/merchants', {
        key: testAdminKey,
        body: { name: 'Crashy payouts shop' },
      });
      const key = String(created.body.secret_key);
      const account = await call(payrail, 'POST', '/v1/bank_accounts', {
        key,
        body: {
          currency: 'usd',
          country: 'US',
          account_holder_name: 'Crashy',
          // The simulator's bank refuses (400) a payout to an account without one.
          routing_number: '110000000',
          account_number: paidAccount,
        },
      });
      assert.equal(account.status, 200, JSON.stringify(account.body));
      const settings = await call(payrail, 'POST', '/v1/payout_settings', {
        key,
        body: { schedule: 'daily' },
      });
      assert.equal(settings.status, 200, JSON.stringify(settings.body));
      return key;
    });
  });
  after(async () => {
    await database?.close();
    await simulator?.stop();
    await postgres?.drop();
  });

  // What the acquirer has of the batch after the kill, and how often it is asked in all.
  const settlementPoints = [
    { point: 'settlement_after_close', status: 'closed', executions: 0, submissions: 1 },
    {
      point: 'settlement_after_mark_submitted',
      status: 'submitted',
      executions: 0,
      submissions: 1,
    },
    {
      point: 'settlement_after_acquirer_answer',
      status: 'submitted',
      executions: 1,
      submissions: 2,
    },
    {
      point: 'settlement_after_ack_recorded',
      status: 'acknowledged',
      executions: 1,
      submissions: 1,
    },
  ] as const;

  for (const expected of settlementPoints) {
    test(`killed at ${expected.point}: the day's batch is cleared once, every item accounted for`, async () => {
      await withPayrail(expected.point, async (payrail) => {
        // Payments reach no settlement fault point: this process makes the day's, then settles.
        await pay(payrail);
        await pay(payrail);
        await advanceClock(payrail, day); // past the stripe cutoff (18:00 UTC)
        assert.equal(await crashes(payrail, 'settle'), true, 'the run reached the fault point');
      });
      const open = await database.query<{ id: string; status: string }>(
        `SELECT id, status FROM settlement_batches
          WHERE status NOT IN ('acknowledged', 'partially_acknowledged', 'funded') AND NOT intake_open`,
      );
      const acknowledged = await database.query<{ id: string }>(
        `SELECT id FROM settlement_batches WHERE NOT intake_open ORDER BY created_at DESC, id DESC LIMIT 1`,
      );
      const batchId = acknowledged.rows[0]?.id ?? '';
      if (expected.status === 'acknowledged') assert.deepEqual(open.rows, []);
      else assert.deepEqual(open.rows, [{ id: batchId, status: expected.status }]);
      const before = (await moneyOutTruth(simulator.url)).acquirer.batches[batchId];
      assert.equal(before?.executions ?? 0, expected.executions);

      await withPayrail(undefined, async (payrail) => {
        // A batch left 'submitted' is taken again once its lease has run out.
        await advanceClock(payrail, submissionLeaseSeconds);
        await runOk(payrail, 'settle');
        await runOk(payrail, 'settle');
      });
      const cleared = (await moneyOutTruth(simulator.url)).acquirer.batches[batchId];
      assert.equal(cleared?.executions, 1, 'the acquirer cleared the batch once');
      assert.equal(cleared?.submissions, expected.submissions);
      assert.equal(cleared?.rejected_count, 0);
      await settlementClean();
    });
  }

  const payoutPoints = [
    'payout_after_send_recorded',
    'payout_after_bank_call',
    'payout_after_result_recorded',
  ] as const;

  test('killed at each step of sending the daily payout: each executed once, paid as the bank says', async () => {
    const crashed: string[] = [];
    for (const point of payoutPoints) {
      // A day at a time until the day's run has a payout to send (weekends make none).
      const died = await withPayrail(point, async (payrail) => {
        for (let days = 0; days < 6; days++) {
          await advanceClock(payrail, day);
          await pay(payrail); // a later day's payout
          if (await crashes(payrail, 'all')) return true;
        }
        return false;
      });
      assert.equal(died, true, `a payout reached ${point}`);
      const pending = await database.query<{ id: string; status: string }>(
        `SELECT id, status FROM payouts WHERE status IN ('pending', 'in_transit') ORDER BY created_at DESC LIMIT 1`,
      );
      const payout = pending.rows[0];
      assert.ok(payout !== undefined, 'the killed run left its payout');
      assert.equal(
        payout.status,
        point === 'payout_after_result_recorded' ? 'in_transit' : 'pending',
      );
      crashed.push(payout.id);
      await withPayrail(undefined, async (payrail) => {
        await runOk(payrail, 'all');
        await runOk(payrail, 'all');
      });
    }
    // The bank books each payout's debit on its day: the next days' statements show them paid.
    // No new payouts meanwhile (manual schedule), so that the end state is final.
    await withPayrail(undefined, async (payrail) => {
      const manual = await call(payrail, 'POST', '/v1/payout_settings', {
        key: merchantKey,
        body: { schedule: 'manual' },
      });
      assert.equal(manual.status, 200, JSON.stringify(manual.body));
      for (let days = 0; days < 4; days++) {
        await advanceClock(payrail, day);
        await runOk(payrail, 'all');
        const open = await database.query<{ count: number }>(
          `SELECT count(*)::int AS count FROM payouts WHERE status IN ('pending', 'in_transit')`,
        );
        if (open.rows[0]?.count === 0) break;
      }
    });

    const truth = await moneyOutTruth(simulator.url);
    for (const id of crashed) {
      assert.equal(truth.bank.payouts[id]?.executions, 1, `the bank executed ${id} once`);
      assert.equal(truth.bank.payouts[id]?.status, 'paid');
    }
    const rows = await readMoneyOut(database);
    for (const id of crashed)
      assert.equal(rows.payouts.find((payout) => payout.id === id)?.status, 'paid');
    const findings = new Findings();
    checkMoneyOut(truth, rows, findings);
    assert.deepEqual(Object.fromEntries(findings.counts), {}, findingsText(findings));
    const paidAtBank = Object.values(truth.bank.payouts).filter((p) => p.status === 'paid');
    assert.ok(paidAtBank.length >= crashed.length);
    assert.equal(
      rows.payouts.reduce((sum, payout) => sum + payout.ledger.paid, 0),
      paidAtBank.reduce((sum, payout) => sum + payout.amount, 0),
      "the bank's paid payouts are the ledger's",
    );
    const ledger = await verifyLedger(database);
    assert.equal(ledger.ok, true, ledger.problems.join('\n'));
  });
});
