// Fault injection and delayed answers against the real process: seeded repeatability, 500s that
// are not stored, lost responses, timeouts, latency, client aborts, and the admin API's checks.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { PSPS } from '../../sim/psps/registry.ts';
import {
  CARDS,
  PAYTM_MID,
  admin,
  at,
  delay,
  groundTruth,
  paytm,
  paytmOrder,
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
  sim = await startSimProcess({ SIM_TIMEOUT_DELAY_MS: '300' });
});
afterEach(async () => {
  assert.equal((await admin(sim, 'DELETE', '/faults')).status, 200);
});
after(async () => {
  assert.deepEqual(sim.stderr, [], 'the simulator wrote nothing to stderr');
  assert.equal(await sim.stop(), 0);
});

type Outcome = 'ok' | 'error' | 'lost';

async function stripeOutcomes(count: number, tag: string): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (let index = 0; index < count; index += 1) {
    const params = stripeIntent(CARDS.visa, {
      capture_method: 'manual',
      'metadata[reference]': `${tag}_${index}`,
    });
    try {
      const reply = await stripe(sim, '/v1/payment_intents', params, { key: `${tag}_${index}` });
      outcomes.push(
        reply.status === 200
          ? 'ok'
          : reply.status === 500
            ? 'error'
            : assert.fail(`unexpected ${reply.status}`),
      );
    } catch {
      outcomes.push('lost');
    }
  }
  return outcomes;
}

describe('faults: seeded draws', () => {
  test('the same seed gives the same sequence of errors and lost responses, and the ground truth matches', async () => {
    const settings = { seed: 1234, errorRate: 0.3, lostResponseRate: 0.2 };
    assert.equal((await admin(sim, 'PUT', '/faults/stripe', settings)).status, 200);
    const first = await stripeOutcomes(30, 'seed_a');
    await admin(sim, 'PUT', '/faults/stripe', settings);
    const second = await stripeOutcomes(30, 'seed_b');
    assert.deepEqual(second, first);
    assert.ok(
      first.includes('ok') && first.includes('error') && first.includes('lost'),
      first.join(','),
    );
    const truth = await groundTruth(sim, { psp: 'stripe' });
    const recorded = (tag: string): Set<string> =>
      new Set(
        truth.operations
          .filter((operation) => operation.reference?.startsWith(`${tag}_`))
          .map((operation) => operation.reference ?? ''),
      );
    const performed = (outcomes: Outcome[], tag: string): Set<string> =>
      new Set(
        outcomes.flatMap((outcome, index) => (outcome === 'error' ? [] : [`${tag}_${index}`])),
      );
    assert.deepEqual(
      recorded('seed_a'),
      performed(first, 'seed_a'),
      'errors did nothing; lost responses were performed',
    );
    assert.deepEqual(recorded('seed_b'), performed(second, 'seed_b'));
  });

  test('another seed gives another sequence', async () => {
    await admin(sim, 'PUT', '/faults/stripe', { seed: 1, errorRate: 0.5 });
    const first = await stripeOutcomes(24, 'seed_c');
    await admin(sim, 'PUT', '/faults/stripe', { seed: 2, errorRate: 0.5 });
    const second = await stripeOutcomes(24, 'seed_d');
    assert.notDeepEqual(second, first);
  });
});

