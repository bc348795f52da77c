// Ground truth, reset, health and request bounds against the real process.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CARDS,
  PAYTM_MID,
  admin,
  at,
  groundTruth,
  paytm,
  paytmOrder,
  razorpay,
  razorpayPayment,
  startSimProcess,
  stripe,
  stripeIntent,
  text,
  type GroundTruth,
  type SimProcess,
} from './support.ts';

let sim: SimProcess;
before(async () => {
  sim = await startSimProcess();
});
after(async () => {
  assert.equal(await sim.stop(), 0);
});

/** A mix of every operation on every PSP. */
async function traffic(): Promise<void> {
  const manual = await stripe(
    sim,
    '/v1/payment_intents',
    stripeIntent(CARDS.visa, { capture_method: 'manual', amount: '5000' }),
  );
  await stripe(sim, `/v1/payment_intents/${text(manual.body, 'id')}/capture`, {
    amount_to_capture: '4000',
  });
  await stripe(sim, '/v1/refunds', { payment_intent: text(manual.body, 'id'), amount: '1500' });
  await stripe(sim, '/v1/refunds', { payment_intent: text(manual.body, 'id'), amount: '500' });
  const toCancel = await stripe(
    sim,
    '/v1/payment_intents',
    stripeIntent(CARDS.visa, { capture_method: 'manual', amount: '800', currency: 'eur' }),
  );
  await stripe(sim, `/v1/payment_intents/${text(toCancel.body, 'id')}/cancel`, {});
  await stripe(sim, '/v1/payment_intents', stripeIntent(CARDS.expired));
  const authorized = await razorpay(
    sim,
    '/v1/payments/create/json',
    razorpayPayment(CARDS.visa, { amount: 9900 }),
  );
  await razorpay(sim, `/v1/payments/${text(authorized.body, 'id')}/capture`, {
    amount: 9900,
    currency: 'INR',
  });
  await razorpay(sim, `/v1/payments/${text(authorized.body, 'id')}/refund`, { amount: 900 });
  await razorpay(sim, '/v1/payments/create/json', razorpayPayment(CARDS.visa, { amount: 100 }));
  const order = paytmOrder(CARDS.visa, '25.50');
  const paid = await paytm(sim, '/v3/order/pay', order);
  await paytm(sim, '/refund/apply', {
    mid: PAYTM_MID,
    txnType: 'REFUND',
    orderId: order.orderId,
    txnId: text(paid.body, 'body', 'txnId'),
    refId: 'REF_GT_1',
    refundAmount: '25.50',
  });
  await paytm(sim, '/v3/order/pay', paytmOrder(CARDS.insufficientFunds));
}

function sumsFromOperations(
  truth: GroundTruth,
): Map<string, { authorized: number; captured: number; refunded: number; voided: boolean }> {
  const sums = new Map<
    string,
    { authorized: number; captured: number; refunded: number; voided: boolean }
  >();
  for (const operation of truth.operations) {
    const sum = sums.get(operation.paymentId) ?? {
      authorized: 0,
      captured: 0,
      refunded: 0,
      voided: false,
    };
    if (operation.type === 'authorize' && operation.status === 'succeeded')
      sum.authorized += operation.amount;
    if (operation.type === 'capture') sum.captured += operation.amount;
    if (operation.type === 'refund') sum.refunded += operation.amount;
    if (operation.type === 'void') sum.voided = true;
    sums.set(operation.paymentId, sum);
  }
  return sums;
}

