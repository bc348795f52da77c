// Settlement end to end below HTTP (architecture §12): items written by the ledger poster,
// batches closed at cutoffs, submitted to a fake acquirer on 127.0.0.1 (SPEC-11 contract),
// rejects retried or made exceptions, and resubmission after a crash at each step. On PGlite and
// the real PostgreSQL; the concurrency test on PostgreSQL only.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { OffsetClock } from '../../src/clock.ts';
import type { FaultInjector, FaultPoint } from '../../src/fault-points.ts';
import { directCapture, feeTransfer } from '../../src/payments/postings.ts';
import { HttpAcquirerClient } from '../../src/settlement/acquirer.ts';
import { SettlementService } from '../../src/settlement/service.ts';
import type { SubmissionOptions } from '../../src/settlement/submission.ts';
import type { SettlementBatch } from '../../src/settlement/tables.ts';
import type { Database } from '../../src/storage/database.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.ts';
import { paymentsOn, startFakeAcquirer, type FakeAcquirer, type Payments } from './support.ts';

const friday = Date.parse('2026-12-04T10:00:00Z');
const hour = 3_600_000;
const day = 24 * hour;

type Item = {
  id: string;
  merchant_id: string;
  type: string;
  source: string;
  amount: bigint;
  fee: bigint;
  net: bigint;
  connector: string;
  attempt_id: string | null;
  clearing_status: string;
  batch_id: string | null;
  rejections: number;
  reject_reason: string | null;
  ledger_transaction_id: string;
  created_at: Date;
  available_on: Date;
};

/** The batches presented or to be presented, newest first (not the intake batches). */
async function presented(settlement: SettlementService): Promise<SettlementBatch[]> {
  const { batches } = await settlement.listBatches({ limit: 100 });
  return batches.filter((batch) => !batch.intakeOpen);
}

async function items(database: Database, where = 'true', values: unknown[] = []): Promise<Item[]> {
  return (
    await database.query<Item>(
      `SELECT * FROM balance_transactions WHERE ${where} ORDER BY created_at, id`,
      values,
    )
  ).rows;
}

/** Throws (a simulated crash) the first time the armed point is reached. */
class CrashOnce implements FaultInjector {
  point: FaultPoint | undefined;
  reach(point: FaultPoint): void {
    if (point !== this.point) return;
    this.point = undefined;
    throw new Error(`crash at ${point}`);
  }
}

