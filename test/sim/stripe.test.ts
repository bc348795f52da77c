// The Stripe-like simulator over HTTP against the real process: flows, test cards,
// idempotency, errors and what the ground truth records.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CARDS,
  at,
  delay,
  groundTruth,
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
after(async () => {
  assert.equal(await sim.stop(), 0);
});

async function manualIntent(amount = '1000'): Promise<string> {
  const reply = await stripe(
    sim,
    '/v1/payment_intents',
    stripeIntent(CARDS.visa, { capture_method: 'manual', amount }),
  );
  assert.equal(reply.status, 200);
  assert.equal(reply.body.status, 'requires_capture');
  return text(reply.body, 'id');
}

async function capturedIntent(amount = '1000'): Promise<string> {
  const reply = await stripe(sim, '/v1/payment_intents', stripeIntent(CARDS.visa, { amount }));
  assert.equal(reply.status, 200);
  assert.equal(reply.body.status, 'succeeded');
  return text(reply.body, 'id');
}

describe('stripe: authentication and routes', () => {
  test('a missing or wrong key is 401 api_key_invalid', async () => {
    for (const authorization of [null, 'Bearer sk_test_wrong']) {
      const reply = await stripe(sim, '/v1/payment_intents', stripeIntent(CARDS.visa), {
        authorization,
      });
      assert.equal(reply.status, 401);
      assert.deepEqual(
        [at(reply.body, 'error', 'type'), at(reply.body, 'error', 'code')],
        ['invalid_request_error', 'api_key_invalid'],
      );
    }
  });

  test('an unknown route is 404', async () => {
    const reply = await stripe(sim, '/v1/charges', { amount: '1' });
    assert.equal(reply.status, 404);
    assert.equal(at(reply.body, 'error', 'type'), 'invalid_request_error');
  });
});

