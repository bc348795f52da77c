// Test and live mode over HTTP, on a server started as `payrail serve` starts it (configuration
// from the environment, the default simulator setting) next to a real simulator: a live merchant
// has sk_live_ keys, no simulated PSP and no way to reach the simulator, and its objects say
// livemode: true; a test merchant has sk_test_ keys and pays through the simulator; neither
// mode's key reaches the other's objects.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type RunningProcess } from '../support/processes.ts';
import { call, startTestServer, testAdminKey, type TestServer } from '../support/server.ts';
import { simulatedConnectors } from '../../src/testmode/simulator.ts';

type Created = { id: string; key: string };

async function createMerchant(server: TestServer, body: Record<string, unknown>): Promise<Created> {
  const created = await call(server, 'POST', '/v1/admin/merchants', { key: testAdminKey, body });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { id: String(created.body.id), key: String(created.body.secret_key) };
}

/** A card vaulted for the merchant (a live merchant has no pm_card_… test ids). */
async function vaultCard(server: TestServer, key: string, number: string): Promise<string> {
  const created = await call(server, 'POST', '/v1/payment_methods', {
    key,
    body: { type: 'card', card: { number, exp_month: 12, exp_year: 2031, cvc: '123' } },
  });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  return String(created.body.id);
}

async function simulatorOperations(simulator: RunningProcess): Promise<number> {
  const response = await fetch(`${simulator.url}/_sim/ground-truth`);
  const truth = (await response.json()) as { operations: unknown[] };
  return truth.operations.length;
}

const payment = {
  amount: 2_000,
  currency: 'usd',
  payment_method: 'pm_card_visa',
  confirm: true,
};

