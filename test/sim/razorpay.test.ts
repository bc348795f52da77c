// The Razorpay-like simulator over HTTP against the real process.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CARDS,
  at,
  delay,
  groundTruth,
  razorpay,
  razorpayPayment,
  text,
  type SimProcess,
  startSimProcess,
} from './support.ts';

let sim: SimProcess;
before(async () => {
  sim = await startSimProcess({ SIM_TIMEOUT_DELAY_MS: '300' });
});
after(async () => {
  assert.equal(await sim.stop(), 0);
});

async function authorized(amount = 50_000): Promise<string> {
  const reply = await razorpay(
    sim,
    '/v1/payments/create/json',
    razorpayPayment(CARDS.visa, { amount }),
  );
  assert.equal(reply.status, 200);
  assert.equal(reply.body.status, 'authorized');
  return text(reply.body, 'id');
}

async function captured(amount = 50_000): Promise<string> {
  const reply = await razorpay(
    sim,
    '/v1/payments/create/json',
    razorpayPayment(CARDS.visa, { amount, capture: true }),
  );
  assert.equal(reply.body.status, 'captured');
  return text(reply.body, 'id');
}

describe('razorpay: authentication and routes', () => {
  test('missing or wrong Basic credentials are 401 "Authentication failed"', async () => {
    const wrong = `Basic ${Buffer.from('rzp_test_sim:nope').toString('base64')}`;
    for (const authorization of [null, wrong, 'Bearer sk_test_sim']) {
      const reply = await razorpay(sim, '/v1/payments/create/json', razorpayPayment(CARDS.visa), {
        authorization,
      });
      assert.equal(reply.status, 401);
      assert.deepEqual(reply.body, {
        error: { code: 'BAD_REQUEST_ERROR', description: 'Authentication failed' },
      });
    }
  });

  test('an unknown payment id is 400 "The id provided does not exist"', async () => {
    const reply = await razorpay(sim, '/v1/payments/pay_missing');
    assert.equal(reply.status, 400);
    assert.equal(at(reply.body, 'error', 'code'), 'BAD_REQUEST_ERROR');
    assert.equal(at(reply.body, 'error', 'description'), 'The id provided does not exist');
  });
});

