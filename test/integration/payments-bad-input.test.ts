// Bad input, table-driven for every payments route and field: a 4xx naming the param, and
// nothing written (no intent, refund, payment method, attempt or ledger entry; no PSP call).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type RunningProcess } from '../support/processes.ts';
import { call, startTestServer, testAdminKey, type TestServer } from '../support/server.ts';

type Case = { route: string; method?: string; body?: unknown; rawBody?: string; contentType?: string; status?: number; code: string; param?: string };

describe('bad input on the payments routes', () => {
  let simulator: RunningProcess;
  let server: TestServer;
  let key: string;
  let succeeded: string;
  let authorized: string;

  async function counts(): Promise<string> {
    const tables = ['payment_intents', 'payment_attempts', 'refunds', 'payment_methods', 'ledger_entries', 'idempotency_keys'];
    const values: string[] = [];
    for (const table of tables) {
      const result = await server.context.database.query<{ count: bigint }>(`SELECT count(*)::bigint AS count FROM ${table}`);
      values.push(`${table}=${result.rows[0]?.count}`);
    }
    const truth = (await (await fetch(`${simulator.url}/_sim/ground-truth`)).json()) as { operations: unknown[] };
    values.push(`psp_operations=${truth.operations.length}`);
    return values.join(' ');
  }

  before(async () => {
    simulator = await startSimulator();
    server = await startTestServer('pglite', { PAYRAIL_SIMULATOR_URL: simulator.url });
    key = String((await call(server, 'POST', '/v1/admin/merchants', { key: testAdminKey, body: { name: 'Strict shop' } })).body.secret_key);
    const paid = await call(server, 'POST', '/v1/payment_intents', { key, body: { amount: 1_000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, connector: 'stripe' } });
    succeeded = String(paid.body.id);
    const held = await call(server, 'POST', '/v1/payment_intents', { key, body: { amount: 1_000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, capture_method: 'manual', connector: 'stripe' } });
    authorized = String(held.body.id);
  });
  after(async () => {
    await server.stop();
    await simulator.stop();
  });

  const card = { number: '4242424242424242', exp_month: 12, exp_year: 2031, cvc: '123' };
  const intent = { amount: 1_000, currency: 'usd', payment_method: 'pm_card_visa' };
  const cases = (): Case[] => [
    { route: '/v1/payment_intents', body: { ...intent, amount: '1000' }, code: 'parameter_invalid', param: 'amount' },
    { route: '/v1/payment_intents', body: { ...intent, amount: 0 }, code: 'parameter_invalid', param: 'amount' },
    { route: '/v1/payment_intents', body: { ...intent, amount: -5 }, code: 'parameter_invalid', param: 'amount' },
    { route: '/v1/payment_intents', body: { ...intent, amount: 10.5 }, code: 'parameter_invalid', param: 'amount' },
    { route: '/v1/payment_intents', body: { ...intent, amount: 1e15 }, code: 'amount_too_large', param: 'amount' },
    { route: '/v1/payment_intents', body: { currency: 'usd' }, code: 'parameter_missing', param: 'amount' },
    { route: '/v1/payment_intents', body: { amount: 100 }, code: 'parameter_missing', param: 'currency' },
    { route: '/v1/payment_intents', body: { ...intent, currency: 'USD' }, code: 'parameter_invalid', param: 'currency' },
    { route: '/v1/payment_intents', body: { ...intent, currency: 'xyz' }, code: 'unknown_currency', param: 'currency' },
    { route: '/v1/payment_intents', body: { ...intent, capture_method: 'later' }, code: 'parameter_invalid', param: 'capture_method' },
    { route: '/v1/payment_intents', body: { ...intent, confirm: 'yes' }, code: 'parameter_invalid', param: 'confirm' },
    { route: '/v1/payment_intents', body: { ...intent, description: 'd'.repeat(1001) }, code: 'parameter_invalid', param: 'description' },
    { route: '/v1/payment_intents', body: { ...intent, metadata: { k: 'v'.repeat(501) } }, code: 'parameter_invalid', param: 'metadata[k]' },
    { route: '/v1/payment_intents', body: { ...intent, metadata: Object.fromEntries(Array.from({ length: 51 }, (_, index) => [`k${index}`, 'v'])) }, code: 'parameter_invalid', param: 'metadata' },
    { route: '/v1/payment_intents', body: { ...intent, payment_method: 'pm_nope' }, status: 404, code: 'resource_missing', param: 'payment_method' },
    { route: '/v1/payment_intents', body: { ...intent, connector: 'nobody' }, code: 'no_connector_available', param: 'connector' },
    { route: '/v1/payment_intents', body: { ...intent, currency: 'eur', connector: 'paytm' }, code: 'capability_not_supported', param: 'currency' },
    { route: '/v1/payment_intents', body: { ...intent, capture_method: 'manual', connector: 'paytm', currency: 'inr' }, code: 'capability_not_supported', param: 'capture_method' },
    { route: '/v1/payment_intents', body: { ...intent, colour: 'red' }, code: 'parameter_unknown', param: 'colour' },
    { route: '/v1/payment_intents', rawBody: '{"amount":', code: 'body_invalid' },
    { route: '/v1/payment_intents', rawBody: 'amount=1', contentType: 'text/plain', status: 415, code: 'content_type_unsupported' },
    { route: '/v1/payment_intents', rawBody: 'amount=abc&currency=usd', contentType: 'application/x-www-form-urlencoded', code: 'parameter_invalid', param: 'amount' },
    { route: '/v1/payment_intents', body: { ...intent, description: 'x'.repeat(300_000) }, status: 413, code: 'body_too_large' },
    { route: `/v1/payment_intents/${'x'.repeat(101)}/confirm`, body: {}, code: 'parameter_invalid', param: 'id' },
    { route: `/v1/payment_intents/${succeeded}/confirm`, body: { payment_method: 12 }, code: 'parameter_invalid', param: 'payment_method' },
    { route: `/v1/payment_intents/${succeeded}/confirm`, body: {}, code: 'payment_intent_unexpected_state' },
    { route: `/v1/payment_intents/${authorized}/capture`, body: { amount_to_capture: 0 }, code: 'parameter_invalid', param: 'amount_to_capture' },
    { route: `/v1/payment_intents/${authorized}/capture`, body: { amount_to_capture: 5_000 }, code: 'amount_too_large', param: 'amount_to_capture' },
    { route: `/v1/payment_intents/${authorized}/capture`, body: { amount: 5 }, code: 'parameter_unknown', param: 'amount' },
    { route: `/v1/payment_intents/${succeeded}/capture`, body: {}, code: 'payment_intent_unexpected_state' },
    { route: `/v1/payment_intents/${authorized}/cancel`, body: { cancellation_reason: 'bored' }, code: 'parameter_invalid', param: 'cancellation_reason' },
    { route: `/v1/payment_intents/${succeeded}/cancel`, body: {}, code: 'payment_intent_unexpected_state' },
    { route: `/v1/payment_intents/${succeeded}/sync`, body: { force: true }, code: 'parameter_unknown', param: 'force' },
    { route: '/v1/refunds', body: {}, code: 'parameter_missing', param: 'payment_intent' },
    { route: '/v1/refunds', body: { payment_intent: succeeded, amount: 0 }, code: 'parameter_invalid', param: 'amount' },
    { route: '/v1/refunds', body: { payment_intent: succeeded, amount: 1_001 }, code: 'amount_too_large', param: 'amount' },
    { route: '/v1/refunds', body: { payment_intent: succeeded, reason: 'whim' }, code: 'parameter_invalid', param: 'reason' },
    { route: '/v1/refunds', body: { payment_intent: authorized }, code: 'payment_intent_unexpected_state', param: 'payment_intent' },
    { route: '/v1/refunds', body: { payment_intent: 'pi_missing' }, status: 404, code: 'resource_missing', param: 'payment_intent' },
    { route: '/v1/payment_methods', body: { type: 'card' }, code: 'parameter_missing', param: 'card' },
    { route: '/v1/payment_methods', body: { type: 'bank', card }, code: 'parameter_invalid', param: 'type' },
    { route: '/v1/payment_methods', body: { type: 'card', card: { ...card, number: 4242 } }, code: 'parameter_invalid', param: 'card[number]' },
    { route: '/v1/payment_methods', body: { type: 'card', card: { ...card, number: '4242424242424241' } }, status: 402, code: 'incorrect_number', param: 'card[number]' },
    { route: '/v1/payment_methods', body: { type: 'card', card: { ...card, number: '42424242abcd4242' } }, status: 402, code: 'invalid_number', param: 'card[number]' },
    { route: '/v1/payment_methods', body: { type: 'card', card: { ...card, exp_month: 13 } }, code: 'parameter_invalid', param: 'card[exp_month]' },
    { route: '/v1/payment_methods', body: { type: 'card', card: { ...card, exp_year: 2020 } }, status: 402, code: 'expired_card', param: 'card[exp_year]' },
    { route: '/v1/payment_methods', body: { type: 'card', card: { ...card, cvc: '12a' } }, code: 'parameter_invalid', param: 'card[cvc]' },
    { route: '/v1/payment_methods', body: { type: 'card', card: { ...card, pin: '1234' } }, code: 'parameter_unknown', param: 'card[pin]' },
  ];

  test('every case is refused with its param named, and nothing is written', async () => {
    for (const testCase of cases()) {
      const before = await counts();
      const response = await call(server, testCase.method ?? 'POST', testCase.route, {
        key, body: testCase.body, rawBody: testCase.rawBody, contentType: testCase.contentType, idempotencyKey: undefined,
      });
      const label = `${testCase.route} ${JSON.stringify(testCase.body ?? testCase.rawBody).slice(0, 120)}`;
      assert.equal(response.status, testCase.status ?? 400, `${label}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.error?.code, testCase.code, label);
      if (testCase.param !== undefined) assert.equal(response.body.error?.param, testCase.param, label);
      assert.ok((response.body.error?.message ?? '').length > 10, label);
      assert.equal(await counts(), before, `${label} wrote something`);
    }
  });

  test('a refused request is not stored under its Idempotency-Key', async () => {
    const bad = await call(server, 'POST', '/v1/payment_intents', { key, body: { ...intent, amount: 'x' }, idempotencyKey: 'fix-and-retry' });
    assert.equal(bad.status, 400);
    const good = await call(server, 'POST', '/v1/payment_intents', { key, body: { ...intent, confirm: true }, idempotencyKey: 'fix-and-retry' });
    assert.equal(good.status, 200, JSON.stringify(good.body));
  });
});