describe('stripe: payment flows', () => {
  test('automatic capture: succeeded, and the ground truth has an authorize and a capture', async () => {
    const params = stripeIntent(CARDS.mastercard, { amount: '2500', description: 'order 1' });
    const reply = await stripe(sim, '/v1/payment_intents', params);
    assert.equal(reply.status, 200);
    const intent = reply.body;
    assert.match(text(intent, 'id'), /^pi_/);
    assert.match(text(intent, 'latest_charge'), /^ch_/);
    assert.equal(intent.object, 'payment_intent');
    assert.equal(intent.status, 'succeeded');
    assert.equal(intent.amount, 2500);
    assert.equal(intent.amount_received, 2500);
    assert.equal(intent.amount_capturable, 0);
    assert.equal(intent.currency, 'usd');
    assert.equal(intent.capture_method, 'automatic');
    assert.deepEqual(intent.metadata, { reference: params['metadata[reference]'] });
    assert.equal(typeof intent.created, 'number');
    const truth = await groundTruth(sim, { reference: params['metadata[reference]'] ?? '' });
    assert.deepEqual(
      truth.operations.map((operation) => [operation.type, operation.status, operation.amount]),
      [
        ['authorize', 'succeeded', 2500],
        ['capture', 'succeeded', 2500],
      ],
    );
    assert.deepEqual(
      truth.payments.map((payment) => [payment.authorized, payment.captured, payment.status]),
      [[2500, 2500, 'captured']],
    );
  });

  test('American Express numbers are approved too', async () => {
    const reply = await stripe(sim, '/v1/payment_intents', stripeIntent(CARDS.amex));
    assert.equal(reply.body.status, 'succeeded');
  });

  test('manual capture, partial: captures part and releases the rest; a second capture is refused', async () => {
    const id = await manualIntent('1000');
    const captured = await stripe(sim, `/v1/payment_intents/${id}/capture`, {
      amount_to_capture: '600',
    });
    assert.equal(captured.status, 200);
    assert.equal(captured.body.status, 'succeeded');
    assert.equal(captured.body.amount_received, 600);
    assert.equal(captured.body.amount_capturable, 0);
    const again = await stripe(sim, `/v1/payment_intents/${id}/capture`, {});
    assert.equal(again.status, 400);
    assert.equal(at(again.body, 'error', 'code'), 'payment_intent_unexpected_state');
    const truth = await groundTruth(sim, { psp: 'stripe' });
    const payment = truth.payments.find((candidate) => candidate.paymentId === id);
    assert.deepEqual(
      payment && [payment.authorized, payment.captured, payment.voided, payment.status],
      [1000, 600, false, 'captured'],
    );
  });

  test('manual capture without an amount captures everything; more than capturable is amount_too_large', async () => {
    const id = await manualIntent('1000');
    const tooMuch = await stripe(sim, `/v1/payment_intents/${id}/capture`, {
      amount_to_capture: '1001',
    });
    assert.equal(tooMuch.status, 400);
    assert.deepEqual(
      [at(tooMuch.body, 'error', 'code'), at(tooMuch.body, 'error', 'param')],
      ['amount_too_large', 'amount_to_capture'],
    );
    const full = await stripe(sim, `/v1/payment_intents/${id}/capture`, {});
    assert.equal(full.body.amount_received, 1000);
  });

  test('cancel: only from requires_capture; recorded as a void', async () => {
    const id = await manualIntent('700');
    const canceled = await stripe(sim, `/v1/payment_intents/${id}/cancel`, {
      cancellation_reason: 'requested_by_customer',
    });
    assert.equal(canceled.status, 200);
    assert.equal(canceled.body.status, 'canceled');
    assert.equal(canceled.body.amount_capturable, 0);
    const captureAfter = await stripe(sim, `/v1/payment_intents/${id}/capture`, {});
    assert.equal(at(captureAfter.body, 'error', 'code'), 'payment_intent_unexpected_state');
    const cancelSucceeded = await stripe(
      sim,
      `/v1/payment_intents/${await capturedIntent()}/cancel`,
      {},
    );
    assert.equal(cancelSucceeded.status, 400);
    assert.equal(at(cancelSucceeded.body, 'error', 'code'), 'payment_intent_unexpected_state');
    const truth = await groundTruth(sim, { psp: 'stripe' });
    const operations = truth.operations.filter((operation) => operation.paymentId === id);
    assert.deepEqual(
      operations.map((operation) => [operation.type, operation.amount]),
      [
        ['authorize', 700],
        ['void', 700],
      ],
    );
    assert.equal(truth.payments.find((payment) => payment.paymentId === id)?.voided, true);
  });

  test('repeated partial refunds until nothing is left, then charge_already_refunded', async () => {
    const id = await capturedIntent('1000');
    const first = await stripe(sim, '/v1/refunds', {
      payment_intent: id,
      amount: '300',
      'metadata[reference]': 'rf_1',
    });
    assert.equal(first.status, 200);
    assert.match(text(first.body, 'id'), /^re_/);
    assert.deepEqual(
      [
        first.body.object,
        first.body.amount,
        first.body.currency,
        first.body.payment_intent,
        first.body.status,
      ],
      ['refund', 300, 'usd', id, 'succeeded'],
    );
    assert.deepEqual(first.body.metadata, { reference: 'rf_1' });
    const tooMuch = await stripe(sim, '/v1/refunds', { payment_intent: id, amount: '701' });
    assert.equal(tooMuch.status, 400);
    assert.equal(at(tooMuch.body, 'error', 'code'), 'amount_too_large');
    assert.equal(
      (await stripe(sim, '/v1/refunds', { payment_intent: id, amount: '300' })).status,
      200,
    );
    const rest = await stripe(sim, '/v1/refunds', { payment_intent: id });
    assert.equal(rest.body.amount, 400);
    const more = await stripe(sim, '/v1/refunds', { payment_intent: id, amount: '1' });
    assert.equal(more.status, 400);
    assert.equal(at(more.body, 'error', 'code'), 'charge_already_refunded');
    const intent = await stripe(sim, `/v1/payment_intents/${id}`);
    assert.deepEqual(
      [intent.body.status, intent.body.amount_received, intent.body.amount_refunded],
      ['succeeded', 1000, 1000],
    );
    const refund = await stripe(sim, `/v1/refunds/${text(first.body, 'id')}`);
    assert.equal(refund.body.amount, 300);
    const truth = await groundTruth(sim, { psp: 'stripe' });
    const refunds = truth.operations.filter(
      (operation) => operation.paymentId === id && operation.type === 'refund',
    );
    assert.deepEqual(
      refunds.map((operation) => operation.amount),
      [300, 300, 400],
    );
    assert.equal(truth.payments.find((payment) => payment.paymentId === id)?.status, 'refunded');
  });

  test('a refund of an uncaptured or unknown payment intent is refused', async () => {
    const uncaptured = await stripe(sim, '/v1/refunds', { payment_intent: await manualIntent() });
    assert.equal(uncaptured.status, 400);
    assert.equal(at(uncaptured.body, 'error', 'code'), 'payment_intent_unexpected_state');
    const unknown = await stripe(sim, '/v1/refunds', { payment_intent: 'pi_unknown' });
    assert.equal(unknown.status, 404);
    assert.deepEqual(
      [at(unknown.body, 'error', 'code'), at(unknown.body, 'error', 'param')],
      ['resource_missing', 'payment_intent'],
    );
  });

  test('retrieve, and search by metadata reference (newest first)', async () => {
    const reference = `att_search_${Date.now()}`;
    const first = await stripe(
      sim,
      '/v1/payment_intents',
      stripeIntent(CARDS.visa, { 'metadata[reference]': reference }),
    );
    const second = await stripe(
      sim,
      '/v1/payment_intents',
      stripeIntent(CARDS.genericDecline, { 'metadata[reference]': reference }),
    );
    const secondId = text(second.body, 'error', 'payment_intent', 'id');
    const query = new URLSearchParams({ query: `metadata['reference']:'${reference}'` });
    const found = await stripe(sim, `/v1/payment_intents/search?${query.toString()}`);
    assert.equal(found.status, 200);
    assert.equal(found.body.object, 'search_result');
    assert.equal(found.body.has_more, false);
    assert.deepEqual(
      (found.body.data as { id: string }[]).map((intent) => intent.id),
      [secondId, first.body.id],
    );
    const limited = await stripe(sim, `/v1/payment_intents/search?${query.toString()}&limit=1`);
    assert.equal(limited.body.has_more, true);
    const none = await stripe(
      sim,
      `/v1/payment_intents/search?${new URLSearchParams({ query: `metadata['reference']:'nothing'` }).toString()}`,
    );
    assert.deepEqual(none.body.data, []);
    const retrieved = await stripe(sim, `/v1/payment_intents/${secondId}`);
    assert.equal(retrieved.body.status, 'requires_payment_method');
    assert.equal(at(retrieved.body, 'last_payment_error', 'decline_code'), 'generic_decline');
    const missing = await stripe(sim, '/v1/payment_intents/pi_missing');
    assert.equal(missing.status, 404);
    assert.equal(at(missing.body, 'error', 'code'), 'resource_missing');
    const badQuery = await stripe(
      sim,
      `/v1/payment_intents/search?${new URLSearchParams({ query: "status:'succeeded'" }).toString()}`,
    );
    assert.equal(badQuery.status, 400);
  });
});

