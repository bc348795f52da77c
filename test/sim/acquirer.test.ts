// The acquirer against the real simulator process (CONTRACT.md "Acquirer clearing"): partial
// acceptance, every reason code, idempotent resubmission, header mismatch, the capture window,
// seeded faults, the PSPs' own books and a large streamed batch.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  ACQ_AUTH,
  adminJson,
  batchBody,
  fresh,
  moneyTruth,
  seed,
  submit,
  type Item,
} from './money-out-support.ts';
import {
  CARDS,
  razorpay,
  razorpayPayment,
  startSimProcess,
  stripe,
  stripeIntent,
  text,
  type SimProcess,
} from './support.ts';

let sim: SimProcess;
before(async () => {
  sim = await startSimProcess();
});
after(async () => {
  assert.equal(await sim.stop(), 0);
});
beforeEach(async () => {
  assert.equal((await adminJson(sim, 'POST', '/reset')).status, 200);
});

const CUTOFF = '2026-03-10T18:00:00Z';
const DAY = 86_400_000;
const ago = (days: number): string => new Date(Date.parse(CUTOFF) - days * DAY).toISOString();
const capture = (ref: string, amount: number, extra: Partial<Item> = {}): Item => ({
  item_id: fresh('txn_'),
  psp_reference: ref,
  type: 'capture',
  amount,
  currency: 'usd',
  ...extra,
});

/** Seeds n stripe captures of 1000 + i authorized a day before the cutoff; returns their refs. */
async function seedCaptures(n: number, authorizedDaysAgo = 1): Promise<string[]> {
  const refs = Array.from({ length: n }, () => fresh('pi_'));
  const answer = await seed(
    sim,
    refs.map((ref, index) => ({
      psp: 'stripe',
      psp_reference: ref,
      type: 'capture' as const,
      amount: 1000 + index,
      currency: 'usd',
      authorized_at: ago(authorizedDaysAgo),
      reference: `att_${index}`,
    })),
  );
  assert.deepEqual(answer, { status: 200, body: { seeded: n } });
  return refs;
}

