// GET/POST /v1/routing over HTTP (Fastify's inject), on a Fastify instance built here with the
// app's validation and error mapping, so the routes are tested before app.ts registers them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { toErrorResponse } from '../../src/http/errors.ts';
import { registerRoutingRoutes } from '../../src/http/routes/routing.ts';
import { toJson } from '../../src/api-objects/json.ts';
import { RoutingStore } from '../../src/routing/store.ts';
import type { Database } from '../../src/storage/database.ts';
import { migrate, readMigrations } from '../../src/storage/migrations.ts';
import { openPglite } from '../../src/storage/pglite.ts';

const merchantA = 'mch_routinghttp01';
const merchantB = 'mch_routinghttp02';

/** The app's body validation (app.ts): no coercion, unknown fields are errors. */
async function buildTestApp(store: RoutingStore): Promise<FastifyInstance> {
  const app = Fastify();
  const ajv = new Ajv({
    removeAdditional: false,
    useDefaults: true,
    allErrors: false,
    strict: false,
    coerceTypes: false,
  });
  addFormats.default(ajv);
  app.setValidatorCompiler(({ schema }) => ajv.compile(schema));
  app.setSerializerCompiler(() => (data) => toJson(data));
  app.setErrorHandler((error, request, reply) => {
    const response = toErrorResponse(error, request.id);
    void reply.code(response.status).type('application/json').send(toJson(response.body));
  });
  // Stands in for merchantAuth.
  app.addHook('onRequest', async (request) => {
    request.merchantId = request.headers['x-merchant'] === 'b' ? merchantB : merchantA;
  });
  registerRoutingRoutes(app, { routing: store });
  await app.ready();
  return app;
}