describe('stripe: test cards', () => {
  const declines = [
    [CARDS.insufficientFunds, 'card_declined', 'insufficient_funds'],
    [CARDS.lost, 'card_declined', 'lost_card'],
    [CARDS.stolen, 'card_declined', 'stolen_card'],
    [CARDS.genericDecline, 'card_declined', 'generic_decline'],
    [CARDS.expired, 'expired_card', 'expired_card'],
    [CARDS.incorrectCvc, 'incorrect_cvc', 'incorrect_cvc'],
    [CARDS.processingError, 'processing_error', 'processing_error'],
    [CARDS.velocity, 'card_declined', 'card_velocity_exceeded'],
    [CARDS.declineAfterAttach, 'card_declined', 'generic_decline'],
    [CARDS.radarBlock, 'card_declined', 'fraudulent'],
    [CARDS.riskHighest, 'card_declined', 'fraudulent'],
    [CARDS.threeDSecureRequired, 'authentication_required', 'authentication_required'],
    [CARDS.threeDSecureLookupError, 'card_declined', 'generic_decline'],
  ] as const;
  for (const [number, code, declineCode] of declines) {
    test(`${number} is declined with ${declineCode} and recorded as declined`, async () => {
      const params = stripeIntent(number);
      const reply = await stripe(sim, '/v1/payment_intents', params);
      assert.equal(reply.status, 402);
      assert.equal(at(reply.body, 'error', 'type'), 'card_error');
      assert.equal(at(reply.body, 'error', 'code'), code);
      assert.equal(at(reply.body, 'error', 'decline_code'), declineCode);
      assert.equal(typeof at(reply.body, 'error', 'message'), 'string');
      assert.equal(at(reply.body, 'error', 'payment_intent', 'status'), 'requires_payment_method');
      const truth = await groundTruth(sim, { reference: params['metadata[reference]'] ?? '' });
      assert.deepEqual(
        truth.operations.map((operation) => [
          operation.type,
          operation.status,
          operation.declineCode,
        ]),
        [['authorize', 'declined', declineCode]],
      );
      assert.deepEqual(
        truth.payments.map((payment) => [payment.status, payment.authorized]),
        [['declined', 0]],
      );
    });
  }

  test('4000009990000013 is a 500 api_error and nothing is recorded', async () => {
    const params = stripeIntent(CARDS.error);
    const reply = await stripe(sim, '/v1/payment_intents', params, { key: 'stripe-error-card' });
    assert.equal(reply.status, 500);
    assert.equal(at(reply.body, 'error', 'type'), 'api_error');
    const again = await stripe(sim, '/v1/payment_intents', params, { key: 'stripe-error-card' });
    assert.equal(again.status, 500, 'a 500 is not stored: the retry runs again');
    assert.equal(again.headers.get('idempotent-replayed'), null);
    assert.deepEqual(
      (await groundTruth(sim, { reference: params['metadata[reference]'] ?? '' })).operations,
      [],
    );
  });

  test('4000009990000021 is recorded at once and answered after SIM_TIMEOUT_DELAY_MS; a retry gets it at once', async () => {
    const params = stripeIntent(CARDS.timeout, { capture_method: 'manual' });
    const pending = stripe(sim, '/v1/payment_intents', params, { key: 'stripe-timeout-card' });
    let firstAnswered = false;
    void pending.then(() => (firstAnswered = true));
    await delay(60);
    const truth = await groundTruth(sim, { reference: params['metadata[reference]'] ?? '' });
    assert.deepEqual(
      truth.operations.map((operation) => operation.type),
      ['authorize'],
      'recorded before the response',
    );
    const retry = await stripe(sim, '/v1/payment_intents', params, { key: 'stripe-timeout-card' });
    assert.equal(firstAnswered, false, 'the repeat is answered while the first is still held back');
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    const first = await pending;
    assert.ok(first.elapsedMs >= 290, `the first answer came after ${first.elapsedMs} ms`);
    assert.equal(first.status, 200);
    assert.deepEqual(retry.body, first.body);
    assert.equal(first.body.status, 'requires_capture');
  });

  test('4000009990000039 is recorded, then the connection is destroyed; a retry gets the approval', async () => {
    const params = stripeIntent(CARDS.lostResponse);
    await assert.rejects(stripe(sim, '/v1/payment_intents', params, { key: 'stripe-lost-card' }));
    const truth = await groundTruth(sim, { reference: params['metadata[reference]'] ?? '' });
    assert.deepEqual(
      truth.operations.map((operation) => [operation.type, operation.idempotencyKey]),
      [
        ['authorize', 'stripe-lost-card'],
        ['capture', 'stripe-lost-card'],
      ],
    );
    const retry = await stripe(sim, '/v1/payment_intents', params, { key: 'stripe-lost-card' });
    assert.equal(retry.status, 200);
    assert.equal(retry.body.status, 'succeeded');
    assert.equal(retry.body.id, truth.payments[0]?.paymentId);
  });
});

