// Payment flows over HTTP: a real Payrail server (embedded PGlite) and the real simulator process.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { verifyLedger } from '../../src/ledger/index.ts';
import { startSimulator, type RunningProcess } from '../support/processes.ts';
import { call, startTestServer, testAdminKey, type TestServer } from '../support/server.ts';

type GroundTruth = { payments: { psp: string; reference: string; authorized: number; captured: number; refunded: number; voided: boolean }[]; operations: { type: string; reference: string }[] };

describe('payments over HTTP with the simulator', () => {
  let simulator: RunningProcess;
  let server: TestServer;
  let key: string;
  let otherKey: string;

  async function groundTruth(reference?: string): Promise<GroundTruth> {
    const response = await fetch(`${simulator.url}/_sim/ground-truth${reference === undefined ? '' : `?reference=${reference}`}`);
    return (await response.json()) as GroundTruth;
  }

  async function pay(body: Record<string, unknown>, options: { idempotencyKey?: string; merchantKey?: string } = {}) {
    return call(server, 'POST', '/v1/payment_intents', { key: options.merchantKey ?? key, body: { currency: 'usd', confirm: true, ...body }, idempotencyKey: options.idempotencyKey });
  }

  function attemptsOf(body: Record<string, unknown>): { id: string; status: string; connector: string }[] {
    return body.attempts as { id: string; status: string; connector: string }[];
  }

  before(async () => {
    simulator = await startSimulator({ SIM_TIMEOUT_DELAY_MS: '3000' });
    // One try per PSP call: these tests see unknown outcomes, not the retries that hide them.
    server = await startTestServer('pglite', { PAYRAIL_SIMULATOR_URL: simulator.url, PAYRAIL_PSP_TIMEOUT_MS: '1200', PAYRAIL_PSP_ATTEMPTS: '1', PAYRAIL_BREAKER_THRESHOLD: '1000' });
    key = String((await call(server, 'POST', '/v1/admin/merchants', { key: testAdminKey, body: { name: 'Shop' } })).body.secret_key);
    otherKey = String((await call(server, 'POST', '/v1/admin/merchants', { key: testAdminKey, body: { name: 'Other' } })).body.secret_key);
  });
  after(async () => {
    await server.stop();
    await simulator.stop();
  });

  test('a card is vaulted and shown only as brand, last4 and expiry', async () => {
    const response = await call(server, 'POST', '/v1/payment_methods', { key, body: { type: 'card', card: { number: '4242 4242 4242 4242', exp_month: 12, exp_year: 2031, cvc: '123' } } });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.match(String(response.body.id), /^pm_/);
    assert.deepEqual({ ...(response.body.card as object), fingerprint: undefined }, { brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2031, country: 'US', fingerprint: undefined });
    assert.ok(!JSON.stringify(response.body).includes('4242424242424242'));
    const paid = await pay({ amount: 1234, payment_method: response.body.id });
    assert.equal(paid.body.status, 'succeeded');
  });

  test('automatic capture: succeeded, one captured attempt, money in the ledger net of the fee', async () => {
    const response = await pay({ amount: 10_000, payment_method: 'pm_card_visa', connector: 'stripe' });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.status, 'succeeded');
    assert.equal(response.body.amount_received, 10_000);
    const attempts = attemptsOf(response.body);
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0]?.status, 'captured');
    const truth = await groundTruth(attempts[0]?.id);
    assert.equal(truth.payments[0]?.captured, 10_000);
    const ledger = server.context.ledger;
    const fee = 290n + 30n; // 2.9 % of 100.00 + 0.30
    const merchantId = String((await server.context.database.query<{ merchant_id: string }>('SELECT merchant_id FROM payment_intents WHERE id = $1', [response.body.id])).rows[0]?.merchant_id);
    const pending = await ledger.getAccount(`merchant:${merchantId}:pending:usd`);
    assert.ok(pending !== undefined && pending.balance.posted >= 10_000n - fee);
    const fees = await ledger.getTransaction(`fee:${attempts[0]?.id}`);
    assert.equal(fees?.legs[0]?.amount, fee);
  });

  test('manual capture in part releases the rest; the balance endpoint reads the ledger', async () => {
    const authorized = await pay({ amount: 1_000, payment_method: 'pm_card_visa', capture_method: 'manual', connector: 'stripe' });
    assert.equal(authorized.body.status, 'requires_capture');
    assert.equal(authorized.body.amount_capturable, 1_000);
    const tooMuch = await call(server, 'POST', `/v1/payment_intents/${authorized.body.id}/capture`, { key, body: { amount_to_capture: 1_001 } });
    assert.equal(tooMuch.status, 400);
    assert.equal(tooMuch.body.error?.param, 'amount_to_capture');
    const captured = await call(server, 'POST', `/v1/payment_intents/${authorized.body.id}/capture`, { key, body: { amount_to_capture: 600 } });
    assert.equal(captured.status, 200, JSON.stringify(captured.body));
    assert.equal(captured.body.status, 'succeeded');
    assert.equal(captured.body.amount_received, 600);
    assert.equal(captured.body.amount_capturable, 0);
    const attempt = attemptsOf(captured.body)[0];
    const hold = await server.context.ledger.getHold(`auth:${attempt?.id}`);
    assert.equal(hold?.status, 'posted');
    const again = await call(server, 'POST', `/v1/payment_intents/${authorized.body.id}/capture`, { key, body: {} });
    assert.equal(again.status, 400);
    assert.equal(again.body.error?.code, 'payment_intent_unexpected_state');
    const truth = await groundTruth(attempt?.id);
    assert.equal(truth.payments[0]?.captured, 600);
    const balance = await call(server, 'GET', '/v1/balance', { key });
    assert.equal(balance.body.object, 'balance');
    assert.ok((balance.body.pending as { currency: string; amount: number }[]).some((entry) => entry.currency === 'usd' && entry.amount > 0));
  });

  test('repeated partial refunds until the captured amount is used up, then a clear refusal', async () => {
    const paid = await pay({ amount: 1_000, payment_method: 'pm_card_visa', connector: 'stripe' });
    const first = await call(server, 'POST', '/v1/refunds', { key, body: { payment_intent: paid.body.id, amount: 300, reason: 'requested_by_customer' } });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.status, 'succeeded');
    const second = await call(server, 'POST', '/v1/refunds', { key, body: { payment_intent: paid.body.id, amount: 700 } });
    assert.equal(second.body.status, 'succeeded');
    const third = await call(server, 'POST', '/v1/refunds', { key, body: { payment_intent: paid.body.id, amount: 1 } });
    assert.equal(third.status, 400);
    assert.equal(third.body.error?.code, 'charge_already_refunded');
    const intent = await call(server, 'GET', `/v1/payment_intents/${paid.body.id}`, { key });
    assert.equal(intent.body.amount_refunded, 1_000);
    const truth = await groundTruth(attemptsOf(paid.body)[0]?.id);
    assert.equal(truth.payments[0]?.refunded, 1_000);
    const listed = await call(server, 'GET', `/v1/refunds?payment_intent=${paid.body.id}`, { key });
    assert.equal((listed.body.data as unknown[]).length, 2);
  });

  test('a decline is a 402 card error and leaves the intent ready for another payment method', async () => {
    const declined = await pay({ amount: 500, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', connector: 'stripe' });
    assert.equal(declined.status, 402);
    assert.equal(declined.body.error?.type, 'card_error');
    assert.equal(declined.body.error?.code, 'card_declined');
    assert.equal(declined.body.error?.decline_code, 'insufficient_funds');
    // Like Stripe's card errors, the error carries the PaymentIntent as the decline left it.
    const carried = declined.body.error?.payment_intent as { id: string; status: string; last_payment_error: { decline_code: string } } | undefined;
    assert.equal(carried?.status, 'requires_payment_method');
    assert.equal(carried?.last_payment_error.decline_code, 'insufficient_funds');
    const intents = await call(server, 'GET', '/v1/payment_intents?limit=1', { key });
    const latest = (intents.body.data as { id: string; status: string; last_payment_error: { decline_code: string } }[])[0];
    assert.equal(latest?.id, carried?.id);
    assert.equal(latest?.status, 'requires_payment_method');
    assert.equal(latest?.last_payment_error.decline_code, 'insufficient_funds');
    const retried = await call(server, 'POST', `/v1/payment_intents/${latest?.id}/confirm`, { key, body: { payment_method: 'pm_card_visa' } });
    assert.equal(retried.body.status, 'succeeded');
    assert.equal(attemptsOf(retried.body).length, 2);
  });

  for (const [name, card] of [['a PSP timeout', 'pm_card_pspTimeout'], ['a lost response', 'pm_card_pspLostResponse']] as const) {
    test(`${name} leaves the payment processing; sync finds it captured, once`, async () => {
      const response = await pay({ amount: 777, payment_method: card, connector: 'stripe' });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(response.body.status, 'processing');
      assert.equal(attemptsOf(response.body)[0]?.status, 'unknown');
      const synced = await call(server, 'POST', `/v1/payment_intents/${response.body.id}/sync`, { key, body: {} });
      assert.equal(synced.body.status, 'succeeded', JSON.stringify(synced.body));
      const attemptId = attemptsOf(synced.body)[0]?.id ?? '';
      const truth = await groundTruth(attemptId);
      assert.equal(truth.payments.length, 1);
      assert.equal(truth.payments[0]?.captured, 777);
      assert.equal((await server.context.ledger.getTransaction(`capture:${attemptId}`))?.legs[0]?.amount, 777n);
    });
  }

  test('a partial refund through the Paytm-like connector is refused before any PSP call', async () => {
    const paid = await pay({ amount: 5_000, currency: 'inr', payment_method: 'pm_card_visa', connector: 'paytm' });
    assert.equal(paid.body.status, 'succeeded', JSON.stringify(paid.body));
    const partial = await call(server, 'POST', '/v1/refunds', { key, body: { payment_intent: paid.body.id, amount: 100 } });
    assert.equal(partial.status, 400);
    assert.equal(partial.body.error?.code, 'capability_not_supported');
    assert.equal(partial.body.error?.param, 'amount');
    const truth = await groundTruth(attemptsOf(paid.body)[0]?.id);
    assert.equal(truth.operations.filter((operation) => operation.type === 'refund').length, 0);
    const full = await call(server, 'POST', '/v1/refunds', { key, body: { payment_intent: paid.body.id } });
    assert.equal(full.body.status, 'succeeded', JSON.stringify(full.body));
  });

  test('the Razorpay-like connector refuses a partial capture; cancel releases the hold', async () => {
    const authorized = await pay({ amount: 2_000, currency: 'inr', payment_method: 'pm_card_visa', capture_method: 'manual', connector: 'razorpay' });
    assert.equal(authorized.body.status, 'requires_capture', JSON.stringify(authorized.body));
    const partial = await call(server, 'POST', `/v1/payment_intents/${authorized.body.id}/capture`, { key, body: { amount_to_capture: 1_000 } });
    assert.equal(partial.status, 400);
    assert.equal(partial.body.error?.code, 'capability_not_supported');
    const canceled = await call(server, 'POST', `/v1/payment_intents/${authorized.body.id}/cancel`, { key });
    assert.equal(canceled.body.status, 'canceled', JSON.stringify(canceled.body));
    const hold = await server.context.ledger.getHold(`auth:${attemptsOf(canceled.body)[0]?.id}`);
    assert.equal(hold?.status, 'voided');
  });

  test('a Stripe-like cancel voids at the PSP', async () => {
    const authorized = await pay({ amount: 3_000, payment_method: 'pm_card_visa', capture_method: 'manual', connector: 'stripe' });
    const canceled = await call(server, 'POST', `/v1/payment_intents/${authorized.body.id}/cancel`, { key, body: { cancellation_reason: 'requested_by_customer' } });
    assert.equal(canceled.body.status, 'canceled');
    assert.equal(canceled.body.cancellation_reason, 'requested_by_customer');
    const truth = await groundTruth(attemptsOf(canceled.body)[0]?.id);
    assert.equal(truth.payments[0]?.voided, true);
  });

  test('form-encoded bodies work the way Stripe SDKs send them', async () => {
    const response = await call(server, 'POST', '/v1/payment_intents', {
      key, contentType: 'application/x-www-form-urlencoded',
      rawBody: 'amount=2500&currency=usd&confirm=true&payment_method=pm_card_mastercard&metadata[order_id]=A-17&capture_method=automatic',
    });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.status, 'succeeded');
    assert.deepEqual(response.body.metadata, { order_id: 'A-17' });
  });

  test('a replay returns the stored response; other parameters with the same key are refused', async () => {
    const first = await pay({ amount: 4_200, payment_method: 'pm_card_visa' }, { idempotencyKey: 'order-4200' });
    const replay = await pay({ amount: 4_200, payment_method: 'pm_card_visa' }, { idempotencyKey: 'order-4200' });
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replay.body, first.body);
    const different = await pay({ amount: 4_201, payment_method: 'pm_card_visa' }, { idempotencyKey: 'order-4200' });
    assert.equal(different.status, 400);
    assert.equal(different.body.error?.type, 'idempotency_error');
    const truth = await groundTruth(attemptsOf(first.body)[0]?.id);
    assert.equal(truth.operations.filter((operation) => operation.type === 'authorize').length, 1);
  });

  test("another merchant's objects are 404, exactly like missing ones", async () => {
    const paid = await pay({ amount: 900, payment_method: 'pm_card_visa' });
    const refund = await call(server, 'POST', '/v1/refunds', { key, body: { payment_intent: paid.body.id, amount: 100 } });
    const method = await call(server, 'POST', '/v1/payment_methods', { key, body: { type: 'card', card: { number: '5555555555554444', exp_month: 1, exp_year: 2032 } } });
    const paths: [string, string, unknown?][] = [
      ['GET', `/v1/payment_intents/${paid.body.id}`], ['POST', `/v1/payment_intents/${paid.body.id}/confirm`, {}],
      ['POST', `/v1/payment_intents/${paid.body.id}/capture`, {}], ['POST', `/v1/payment_intents/${paid.body.id}/cancel`, {}],
      ['POST', `/v1/payment_intents/${paid.body.id}/sync`, {}], ['GET', `/v1/refunds/${refund.body.id}`],
      ['POST', '/v1/refunds', { payment_intent: paid.body.id }], ['GET', `/v1/payment_methods/${method.body.id}`],
      ['POST', '/v1/payment_intents', { amount: 100, currency: 'usd', payment_method: method.body.id }],
    ];
    for (const [method_, path, body] of paths) {
      const response = await call(server, method_, path, { key: otherKey, body });
      assert.equal(response.status, 404, `${method_} ${path}: ${JSON.stringify(response.body)}`);
    }
    const list = await call(server, 'GET', '/v1/payment_intents', { key: otherKey });
    assert.deepEqual(list.body.data, []);
  });

  test('a posting the ledger refuses stays in the outbox and is reported, and changes nothing', async () => {
    const database = server.context.database;
    await database.query(
      `INSERT INTO ledger_outbox (merchant_id, connector, currency, transfers) VALUES ('mch_nobody', 'stripe', 'usd', $1::jsonb)`,
      [JSON.stringify([{ kind: 'post_pending', id: 'capture:pa_nothing', pendingId: 'auth:pa_nothing', amount: '5' }])],
    );
    assert.equal(await server.context.payments.sweepLedgerOutbox(0), 1);
    const left = await database.query<{ count: bigint }>('SELECT count(*)::bigint AS count FROM ledger_outbox');
    assert.equal(left.rows[0]?.count, 1n);
    assert.equal(await server.context.ledger.getTransaction('capture:pa_nothing'), undefined);
    assert.ok(server.logs.some((line) => line.includes('the ledger refused a payment posting') && line.includes('pending_not_found')));
    await database.query('DELETE FROM ledger_outbox');
  });

  test('the ledger verifies after all of the above', async () => {
    const report = await verifyLedger(server.context.database);
    assert.deepEqual(report.problems, []);
  });

  test('no card number of the flows above reached a log line of the server or the simulator', () => {
    const logs = server.logs.join('') + simulator.output.join('');
    assert.ok(server.logs.length > 10, 'the server logged');
    for (const pan of ['4242424242424242', '5555555555554444', '4000000000009995', '4000000000000259']) assert.ok(!logs.includes(pan), `${pan} in the logs`);
  });
});

