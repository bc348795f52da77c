// A publishable key can do nothing but retrieve and confirm an intent with its client secret:
// table-driven over every route the server registered (read from Fastify, as the fuzz test reads
// them), so a route added later is covered without editing this file. And the Stripe-Account
// header (Stripe Connect) is refused on every route that takes a key. Nothing is written by any
// refused request.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { pageRoutes, registeredRoutes } from '../fuzz/fuzz.ts';
import { call, startTestServer, testAdminKey, type TestServer } from '../support/server.ts';

/** The only routes a publishable key reaches (with the intent's client secret). */
const publishableRoutes = new Set([
  'GET /v1/payment_intents/{id}',
  'POST /v1/payment_intents/{id}/confirm',
]);

/** Served without a key: health, metrics, the API document, and PSP webhooks (signed). */
const keyless = [
  /^\/(health|ready|live|metrics|openapi\.json|docs)/,
  /^\/v1\/psp_webhooks\//,
  // A card holder's browser back from a 3-D Secure challenge: no key.
  /^\/v1\/three_d_secure\//,
  // The pages for people: a dashboard session or a buyer's browser, never an API key.
  ...pageRoutes,
];

/** Operator routes: the admin key only (a merchant's key of either kind is not one). */
function isOperatorRoute(path: string): boolean {
  return path.startsWith('/v1/admin/') || path.startsWith('/v1/reconciliation/');
}