describe('stripe: idempotency', () => {
  test('same key and parameters: the stored response, replayed, and one operation', async () => {
    const params = stripeIntent(CARDS.visa, { capture_method: 'manual' });
    const first = await stripe(sim, '/v1/payment_intents', params, { key: 'stripe-idem-1' });
    const second = await stripe(sim, '/v1/payment_intents', params, { key: 'stripe-idem-1' });
    assert.equal(second.status, first.status);
    assert.deepEqual(second.body, first.body);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    const truth = await groundTruth(sim, { reference: params['metadata[reference]'] ?? '' });
    assert.equal(truth.operations.length, 1);
    assert.equal(truth.operations[0]?.idempotencyKey, 'stripe-idem-1');
  });

  test('a declined authorization is replayed too, with its 402', async () => {
    const params = stripeIntent(CARDS.stolen);
    const first = await stripe(sim, '/v1/payment_intents', params, { key: 'stripe-idem-decline' });
    const second = await stripe(sim, '/v1/payment_intents', params, { key: 'stripe-idem-decline' });
    assert.deepEqual([second.status, second.body], [402, first.body]);
    assert.equal(
      (await groundTruth(sim, { reference: params['metadata[reference]'] ?? '' })).operations
        .length,
      1,
    );
  });

  test('same key with other parameters, or on another endpoint, is an idempotency_error', async () => {
    const params = stripeIntent(CARDS.visa);
    await stripe(sim, '/v1/payment_intents', params, { key: 'stripe-idem-2' });
    const changed = await stripe(
      sim,
      '/v1/payment_intents',
      { ...params, amount: '1001' },
      { key: 'stripe-idem-2' },
    );
    assert.equal(changed.status, 400);
    assert.equal(at(changed.body, 'error', 'type'), 'idempotency_error');
    const otherEndpoint = await stripe(
      sim,
      '/v1/refunds',
      { payment_intent: 'pi_x' },
      { key: 'stripe-idem-2' },
    );
    assert.equal(at(otherEndpoint.body, 'error', 'type'), 'idempotency_error');
    assert.equal(
      (await groundTruth(sim, { reference: params['metadata[reference]'] ?? '' })).payments.length,
      1,
    );
  });

  test('parameter order does not matter', async () => {
    const params = stripeIntent(CARDS.visa);
    const reversed = Object.fromEntries(Object.entries(params).reverse());
    const first = await stripe(sim, '/v1/payment_intents', params, { key: 'stripe-idem-order' });
    const second = await stripe(sim, '/v1/payment_intents', reversed, { key: 'stripe-idem-order' });
    assert.deepEqual(second.body, first.body);
  });

  test('20 concurrent identical requests with one key: one operation, twenty identical answers', async () => {
    const params = stripeIntent(CARDS.visa, { capture_method: 'manual' });
    const replies = await Promise.all(
      Array.from({ length: 20 }, () =>
        stripe(sim, '/v1/payment_intents', params, { key: 'stripe-idem-concurrent' }),
      ),
    );
    assert.ok(replies.every((reply) => reply.status === 200));
    assert.equal(new Set(replies.map((reply) => JSON.stringify(reply.body))).size, 1);
    const truth = await groundTruth(sim, { reference: params['metadata[reference]'] ?? '' });
    assert.equal(truth.operations.length, 1);
  });

  test('keys are scoped per operation: a capture and a refund have their own', async () => {
    const id = await manualIntent('500');
    const capture = await stripe(
      sim,
      `/v1/payment_intents/${id}/capture`,
      {},
      { key: 'stripe-capture-key' },
    );
    const captureAgain = await stripe(
      sim,
      `/v1/payment_intents/${id}/capture`,
      {},
      { key: 'stripe-capture-key' },
    );
    assert.deepEqual([captureAgain.status, captureAgain.body], [200, capture.body]);
    const refund = await stripe(
      sim,
      '/v1/refunds',
      { payment_intent: id, amount: '100' },
      { key: 'stripe-refund-key' },
    );
    const refundAgain = await stripe(
      sim,
      '/v1/refunds',
      { payment_intent: id, amount: '100' },
      { key: 'stripe-refund-key' },
    );
    assert.equal(refundAgain.body.id, refund.body.id);
    const truth = await groundTruth(sim, { psp: 'stripe' });
    assert.deepEqual(
      truth.operations
        .filter((operation) => operation.paymentId === id)
        .map((operation) => operation.type),
      ['authorize', 'capture', 'refund'],
    );
  });
});