describe('ground truth', () => {
  test('per-payment sums equal the sums of their operations; seq increases; fields are complete', async () => {
    await admin(sim, 'POST', '/reset');
    await traffic();
    const truth = await groundTruth(sim);
    assert.equal(truth.payments.length, 7);
    assert.deepEqual(
      truth.operations.map((operation) => operation.seq),
      truth.operations.map((_, index) => index + 1),
    );
    const sums = sumsFromOperations(truth);
    for (const payment of truth.payments) {
      const { authorized, captured, refunded, voided } = payment;
      assert.deepEqual(
        { authorized, captured, refunded, voided },
        sums.get(payment.paymentId),
        payment.paymentId,
      );
    }
    const byStatus = truth.payments
      .map((payment) => `${payment.psp}:${payment.status}:${payment.currency}`)
      .sort();
    assert.deepEqual(byStatus, [
      'paytm:declined:inr',
      'paytm:refunded:inr',
      'razorpay:authorized:inr',
      'razorpay:partially_refunded:inr',
      'stripe:declined:usd',
      'stripe:partially_refunded:usd',
      'stripe:voided:eur',
    ]);
    const stripePartial = truth.payments.find(
      (payment) => payment.psp === 'stripe' && payment.status === 'partially_refunded',
    );
    assert.deepEqual(
      stripePartial && [stripePartial.authorized, stripePartial.captured, stripePartial.refunded],
      [5000, 4000, 2000],
    );
    const refund = truth.operations.find(
      (operation) => operation.psp === 'paytm' && operation.type === 'refund',
    );
    assert.deepEqual(
      refund && [refund.amount, refund.refundId?.startsWith('rfd_'), at(refund, 'refundReference')],
      [2550, true, 'REF_GT_1'],
    );
    for (const operation of truth.operations) assert.ok(!Number.isNaN(Date.parse(operation.at)));
  });

  test('filters by psp and by reference', async () => {
    const onlyRazorpay = await groundTruth(sim, { psp: 'razorpay' });
    assert.ok(onlyRazorpay.operations.length > 0);
    assert.ok(onlyRazorpay.operations.every((operation) => operation.psp === 'razorpay'));
    assert.ok(onlyRazorpay.payments.every((payment) => payment.psp === 'razorpay'));
    const reference = onlyRazorpay.payments[0]?.reference ?? '';
    const one = await groundTruth(sim, { reference });
    assert.deepEqual(
      new Set(one.operations.map((operation) => operation.reference)),
      new Set([reference]),
    );
    assert.equal(one.payments.length, 1);
    assert.equal((await admin(sim, 'GET', '/ground-truth?psp=unknown_psp')).status, 400);
  });

  test('the summary adds up per PSP and currency', async () => {
    const summary = await admin(sim, 'GET', '/ground-truth/summary');
    assert.equal(summary.body.payments, 7);
    const totals = summary.body.totals as {
      psp: string;
      currency: string;
      captured: number;
      refunded: number;
      voided: number;
    }[];
    const stripeUsd = totals.find((total) => total.psp === 'stripe' && total.currency === 'usd');
    assert.deepEqual(stripeUsd && [stripeUsd.captured, stripeUsd.refunded], [4000, 2000]);
    const stripeEur = totals.find((total) => total.psp === 'stripe' && total.currency === 'eur');
    assert.equal(stripeEur?.voided, 800);
  });

  test('reset forgets payments, idempotency keys and faults', async () => {
    const params = stripeIntent(CARDS.visa);
    const created = await stripe(sim, '/v1/payment_intents', params, { key: 'reset-key' });
    await admin(sim, 'PUT', '/faults/paytm', { errorRate: 1 });
    assert.deepEqual((await admin(sim, 'POST', '/reset')).body, { status: 'ok' });
    const truth = await groundTruth(sim);
    assert.deepEqual([truth.operations.length, truth.payments.length], [0, 0]);
    assert.equal(
      (await stripe(sim, `/v1/payment_intents/${text(created.body, 'id')}`)).status,
      404,
    );
    const again = await stripe(sim, '/v1/payment_intents', params, { key: 'reset-key' });
    assert.notEqual(again.body.id, created.body.id);
    assert.equal((await admin(sim, 'GET', '/faults')).body.paytm, null);
    assert.equal((await groundTruth(sim)).operations[0]?.seq, 1);
  });

  test('health', async () => {
    const reply = await admin(sim, 'GET', '/health');
    assert.deepEqual([reply.status, reply.body], [200, { status: 'ok' }]);
  });
});

describe('bounds and routing', () => {
  const big = 'x'.repeat(100 * 1024);

  test("a body over 64 KiB is 413 in each PSP's wording", async () => {
    const stripeReply = await fetch(`${sim.url}/stripe/v1/payment_intents`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_test_sim' },
      body: `description=${big}`,
    });
    assert.equal(stripeReply.status, 413);
    assert.equal(at(await stripeReply.json(), 'error', 'type'), 'invalid_request_error');
    const razorpayReply = await razorpay(sim, '/v1/payments/create/json', {
      ...razorpayPayment(CARDS.visa),
      description: big,
    });
    assert.equal(razorpayReply.status, 413);
    assert.equal(at(razorpayReply.body, 'error', 'code'), 'BAD_REQUEST_ERROR');
    const paytmReply = await paytm(sim, '/v3/order/pay', {
      ...paytmOrder(CARDS.visa),
      padding: big,
    });
    assert.equal(paytmReply.status, 413);
    assert.equal(at(paytmReply.body, 'body', 'resultInfo', 'resultStatus'), 'TXN_FAILURE');
    assert.equal((await admin(sim, 'PUT', '/faults/stripe', { padding: big })).status, 413);
    assert.deepEqual((await admin(sim, 'GET', '/health')).body, { status: 'ok' }, 'still serving');
  });

  test('unknown prefixes and admin routes are 404', async () => {
    assert.equal((await fetch(`${sim.url}/unknown_psp/v1/payments`)).status, 404);
    assert.equal((await admin(sim, 'GET', '/nothing')).status, 404);
    assert.equal((await admin(sim, 'GET', '/reset')).status, 404);
  });

  test('an over-long idempotency key is refused', async () => {
    const reply = await stripe(sim, '/v1/payment_intents', stripeIntent(CARDS.visa), {
      key: 'k'.repeat(256),
    });
    assert.equal(reply.status, 400);
  });
});