describe('test and live mode', () => {
  let simulator: RunningProcess;
  let server: TestServer;
  let live: Created;
  let test_: Created;

  before(async () => {
    simulator = await startSimulator();
    server = await startTestServer('pglite', { PAYRAIL_SIMULATOR_URL: simulator.url });
    live = await createMerchant(server, { name: 'Live shop', livemode: true });
    test_ = await createMerchant(server, { name: 'Test shop' });
  });
  after(async () => {
    await server?.stop();
    await simulator?.stop();
  });

  test('a live merchant has an sk_live_ key and says livemode: true; a test merchant sk_test_ and false', async () => {
    assert.match(live.key, /^sk_live_[0-9A-Za-z]{43}$/);
    assert.match(test_.key, /^sk_test_[0-9A-Za-z]{43}$/);
    for (const [merchant, livemode] of [
      [live, true],
      [test_, false],
    ] as const) {
      const shown = await call(server, 'GET', `/v1/admin/merchants/${merchant.id}`, {
        key: testAdminKey,
      });
      assert.equal(shown.body.livemode, livemode);
    }
    const listed = await call(server, 'GET', '/v1/admin/merchants', { key: testAdminKey });
    const modes = new Map(
      (listed.body.data as { id: string; livemode: boolean }[]).map((row) => [
        row.id,
        row.livemode,
      ]),
    );
    assert.equal(modes.get(live.id), true);
    assert.equal(modes.get(test_.id), false);
  });

  test('a key issued by the operator has its merchant’s mode, and revoke_others retires the old ones', async () => {
    const issued = await call(server, 'POST', `/v1/admin/merchants/${live.id}/keys`, {
      key: testAdminKey,
    });
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    assert.match(String(issued.body.secret_key), /^sk_live_/);
    assert.equal(issued.body.livemode, true);
    const both = [live.key, String(issued.body.secret_key)];
    for (const key of both)
      assert.equal((await call(server, 'GET', '/v1/balance', { key })).status, 200);

    const testKey = await call(server, 'POST', `/v1/admin/merchants/${test_.id}/keys`, {
      key: testAdminKey,
      body: { revoke_others: true },
    });
    assert.match(String(testKey.body.secret_key), /^sk_test_/);
    assert.equal(testKey.body.livemode, false);
    assert.equal((await call(server, 'GET', '/v1/balance', { key: test_.key })).status, 401);
    test_ = { ...test_, key: String(testKey.body.secret_key) };
    assert.equal((await call(server, 'GET', '/v1/balance', { key: test_.key })).status, 200);

    const missing = await call(server, 'POST', '/v1/admin/merchants/mch_NoSuchOne1/keys', {
      key: testAdminKey,
      body: {},
    });
    assert.equal(missing.status, 404);
  });

  test('a live key’s secret under the test prefix is no key', async () => {
    const swapped = live.key.replace(/^sk_live_/, 'sk_test_');
    assert.equal((await call(server, 'GET', '/v1/balance', { key: swapped })).status, 401);
  });

  test('a test merchant gets the simulated PSPs and pays through the simulator', async () => {
    const connectors = await call(server, 'GET', `/v1/admin/merchants/${test_.id}/connectors`, {
      key: testAdminKey,
    });
    const rows = connectors.body.data as { connector: string; base_url: string }[];
    assert.deepEqual(
      rows.map((row) => row.connector),
      simulatedConnectors,
    );
    assert.ok(rows.every((row) => row.base_url.startsWith(simulator.url)));
    const before = await simulatorOperations(simulator);
    const paid = await call(server, 'POST', '/v1/payment_intents', {
      key: test_.key,
      body: payment,
    });
    assert.equal(paid.body.status, 'succeeded', JSON.stringify(paid.body));
    assert.equal(paid.body.livemode, false);
    assert.ok((await simulatorOperations(simulator)) > before, 'the simulator saw the payment');
  });

  test('a live merchant gets no simulated PSP, cannot be pointed at the simulator, and never reaches it', async () => {
    const connectors = await call(server, 'GET', `/v1/admin/merchants/${live.id}/connectors`, {
      key: testAdminKey,
    });
    assert.deepEqual(connectors.body.data, []);
    const prices = await call(server, 'GET', `/v1/admin/merchants/${live.id}/prices`, {
      key: testAdminKey,
    });
    assert.deepEqual(
      (prices.body.data as { currency: string }[]).map((price) => price.currency),
      ['usd', '*'],
      'the default prices, as every merchant gets',
    );

    const port = new URL(simulator.url).port;
    for (const baseUrl of [
      `${simulator.url}/stripe`,
      `http://localhost:${port}/stripe`,
      `http://[::1]:${port}/stripe`,
    ]) {
      const refused = await call(
        server,
        'PUT',
        `/v1/admin/merchants/${live.id}/connectors/stripe`,
        {
          key: testAdminKey,
          body: { enabled: true, priority: 10, base_url: baseUrl, api_key: 'sk_test_sim' },
        },
      );
      assert.equal(refused.status, 400, baseUrl);
      assert.equal(refused.body.error?.param, 'base_url');
    }
    const stillNone = await call(server, 'GET', `/v1/admin/merchants/${live.id}/connectors`, {
      key: testAdminKey,
    });
    assert.deepEqual(stillNone.body.data, []);

    const before = await simulatorOperations(simulator);
    const refusedPayment = await call(server, 'POST', '/v1/payment_intents', {
      key: live.key,
      body: { ...payment, payment_method: await vaultCard(server, live.key, '4242424242424242') },
    });
    assert.equal(refusedPayment.status, 400, JSON.stringify(refusedPayment.body));
    assert.equal(refusedPayment.body.error?.code, 'no_connector_available');
    assert.equal(await simulatorOperations(simulator), before, 'nothing reached the simulator');

    // The operator may set a real PSP (never called here: no payment is confirmed after it).
    const real = await call(server, 'PUT', `/v1/admin/merchants/${live.id}/connectors/stripe`, {
      key: testAdminKey,
      body: {
        enabled: true,
        priority: 10,
        base_url: 'https://api.stripe.com',
        api_key: 'sk_live_operator_set',
      },
    });
    assert.equal(real.status, 200, JSON.stringify(real.body));
  });

  test('a live merchant pays through the PSP the operator set, and a decline’s intent says livemode: true', async () => {
    // A second simulator process stands in for a real PSP: any address but the simulator's.
    const psp = await startSimulator();
    try {
      const set = await call(server, 'PUT', `/v1/admin/merchants/${live.id}/connectors/stripe`, {
        key: testAdminKey,
        body: {
          enabled: true,
          priority: 10,
          base_url: `${psp.url}/stripe`,
          api_key: 'sk_test_sim',
        },
      });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      const simulatorBefore = await simulatorOperations(simulator);
      const paid = await call(server, 'POST', '/v1/payment_intents', {
        key: live.key,
        body: { ...payment, payment_method: await vaultCard(server, live.key, '4242424242424242') },
      });
      assert.equal(paid.body.status, 'succeeded', JSON.stringify(paid.body));
      assert.equal(paid.body.livemode, true);
      assert.ok((await simulatorOperations(psp)) > 0, 'the PSP the operator set was called');

      const declined = await call(server, 'POST', '/v1/payment_intents', {
        key: live.key,
        body: { ...payment, payment_method: await vaultCard(server, live.key, '4000000000009995') },
      });
      assert.equal(declined.status, 402, JSON.stringify(declined.body));
      assert.equal(declined.body.error?.payment_intent?.livemode, true);
      assert.equal(await simulatorOperations(simulator), simulatorBefore, 'never the simulator');
    } finally {
      await psp.stop();
    }
  });

  test('Stripe’s test payment method ids are a test merchant’s only', async () => {
    const forTest = await call(server, 'GET', '/v1/payment_methods/pm_card_visa', {
      key: test_.key,
    });
    assert.equal(forTest.status, 200);
    const forLive = await call(server, 'GET', '/v1/payment_methods/pm_card_visa', {
      key: live.key,
    });
    assert.equal(forLive.status, 404);
    const paid = await call(server, 'POST', '/v1/payment_intents', {
      key: live.key,
      body: payment,
    });
    assert.equal(paid.status, 404, JSON.stringify(paid.body));
    assert.equal(paid.body.error?.param, 'payment_method');
  });

  test('every object a live key sees says livemode: true, also in lists, events and replays', async () => {
    const method = await call(server, 'POST', '/v1/payment_methods', {
      key: live.key,
      body: {
        type: 'card',
        card: { number: '4242424242424242', exp_month: 12, exp_year: 2031, cvc: '123' },
      },
    });
    assert.equal(method.status, 200, JSON.stringify(method.body));
    assert.equal(method.body.livemode, true);
    const created = await call(server, 'POST', '/v1/payment_intents', {
      key: live.key,
      body: { amount: 1_500, currency: 'usd', payment_method: method.body.id },
      idempotencyKey: 'live-intent-1',
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.body.livemode, true);
    const replayed = await call(server, 'POST', '/v1/payment_intents', {
      key: live.key,
      body: { amount: 1_500, currency: 'usd', payment_method: method.body.id },
      idempotencyKey: 'live-intent-1',
    });
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    assert.equal(replayed.body.livemode, true);
    const retrieved = await call(server, 'GET', `/v1/payment_intents/${String(created.body.id)}`, {
      key: live.key,
    });
    assert.equal(retrieved.body.livemode, true);
    const listed = await call(server, 'GET', '/v1/payment_intents', { key: live.key });
    const items = listed.body.data as { livemode: boolean }[];
    assert.ok(items.length > 0 && items.every((item) => item.livemode === true));

    const events = await call(server, 'GET', '/v1/events', { key: live.key });
    const shown = events.body.data as {
      livemode: boolean;
      data: { object: { livemode: boolean } };
    }[];
    assert.ok(shown.length > 0);
    for (const event of shown) {
      assert.equal(event.livemode, true);
      assert.equal(event.data.object.livemode, true);
    }

    const testEvents = await call(server, 'GET', '/v1/events', { key: test_.key });
    for (const event of testEvents.body.data as typeof shown) {
      assert.equal(event.livemode, false);
      assert.equal(event.data.object.livemode, false);
    }
  });

  test('a live key cannot reach test objects, nor a test key live ones', async () => {
    const liveIntent = await call(server, 'POST', '/v1/payment_intents', {
      key: live.key,
      body: { amount: 700, currency: 'usd' },
    });
    const testIntent = await call(server, 'POST', '/v1/payment_intents', {
      key: test_.key,
      body: { amount: 700, currency: 'usd' },
    });
    assert.equal(liveIntent.status, 200);
    assert.equal(testIntent.status, 200);
    for (const [key, id] of [
      [live.key, String(testIntent.body.id)],
      [test_.key, String(liveIntent.body.id)],
    ]) {
      const read = await call(server, 'GET', `/v1/payment_intents/${id}`, { key });
      assert.equal(read.status, 404);
      const canceled = await call(server, 'POST', `/v1/payment_intents/${id}/cancel`, {
        key,
        body: {},
      });
      assert.equal(canceled.status, 404);
      const listed = await call(server, 'GET', '/v1/payment_intents?limit=100', { key });
      assert.ok(!(listed.body.data as { id: string }[]).some((intent) => intent.id === id));
    }
  });
});