describe('stripe: bad input', () => {
  const cases: [string, Record<string, string | undefined>, number, string, string | undefined][] =
    [
      ['missing amount', { amount: undefined }, 400, 'parameter_missing', 'amount'],
      ['a decimal amount', { amount: '10.50' }, 400, 'parameter_invalid_integer', 'amount'],
      ['a zero amount', { amount: '0' }, 400, 'amount_too_small', 'amount'],
      ['a huge amount', { amount: '100000000000' }, 400, 'amount_too_large', 'amount'],
      ['an uppercase currency', { currency: 'USD' }, 400, 'parameter_invalid', 'currency'],
      ['confirm=false', { confirm: 'false' }, 400, 'parameter_invalid', 'confirm'],
      [
        'an unknown capture_method',
        { capture_method: 'later' },
        400,
        'parameter_invalid',
        'capture_method',
      ],
      [
        'a missing card number',
        { 'payment_method_data[card][number]': undefined },
        400,
        'parameter_missing',
        'payment_method_data[card][number]',
      ],
      [
        'a card number failing Luhn',
        { 'payment_method_data[card][number]': '4242424242424241' },
        402,
        'incorrect_number',
        'payment_method_data[card][number]',
      ],
      [
        'month 13',
        { 'payment_method_data[card][exp_month]': '13' },
        402,
        'invalid_expiry_month',
        'payment_method_data[card][exp_month]',
      ],
      [
        'a bad cvc',
        { 'payment_method_data[card][cvc]': '12a' },
        402,
        'invalid_cvc',
        'payment_method_data[card][cvc]',
      ],
    ];
  for (const [name, change, status, code, param] of cases) {
    test(`${name}: ${status} ${code}, nothing recorded`, async () => {
      const params = stripeIntent(CARDS.visa);
      for (const [key, value] of Object.entries(change)) {
        if (value === undefined) delete params[key];
        else params[key] = value;
      }
      const reply = await stripe(sim, '/v1/payment_intents', params, { key: `bad-${name}` });
      assert.equal(reply.status, status);
      assert.equal(at(reply.body, 'error', 'code'), code);
      assert.equal(at(reply.body, 'error', 'param'), param);
      assert.deepEqual(
        (await groundTruth(sim, { reference: params['metadata[reference]'] ?? '' })).operations,
        [],
      );
    });
  }

  test('malformed form bodies are 400', async () => {
    for (const body of ['a[b=1', 'a=1&a[b]=2', '%zz=1', 'a[b][c][d][e][f][g]=1']) {
      const response = await fetch(`${sim.url}/stripe/v1/payment_intents`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer sk_test_sim',
          'content-type': 'application/x-www-form-urlencoded',
        },
        body,
      });
      assert.equal(response.status, 400, body);
      await response.arrayBuffer();
    }
  });

  test('too many metadata keys are refused', async () => {
    const metadata = Object.fromEntries(
      Array.from({ length: 51 }, (_, index) => [`metadata[k${index}]`, 'v']),
    );
    const reply = await stripe(sim, '/v1/payment_intents', stripeIntent(CARDS.visa, metadata));
    assert.equal(reply.status, 400);
    assert.equal(at(reply.body, 'error', 'param'), 'metadata');
  });
});
