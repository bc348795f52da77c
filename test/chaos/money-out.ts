// Money out in a chaos run and in the money-out crash test (issue 11). The chaos run's days after
// the payment load: the system's test clock moves a day at a time (cutoffs, availability, payouts
// and bank statements follow it) while the worker runs the pipeline on its timer and the operator
// route runs it too, with a few payments each day, seeded faults at the acquirer and the bank, and
// SIGKILLs of the API or the worker in the middle of a day's run. Then the drain: faults off,
// automatic payouts stopped (manual schedule), days until nothing is left in flight. And the
// reads for the pure checks of checks.ts: what Payrail recorded of its clearing batches, items
// and payouts (with each payout's ledger transactions), and what the simulator's acquirer and
// bank did (their ground truth).
import { setTimeout as sleep } from 'node:timers/promises';
import { verifyPayouts } from '../../src/payouts/verify.ts';
import type { Queryable } from '../../src/storage/database.ts';
import {
  checkMoneyOut,
  Findings,
  moneyOutLostKinds,
  payoutMismatchKinds,
  type MoneyOutRows,
  type MoneyOutTruth,
} from './checks.ts';
import type { PayrailClient } from './client.ts';
import { restart, simulatorAdmin } from './faults.ts';
import type { ManagedProcess } from './processes.ts';
import type { Random } from './random.ts';
import { startSeeding, stopSeeding } from './reconciliation.ts';
import { acknowledgedStatusesSql } from '../../src/settlement/tables.ts';

/** The acquirer's and the bank's ground truth (`GET /_sim/ground_truth/money_out`). */
export async function moneyOutTruth(simulatorUrl: string): Promise<MoneyOutTruth> {
  const response = await fetch(`${simulatorUrl}/_sim/ground_truth/money_out`, {
    signal: AbortSignal.timeout(60_000),
  });
  if (!response.ok) throw new Error(`simulator money-out ground truth: ${response.status}`);
  return (await response.json()) as MoneyOutTruth;
}

/** The amount a ledger transaction moved (its posted credits), per payout and kind. */
const payoutsWithLedger = `
  SELECT p.id, p.merchant_id, p.currency, p.amount, p.status, p.send_attempts,
         coalesce(sum(e.amount) FILTER (WHERE e.transaction_id = 'payout:' || p.id), 0)::bigint AS created,
         coalesce(sum(e.amount) FILTER (WHERE e.transaction_id = 'payout_paid:' || p.id), 0)::bigint AS paid,
         coalesce(sum(e.amount) FILTER (WHERE e.transaction_id = 'payout_failed:' || p.id), 0)::bigint AS failed,
         coalesce(sum(e.amount) FILTER (WHERE e.transaction_id = 'payout_returned:' || p.id), 0)::bigint AS returned,
         coalesce(sum(e.amount) FILTER (WHERE e.transaction_id = 'payout_cancel:' || p.id), 0)::bigint AS canceled
    FROM payouts p
    LEFT JOIN ledger_entries e
      ON e.transaction_id IN ('payout:' || p.id, 'payout_paid:' || p.id, 'payout_failed:' || p.id,
                              'payout_returned:' || p.id, 'payout_cancel:' || p.id)
     AND e.direction = 'credit' AND e.layer = 'posted'
   GROUP BY p.id
   ORDER BY p.id`;