describe('razorpay: payment flows', () => {
  test('capture:false authorizes; capture of the full amount captures', async () => {
    const body = razorpayPayment(CARDS.mastercard, { amount: 12_345 });
    const created = await razorpay(sim, '/v1/payments/create/json', body);
    assert.equal(created.status, 200);
    const payment = created.body;
    assert.match(text(payment, 'id'), /^pay_/);
    assert.deepEqual(
      [
        payment.entity,
        payment.amount,
        payment.currency,
        payment.status,
        payment.captured,
        payment.amount_refunded,
        payment.refund_status,
        payment.receipt,
      ],
      ['payment', 12_345, 'INR', 'authorized', false, 0, null, body.receipt],
    );
    assert.deepEqual(payment.notes, body.notes);
    assert.deepEqual(
      [payment.error_code, payment.error_description, payment.error_reason],
      [null, null, null],
    );
    assert.equal(typeof payment.created_at, 'number');
    const id = text(payment, 'id');
    const partial = await razorpay(sim, `/v1/payments/${id}/capture`, {
      amount: 12_000,
      currency: 'INR',
    });
    assert.equal(partial.status, 400, 'no partial capture');
    assert.equal(at(partial.body, 'error', 'code'), 'BAD_REQUEST_ERROR');
    const wrongCurrency = await razorpay(sim, `/v1/payments/${id}/capture`, {
      amount: 12_345,
      currency: 'USD',
    });
    assert.equal(wrongCurrency.status, 400);
    const capture = await razorpay(sim, `/v1/payments/${id}/capture`, {
      amount: 12_345,
      currency: 'INR',
    });
    assert.equal(capture.status, 200);
    assert.deepEqual([capture.body.status, capture.body.captured], ['captured', true]);
    const again = await razorpay(sim, `/v1/payments/${id}/capture`, {
      amount: 12_345,
      currency: 'INR',
    });
    assert.equal(again.status, 400);
    assert.equal(at(again.body, 'error', 'description'), 'This payment has already been captured');
    const truth = await groundTruth(sim, { reference: String(body.receipt) });
    assert.deepEqual(
      truth.operations.map((operation) => [operation.type, operation.amount, operation.currency]),
      [
        ['authorize', 12_345, 'inr'],
        ['capture', 12_345, 'inr'],
      ],
    );
  });

  test('capture:true captures at once', async () => {
    const reply = await razorpay(
      sim,
      '/v1/payments/create/json',
      razorpayPayment(CARDS.amex, { capture: true }),
    );
    assert.deepEqual([reply.body.status, reply.body.captured], ['captured', true]);
  });

  test('partial and repeated refunds up to the captured amount', async () => {
    const id = await captured(1000);
    const notCaptured = await razorpay(sim, `/v1/payments/${await authorized()}/refund`, {
      amount: 100,
    });
    assert.equal(notCaptured.status, 400);
    const first = await razorpay(sim, `/v1/payments/${id}/refund`, {
      amount: 250,
      receipt: 'rf_1',
      notes: { reference: 'rf_1' },
    });
    assert.equal(first.status, 200);
    assert.match(text(first.body, 'id'), /^rfnd_/);
    assert.deepEqual(
      [
        first.body.entity,
        first.body.amount,
        first.body.currency,
        first.body.payment_id,
        first.body.receipt,
        first.body.status,
      ],
      ['refund', 250, 'INR', id, 'rf_1', 'processed'],
    );
    const partial = await razorpay(sim, `/v1/payments/${id}`);
    assert.deepEqual(
      [partial.body.status, partial.body.amount_refunded, partial.body.refund_status],
      ['captured', 250, 'partial'],
    );
    const tooMuch = await razorpay(sim, `/v1/payments/${id}/refund`, { amount: 751 });
    assert.equal(tooMuch.status, 400);
    const rest = await razorpay(sim, `/v1/payments/${id}/refund`, {});
    assert.equal(rest.body.amount, 750);
    const more = await razorpay(sim, `/v1/payments/${id}/refund`, { amount: 1 });
    assert.equal(more.status, 400);
    assert.equal(
      at(more.body, 'error', 'description'),
      'The payment has been fully refunded already',
    );
    const full = await razorpay(sim, `/v1/payments/${id}`);
    assert.deepEqual(
      [full.body.status, full.body.amount_refunded, full.body.refund_status, full.body.captured],
      ['refunded', 1000, 'full', true],
    );
    const refunds = await razorpay(sim, `/v1/payments/${id}/refunds`);
    assert.deepEqual(
      (refunds.body.items as { amount: number }[]).map((refund) => refund.amount),
      [250, 750],
    );
    const one = await razorpay(sim, `/v1/refunds/${text(first.body, 'id')}`);
    assert.equal(one.body.amount, 250);
    const truth = await groundTruth(sim, { psp: 'razorpay' });
    const payment = truth.payments.find((candidate) => candidate.paymentId === id);
    assert.deepEqual(payment && [payment.captured, payment.refunded, payment.status], [
      1000,
      1000,
      'refunded',
    ]);
  });

  test('collection by receipt', async () => {
    const receipt = `att_rcpt_${Date.now()}`;
    const first = await razorpay(
      sim,
      '/v1/payments/create/json',
      razorpayPayment(CARDS.visa, { receipt }),
    );
    const second = await razorpay(
      sim,
      '/v1/payments/create/json',
      razorpayPayment(CARDS.insufficientFunds, { receipt }),
    );
    const secondId = at(second.body, 'error', 'metadata', 'payment_id');
    const list = await razorpay(sim, `/v1/payments?receipt=${receipt}`);
    assert.equal(list.status, 200);
    assert.equal(list.body.entity, 'collection');
    assert.equal(list.body.count, 2);
    assert.deepEqual(
      (list.body.items as { id: string; status: string }[]).map((item) => [item.id, item.status]),
      [
        [secondId, 'failed'],
        [first.body.id, 'authorized'],
      ],
    );
    const none = await razorpay(sim, '/v1/payments?receipt=nothing_here');
    assert.deepEqual([none.body.count, none.body.items], [0, []]);
    const recent = await razorpay(sim, '/v1/payments?count=1');
    assert.equal(recent.body.count, 1);
  });
});