describe('publishable keys on every route; the Stripe-Account header', () => {
  let server: TestServer;
  let secretKey: string;
  let publishableKey: string;
  let intentId: string;
  let routes: string[];

  /** Rows per table, to see that a refused request wrote nothing. */
  async function rowCounts(): Promise<string> {
    const tables = await server.context.database.query<{ name: string }>(
      "SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    );
    const counts = await server.context.database.query<{ name: string; rows: bigint }>(
      tables.rows
        .map((row) => `SELECT '${row.name}' AS name, count(*) AS rows FROM ${row.name}`)
        .join(' UNION ALL '),
    );
    return JSON.stringify(
      counts.rows
        .filter((row) => !/outbox|inbox|deliver/.test(row.name))
        .map((row) => [row.name, String(row.rows)]),
    );
  }

  /** The route with its path parameters filled: a real intent of the merchant for `{id}`. */
  function concrete(path: string): string {
    return path
      .replace('{id}', intentId)
      .replace(/\{currency\}/g, 'usd')
      .replace(/\{connector\}/g, 'stripe')
      .replace(/\{[a-z_]+\}/g, 'x_1');
  }

  function send(route: string, headers: { key: string; stripeAccount?: string }) {
    const [method = 'GET', path = '/'] = route.split(' ');
    const body = method === 'GET' || method === 'DELETE' ? undefined : JSON.stringify({});
    return fetch(`${server.url}${concrete(path)}`, {
      method,
      headers: {
        authorization: `Bearer ${headers.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(method === 'POST' ? { 'idempotency-key': randomUUID() } : {}),
        ...(headers.stripeAccount === undefined ? {} : { 'stripe-account': headers.stripeAccount }),
      },
      body,
    }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as {
        error?: { code: string; type: string; message: string; param?: string };
      },
    }));
  }

  before(async () => {
    server = await startTestServer();
    const created = await call(server, 'POST', '/v1/admin/merchants', {
      key: testAdminKey,
      body: { name: 'Key shop' },
    });
    assert.equal(created.status, 201);
    secretKey = String(created.body.secret_key);
    publishableKey = String(created.body.publishable_key);
    const intent = await call(server, 'POST', '/v1/payment_intents', {
      key: secretKey,
      body: { amount: 1_000, currency: 'usd' },
    });
    intentId = String(intent.body.id);
    routes = registeredRoutes(server.app).filter(
      (route) => !keyless.some((pattern) => pattern.test(route.split(' ')[1] ?? '')),
    );
    assert.ok(routes.length > 40, `routes read from the server: ${routes.length}`);
    for (const route of publishableRoutes)
      assert.ok(routes.includes(route), `${route} is registered`);
  });
  after(() => server.stop());

  test('a publishable key on any other route: 403 secret_key_required, or 401 on operator routes', async () => {
    const before = await rowCounts();
    for (const route of routes) {
      if (publishableRoutes.has(route)) continue;
      const answer = await send(route, { key: publishableKey });
      const path = route.split(' ')[1] ?? '';
      if (isOperatorRoute(path)) {
        assert.equal(answer.status, 401, `${route}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error?.code, 'admin_key_invalid', route);
        continue;
      }
      assert.equal(answer.status, 403, `${route}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error?.code, 'secret_key_required', route);
      assert.equal(answer.body.error?.type, 'invalid_request_error', route);
      assert.match(
        answer.body.error?.message ?? '',
        /cannot be made with a publishable API key/,
        route,
      );
    }
    assert.equal(await rowCounts(), before, 'nothing written');
  });

  test('on its two routes, a publishable key without the client secret is refused naming it', async () => {
    const before = await rowCounts();
    for (const route of publishableRoutes) {
      const answer = await send(route, { key: publishableKey });
      assert.equal(answer.status, 400, `${route}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error?.code, 'parameter_missing', route);
      assert.equal(answer.body.error?.param, 'client_secret', route);
    }
    assert.equal(await rowCounts(), before, 'nothing written');
  });

  test('the Stripe-Account header is refused on every route that takes a key, whatever the key', async () => {
    const before = await rowCounts();
    for (const route of routes) {
      const path = route.split(' ')[1] ?? '';
      const key = isOperatorRoute(path) ? testAdminKey : secretKey;
      const answer = await send(route, { key, stripeAccount: 'acct_1Connected' });
      assert.equal(answer.status, 400, `${route}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error?.code, 'stripe_account_unsupported', route);
      assert.match(answer.body.error?.message ?? '', /Stripe-Account/, route);
    }
    assert.equal(await rowCounts(), before, 'nothing written');
  });

  test('a key of neither kind, or a publishable key named as a secret one, is no key', async () => {
    for (const key of [
      `sk_${publishableKey.slice(3)}`,
      `pk_${secretKey.slice(3)}`,
      publishableKey.replace('pk_test_', 'pk_live_'),
      'rk_test_abc',
    ]) {
      const answer = await send(`GET /v1/payment_intents/${intentId}`, { key });
      assert.equal(answer.status, 401, key);
      assert.equal(answer.body.error?.code, 'api_key_invalid', key);
    }
  });
});

describe('publishable keys: live mode, and rolling under concurrency (PostgreSQL)', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer('postgres');
  });
  after(() => server.stop());

  test("a live merchant's publishable key is pk_live_, its answers live, test tokens unknown", async () => {
    const created = await call(server, 'POST', '/v1/admin/merchants', {
      key: testAdminKey,
      body: { name: 'Live browser shop', livemode: true },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const publishableKey = String(created.body.publishable_key);
    assert.match(publishableKey, /^pk_live_/);
    const secretKey = String(created.body.secret_key);
    const intent = await call(server, 'POST', '/v1/payment_intents', {
      key: secretKey,
      body: { amount: 1_000, currency: 'usd' },
    });
    assert.equal(intent.status, 200, JSON.stringify(intent.body));
    const seen = await call(
      server,
      'GET',
      `/v1/payment_intents/${String(intent.body.id)}?client_secret=${String(intent.body.client_secret)}`,
      { key: publishableKey },
    );
    assert.equal(seen.status, 200, JSON.stringify(seen.body));
    assert.equal(seen.body.livemode, true);
    const token = await call(server, 'POST', '/v1/payment_intents', {
      key: secretKey,
      body: {
        amount: 1_000,
        currency: 'usd',
        payment_method_data: { type: 'card', card: { token: 'tok_visa' } },
      },
    });
    assert.equal(token.status, 404, JSON.stringify(token.body));
    assert.equal(token.body.error?.param, 'payment_method_data[card][token]');
  });

  test('concurrent rolls leave exactly one working publishable key', async () => {
    const created = await call(server, 'POST', '/v1/admin/merchants', {
      key: testAdminKey,
      body: { name: 'Rolling shop' },
    });
    const secretKey = String(created.body.secret_key);
    const rolls = await Promise.all(
      Array.from({ length: 8 }, () =>
        call(server, 'POST', '/v1/publishable_keys', { key: secretKey, body: {} }),
      ),
    );
    for (const roll of rolls) assert.equal(roll.status, 200, JSON.stringify(roll.body));
    const keys = [
      String(created.body.publishable_key),
      ...rolls.map((roll) => String(roll.body.publishable_key)),
    ];
    assert.equal(new Set(keys).size, keys.length);
    const intent = await call(server, 'POST', '/v1/payment_intents', {
      key: secretKey,
      body: { amount: 1_000, currency: 'usd' },
    });
    const path = `/v1/payment_intents/${String(intent.body.id)}?client_secret=${String(intent.body.client_secret)}`;
    const working: string[] = [];
    for (const key of keys)
      if ((await call(server, 'GET', path, { key })).status === 200) working.push(key);
    assert.equal(working.length, 1, 'one publishable key per merchant');
    const active = await server.context.database.query<{ count: bigint }>(
      "SELECT count(*) AS count FROM api_keys WHERE merchant_id = $1 AND kind = 'publishable' AND revoked_at IS NULL",
      [String(created.body.id)],
    );
    assert.equal(Number(active.rows[0]?.count), 1);
  });
});