export async function readMoneyOut(database: Queryable): Promise<MoneyOutRows> {
  const batches = await database.query<{
    id: string;
    connector: string;
    currency: string;
    status: string;
    item_count: number;
    accepted_count: number;
    accepted_amount: bigint;
  }>(
    `SELECT id, connector, currency, status, item_count, accepted_count, accepted_amount
       FROM settlement_batches WHERE NOT intake_open ORDER BY id`,
  );
  const unsettled = await database.query<{
    id: string;
    batch_id: string | null;
    clearing_status: string;
  }>(
    // Neither accepted (still 'batched' in a batch the acquirer acknowledged) nor an exception.
    `SELECT item.id, item.batch_id, item.clearing_status FROM balance_transactions item
       LEFT JOIN settlement_batches batch ON batch.id = item.batch_id
      WHERE item.clearing_status IS NOT NULL AND item.clearing_status <> 'exception'
        AND NOT (item.clearing_status = 'batched'
                 AND batch.status IN ${acknowledgedStatusesSql})
      ORDER BY item.id`,
  );
  const payouts = await database.query<{
    id: string;
    merchant_id: string;
    currency: string;
    amount: bigint;
    status: string;
    send_attempts: number;
    created: bigint;
    paid: bigint;
    failed: bigint;
    returned: bigint;
    canceled: bigint;
  }>(payoutsWithLedger);
  const problems = await verifyPayouts(database);
  return {
    batches: batches.rows.map((row) => ({
      id: row.id,
      connector: row.connector,
      currency: row.currency,
      status: row.status,
      itemCount: row.item_count,
      acceptedCount: row.accepted_count,
      acceptedAmount: Number(row.accepted_amount),
    })),
    unsettledItems: unsettled.rows.map((row) => ({
      id: row.id,
      batchId: row.batch_id,
      clearingStatus: row.clearing_status,
    })),
    payouts: payouts.rows.map((row) => ({
      id: row.id,
      merchantId: row.merchant_id,
      currency: row.currency,
      amount: Number(row.amount),
      status: row.status,
      sendAttempts: Number(row.send_attempts),
      ledger: {
        created: Number(row.created),
        paid: Number(row.paid),
        failed: Number(row.failed),
        returned: Number(row.returned),
        canceled: Number(row.canceled),
      },
    })),
    payoutProblems: problems.map(
      (problem) => `${problem.check} ${problem.subject}: ${problem.detail}`,
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// The chaos run's money-out days.

const daySeconds = 24 * 3_600;

/** The bank account each merchant has per currency (any valid number is paid; see sim/CONTRACT.md). */
export const payoutCurrencies = ['usd', 'eur', 'gbp', 'inr'] as const;
/** The simulator's bank pays it, then returns it two days later (`account_closed`). */
export const returnedAccount = '000111111113';

/** Merchant `index`'s account number for `currency`: distinct per merchant and currency. */
export function accountNumberFor(index: number, currency: string): string {
  // Merchant 1's gbp payouts come back (a returned payout puts the money back in available).
  if (index === 1 && currency === 'gbp') return returnedAccount;
  const digits = String(index * 10 + payoutCurrencies.indexOf(currency as 'usd')).padStart(4, '0');
  return `0002${digits}56789`;
}

/** The simulator's money-out faults for the days (payouts and clearing batches lost or refused). */
export const moneyOutFaults = {
  acquirer: { errorRate: 0.1, lostResponseRate: 0.1 },
  bank: { errorRate: 0.1, lostResponseRate: 0.1, splitRate: 0.2, lateRate: 0.1, lateDays: 1 },
};

export type MoneyOutMerchant = { readonly index: number; readonly client: PayrailClient };

export type MoneyOutPlan = {
  readonly days: number;
  readonly kills: number;
  readonly faults: boolean;
  /** The simulator's reconciliation seeding (reconciliation.ts) on while the days run. */
  readonly reconciliationSeeding: boolean;
  /** Days after the planned ones, at most, for what is in flight to finish. */
  readonly drainDaysMax: number;
};

export type MoneyOutStats = {
  days: number;
  drainDays: number;
  runs: number;
  payments: number;
  kills: { api: number; worker: number };
  /** Completed units per step, summed over the operator's runs (the worker's are not seen). */
  steps: Record<string, number>;
  /** The bank's payouts by outcome at the end (its ground truth). */
  bank: Record<string, number>;
  timeline: string[];
  seconds: number;
  /** The system's date (UTC) on the last day the clock reached, drain included. */
  lastDate: string;
};

export type MoneyOutTargets = {
  readonly api: ManagedProcess;
  readonly worker: ManagedProcess | undefined;
  readonly simulatorUrl: string;
  readonly admin: PayrailClient;
  readonly merchants: readonly MoneyOutMerchant[];
};

export async function setMoneyOutFaults(simulatorUrl: string, seed: number): Promise<void> {
  await simulatorAdmin(simulatorUrl, 'PUT', '/_sim/acquirer/faults', {
    seed,
    ...moneyOutFaults.acquirer,
  });
  await simulatorAdmin(simulatorUrl, 'PUT', '/_sim/bank/faults', {
    seed: seed + 1,
    ...moneyOutFaults.bank,
  });
}

export async function clearMoneyOutFaults(simulatorUrl: string): Promise<void> {
  await simulatorAdmin(simulatorUrl, 'DELETE', '/_sim/acquirer/faults');
  await simulatorAdmin(simulatorUrl, 'DELETE', '/_sim/bank/faults');
}

/** A bank account per payout currency and a daily payout schedule, by the merchant's own key. */
export async function setUpPayouts(merchant: MoneyOutMerchant): Promise<void> {
  for (const currency of payoutCurrencies) {
    const account = await merchant.client.post('/v1/bank_accounts', {
      currency,
      country: currency === 'inr' ? 'IN' : currency === 'gbp' ? 'GB' : 'US',
      account_holder_name: `Chaos shop ${merchant.index}`,
      // The simulator's bank refuses (400) a payout to an account without one.
      routing_number: '110000000',
      account_number: accountNumberFor(merchant.index, currency),
    });
    if (account?.status !== 200)
      throw new Error(`adding a bank account: ${account?.status} ${JSON.stringify(account?.body)}`);
  }
  await setSchedule(merchant, 'daily');
}

async function setSchedule(merchant: MoneyOutMerchant, schedule: 'daily' | 'manual') {
  const settings = await merchant.client.post('/v1/payout_settings', { schedule });
  if (settings?.status !== 200)
    throw new Error(
      `payout settings of m${merchant.index}: ${settings?.status} ${JSON.stringify(settings?.body)}`,
    );
}

/** Moves the system's test clock a day forward (never retried: a move is not idempotent). */
async function advanceDay(api: ManagedProcess, adminKey: string): Promise<string> {
  const response = await fetch(`${api.url}/v1/admin/test_clocks/advance`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ seconds: daySeconds }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json()) as { now?: number | string };
  if (!response.ok) throw new Error(`advancing the test clock: ${JSON.stringify(body)}`);
  const now = typeof body.now === 'number' ? new Date(body.now * 1000) : new Date(String(body.now));
  return Number.isNaN(now.getTime()) ? '?' : now.toISOString().slice(0, 10);
}

/** The day's payments: one captured payment per merchant, stripe usd or razorpay inr. */
async function payDay(
  merchants: readonly MoneyOutMerchant[],
  random: Random,
  day: number,
): Promise<number> {
  let made = 0;
  for (const merchant of merchants) {
    const inr = random.chance(0.4);
    const answer = await merchant.client.post('/v1/payment_intents', {
      amount: inr ? random.integer(10_000, 500_000) : random.integer(500, 50_000),
      currency: inr ? 'inr' : 'usd',
      connector: inr ? 'razorpay' : 'stripe',
      payment_method: 'pm_card_visa',
      confirm: true,
      metadata: { chaos_money_out_day: String(day) },
    });
    if (answer?.status === 200) made++;
  }
  return made;
}

/** The operator's run of the whole pipeline (retried across an API restart). */
async function runPipeline(admin: PayrailClient, stats: MoneyOutStats): Promise<string> {
  const answer = await admin.post('/v1/admin/money_out/run', { part: 'all' });
  if (answer?.status !== 200)
    throw new Error(
      `money-out run: ${answer === undefined ? 'no answer' : `${answer.status} ${JSON.stringify(answer.body)}`}`,
    );
  stats.runs++;
  const steps = (answer.body.steps as { name: string; completed: number }[] | undefined) ?? [];
  for (const step of steps) stats.steps[step.name] = (stats.steps[step.name] ?? 0) + step.completed;
  return steps
    .filter((step) => step.completed > 0)
    .map((step) => `${step.name} ${step.completed}`)
    .join(', ');
}

/** The days on which a process is killed during the day's run, alternating API and worker. */
export function planMoneyOutKills(
  random: Random,
  days: number,
  kills: number,
): Map<number, 'api' | 'worker'> {
  const firstIsApi = random.chance(0.5);
  const candidates = Array.from({ length: days }, (_, index) => index + 1);
  const chosen: number[] = [];
  while (chosen.length < Math.min(kills, days)) {
    const index = random.integer(0, candidates.length - 1);
    chosen.push(...candidates.splice(index, 1));
  }
  chosen.sort((a, b) => a - b);
  return new Map(
    chosen.map((day, index) => [day, (index % 2 === 0) === firstIsApi ? 'api' : 'worker']),
  );
}

/** Settlement credits the bank will book after `date` (Payrail has not read them yet). */
export function creditsAfter(truth: MoneyOutTruth, date: string): number {
  return (truth.bank.credits ?? []).filter((credit) =>
    credit.entries.some((entry) => entry.booked_on > date),
  ).length;
}

/**
 * Whether something is still in flight or unfinished (what the drain waits for): batches, items
 * and payouts, and the settlement credits not yet booked by `date`, so that reconciliation as of
 * the next day sees every statement line and every report line due by then.
 */
async function leftInFlight(
  database: Queryable,
  simulatorUrl: string,
  date: string,
): Promise<number> {
  const findings = new Findings();
  const truth = await moneyOutTruth(simulatorUrl);
  checkMoneyOut(truth, await readMoneyOut(database), findings);
  return findings.total(...moneyOutLostKinds, ...payoutMismatchKinds) + creditsAfter(truth, date);
}

export async function runMoneyOutDays(
  targets: MoneyOutTargets,
  database: Queryable,
  plan: MoneyOutPlan,
  random: Random,
  seed: number,
  adminKey: string,
  progress: (text: string) => void,
): Promise<MoneyOutStats> {
  const started = Date.now();
  const stats: MoneyOutStats = {
    days: 0,
    drainDays: 0,
    runs: 0,
    payments: 0,
    kills: { api: 0, worker: 0 },
    steps: {},
    bank: {},
    timeline: [],
    seconds: 0,
    lastDate: '',
  };
  const note = (text: string) =>
    stats.timeline.push(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${text}`);
  const killPlan = planMoneyOutKills(random.fork('money-out-kills'), plan.days, plan.kills);
  if (plan.faults) await setMoneyOutFaults(targets.simulatorUrl, seed);
  if (plan.reconciliationSeeding) await startSeeding(targets.simulatorUrl, seed);
  for (let day = 1; day <= plan.days; day++) {
    const date = await advanceDay(targets.api, adminKey);
    stats.lastDate = date;
    stats.days++;
    stats.payments += await payDay(targets.merchants, random, day);
    // The worker's timer sees the moved clock within a second; the operator's run goes at once.
    const running = runPipeline(targets.admin, stats);
    const victim = killPlan.get(day);
    const target = victim === 'api' ? targets.api : (targets.worker ?? targets.api);
    if (victim !== undefined) {
      await sleep(random.integer(0, 600));
      const pauseMs = random.integer(200, 1_000);
      note(`day ${day} (${date}): SIGKILL ${target.spec.name} (pid ${target.pid}) during the run`);
      await restart(target, pauseMs, 'SIGKILL');
      stats.kills[target === targets.api ? 'api' : 'worker']++;
    }
    const done = await running.catch(async (error: unknown) => {
      // The API died under the run: run again once it is back.
      note(`day ${day}: the run failed (${String(error).slice(0, 200)}), running again`);
      return runPipeline(targets.admin, stats);
    });
    note(`day ${day} (${date}): ${done || 'nothing due'}`);
  }
  // The drain: faults off, no new automatic payouts, a day at a time until nothing is in flight.
  if (plan.faults) await clearMoneyOutFaults(targets.simulatorUrl);
  if (plan.reconciliationSeeding) await stopSeeding(targets.simulatorUrl);
  for (const merchant of targets.merchants) await setSchedule(merchant, 'manual');
  for (let extra = 1; extra <= plan.drainDaysMax; extra++) {
    const date = await advanceDay(targets.api, adminKey);
    stats.lastDate = date;
    stats.drainDays++;
    // Twice: a run that books a payout's debit can be followed by its return's booking.
    const done = [await runPipeline(targets.admin, stats), await runPipeline(targets.admin, stats)]
      .filter((text) => text !== '')
      .join('; ');
    const left = await leftInFlight(database, targets.simulatorUrl, date);
    note(`drain day ${extra} (${date}): ${done || 'nothing due'}; ${left} left in flight`);
    if (left === 0) break;
  }
  for (const payout of Object.values((await moneyOutTruth(targets.simulatorUrl)).bank.payouts))
    stats.bank[payout.status] = (stats.bank[payout.status] ?? 0) + 1;
  stats.seconds = (Date.now() - started) / 1000;
  progress(
    `money out: ${stats.days} days + ${stats.drainDays} drain days, ${stats.runs} runs, ${stats.payments} payments, ${stats.kills.api + stats.kills.worker} kills in ${stats.seconds.toFixed(1)} s`,
  );
  return stats;
}