describe('razorpay: test cards', () => {
  const declines = [
    [CARDS.insufficientFunds, 'insufficient_balance', 'insufficient_funds'],
    [CARDS.lost, 'card_reported_lost', 'lost_card'],
    [CARDS.stolen, 'card_reported_stolen', 'stolen_card'],
    [CARDS.genericDecline, 'payment_failed', 'generic_decline'],
    [CARDS.expired, 'card_expired', 'expired_card'],
    [CARDS.incorrectCvc, 'incorrect_cvv', 'incorrect_cvc'],
    [CARDS.processingError, 'bank_technical_error', 'processing_error'],
    [CARDS.velocity, 'card_velocity_exceeded', 'card_velocity_exceeded'],
    [CARDS.declineAfterAttach, 'payment_failed', 'generic_decline'],
    [CARDS.radarBlock, 'payment_risk_check_failed', 'fraudulent'],
    [CARDS.riskHighest, 'payment_risk_check_failed', 'fraudulent'],
    [CARDS.threeDSecureRequired, 'authentication_required', 'authentication_required'],
    [CARDS.threeDSecureLookupError, 'payment_failed', 'generic_decline'],
  ] as const;
  for (const [number, reason, declineCode] of declines) {
    test(`${number} is declined with ${reason}; the payment is stored failed`, async () => {
      const body = razorpayPayment(number);
      const reply = await razorpay(sim, '/v1/payments/create/json', body);
      assert.equal(reply.status, 400);
      const error = reply.body.error;
      assert.deepEqual(
        [at(error, 'code'), at(error, 'source'), at(error, 'step'), at(error, 'reason')],
        ['BAD_REQUEST_ERROR', 'bank', 'payment_authorization', reason],
      );
      assert.equal(typeof at(error, 'description'), 'string');
      const paymentId = text(error, 'metadata', 'payment_id');
      const stored = await razorpay(sim, `/v1/payments/${paymentId}`);
      assert.deepEqual(
        [stored.body.status, stored.body.error_code, stored.body.error_reason],
        ['failed', 'BAD_REQUEST_ERROR', reason],
      );
      const truth = await groundTruth(sim, { reference: String(body.receipt) });
      assert.deepEqual(
        truth.operations.map((operation) => [operation.status, operation.declineCode]),
        [['declined', declineCode]],
      );
    });
  }

  test('4000009990000013 is a 500 SERVER_ERROR and nothing is recorded', async () => {
    const body = razorpayPayment(CARDS.error);
    const reply = await razorpay(sim, '/v1/payments/create/json', body);
    assert.equal(reply.status, 500);
    assert.equal(at(reply.body, 'error', 'code'), 'SERVER_ERROR');
    assert.deepEqual((await groundTruth(sim, { reference: String(body.receipt) })).operations, []);
  });

  test('4000009990000021: recorded at once, answered after the delay; a retry with the key gets it at once', async () => {
    const body = razorpayPayment(CARDS.timeout, { capture: true });
    const pending = razorpay(sim, '/v1/payments/create/json', body, { key: 'rzp-timeout' });
    let firstAnswered = false;
    void pending.then(() => (firstAnswered = true));
    await delay(60);
    assert.equal(
      (await groundTruth(sim, { reference: String(body.receipt) })).payments[0]?.status,
      'captured',
    );
    const retry = await razorpay(sim, '/v1/payments/create/json', body, { key: 'rzp-timeout' });
    assert.equal(firstAnswered, false, 'the repeat is answered while the first is still held back');
    const first = await pending;
    assert.ok(first.elapsedMs >= 290);
    assert.deepEqual(retry.body, first.body);
  });

  test('4000009990000039: recorded, connection destroyed; a retry with the key gets the payment', async () => {
    const body = razorpayPayment(CARDS.lostResponse);
    await assert.rejects(razorpay(sim, '/v1/payments/create/json', body, { key: 'rzp-lost' }));
    const truth = await groundTruth(sim, { reference: String(body.receipt) });
    assert.equal(truth.payments.length, 1);
    const retry = await razorpay(sim, '/v1/payments/create/json', body, { key: 'rzp-lost' });
    assert.deepEqual(
      [retry.status, retry.body.id, retry.body.status],
      [200, truth.payments[0]?.paymentId, 'authorized'],
    );
  });
});

