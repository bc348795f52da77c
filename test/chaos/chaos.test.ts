// The short chaos run inside `npm test` (`npm run chaos` is the long one): a few seconds of mixed
// payment flows under PSP faults, one SIGKILL of the API and one of the worker, one NATS restart;
// four days of money out (cutoffs, availability, payouts) with two more SIGKILLs and the
// simulator's reconciliation seeding; then every check of the run must hold, reconciliation's
// precision and recall included. Needs the local PostgreSQL and /usr/sbin/nats-server.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { defaultChaosOptions, runChaosScenario } from './chaos.ts';
import { formatReport } from './report.ts';
import { planChaos } from './faults.ts';
import { seededRandom } from './random.ts';

test('the chaos plan is repeatable and alternates kills between the API and the worker', () => {
  const plan = planChaos(seededRandom(3), 10_000, 4, 1);
  assert.deepEqual(plan, planChaos(seededRandom(3), 10_000, 4, 1));
  assert.equal(plan.filter((action) => action.kind === 'kill_api').length, 2);
  assert.equal(plan.filter((action) => action.kind === 'kill_worker').length, 2);
  assert.equal(plan.filter((action) => action.kind === 'restart_nats').length, 1);
  assert.ok(
    plan.every((action, index) => index === 0 || (plan[index - 1]?.atMs ?? 0) <= action.atMs),
  );
});

test(
  'a short chaos run: nothing lost, nothing charged twice, ledger ok, every webhook, nothing left open',
  { skip: !fs.existsSync('/usr/sbin/nats-server') && 'no nats-server', timeout: 240_000 },
  async () => {
    const result = await runChaosScenario({
      ...defaultChaosOptions,
      seconds: 6,
      clients: 4,
      kills: 2,
      natsRestarts: 1,
      seed: 20_251_121,
      verbose: false,
      settleTimeoutMs: 45_000,
      webhookTimeoutMs: 110_000,
      moneyOutDays: 4,
      moneyOutKills: 2,
    });
    const report = formatReport(result);
    const { summary } = result;
    assert.equal(result.errors.length, 0, report);
    assert.ok(summary.payments > 20, `too few payments to mean anything\n${report}`);
    assert.equal(summary.kills, 2, report);
    assert.equal(summary.nats_restarts, 1, report);
    assert.deepEqual(
      {
        double_charges: summary.double_charges,
        lost: summary.lost,
        ledger: summary.ledger,
        webhooks_missing: summary.webhooks_missing,
        non_terminal: summary.non_terminal,
      },
      { double_charges: 0, lost: 0, ledger: 'ok', webhooks_missing: 0, non_terminal: 0 },
      report,
    );
    assert.deepEqual(
      {
        mismatches: summary.mismatches,
        invalid_signatures: summary.invalid_signatures,
        crashes: summary.crashes,
      },
      { mismatches: 0, invalid_signatures: 0, crashes: 0 },
      report,
    );
    // Money out: four days of the test clock with acquirer and bank faults and two SIGKILLs.
    assert.equal(summary.money_out_kills, 2, report);
    assert.ok(summary.batches > 0, `no clearing batch: the days settled nothing\n${report}`);
    // Whatever the weekday, the load's items are available and paid out within four days.
    assert.ok(summary.payouts > 0, `no payout: the days paid nothing out\n${report}`);
    assert.deepEqual(
      {
        double_submissions: summary.double_submissions,
        double_payouts: summary.double_payouts,
        payout_mismatches: summary.payout_mismatches,
        money_out_lost: summary.money_out_lost,
      },
      { double_submissions: 0, double_payouts: 0, payout_mismatches: 0, money_out_lost: 0 },
      report,
    );
    // Reconciliation after the drain: every kind of discrepancy the simulator seeds was injected
    // during the days, and the run raised exactly what it injected (precision and recall 100 %).
    assert.deepEqual(
      Object.keys(result.reconciliation?.injectedKinds ?? {}).sort(),
      [
        'amount_off_by_one',
        'duplicate_line',
        'fee_variance',
        'late_line',
        'missing_line',
        'payout_returned',
        'split_settlement',
        'unexpected_line',
      ],
      report,
    );
    assert.deepEqual(
      {
        reconciliation_missed: summary.reconciliation_missed,
        reconciliation_unexpected: summary.reconciliation_unexpected,
      },
      { reconciliation_missed: 0, reconciliation_unexpected: 0 },
      report,
    );
    assert.equal(summary.chaos, 'ok', report);
  },
);