describe('operators set a merchant\'s connectors', () => {
  let simulator: RunningProcess;
  let server: TestServer;
  let merchant: { id: string; key: string };

  before(async () => {
    simulator = await startSimulator();
    server = await startTestServer('pglite', { PAYRAIL_SIMULATOR_URL: simulator.url });
    const created = await call(server, 'POST', '/v1/admin/merchants', { key: testAdminKey, body: { name: 'Routed shop' } });
    merchant = { id: String(created.body.id), key: String(created.body.secret_key) };
  });
  after(async () => {
    await server.stop();
    await simulator.stop();
  });

  test('a new test-mode merchant has the three simulated PSPs; disabling one takes it out of routing', async () => {
    const listed = await call(server, 'GET', `/v1/admin/merchants/${merchant.id}/connectors`, { key: testAdminKey });
    const names = (listed.body.data as { connector: string; api_key_hint: string }[]).map((entry) => entry.connector);
    assert.deepEqual(names, ['stripe', 'razorpay', 'paytm']);
    assert.ok(!JSON.stringify(listed.body).includes('sim_secret'), 'secrets are not shown');
    const disabled = await call(server, 'PUT', `/v1/admin/merchants/${merchant.id}/connectors/stripe`, {
      key: testAdminKey, body: { enabled: false, priority: 10, base_url: `${simulator.url}/stripe`, api_key: 'sk_test_sim' },
    });
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
    const paid = await call(server, 'POST', '/v1/payment_intents', { key: merchant.key, body: { amount: 1_000, currency: 'inr', payment_method: 'pm_card_visa', confirm: true } });
    assert.equal(paid.body.connector, 'razorpay', 'stripe is disabled, razorpay is next by priority');
    const refused = await call(server, 'POST', '/v1/payment_intents', { key: merchant.key, body: { amount: 1_000, currency: 'usd', payment_method: 'pm_card_visa', connector: 'stripe' } });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error?.code, 'no_connector_available');
    const unknown = await call(server, 'PUT', `/v1/admin/merchants/${merchant.id}/connectors/acme`, {
      key: testAdminKey, body: { enabled: true, priority: 1, base_url: 'http://127.0.0.1:1', api_key: 'k' },
    });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error?.param, 'connector');
  });

  test('no card number reached the log lines of this server', () => {
    const logs = server.logs.join('');
    for (const pan of ['4242424242424242', '5555555555554444', '4000000000009995']) assert.ok(!logs.includes(pan), `${pan} in the logs`);
  });
});