describe('/v1/routing', () => {
  let database: Database;
  let app: FastifyInstance;

  before(async () => {
    database = await openPglite('memory://');
    await migrate(
      database,
      readMigrations().filter((migration) =>
        ['001_merchants.sql', '008_routing.sql'].includes(migration.name),
      ),
    );
    await database.query("INSERT INTO merchants (id, name) VALUES ($1, 'A'), ($2, 'B')", [
      merchantA,
      merchantB,
    ]);
    app = await buildTestApp(new RoutingStore(database));
  });
  after(async () => {
    await app.close();
    await database.close();
  });

  const get = async (merchant = 'a') =>
    app.inject({ method: 'GET', url: '/v1/routing', headers: { 'x-merchant': merchant } });
  const post = async (body: unknown, merchant = 'a') =>
    app.inject({
      method: 'POST',
      url: '/v1/routing',
      headers: { 'x-merchant': merchant },
      payload: body as object,
    });

  const valid = {
    rules: [
      {
        name: 'eu cards',
        conditions: {
          currency: ['eur'],
          amount: { min: 100, max: 500_000 },
          card_brand: ['visa', 'mastercard'],
          card_country: ['DE', 'FR'],
        },
        action: { type: 'success_rate', connectors: ['stripe', 'razorpay'] },
      },
      {
        conditions: { currency: ['inr'] },
        action: {
          type: 'volume_split',
          splits: [
            { connector: 'razorpay', weight: 70 },
            { connector: 'paytm', weight: 30 },
          ],
          fallback: false,
        },
      },
      { action: { type: 'priority', connectors: ['stripe'] } },
    ],
  };

  test('a merchant without a configuration has no rules', async () => {
    const response = await get();
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), {
      object: 'routing_config',
      rules: [],
      updated: null,
      livemode: false,
    });
  });

  test('POST replaces the configuration; GET reads it back with defaults filled in; merchants are separate', async () => {
    const posted = await post(valid);
    assert.equal(posted.statusCode, 200, posted.body);
    const body = posted.json();
    assert.equal(body.object, 'routing_config');
    assert.equal(typeof body.updated, 'number');
    assert.deepEqual(body.rules[0].action, {
      type: 'success_rate',
      connectors: ['stripe', 'razorpay'],
      min_samples: 20,
      exploration_percent: 5,
      fallback: true,
    });
    assert.deepEqual(body.rules[0].conditions.amount, { min: 100, max: 500_000 });
    assert.deepEqual(body.rules[2], {
      conditions: {},
      action: { type: 'priority', connectors: ['stripe'], fallback: true },
    });
    assert.deepEqual((await get()).json(), body);
    assert.deepEqual((await get('b')).json().rules, []);

    const cleared = await post({ rules: [] });
    assert.equal(cleared.statusCode, 200);
    assert.deepEqual((await get()).json().rules, []);
    assert.equal((await post(valid)).statusCode, 200);
  });

  type Case = { name: string; body: unknown; code: string; param?: string };
  const ruleWith = (patch: Record<string, unknown>) => ({
    rules: [{ action: { type: 'priority', connectors: ['stripe'] }, ...patch }],
  });
  const cases: Case[] = [
    { name: 'no body fields', body: {}, code: 'parameter_missing', param: 'rules' },
    {
      name: 'unknown top-level field',
      body: { rules: [], extra: true },
      code: 'parameter_unknown',
      param: 'extra',
    },
    {
      name: 'unknown condition',
      body: ruleWith({ conditions: { bin: ['4242'] } }),
      code: 'parameter_unknown',
      param: 'rules[0][conditions][bin]',
    },
    {
      name: 'weight as text',
      body: ruleWith({
        action: { type: 'volume_split', splits: [{ connector: 'stripe', weight: '5' }] },
      }),
      code: 'parameter_invalid',
      param: 'rules[0][action][splits][0][weight]',
    },
    {
      name: 'uppercase currency',
      body: ruleWith({ conditions: { currency: ['USD'] } }),
      code: 'parameter_invalid',
      param: 'rules[0][conditions][currency][0]',
    },
    {
      name: 'unknown action type',
      body: ruleWith({ action: { type: 'cheapest', connectors: ['stripe'] } }),
      code: 'parameter_invalid',
      param: 'rules[0][action][type]',
    },
    {
      name: 'unknown currency (semantic)',
      body: ruleWith({ conditions: { currency: ['xyz'] } }),
      code: 'parameter_invalid',
      param: 'rules[0][conditions][currency][0]',
    },
    {
      name: 'unknown connector (semantic)',
      body: ruleWith({ action: { type: 'priority', connectors: ['stripe', 'unknown_psp'] } }),
      code: 'parameter_invalid',
      param: 'rules[0][action][connectors][1]',
    },
    {
      name: 'amount without currency (semantic)',
      body: ruleWith({ conditions: { amount: { max: 10 } } }),
      code: 'parameter_invalid',
      param: 'rules[0][conditions][amount]',
    },
    {
      name: 'splits on a priority action (semantic)',
      body: ruleWith({
        action: {
          type: 'priority',
          connectors: ['stripe'],
          splits: [{ connector: 'stripe', weight: 1 }],
        },
      }),
      code: 'parameter_unknown',
      param: 'rules[0][action][splits]',
    },
    {
      name: 'not an ISO country (semantic)',
      body: ruleWith({ conditions: { card_country: ['UK'] } }),
      code: 'parameter_invalid',
      param: 'rules[0][conditions][card_country][0]',
    },
    {
      name: 'dead rule after a catch-all (semantic)',
      body: {
        rules: [
          { action: { type: 'priority', connectors: ['stripe'] } },
          {
            conditions: { currency: ['usd'] },
            action: { type: 'priority', connectors: ['paytm'] },
          },
        ],
      },
      code: 'parameter_invalid',
      param: 'rules[1]',
    },
  ];
  for (const item of cases) {
    test(`400 ${item.code} naming ${item.param ?? 'nothing'}: ${item.name}; the stored configuration is unchanged`, async () => {
      const before = (await get()).json();
      const response = await post(item.body);
      assert.equal(response.statusCode, 400, response.body);
      const error = response.json().error;
      assert.equal(error.type, 'invalid_request_error');
      assert.equal(error.code, item.code, error.message);
      assert.equal(error.param, item.param, error.message);
      assert.deepEqual((await get()).json(), before);
    });
  }
});