describe('razorpay: idempotency', () => {
  test('same key and body: same response, one operation; another body: idempotency_key_reused', async () => {
    const body = razorpayPayment(CARDS.visa);
    const first = await razorpay(sim, '/v1/payments/create/json', body, { key: 'rzp-idem-1' });
    const second = await razorpay(
      sim,
      '/v1/payments/create/json',
      { ...body },
      { key: 'rzp-idem-1' },
    );
    assert.deepEqual([second.status, second.body], [first.status, first.body]);
    const changed = await razorpay(
      sim,
      '/v1/payments/create/json',
      { ...body, amount: 1 },
      { key: 'rzp-idem-1' },
    );
    assert.equal(changed.status, 400);
    assert.deepEqual(
      [at(changed.body, 'error', 'code'), at(changed.body, 'error', 'reason')],
      ['BAD_REQUEST_ERROR', 'idempotency_key_reused'],
    );
    const truth = await groundTruth(sim, { reference: String(body.receipt) });
    assert.equal(truth.operations.length, 1);
  });

  test('key order in the JSON body does not matter', async () => {
    const body = razorpayPayment(CARDS.visa);
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const first = await razorpay(sim, '/v1/payments/create/json', body, { key: 'rzp-idem-order' });
    const second = await razorpay(sim, '/v1/payments/create/json', reordered, {
      key: 'rzp-idem-order',
    });
    assert.deepEqual(second.body, first.body);
  });

  test('keys are scoped per PSP: a Stripe key does not collide', async () => {
    const body = razorpayPayment(CARDS.visa);
    const reply = await razorpay(sim, '/v1/payments/create/json', body, { key: 'stripe-idem-1' });
    assert.equal(reply.status, 200);
  });

  test('20 concurrent identical refunds with one key: one refund', async () => {
    const id = await captured(1000);
    const replies = await Promise.all(
      Array.from({ length: 20 }, () =>
        razorpay(sim, `/v1/payments/${id}/refund`, { amount: 100 }, { key: 'rzp-idem-refund' }),
      ),
    );
    assert.ok(replies.every((reply) => reply.status === 200));
    assert.equal(new Set(replies.map((reply) => reply.body.id)).size, 1);
    const truth = await groundTruth(sim, { psp: 'razorpay' });
    assert.equal(
      truth.operations.filter(
        (operation) => operation.paymentId === id && operation.type === 'refund',
      ).length,
      1,
    );
    assert.equal(truth.payments.find((payment) => payment.paymentId === id)?.refunded, 100);
  });
});

describe('razorpay: bad input', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['a string amount', { amount: '500' }, 'amount'],
    ['a fractional amount', { amount: 10.5 }, 'amount'],
    ['a lowercase currency', { currency: 'inr' }, 'currency'],
    ['a method other than card', { method: 'upi' }, 'method'],
    [
      'a card failing Luhn',
      { card: { number: '4242424242424241', expiry_month: 12, expiry_year: 2030, cvv: '123' } },
      'card[number]',
    ],
    [
      'a malformed cvv',
      { card: { number: CARDS.visa, expiry_month: 12, expiry_year: 2030, cvv: '12a' } },
      'card[cvv]',
    ],
    ['a receipt over 40 characters', { receipt: 'r'.repeat(41) }, 'receipt'],
    ['capture as a word', { capture: 'yes' }, 'capture'],
  ];
  for (const [name, change, field] of cases) {
    test(`${name}: 400 naming ${field}, nothing recorded`, async () => {
      const body = { ...razorpayPayment(CARDS.visa), ...change };
      const reply = await razorpay(sim, '/v1/payments/create/json', body);
      assert.equal(reply.status, 400);
      assert.deepEqual(
        [at(reply.body, 'error', 'code'), at(reply.body, 'error', 'field')],
        ['BAD_REQUEST_ERROR', field],
      );
      assert.deepEqual(
        (await groundTruth(sim, { psp: 'razorpay', reference: String(body.receipt) })).operations,
        [],
      );
    });
  }

  test('a stored card without its cvv is charged', async () => {
    const body = {
      ...razorpayPayment(CARDS.visa),
      card: { number: CARDS.visa, expiry_month: 12, expiry_year: 2030 },
    };
    const reply = await razorpay(sim, '/v1/payments/create/json', body);
    assert.equal(reply.status, 200);
    assert.equal(at(reply.body, 'status'), 'authorized');
  });

  test('a body that is not JSON is 400', async () => {
    const reply = await razorpay(sim, '/v1/payments/create/json', '{"amount":');
    assert.equal(reply.status, 400);
    assert.equal(at(reply.body, 'error', 'code'), 'BAD_REQUEST_ERROR');
  });
});