describe('faults: kinds', () => {
  test('a 500 fault does nothing and is not stored: a retry with the same key succeeds once', async () => {
    await admin(sim, 'PUT', '/faults/razorpay', { errorRate: 1 });
    const body = razorpayPayment(CARDS.visa);
    const failed = await razorpay(sim, '/v1/payments/create/json', body, { key: 'fault-500' });
    assert.equal(failed.status, 500);
    assert.equal(at(failed.body, 'error', 'code'), 'SERVER_ERROR');
    assert.deepEqual((await groundTruth(sim, { reference: String(body.receipt) })).operations, []);
    await admin(sim, 'DELETE', '/faults/razorpay');
    const retried = await razorpay(sim, '/v1/payments/create/json', body, { key: 'fault-500' });
    assert.equal(retried.status, 200);
    const again = await razorpay(sim, '/v1/payments/create/json', body, { key: 'fault-500' });
    assert.equal(again.body.id, retried.body.id);
    assert.equal(
      (await groundTruth(sim, { reference: String(body.receipt) })).operations.length,
      1,
    );
  });

  test('a paytm 500 fault has the contract body', async () => {
    await admin(sim, 'PUT', '/faults/paytm', { errorRate: 1 });
    const reply = await paytm(sim, '/v3/order/pay', paytmOrder(CARDS.visa));
    assert.equal(reply.status, 500);
    assert.deepEqual(reply.body, {
      body: {
        resultInfo: { resultStatus: 'TXN_FAILURE', resultCode: '810', resultMsg: 'System error' },
      },
    });
  });

  test('a lost-response fault performs the operation; the stored response is kept for the retry', async () => {
    await admin(sim, 'PUT', '/faults/razorpay', { lostResponseRate: 1 });
    const body = razorpayPayment(CARDS.visa, { capture: true });
    await assert.rejects(razorpay(sim, '/v1/payments/create/json', body, { key: 'fault-lost' }));
    const truth = await groundTruth(sim, { reference: String(body.receipt) });
    assert.deepEqual(
      truth.operations.map((operation) => operation.type),
      ['authorize', 'capture'],
    );
    await admin(sim, 'DELETE', '/faults/razorpay');
    const retry = await razorpay(sim, '/v1/payments/create/json', body, { key: 'fault-lost' });
    assert.deepEqual([retry.status, retry.body.id], [200, truth.payments[0]?.paymentId]);
  });

  test('a timeout fault performs at once and answers after timeoutDelayMs; reads are not delayed', async () => {
    await admin(sim, 'PUT', '/faults/paytm', {
      timeoutRate: 1,
      timeoutDelayMs: 250,
      lostResponseRate: 0,
    });
    const order = paytmOrder(CARDS.visa);
    const pending = paytm(sim, '/v3/order/pay', order);
    await delay(50);
    const status = await paytm(sim, '/v3/order/status', { mid: PAYTM_MID, orderId: order.orderId });
    assert.ok(status.elapsedMs < 150, `status took ${status.elapsedMs} ms`);
    assert.equal(at(status.body, 'body', 'resultInfo', 'resultStatus'), 'TXN_SUCCESS');
    const first = await pending;
    assert.ok(first.elapsedMs >= 240, `pay took ${first.elapsedMs} ms`);
    assert.equal(at(first.body, 'body', 'txnId'), at(status.body, 'body', 'txnId'));
  });

  test('reads get latency and errors but never lost responses or timeouts', async () => {
    const created = await stripe(sim, '/v1/payment_intents', stripeIntent(CARDS.visa));
    const id = text(created.body, 'id');
    await admin(sim, 'PUT', '/faults/stripe', {
      lostResponseRate: 1,
      timeoutRate: 1,
      timeoutDelayMs: 5000,
      latency: { distribution: 'fixed', meanMs: 60 },
    });
    const read = await stripe(sim, `/v1/payment_intents/${id}`);
    assert.equal(read.status, 200);
    assert.ok(read.elapsedMs >= 55 && read.elapsedMs < 1000, `read took ${read.elapsedMs} ms`);
    await admin(sim, 'PUT', '/faults/stripe', { errorRate: 1 });
    assert.equal((await stripe(sim, `/v1/payment_intents/${id}`)).status, 500);
  });

  test('uniform latency stays within its bounds', async () => {
    await admin(sim, 'PUT', '/faults/razorpay', {
      seed: 5,
      latency: { distribution: 'uniform', minMs: 20, maxMs: 60 },
    });
    for (let index = 0; index < 5; index += 1) {
      const reply = await razorpay(sim, '/v1/payments/pay_none');
      assert.ok(reply.elapsedMs >= 18 && reply.elapsedMs < 500, `took ${reply.elapsedMs} ms`);
    }
  });

  test('faults apply only to their PSP', async () => {
    await admin(sim, 'PUT', '/faults/stripe', { errorRate: 1 });
    const reply = await razorpay(sim, '/v1/payments/create/json', razorpayPayment(CARDS.visa));
    assert.equal(reply.status, 200);
  });
});

describe('delayed answers and aborted clients', () => {
  test('a client that aborts before the timeout card answers: recorded anyway, the simulator carries on', async () => {
    const params = stripeIntent(CARDS.timeout);
    const controller = new AbortController();
    const pending = stripe(sim, '/v1/payment_intents', params, {
      key: 'abort-timeout',
      signal: controller.signal,
    });
    await delay(50);
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    const truth = await groundTruth(sim, { reference: params['metadata[reference]'] ?? '' });
    assert.deepEqual(
      truth.operations.map((operation) => operation.type),
      ['authorize', 'capture'],
    );
    await delay(300);
    assert.deepEqual((await admin(sim, 'GET', '/health')).body, { status: 'ok' });
    const retry = await stripe(sim, '/v1/payment_intents', params, { key: 'abort-timeout' });
    assert.deepEqual([retry.status, retry.body.id], [200, truth.payments[0]?.paymentId]);
  });

  test('a timeout card under a latency fault waits for both', async () => {
    await admin(sim, 'PUT', '/faults/razorpay', {
      latency: { distribution: 'fixed', meanMs: 100 },
    });
    const reply = await razorpay(sim, '/v1/payments/create/json', razorpayPayment(CARDS.timeout));
    assert.ok(reply.elapsedMs >= 390, `took ${reply.elapsedMs} ms`);
  });
});

describe('faults admin', () => {
  test('PUT shows the settings back, GET lists every PSP, DELETE turns them off', async () => {
    const put = await admin(sim, 'PUT', '/faults/paytm', {
      seed: 9,
      errorRate: 0.25,
      latency: { distribution: 'normal', meanMs: 30, stddevMs: 5 },
    });
    assert.equal(put.status, 200);
    assert.deepEqual(at(put.body, 'paytm', 'latency'), {
      distribution: 'normal',
      meanMs: 30,
      minMs: 0,
      maxMs: 600_000,
      stddevMs: 5,
    });
    const all = await admin(sim, 'GET', '/faults');
    assert.deepEqual(Object.keys(all.body).sort(), [...PSPS].sort());
    for (const psp of ['paytm', 'razorpay', 'stripe']) assert.ok(psp in all.body, psp);
    assert.equal(at(all.body, 'paytm', 'seed'), 9);
    assert.equal(at(all.body, 'paytm', 'errorRate'), 0.25);
    assert.equal(all.body.stripe, null);
    await admin(sim, 'DELETE', '/faults/paytm');
    assert.equal((await admin(sim, 'GET', '/faults/paytm')).body.paytm, null);
  });

  test('bad settings are 400, an unknown PSP is 404', async () => {
    for (const body of [
      { errorRate: 2 },
      { timeoutRate: -0.1 },
      { seed: 'x' },
      { bogus: 1 },
      { latency: { distribution: 'poisson' } },
      { latency: { minMs: 50, maxMs: 10 } },
    ]) {
      const reply = await admin(sim, 'PUT', '/faults/stripe', body);
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.equal(typeof at(reply.body, 'error', 'message'), 'string');
    }
    assert.equal((await admin(sim, 'PUT', '/faults/unknown_psp', {})).status, 404);
  });
});