for (const kind of databaseKinds) {
  describe(`settlement (${kind})`, () => {
    let testDatabase: TestDatabase;
    let database: Database;
    let acquirer: FakeAcquirer;
    let clock: OffsetClock;
    let payments: Payments;
    let faults: CrashOnce;
    let settlement: SettlementService;

    const serviceOn = (submission: Partial<SubmissionOptions> = {}) =>
      new SettlementService({
        database,
        clock,
        connectors: ['stripe', 'adyen', 'razorpay', 'paytm'],
        acquirer: () =>
          new HttpAcquirerClient({
            baseUrl: acquirer.url,
            apiKey: 'acq_test_sim',
            timeoutMs: 10_000,
          }),
        faults,
        submission,
      });

    before(async () => {
      testDatabase = await openTestDatabase(kind);
      database = testDatabase.database;
      acquirer = await startFakeAcquirer();
    });
    after(async () => {
      await acquirer.close();
      await testDatabase.drop();
    });
    beforeEach(async () => {
      // Each test starts from no items and no batches, at Friday 10:00 UTC.
      await database.query(
        `TRUNCATE ledger_outbox, balance_transactions, settlement_answer_lines, settlement_batches, settlement_cutoffs, merchant_payout_settings CASCADE`,
      );
      clock = new OffsetClock(() => friday);
      payments = paymentsOn(database, clock);
      faults = new CrashOnce();
      settlement = serviceOn();
      acquirer.reject = undefined;
      acquirer.failNext = undefined;
    });
    afterEach(() => assert.deepEqual(payments.problems, []));

    test('captures and refunds become items once, with fee and signs; abandoned attempts do not', async () => {
      const merchantId = await payments.merchant();
      const paid = await payments.capture({
        merchantId,
        amount: 10_000n,
        fee: 320n,
        pspReference: 'ch_1',
      });
      const refundId = await payments.refund({
        merchantId,
        ...paid,
        amount: 2_500n,
        pspReference: 're_1',
      });
      await payments.orphan(merchantId, 700n);
      // The poster run again over the same transfers (they exist): no second item.
      await payments.ledger.transaction((tx) =>
        payments.ledger.post(tx, paid.movement, [
          directCapture(paid.attemptId, paid.movement, 10_000n),
          feeTransfer(paid.attemptId, paid.movement, 320n),
        ]),
      );
      const found = await items(database);
      assert.equal(found.length, 2);
      const [charge, refund] = found as [Item, Item];
      assert.deepEqual(
        [charge.type, charge.source, charge.attempt_id, charge.amount, charge.fee, charge.net],
        ['charge', paid.intentId, paid.attemptId, 10_000n, 320n, 9_680n],
      );
      assert.deepEqual(
        [refund.type, refund.source, refund.attempt_id, refund.amount, refund.fee, refund.net],
        ['refund', refundId, paid.attemptId, -2_500n, 0n, -2_500n],
      );
      for (const item of found) {
        assert.equal(item.clearing_status, 'unbatched');
        assert.equal(item.connector, 'stripe');
        assert.equal(item.created_at.getTime(), friday);
        assert.match(item.id, /^txn_/);
      }
      assert.equal(charge.ledger_transaction_id, `capture:${paid.attemptId}`);
      assert.equal(refund.ledger_transaction_id, `refund:${refundId}`);
    });

    test('a posting left in the outbox gets its item from the sweeper, once', async () => {
      const merchantId = await payments.merchant();
      await payments.capture({ merchantId, amount: 5_000n, fee: 100n, leaveInOutbox: true });
      assert.equal((await items(database)).length, 0);
      assert.equal(await payments.ledger.sweep(0), 1);
      assert.equal(await payments.ledger.sweep(0), 0);
      const [item] = await items(database);
      assert.deepEqual([item?.amount, item?.fee, item?.net], [5_000n, 100n, 4_900n]);
    });

    test("available_on is T+N business days of the merchant's time, weekends skipped", async () => {
      const standard = await payments.merchant();
      const slow = await payments.merchant();
      const ahead = await payments.merchant();
      await database.query(
        `INSERT INTO merchant_payout_settings (merchant_id, delay_days, updated_at) VALUES ($1, 5, $2), ($3, 0, $2)`,
        [slow, new Date(friday), ahead],
      );
      // The merchant's own clock is a day ahead: Saturday, delay 0 → Monday.
      clock.advance(day, ahead);
      await payments.capture({ merchantId: standard, amount: 100n });
      await payments.capture({ merchantId: slow, amount: 100n });
      await payments.capture({ merchantId: ahead, amount: 100n });
      const byMerchant = new Map((await items(database)).map((item) => [item.merchant_id, item]));
      assert.equal(
        byMerchant.get(standard)?.available_on.toISOString(),
        '2026-12-08T00:00:00.000Z',
      );
      assert.equal(byMerchant.get(slow)?.available_on.toISOString(), '2026-12-11T00:00:00.000Z');
      assert.equal(byMerchant.get(ahead)?.created_at.toISOString(), '2026-12-05T10:00:00.000Z');
      assert.equal(byMerchant.get(ahead)?.available_on.toISOString(), '2026-12-07T00:00:00.000Z');
    });

    test('closing at a cutoff: one batch per connector and currency, late items wait, expired authorizations become exceptions', async () => {
      const merchantId = await payments.merchant();
      const a = await payments.capture({ merchantId, amount: 1_000n });
      await payments.capture({ merchantId, amount: 2_000n });
      await payments.refund({ merchantId, ...a, amount: 300n });
      await payments.capture({ merchantId, amount: 4_000n, currency: 'eur' });
      await payments.capture({ merchantId, amount: 8_000n, connector: 'adyen' });
      // Authorized 8 days ago: past stripe's 7-day window; adyen's is set to 10 days.
      await payments.capture({
        merchantId,
        amount: 16_000n,
        authorizedAt: new Date(friday - 8 * day),
      });
      await settlement.setCutoff('adyen', {
        cutoffTime: '18:00',
        timezone: 'UTC',
        captureWindowDays: 10,
      });
      await payments.capture({
        merchantId,
        amount: 32_000n,
        connector: 'adyen',
        authorizedAt: new Date(friday - 8 * day),
      });
      // Before the cutoff (18:00 UTC): nothing is due for today, yesterday's batch is empty.
      assert.deepEqual((await settlement.closeDue(clock.now())).closed, []);
      clock.advance(9 * hour); // 19:00
      await payments.capture({ merchantId, amount: 64_000n }); // after the cutoff: the next batch
      const closed = await settlement.closeDue(clock.now(), { chunkSize: 2 });
      assert.equal(closed.batchesOpened, 3);
      assert.equal(closed.exceptions, 1);
      assert.equal(closed.itemsBatched, 6);
      const batches = await presented(settlement);
      const summary = batches
        .map(
          (batch) =>
            `${batch.connector}/${batch.currency} ${batch.status} ${batch.itemCount} ${batch.netAmount}`,
        )
        .sort();
      assert.deepEqual(summary, [
        'adyen/usd closed 2 40000',
        'stripe/eur closed 1 4000',
        'stripe/usd closed 3 2700',
      ]);
      for (const batch of batches)
        assert.equal(batch.cutoffAt.toISOString(), '2026-12-04T18:00:00.000Z');
      const expired = await items(database, `clearing_status = 'exception'`);
      assert.deepEqual(
        expired.map((item) => [item.amount, item.reject_reason, item.batch_id]),
        [[16_000n, 'authorization_expired', null]],
      );
      // The capture after the cutoff went into stripe/usd's intake batch (opened by the first
      // close at 10:00), which the close left open for the next cutoff.
      const intakes = (await settlement.listBatches({ limit: 100 })).batches.filter(
        (batch) => batch.intakeOpen,
      );
      assert.deepEqual(
        intakes.map((batch) => `${batch.connector}/${batch.currency} ${batch.status}`).sort(),
        ['adyen/usd open', 'stripe/eur open', 'stripe/usd open'],
      );
      const stripeIntake = intakes.find(
        (batch) => batch.connector === 'stripe' && batch.currency === 'usd',
      );
      assert.deepEqual(
        (
          await items(database, `clearing_status = 'batched' AND batch_id = $1`, [stripeIntake?.id])
        ).map((item) => item.amount),
        [64_000n],
      );
      assert.equal(stripeIntake?.cutoffAt.toISOString(), '2026-12-05T18:00:00.000Z');
      // Closing again at the same time changes nothing.
      const again = await settlement.closeDue(clock.now());
      assert.deepEqual([again.batchesOpened, again.itemsBatched, again.closed.length], [0, 0, 0]);
    });

    test('items posted while an intake batch is open go straight into it: closing does not rewrite them', async () => {
      const merchantId = await payments.merchant();
      await payments.capture({ merchantId, amount: 100n }); // before any intake: unbatched
      assert.deepEqual((await settlement.closeDue()).closed, []); // 10:00: opens the intake
      const [intake] = (await settlement.listBatches({ limit: 10 })).batches;
      assert.equal(intake?.intakeOpen, true);
      for (let index = 0; index < 5; index++)
        await payments.capture({ merchantId, amount: BigInt(1_000 + index) });
      const versions = async () =>
        (
          await database.query<{ id: string; xmin: string; batch_id: string | null }>(
            `SELECT id, xmin::text AS xmin, batch_id FROM balance_transactions WHERE amount >= 1000 ORDER BY id`,
          )
        ).rows;
      const before = await versions();
      assert.equal(before.length, 5);
      assert.ok(before.every((item) => item.batch_id === intake?.id));
      clock.advance(9 * hour);
      const closed = await settlement.closeDue();
      assert.deepEqual(closed.closed, [{ id: intake?.id, itemCount: 6 }]);
      // The same row versions: the close wrote the batch, not the five items it already held.
      assert.deepEqual(await versions(), before);
      const unbatched = await items(database, `amount = 100`);
      assert.deepEqual(
        unbatched.map((item) => [item.clearing_status, item.batch_id]),
        [['batched', intake?.id]],
      );
      const batch = await settlement.getBatch(intake?.id ?? '');
      assert.deepEqual(
        [batch?.status, batch?.intakeOpen, batch?.itemCount, batch?.netAmount],
        ['closed', false, 6, 5_110n],
      );
    });

    if (kind === 'postgres')
      test('postings racing a close: every item lands once, in the closed batch or the next intake', async () => {
        const merchantId = await payments.merchant();
        await settlement.closeDue(); // opens the intakes
        await payments.capture({ merchantId, amount: 1n });
        clock.advance(9 * hour - 1_000); // 17:59:59
        const posting = (async () => {
          for (let index = 0; index < 60; index++) {
            if (index === 20) clock.advance(2_000); // 18:00:01: past the cutoff
            await payments.capture({ merchantId, amount: BigInt(10 + index) });
          }
        })();
        const closing = (async () => {
          for (let round = 0; round < 30; round++) {
            await settlement.closeDue();
            await new Promise((resolve) => setImmediate(resolve));
          }
        })();
        await Promise.all([posting, closing]);
        await settlement.closeDue();
        const all = await items(database);
        assert.equal(all.length, 61);
        const closedBatches = (await presented(settlement)).filter(
          (batch) => batch.status === 'closed',
        );
        assert.equal(closedBatches.length, 1);
        const [closedBatch] = closedBatches;
        const inClosed = all.filter((item) => item.batch_id === closedBatch?.id);
        // Exactly the items created before the cutoff, counted as the batch says.
        assert.ok(
          inClosed.every((item) => item.created_at < (closedBatch?.cutoffAt ?? new Date())),
        );
        assert.equal(inClosed.length, closedBatch?.itemCount);
        assert.equal(
          inClosed.reduce((sum, item) => sum + item.amount, 0n),
          closedBatch?.netAmount,
        );
        const later = all.filter((item) => item.batch_id !== closedBatch?.id);
        assert.equal(inClosed.length + later.length, 61);
        assert.ok(later.every((item) => item.created_at >= (closedBatch?.cutoffAt ?? new Date())));
        assert.ok(
          later.every(
            (item) => item.clearing_status === 'unbatched' || item.clearing_status === 'batched',
          ),
        );
      });

    test('submission: partial acceptance, each reject path, the request as the contract says', async () => {
      const merchantId = await payments.merchant();
      const ok = await payments.capture({ merchantId, amount: 1_000n, pspReference: 'ch_ok' });
      await payments.refund({ merchantId, ...ok, amount: 400n, pspReference: 're_ok' });
      await payments.capture({ merchantId, amount: 2_000n, pspReference: 'dup_1' });
      await payments.capture({ merchantId, amount: 3_000n, pspReference: 'unk_1' });
      await payments.capture({ merchantId, amount: 5_000n, pspReference: 'amt_1' });
      await payments.capture({ merchantId, amount: 7_000n, pspReference: 'late_1' });
      clock.advance(9 * hour);
      await settlement.closeDue();
      const run = await settlement.submitPending();
      assert.deepEqual(
        [run.submitted, run.accepted, run.rejected, run.retried, run.exceptions],
        [1, 2, 4, 2, 2],
      );
      const request = acquirer.requests.at(-1);
      assert.ok(request !== undefined);
      assert.deepEqual(request.header, {
        connector: 'stripe',
        currency: 'usd',
        cutoff_at: '2026-12-04T18:00:00.000Z',
        item_count: 6,
        net_amount: 1_000 - 400 + 2_000 + 3_000 + 5_000 + 7_000,
      });
      const captureLine = request.items.find((item) => item.psp_reference === 'ch_ok');
      assert.deepEqual(
        [captureLine?.type, captureLine?.amount, captureLine?.authorized_at],
        ['capture', 1_000, '2026-12-04T10:00:00.000Z'],
      );
      const refundLine = request.items.find((item) => item.type === 'refund');
      assert.deepEqual(
        { ...refundLine, item_id: undefined },
        {
          item_id: undefined,
          psp_reference: 're_ok',
          type: 'refund',
          amount: 400,
          currency: 'usd',
        },
      );
      const batch = (await presented(settlement))[0];
      assert.equal(batch?.status, 'partially_acknowledged');
      assert.deepEqual(
        [
          batch?.acceptedCount,
          batch?.rejectedCount,
          batch?.acceptedAmount,
          batch?.settlementReference,
        ],
        [2, 4, 600n, batch?.settlementReference],
      );
      assert.match(batch?.settlementReference ?? '', /^po_sim/);
      assert.match(batch?.acquirerReference ?? '', /^acq_/);
      // The merchant hears of its share of the batch, once: one event, not one per item.
      const acknowledged = await database.query<{ merchant_id: string; data: { object: unknown } }>(
        `SELECT merchant_id, data FROM events WHERE type = 'settlement_batch.acknowledged'`,
      );
      assert.deepEqual(
        acknowledged.rows.map((row) => [row.merchant_id, row.data.object]),
        [
          [
            merchantId,
            {
              id: batch?.id,
              object: 'settlement_share',
              connector: 'stripe',
              currency: 'usd',
              cutoff_at: Date.parse('2026-12-04T18:00:00Z') / 1000,
              status: 'partially_acknowledged',
              accepted_count: 2,
              accepted_net: 600,
              rejected_count: 4,
              acknowledged_at: Math.floor((batch?.acknowledgedAt?.getTime() ?? 0) / 1000),
              funded_at: null,
              livemode: false,
            },
          ],
        ],
      );
      const byReference = new Map(
        (
          await database.query<{
            psp_reference: string;
            clearing_status: string;
            reject_reason: string | null;
            rejections: number;
          }>(
            `SELECT coalesce(a.psp_reference, r.psp_reference) AS psp_reference, i.clearing_status, i.reject_reason, i.rejections
               FROM balance_transactions i
               LEFT JOIN payment_attempts a ON i.type = 'charge' AND a.id = i.attempt_id
               LEFT JOIN refunds r ON i.type = 'refund' AND r.id = i.source`,
          )
        ).rows.map((row) => [
          row.psp_reference,
          `${row.clearing_status} ${row.reject_reason} ${row.rejections}`,
        ]),
      );
      assert.deepEqual(Object.fromEntries(byReference), {
        ch_ok: 'batched null 0',
        re_ok: 'batched null 0',
        dup_1: 'exception duplicate 1',
        unk_1: 'unbatched unknown_reference 1',
        amt_1: 'unbatched amount_invalid 1',
        late_1: 'exception authorization_expired 1',
      });
      // Retried in the next batches, at most three rejections in all, then an exception.
      for (let submission = 2; submission <= 3; submission++) {
        clock.advance(day);
        await settlement.closeDue();
        const retried = await settlement.submitPending();
        assert.deepEqual([retried.submitted, retried.rejected], [1, 2]);
      }
      const rejected = await items(
        database,
        `reject_reason IN ('unknown_reference', 'amount_invalid')`,
      );
      assert.deepEqual(
        rejected.map((item) => `${item.clearing_status} ${item.rejections}`),
        ['exception 3', 'exception 3'],
      );
      clock.advance(day);
      assert.deepEqual((await settlement.closeDue()).closed, []);
      assert.equal((await settlement.submitPending()).submitted, 0);
      for (const [, executions] of acquirer.executions) assert.equal(executions, 1);
    });

    for (const point of [
      'settlement_after_close',
      'settlement_after_mark_submitted',
      'settlement_after_acquirer_answer',
      'settlement_after_ack_recorded',
    ] as const) {
      test(`a crash at ${point}: the batch is submitted once, recorded once`, async () => {
        const merchantId = await payments.merchant();
        await payments.capture({ merchantId, amount: 1_000n, pspReference: 'ch_a' });
        await payments.capture({ merchantId, amount: 2_000n, pspReference: 'unk_b' });
        clock.advance(9 * hour);
        faults.point = point;
        const requestsBefore = acquirer.requests.length;
        await assert.rejects(settlement.run(), new RegExp(`crash at ${point}`));
        // A new process (a fresh service); the lease of the dead worker runs out first.
        settlement = serviceOn();
        const [early] = await presented(settlement);
        if (
          point === 'settlement_after_mark_submitted' ||
          point === 'settlement_after_acquirer_answer'
        ) {
          assert.equal(early?.status, 'submitted');
          assert.equal((await settlement.submitPending()).submitted, 0, 'the lease holds it');
          clock.advance(5 * 60_000);
        }
        await settlement.run();
        await settlement.run();
        const [batch] = await presented(settlement);
        assert.equal(batch?.status, 'partially_acknowledged');
        assert.deepEqual([batch?.itemCount, batch?.acceptedCount, batch?.rejectedCount], [2, 1, 1]);
        assert.equal(acquirer.executions.get(batch?.id ?? ''), 1);
        const sent = acquirer.requests
          .slice(requestsBefore)
          .filter((request) => request.batchId === batch?.id);
        assert.equal(sent.length, point === 'settlement_after_acquirer_answer' ? 2 : 1);
        const found = await items(database);
        assert.deepEqual(found.map((item) => `${item.clearing_status} ${item.rejections}`).sort(), [
          'batched 0',
          'unbatched 1',
        ]);
        assert.equal(
          (await database.query(`SELECT 1 FROM settlement_answer_lines`)).rows.length,
          0,
        );
      });
    }

    test('an acquirer that replays its answer before reading the request: every item is tallied once', async () => {
      const merchantId = await payments.merchant();
      for (let index = 0; index < 9; index++)
        await payments.capture({ merchantId, amount: BigInt(1_000 + index) });
      clock.advance(9 * hour);
      // Pages of two items: the request is many writes, most of them after the early answer.
      const paged = () => serviceOn({ pageSize: 2 });
      settlement = paged();
      faults.point = 'settlement_after_acquirer_answer';
      await assert.rejects(settlement.run(), /crash at settlement_after_acquirer_answer/);
      settlement = paged();
      clock.advance(5 * 60_000);
      acquirer.answerEarly = true;
      try {
        const retried = await settlement.submitPending();
        assert.deepEqual([retried.submitted, retried.failed, retried.accepted], [1, 0, 9]);
      } finally {
        acquirer.answerEarly = false;
      }
      const [batch] = await presented(settlement);
      assert.deepEqual([batch?.status, batch?.acceptedCount], ['acknowledged', 9]);
      assert.equal(acquirer.executions.get(batch?.id ?? ''), 1);
    });

    test('an acquirer that fails: the batch stays submitted with the error, and is submitted again later', async () => {
      const merchantId = await payments.merchant();
      await payments.capture({ merchantId, amount: 1_000n });
      clock.advance(9 * hour);
      await settlement.closeDue();
      acquirer.failNext = 503;
      const failed = await settlement.submitPending();
      assert.deepEqual([failed.submitted, failed.failed], [1, 1]);
      const [stuck] = await presented(settlement);
      assert.equal(stuck?.status, 'submitted');
      assert.match(stuck?.lastError ?? '', /503/);
      clock.advance(5 * 60_000);
      const retried = await settlement.submitPending();
      assert.deepEqual([retried.submitted, retried.failed, retried.accepted], [1, 0, 1]);
      const [done] = await presented(settlement);
      assert.deepEqual(
        [done?.status, done?.submissionAttempts, done?.lastError],
        ['acknowledged', 2, null],
      );
    });

    test('the submit step counts acknowledged batches only: a failing acquirer gives 0, so a run moves on', async () => {
      const merchantId = await payments.merchant();
      await payments.capture({ merchantId, amount: 1_000n });
      clock.advance(9 * hour);
      const [close, submit] = settlement.steps();
      assert.equal(await close?.run(), 1);
      acquirer.failNext = 503;
      assert.equal(await submit?.run(), 0);
      clock.advance(5 * 60_000);
      assert.equal(await submit?.run(), 1);
    });

    if (kind === 'postgres')
      test('workers closing and submitting at once never make two batches of the same items', async () => {
        const merchants = await Promise.all([payments.merchant(), payments.merchant()]);
        for (let index = 0; index < 60; index++)
          await payments.capture({
            merchantId: merchants[index % 2] as string,
            amount: BigInt(100 + index),
            connector: index % 3 === 0 ? 'adyen' : 'stripe',
          });
        clock.advance(9 * hour);
        const workers = Array.from({ length: 4 }, () => serviceOn());
        await Promise.all(workers.map((worker) => worker.closeDue(clock.now(), { chunkSize: 7 })));
        const batches = await presented(settlement);
        assert.equal(batches.length, 2);
        assert.ok(batches.every((batch) => batch.status === 'closed'));
        assert.equal(
          batches.reduce((sum, batch) => sum + batch.itemCount, 0),
          60,
        );
        const counted = await database.query<{ batch_id: string; count: number; net: bigint }>(
          `SELECT batch_id, count(*)::int AS count, sum(amount)::bigint AS net FROM balance_transactions GROUP BY batch_id`,
        );
        for (const row of counted.rows) {
          const batch = batches.find((candidate) => candidate.id === row.batch_id);
          assert.deepEqual([batch?.itemCount, batch?.netAmount], [row.count, row.net]);
        }
        await Promise.all(workers.map((worker) => worker.submitPending()));
        for (const batch of batches) {
          assert.equal(acquirer.executions.get(batch.id), 1);
          assert.equal(
            acquirer.requests.filter((request) => request.batchId === batch.id).length,
            1,
          );
          assert.equal((await settlement.getBatch(batch.id))?.status, 'acknowledged');
        }
        const accepted = await items(
          database,
          `clearing_status = 'batched' AND batch_id IN (SELECT id FROM settlement_batches WHERE status = 'acknowledged')`,
        );
        assert.equal(accepted.length, 60);
      });
  });
}