describe('clearing batches', () => {
  test('partial acceptance with every reason code', async () => {
    const [ok, dup, wrongAmount] = await seedCaptures(3);
    const [late] = await seedCaptures(1, 8);
    await seed(sim, [
      {
        psp: 'stripe',
        psp_reference: 're_seeded1',
        type: 'refund',
        amount: 300,
        currency: 'usd',
        payment_reference: ok as string,
      },
    ]);
    const items = [
      capture(ok as string, 1000),
      capture(dup as string, 1001),
      capture(dup as string, 1001),
      capture('pi_unknown', 500),
      capture(wrongAmount as string, 999),
      capture(late as string, 1000),
      {
        item_id: fresh('txn_'),
        psp_reference: 're_seeded1',
        type: 'refund' as const,
        amount: 300,
        currency: 'usd',
      },
      capture(ok as string, 1000, { type: 'refund' }),
    ];
    const ack = await submit(
      sim,
      'sb_partial01',
      batchBody({ connector: 'stripe', currency: 'usd', cutoff_at: CUTOFF }, items),
    );
    assert.equal(ack.status, 200);
    assert.deepEqual(
      ack.results.map((result) => result.reason_code ?? result.result),
      [
        'accepted',
        'accepted',
        'duplicate',
        'unknown_reference',
        'amount_invalid',
        'authorization_expired',
        'accepted',
        'unknown_reference',
      ],
    );
    assert.deepEqual(
      ack.results.map((result) => result.item_id),
      items.map((item) => item.item_id),
    );
    assert.equal(ack.header.batch_id, 'sb_partial01');
    assert.equal(ack.header.status, 'accepted');
    assert.equal(ack.header.accepted_count, 3);
    assert.equal(ack.header.rejected_count, 5);
    assert.equal(ack.header.accepted_amount, 1000 + 1001 - 300);
    assert.match(String(ack.header.settlement_reference), /^po_[A-Za-z0-9]{24}$/);
    assert.match(String(ack.header.acquirer_reference), /^acq_/);
    // A later batch presenting an accepted capture again: duplicate.
    const again = await submit(
      sim,
      'sb_partial02',
      batchBody({ connector: 'stripe', currency: 'usd', cutoff_at: CUTOFF }, [
        capture(ok as string, 1000),
      ]),
    );
    assert.equal(again.results[0]?.reason_code, 'duplicate');
    // A rejected item may be presented again (now right) and is accepted.
    const retry = await submit(
      sim,
      'sb_partial03',
      batchBody({ connector: 'stripe', currency: 'usd', cutoff_at: CUTOFF }, [
        capture(wrongAmount as string, 1002),
      ]),
    );
    assert.equal(retry.results[0]?.result, 'accepted');
  });

  test('the same batch id again gets the first answer, byte for byte, and is executed once', async () => {
    const refs = await seedCaptures(3);
    const body = batchBody(
      { connector: 'stripe', currency: 'usd', cutoff_at: CUTOFF },
      refs.map((ref, index) => capture(ref, 1000 + index)),
    );
    const first = await submit(sim, 'sb_idem0001', body);
    const second = await submit(sim, 'sb_idem0001', body);
    // Even with another body, the batch id decides.
    const third = await submit(
      sim,
      'sb_idem0001',
      batchBody({ connector: 'stripe', currency: 'usd', cutoff_at: CUTOFF }, []),
    );
    assert.equal(first.header.accepted_count, 3);
    assert.equal(second.text, first.text);
    assert.equal(third.text, first.text);
    const concurrent = await Promise.all(
      [1, 2, 3].map(() =>
        submit(
          sim,
          'sb_idem0002',
          batchBody({ connector: 'stripe', currency: 'usd', cutoff_at: CUTOFF }, []),
        ),
      ),
    );
    assert.ok(concurrent.every((ack) => ack.text === concurrent[0]?.text));
    const truth = await moneyTruth(sim);
    assert.equal(truth.acquirer.batches.sb_idem0001?.executions, 1);
    assert.equal(truth.acquirer.batches.sb_idem0001?.submissions, 3);
    assert.equal(truth.acquirer.batches.sb_idem0002?.executions, 1);
    assert.deepEqual(
      truth.bank.credits.map((credit) => [credit.batch_id, credit.entries.length]),
      [
        ['sb_idem0001', 1],
        ['sb_idem0002', 0],
      ],
      'one credit entry per batch, none for a batch that nets to zero',
    );
    const alone = (await (
      await fetch(`${sim.url}/_sim/ground_truth/money_out?items=false`)
    ).json()) as {
      acquirer: { batches: Record<string, { executions: number; items?: unknown }> };
      bank: unknown;
    };
    assert.deepEqual(Object.keys(alone), ['acquirer', 'bank']);
    assert.equal(alone.acquirer.batches.sb_idem0001?.executions, 1);
    assert.equal(alone.acquirer.batches.sb_idem0001?.items, undefined);
    const read = await fetch(`${sim.url}/acquirer/v1/clearing_batches/sb_idem0001`, {
      headers: { authorization: ACQ_AUTH },
    });
    assert.equal(await read.text(), first.text);
  });

  test('a header that disagrees with its lines is refused with 400 and nothing is recorded', async () => {
    const refs = await seedCaptures(2);
    const items = refs.map((ref, index) => capture(ref, 1000 + index));
    const header = { connector: 'stripe', currency: 'usd', cutoff_at: CUTOFF };
    const wrongCount = await submit(
      sim,
      'sb_bad00001',
      batchBody({ ...header, item_count: 3 }, items),
    );
    assert.equal(wrongCount.status, 400);
    assert.equal((wrongCount.header.error as { code: string }).code, 'header_mismatch');
    const wrongNet = await submit(
      sim,
      'sb_bad00001',
      batchBody({ ...header, net_amount: 1 }, items),
    );
    assert.equal(wrongNet.status, 400);
    const malformed = await submit(
      sim,
      'sb_bad00001',
      `${JSON.stringify({ ...header, item_count: 1, net_amount: 5 })}\n{"item_id":"x"}\n`,
    );
    assert.equal(malformed.status, 400);
    assert.equal((malformed.header.error as { code: string }).code, 'invalid_batch');
    assert.deepEqual((await moneyTruth(sim)).acquirer.batches, {});
    const right = await submit(sim, 'sb_bad00001', batchBody(header, items));
    assert.equal(
      right.header.accepted_count,
      2,
      'nothing of the refused submissions counted as presented',
    );
  });

  test('a submission whose client goes away mid-body records nothing and does not block a retry', async () => {
    const refs = await seedCaptures(2);
    const body = batchBody(
      { connector: 'stripe', currency: 'usd', cutoff_at: CUTOFF },
      refs.map((ref, index) => capture(ref, 1000 + index)),
    );
    const { hostname, port } = new URL(sim.url);
    const partial = request({
      hostname,
      port,
      method: 'POST',
      path: '/acquirer/v1/clearing_batches/sb_abort001',
      headers: { authorization: ACQ_AUTH, 'transfer-encoding': 'chunked' },
    });
    partial.on('error', () => undefined);
    partial.write(body.slice(0, body.indexOf('\n') + 20));
    await new Promise((resolve) => setTimeout(resolve, 50));
    partial.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual((await moneyTruth(sim)).acquirer.batches, {});
    const ack = await submit(sim, 'sb_abort001', body);
    assert.equal(ack.header.accepted_count, 2);
  });

  test('authentication, unknown connector and bad batch ids', async () => {
    const body = batchBody({ connector: 'stripe', currency: 'usd', cutoff_at: CUTOFF }, []);
    const noAuth = await fetch(`${sim.url}/acquirer/v1/clearing_batches/sb_x`, {
      method: 'POST',
      body,
    });
    assert.equal(noAuth.status, 401);
    assert.equal(
      (
        await submit(
          sim,
          'sb_x',
          batchBody({ connector: 'visa', currency: 'usd', cutoff_at: CUTOFF }, []),
        )
      ).status,
      400,
    );
    assert.equal((await submit(sim, 'sb%20x', body)).status, 400);
    assert.equal(
      (
        await submit(
          sim,
          'sb_x',
          batchBody({ connector: 'stripe', currency: 'usd', cutoff_at: 'yesterday' }, []),
        )
      ).status,
      400,
    );
  });

  test('the capture window is judged at cutoff_at and can be set; authorized_at on an item wins', async () => {
    const [threeDays] = await seedCaptures(1, 3);
    const [claimed] = await seedCaptures(1, 3);
    assert.deepEqual(await adminJson(sim, 'PUT', '/acquirer', { captureWindowDays: 2 }), {
      status: 200,
      body: { acquirer: { captureWindowDays: 2 } },
    });
    const ack = await submit(
      sim,
      'sb_window01',
      batchBody({ connector: 'stripe', currency: 'usd', cutoff_at: CUTOFF }, [
        capture(threeDays as string, 1000),
        capture(claimed as string, 1000, { authorized_at: ago(1) }),
      ]),
    );
    assert.deepEqual(
      ack.results.map((result) => result.reason_code ?? result.result),
      ['authorization_expired', 'accepted'],
    );
    assert.equal((await adminJson(sim, 'PUT', '/acquirer', { captureWindowDays: -1 })).status, 400);
  });

  test('captures and refunds made at the PSPs are known from their books', async () => {
    const intent = await stripe(
      sim,
      '/v1/payment_intents',
      stripeIntent(CARDS.visa, { amount: '5000' }),
    );
    const refund = await stripe(sim, '/v1/refunds', {
      payment_intent: text(intent.body, 'id'),
      amount: '1200',
    });
    const uncaptured = await stripe(
      sim,
      '/v1/payment_intents',
      stripeIntent(CARDS.visa, { capture_method: 'manual', amount: '700' }),
    );
    const now = new Date().toISOString();
    const ack = await submit(
      sim,
      'sb_books001',
      batchBody({ connector: 'stripe', currency: 'usd', cutoff_at: now }, [
        capture(text(intent.body, 'id'), 5000),
        {
          item_id: 'txn_r1',
          psp_reference: text(refund.body, 'id'),
          type: 'refund',
          amount: 1200,
          currency: 'usd',
        },
        capture(text(uncaptured.body, 'id'), 700),
      ]),
    );
    assert.deepEqual(
      ack.results.map((result) => result.reason_code ?? result.result),
      ['accepted', 'accepted', 'unknown_reference'],
    );
    const payment = await razorpay(
      sim,
      '/v1/payments/create/json',
      razorpayPayment(CARDS.visa, { amount: 50_000, capture: true }),
    );
    const inr = await submit(
      sim,
      'sb_books002',
      batchBody({ connector: 'razorpay', currency: 'inr', cutoff_at: now }, [
        { ...capture(text(payment.body, 'id'), 50_000), currency: 'INR' },
        // The right payment at the wrong connector is unknown there.
        { ...capture(text(intent.body, 'id'), 5000), currency: 'inr' },
      ]),
    );
    assert.deepEqual(
      inr.results.map((result) => result.reason_code ?? result.result),
      ['accepted', 'unknown_reference'],
    );
    assert.match(String(inr.header.settlement_reference), /^setl_[A-Za-z0-9]{14}$/);
  });

  test('faults: a share of items rejected, a 500 that records nothing, a response lost after recording', async () => {
    const refs = await seedCaptures(6);
    const items = refs.map((ref, index) => capture(ref, 1000 + index));
    const header = { connector: 'stripe', currency: 'usd', cutoff_at: CUTOFF };
    await adminJson(sim, 'PUT', '/acquirer/faults', {
      seed: 7,
      rejectRate: 1,
      rejectReason: 'amount_invalid',
      rejectReferences: { [refs[0] as string]: 'unknown_reference' },
    });
    const rejected = await submit(sim, 'sb_fault001', batchBody(header, items.slice(0, 3)));
    assert.deepEqual(
      rejected.results.map((result) => result.reason_code),
      ['unknown_reference', 'amount_invalid', 'amount_invalid'],
    );
    await adminJson(sim, 'PUT', '/acquirer/faults', { errorNext: 1 });
    const failed = await submit(sim, 'sb_fault002', batchBody(header, items.slice(3)));
    assert.equal(failed.status, 500);
    assert.equal((await moneyTruth(sim)).acquirer.batches.sb_fault002, undefined);
    await adminJson(sim, 'PUT', '/acquirer/faults', { loseNext: 1 });
    await assert.rejects(submit(sim, 'sb_fault002', batchBody(header, items.slice(3))));
    const truth = await moneyTruth(sim);
    assert.equal(
      truth.acquirer.batches.sb_fault002?.executions,
      1,
      'recorded before the response was lost',
    );
    const retried = await submit(sim, 'sb_fault002', batchBody(header, items.slice(3)));
    assert.equal(retried.header.accepted_count, 3);
    assert.equal((await moneyTruth(sim)).acquirer.batches.sb_fault002?.submissions, 2);
    assert.equal(
      (await adminJson(sim, 'PUT', '/acquirer/faults', { rejectReason: 'late' })).status,
      400,
    );
    assert.deepEqual((await adminJson(sim, 'DELETE', '/acquirer/faults')).body, { acquirer: null });
  });

  test('a 30,000-item batch streams in and out; bulk seeding takes NDJSON', async () => {
    const count = 30_000;
    const refs = Array.from({ length: count }, (_unused, index) => `pi_big${index}`);
    const seeds = refs.map((ref, index) =>
      JSON.stringify({
        psp: 'adyen',
        psp_reference: ref,
        type: 'capture',
        amount: 100 + (index % 50),
        currency: 'eur',
        authorized_at: ago(1),
      }),
    );
    const seeded = await fetch(`${sim.url}/_sim/ground_truth/bulk`, {
      method: 'POST',
      body: seeds.join('\n'),
    });
    assert.deepEqual(await seeded.json(), { seeded: count });
    const items: Item[] = refs.map((ref, index) => ({
      item_id: `txn_big${index}`,
      psp_reference: ref,
      type: 'capture',
      amount: 100 + (index % 50),
      currency: 'eur',
    }));
    items[17] = { ...(items[17] as Item), amount: 1 };
    const started = performance.now();
    const ack = await submit(
      sim,
      'sb_big00001',
      batchBody({ connector: 'adyen', currency: 'eur', cutoff_at: CUTOFF }, items),
    );
    const elapsedMs = performance.now() - started;
    assert.equal(ack.results.length, count);
    assert.equal(ack.header.accepted_count, count - 1);
    assert.equal(ack.results[17]?.reason_code, 'amount_invalid');
    assert.match(String(ack.header.settlement_reference), /^\d+$/);
    assert.ok(elapsedMs < 5000, `took ${elapsedMs} ms`);
    const truth = await moneyTruth(sim);
    const truthItems = truth.acquirer.batches.sb_big00001?.items ?? [];
    assert.equal(
      truthItems.length,
      count,
      'the ground truth joins its chunks into one JSON document',
    );
    assert.deepEqual(truthItems[count - 1], {
      item_id: `txn_big${count - 1}`,
      psp_reference: `pi_big${count - 1}`,
      type: 'capture',
      amount: 100 + ((count - 1) % 50),
      result: 'accepted',
    });
    const csv = await fetch(
      `${sim.url}/adyen/reports/settlement_detail_report_batch_${String(ack.header.settlement_reference)}.csv`,
      { headers: { 'x-api-key': 'AQE_sim_api_key' } },
    );
    const rows = (await csv.text()).split('\n').filter((line) => line !== '');
    assert.equal(rows.length, 1 + count - 1);
    const summary = await adminJson(sim, 'GET', '/ground_truth/summary');
    assert.deepEqual(summary.body.acquirer, {
      batches: 1,
      items: count,
      accepted: count - 1,
      rejected: 1,
      seeded: count,
    });
  });

  test('bulk seeding refuses a bad line and says how many lines before it were kept', async () => {
    const answer = await seed(sim, [
      {
        psp: 'stripe',
        psp_reference: 'pi_s1',
        type: 'capture',
        amount: 10,
        currency: 'usd',
        authorized_at: CUTOFF,
      },
      { psp: 'stripe', psp_reference: 'pi_s2', type: 'capture', amount: 10, currency: 'usd' },
    ]);
    assert.equal(answer.status, 400);
    assert.equal(answer.body.seeded, 1);
    assert.match(
      String((answer.body.error as { message: string }).message),
      /line 2: authorized_at/,
    );
  });
});
