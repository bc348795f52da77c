// Test clocks over HTTP: an operator moves one merchant's time (or the system's) forward, and
// later work happens without sleeping: an authorization never captured is voided after 7 days of
// that merchant's time, an idempotency key expires after 72 hours of it; other merchants keep
// theirs. Bad moves get clear 4xx answers; without PAYRAIL_TEST_CLOCKS the routes do not exist.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';
import { call, startTestServer, testAdminKey, type TestServer } from '../support/server.ts';

const day = 24 * 3_600;

describe('test clocks over HTTP', () => {
  let server: TestServer;
  let stack: SimulatedStack;
  const shops: { id: string; key: string }[] = [];

  async function merchant(name: string) {
    const created = await call(server, 'POST', '/v1/admin/merchants', {
      key: testAdminKey,
      body: { name },
    });
    return { id: String(created.body.id), key: String(created.body.secret_key) };
  }
  async function authorize(key: string, idempotencyKey?: string, amount = 1_500) {
    const paid = await call(server, 'POST', '/v1/payment_intents', {
      key,
      idempotencyKey,
      body: {
        amount,
        currency: 'usd',
        confirm: true,
        connector: 'stripe',
        payment_method: 'pm_card_visa',
        capture_method: 'manual',
      },
    });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.equal(paid.body.status, 'requires_capture');
    return paid.body;
  }
  async function status(key: string, id: string) {
    return (await call(server, 'GET', `/v1/payment_intents/${id}`, { key })).body.status;
  }
  function advance(body: Record<string, unknown>) {
    return call(server, 'POST', '/v1/admin/test_clocks/advance', { key: testAdminKey, body });
  }

  before(async () => {
    stack = await startSimulatedStack();
    ({ server } = stack);
    shops.push(await merchant('Ahead'), await merchant('On time'));
  });
  after(() => stack.stop());

  test("an authorization never captured is voided after 7 days of its merchant's time", async () => {
    const [ahead, onTime] = shops as [{ id: string; key: string }, { id: string; key: string }];
    const old = await authorize(ahead.key);
    const other = await authorize(onTime.key);
    const pass = () => server.runtime.statusSync.runOnce();
    assert.equal((await pass()).voided, 0, 'not old enough');

    const moved = await advance({ merchant: ahead.id, seconds: 7 * day + 1 });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body.object, 'test_clock');
    assert.equal(moved.body.merchant, ahead.id);
    assert.ok(Number(moved.body.offset_ms) >= (7 * day + 1) * 1000);
    // Authorized after the move: its 7 days count from the merchant's new time.
    const fresh = await authorize(ahead.key);
    assert.ok(
      Number(fresh.created) >= Number(moved.body.now),
      'created on the merchant clock, not on real time',
    );
    const events = await call(server, 'GET', '/v1/events?limit=1', { key: ahead.key });
    const [latest] = events.body.data as { created: number; data: { object: { id: string } } }[];
    assert.equal(latest?.data.object.id, fresh.id);
    assert.ok(Number(latest?.created) >= Number(moved.body.now), 'its event too');

    assert.equal((await pass()).voided, 1);
    assert.equal(await status(ahead.key, String(old.id)), 'canceled');
    const voided = (
      await call(server, 'GET', `/v1/payment_intents/${String(old.id)}`, {
        key: ahead.key,
      })
    ).body;
    assert.equal(voided.cancellation_reason, 'abandoned');
    assert.equal(await status(ahead.key, String(fresh.id)), 'requires_capture');
    assert.equal(await status(onTime.key, String(other.id)), 'requires_capture', 'its own clock');
  });

  test("an idempotency key expires after 72 hours of its merchant's time", async () => {
    const shop = await merchant('Keys');
    const first = await authorize(shop.key, 'order-1', 1_000);
    const replayed = await call(server, 'POST', '/v1/payment_intents', {
      key: shop.key,
      idempotencyKey: 'order-1',
      body: { amount: 2_000, currency: 'usd' },
    });
    assert.equal(replayed.status, 400, 'the same key with other parameters');
    assert.equal(replayed.body.error?.type, 'idempotency_error');

    assert.equal((await advance({ merchant: shop.id, seconds: 71 * 3_600 })).status, 200);
    assert.equal(await server.runtime.idempotency.deleteExpired(), 0, 'kept for 72 hours');
    assert.equal((await advance({ merchant: shop.id, seconds: 3_600 + 1 })).status, 200);
    assert.equal(await server.runtime.idempotency.deleteExpired(), 1);

    const reused = await call(server, 'POST', '/v1/payment_intents', {
      key: shop.key,
      idempotencyKey: 'order-1',
      body: { amount: 2_000, currency: 'usd' },
    });
    assert.equal(reused.status, 200, JSON.stringify(reused.body));
    assert.notEqual(reused.body.id, first.id, 'a new request under the expired key');
  });

  test('the system clock moves every merchant; show lists the clocks ahead of it', async () => {
    const before = await call(server, 'GET', '/v1/admin/test_clocks', { key: testAdminKey });
    assert.equal(before.status, 200);
    const systemBefore = before.body.system as { now: number; merchant: null };
    assert.equal(systemBefore.merchant, null);
    const moved = await advance({ seconds: 3_600 });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.merchant, null);
    assert.ok(Number(moved.body.now) >= systemBefore.now + 3_600);
    const shown = await call(server, 'GET', '/v1/admin/test_clocks', { key: testAdminKey });
    const merchants = shown.body.merchants as { merchant: string; now: number }[];
    const ahead = merchants.map((clock) => clock.merchant);
    assert.ok(ahead.includes(String(shops[0]?.id)), 'a merchant moved earlier');
    assert.ok(!ahead.includes(String(shops[1]?.id)), 'one that follows the system');
    const created = await call(server, 'POST', '/v1/payment_intents', {
      key: shops[1]?.key,
      body: { amount: 500, currency: 'usd' },
    });
    assert.ok(Number(created.body.created) >= Number(moved.body.now), 'follows the system');
  });

  test('no live merchant while the system clock runs ahead of real time', async () => {
    const ahead = await call(server, 'GET', '/v1/admin/test_clocks', { key: testAdminKey });
    assert.ok(Number((ahead.body.system as { offset_ms: number }).offset_ms) > 0, 'moved above');
    const refused = await call(server, 'POST', '/v1/admin/merchants', {
      key: testAdminKey,
      body: { name: 'Live shop', livemode: true },
    });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.error?.param, 'livemode');
    const listed = await call(server, 'GET', '/v1/admin/merchants?limit=100', {
      key: testAdminKey,
    });
    assert.ok(
      (listed.body.data as { name: string }[]).every((merchant) => merchant.name !== 'Live shop'),
      'nothing created',
    );
  });

  test('bad moves are refused with a 4xx naming the parameter; nothing moves', async () => {
    const before = await call(server, 'GET', '/v1/admin/test_clocks', { key: testAdminKey });
    const refusals: [string, Record<string, unknown>, number, string, string][] = [
      ['advance', { seconds: 0 }, 400, 'parameter_invalid', 'seconds'],
      ['advance', { seconds: 1.5 }, 400, 'parameter_invalid', 'seconds'],
      ['advance', {}, 400, 'parameter_missing', 'seconds'],
      ['advance', { seconds: 10, merchant: 'acct_missing' }, 404, 'resource_missing', 'merchant'],
      ['advance', { seconds: 10, extra: 1 }, 400, 'parameter_unknown', 'extra'],
      ['set', { to: 'tomorrow' }, 400, 'parameter_invalid', 'to'],
      ['set', { to: '2001-01-01T00:00:00Z' }, 400, 'parameter_invalid', 'to'],
      ['set', { to: '2999-01-01T00:00:00Z' }, 400, 'parameter_invalid', 'to'],
    ];
    for (const [action, body, statusCode, code, param] of refusals) {
      const refused = await call(server, 'POST', `/v1/admin/test_clocks/${action}`, {
        key: testAdminKey,
        body,
      });
      const label = `${action} ${JSON.stringify(body)}: ${JSON.stringify(refused.body)}`;
      assert.equal(refused.status, statusCode, label);
      assert.equal(refused.body.error?.code, code, label);
      assert.equal(refused.body.error?.param, param, label);
    }
    const backwards = await call(server, 'POST', '/v1/admin/test_clocks/set', {
      key: testAdminKey,
      body: { to: '2001-01-01T00:00:00Z' },
    });
    assert.match(String(backwards.body.error?.message), /only moves forward/);
    const merchantOnly = await call(server, 'POST', '/v1/admin/test_clocks/advance', {
      key: shops[0]?.key,
      body: { seconds: 10 },
    });
    assert.equal(merchantOnly.status, 401, 'an operator route');
    const after = await call(server, 'GET', '/v1/admin/test_clocks', { key: testAdminKey });
    assert.equal(
      (after.body.system as { offset_ms: number }).offset_ms,
      (before.body.system as { offset_ms: number }).offset_ms,
    );
  });

  test('the routes are in the OpenAPI document', async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    for (const path of ['', '/advance', '/set', '/reset'])
      assert.ok(document.paths[`/v1/admin/test_clocks${path}`], path);
  });
});

test('without PAYRAIL_TEST_CLOCKS the test clock routes do not exist', async () => {
  const server = await startTestServer('pglite', { PAYRAIL_TEST_CLOCKS: 'false' });
  try {
    const answer = await call(server, 'POST', '/v1/admin/test_clocks/advance', {
      key: testAdminKey,
      body: { seconds: 10 },
    });
    assert.equal(answer.status, 404);
    assert.equal(server.runtime.testClocks, undefined);
  } finally {
    await server.stop();
  }
});
