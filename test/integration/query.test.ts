// Bad input and merchant isolation on the query surface (raw HTTP, table-driven): search, update,
// expand and the created filters. Every refusal is a 4xx naming the param, and writes nothing
// (every table compared before and after, background tables aside); another merchant's objects
// are unknown (404) and never found by a search.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';
import { call, testAdminKey, type TestServer } from '../support/server.ts';

type Case = {
  method?: 'GET' | 'POST';
  route: string;
  body?: unknown;
  rawBody?: string;
  status?: number;
  code: string;
  param?: string;
  /** Refused by the service: the Idempotency-Key keeps the answer (the one write expected). */
  stored?: true;
};

const search = '/v1/payment_intents/search';
const form = 'application/x-www-form-urlencoded';
const manyKeys = (count: number, prefix = 'k') =>
  Object.fromEntries(Array.from({ length: count }, (_, index) => [`${prefix}${index}`, 'v']));

const cases: Case[] = [
  // Search.
  { method: 'GET', route: search, code: 'parameter_missing', param: 'query' },
  { method: 'GET', route: `${search}?query=`, code: 'parameter_invalid', param: 'query' },
  {
    method: 'GET',
    route: `${search}?query=status:open`,
    code: 'parameter_invalid',
    param: 'query',
  },
  {
    method: 'GET',
    route: `${search}?query=${encodeURIComponent("nothing:'x'")}`,
    code: 'parameter_invalid',
    param: 'query',
  },
  {
    method: 'GET',
    route: `${search}?query=${encodeURIComponent("status:'a' AND amount>1 OR amount<2")}`,
    code: 'parameter_invalid',
    param: 'query',
  },
  {
    method: 'GET',
    route: `${search}?query=${encodeURIComponent(`status:'${'x'.repeat(1_000)}'`)}`,
    code: 'parameter_invalid',
    param: 'query',
  },
  {
    method: 'GET',
    route: `${search}?query=${encodeURIComponent(Array.from({ length: 11 }, () => 'amount>1').join(' AND '))}`,
    code: 'parameter_invalid',
    param: 'query',
  },
  {
    method: 'GET',
    route: `${search}?query=amount>1&limit=0`,
    code: 'parameter_invalid',
    param: 'limit',
  },
  {
    method: 'GET',
    route: `${search}?query=amount>1&limit=101`,
    code: 'parameter_invalid',
    param: 'limit',
  },
  {
    method: 'GET',
    route: `${search}?query=amount>1&page=garbage`,
    code: 'parameter_invalid',
    param: 'page',
  },
  {
    method: 'GET',
    route: `${search}?query=amount>1&expand[]=payment_method`,
    code: 'parameter_invalid',
    param: 'expand',
  },
  {
    method: 'GET',
    route: `${search}?query=amount>1&expand[]=data.nope`,
    code: 'parameter_invalid',
    param: 'expand',
  },
  {
    method: 'GET',
    route: `${search}?query=amount>1&sort=asc`,
    code: 'parameter_unknown',
    param: 'sort',
  },
  // Created filters.
  ...[
    ['/v1/payment_intents?created[gte]=abc', 'created[gte]'],
    ['/v1/payment_intents?created[lt]=-5', 'created[lt]'],
    ['/v1/payment_intents?created[gt]=253402300800', 'created[gt]'],
    ['/v1/refunds?created[lte]=x', 'created[lte]'],
    ['/v1/events?created[gt]=1.5', 'created[gt]'],
    ['/v1/payouts?arrival_date[gte]=x', 'arrival_date[gte]'],
    ['/v1/balance_transactions?available_on[lt]=x', 'available_on[lt]'],
  ].map(([route, param]): Case => ({
    method: 'GET',
    route: route as string,
    code: 'parameter_invalid',
    param,
  })),
  {
    method: 'GET',
    route: '/v1/payment_intents?created[between]=1',
    code: 'parameter_unknown',
    param: 'created[between]',
  },
  {
    method: 'GET',
    route: '/v1/payment_intents?created=soon',
    code: 'parameter_invalid',
    param: 'created',
  },
  // Expand, on GET and in the bodies of POSTs (nothing is created or confirmed).
  {
    method: 'GET',
    route: '/v1/payment_intents/{unconfirmed}?expand[]=nope',
    code: 'parameter_invalid',
    param: 'expand',
  },
  {
    method: 'GET',
    route: '/v1/payment_intents/{unconfirmed}?expand[0]=payment_method.a.b.c.d',
    code: 'parameter_invalid',
    param: 'expand',
  },
  {
    method: 'GET',
    route: '/v1/payment_intents?expand[]=payment_method',
    code: 'parameter_invalid',
    param: 'expand',
  },
  {
    route: '/v1/payment_intents',
    body: { amount: 100, currency: 'usd', expand: ['latest_invoice'] },
    code: 'parameter_invalid',
    param: 'expand',
  },
  {
    route: '/v1/payment_intents',
    rawBody: 'amount=100&currency=usd&expand[0]=payment_method&expand[1]=nope',
    code: 'parameter_invalid',
    param: 'expand',
  },
  {
    route: '/v1/payment_intents',
    body: { amount: 100, currency: 'usd', expand: 'payment_method' },
    code: 'parameter_invalid',
    param: 'expand',
  },
  {
    route: '/v1/payment_intents/{unconfirmed}/confirm',
    body: { payment_method: 'pm_card_visa', expand: ['nope'] },
    code: 'parameter_invalid',
    param: 'expand',
  },
  {
    route: '/v1/payment_intents/{authorized}/capture',
    body: { expand: Array.from({ length: 21 }, () => 'payment_method') },
    code: 'parameter_invalid',
    param: 'expand',
  },
  // Update.
  ...(
    [
      [{ amount: 0 }, 'amount'],
      [{ amount: 'x' }, 'amount'],
      [{ amount: 1.5 }, 'amount'],
      [{ currency: 'us' }, 'currency'],
      [{ capture_method: 'later' }, 'capture_method'],
      [{ description: 'x'.repeat(1_001) }, 'description'],
      [{ metadata: manyKeys(51) }, 'metadata'],
      [{ metadata: { 'a[b]': 'x' } }, 'metadata'],
      [{ metadata: { k: 'x'.repeat(501) } }, 'metadata[k]'],
      [{ metadata: 'x' }, 'metadata'],
      [{ status: 'succeeded' }, 'status'],
      [{ expand: ['nope'] }, 'expand'],
      [{ payment_method: '' }, 'payment_method'],
    ] as const
  ).map(([body, param]): Case => ({
    route: '/v1/payment_intents/{unconfirmed}',
    body,
    code: param === 'status' ? 'parameter_unknown' : 'parameter_invalid',
    param,
  })),
  {
    route: '/v1/payment_intents/{unconfirmed}',
    rawBody: 'metadata[a][b]=1',
    code: 'parameter_invalid',
    param: 'metadata[a]',
  },
  {
    route: '/v1/payment_intents/{unconfirmed}',
    body: { currency: 'zzz' },
    code: 'unknown_currency',
    param: 'currency',
    stored: true,
  },
  {
    route: '/v1/payment_intents/{unconfirmed}',
    body: { currency: 'jpy', amount: 100_000_000_000_000 },
    code: 'amount_too_large',
    param: 'amount',
    stored: true,
  },
  {
    route: '/v1/payment_intents/{unconfirmed}',
    body: { payment_method: 'pm_nope' },
    status: 404,
    code: 'resource_missing',
    param: 'payment_method',
    stored: true,
  },
  {
    route: '/v1/payment_intents/pi_nope',
    body: { metadata: { a: 'b' } },
    status: 404,
    code: 'resource_missing',
    param: 'id',
    stored: true,
  },
  {
    route: '/v1/payment_intents/{succeeded}',
    body: { amount: 500 },
    code: 'payment_intent_unexpected_state',
    stored: true,
  },
  {
    route: '/v1/payment_intents/{authorized}',
    body: { payment_method: 'pm_card_visa', metadata: { a: 'b' } },
    code: 'payment_intent_unexpected_state',
    stored: true,
  },
  {
    route: '/v1/payment_intents/{full}',
    body: { metadata: { one_more: 'x' } },
    code: 'parameter_invalid',
    param: 'metadata',
    stored: true,
  },
];

// Written by background work whatever the requests do; every other table is compared.
const backgroundTables = new Set([
  'event_outbox',
  'event_inbox',
  'event_consumer_failures',
  'event_dead_letters',
  'webhook_deliveries',
  'webhook_delivery_attempts',
]);

describe('bad input and merchant isolation on search, update, expand and created filters', () => {
  let stack: SimulatedStack;
  let server: TestServer;
  let key: string;
  let otherKey: string;
  let tables: string[];
  const ids = new Map<string, string>();

  async function snapshot(): Promise<Map<string, string>> {
    const parts = tables.map(
      (table) =>
        `SELECT '${table}' AS name, count(*)::bigint AS rows, coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') AS digest FROM ${table} t`,
    );
    const result = await server.context.database.query<{
      name: string;
      rows: bigint;
      digest: string;
    }>(parts.join(' UNION ALL '));
    return new Map(result.rows.map((row) => [row.name, `${row.rows} rows ${row.digest}`]));
  }

  const fill = (text: string): string =>
    text.replace(/\{(\w+)\}/g, (whole, name: string) => ids.get(name) ?? whole);

  const merchant = async (name: string): Promise<string> => {
    const created = await call(server, 'POST', '/v1/admin/merchants', {
      key: testAdminKey,
      body: { name },
    });
    return String(created.body.secret_key);
  };

  before(async () => {
    stack = await startSimulatedStack();
    ({ server } = stack);
    key = await merchant('Query shop');
    otherKey = await merchant('Other shop');
    const make = async (body: Record<string, unknown>): Promise<string> => {
      const response = await call(server, 'POST', '/v1/payment_intents', {
        key,
        body: { amount: 1_000, currency: 'usd', metadata: { shop: 'first' }, ...body },
      });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return String(response.body.id);
    };
    ids.set('succeeded', await make({ payment_method: 'pm_card_visa', confirm: true }));
    ids.set(
      'authorized',
      await make({ payment_method: 'pm_card_visa', confirm: true, capture_method: 'manual' }),
    );
    ids.set('unconfirmed', await make({}));
    ids.set('full', await make({ metadata: manyKeys(50) }));
    const listed = await server.context.database.query<{ name: string }>(
      "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS name FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
    );
    tables = listed.rows
      .map((row) => row.name)
      .filter((name) => !backgroundTables.has(name.replace(/^public\./, '')));
    for (const table of ['payment_intents', 'payment_attempts', 'events', 'idempotency_keys'])
      assert.ok(tables.includes(`public.${table}`), `${table} is compared`);
  });
  after(() => stack.stop());

  for (const testCase of cases) {
    const method = testCase.method ?? 'POST';
    const label = `${method} ${testCase.route.slice(0, 80)} ${JSON.stringify(testCase.body ?? testCase.rawBody ?? '').slice(0, 80)}`;
    test(label, async () => {
      const previous = await snapshot();
      const response = await call(server, method, fill(testCase.route), {
        key,
        body: testCase.body,
        rawBody: testCase.rawBody,
        contentType: testCase.rawBody === undefined ? undefined : form,
        idempotencyKey: method === 'POST' ? randomUUID() : undefined,
      });
      const error = response.body.error;
      assert.equal(response.status, testCase.status ?? 400, JSON.stringify(response.body));
      assert.equal(error?.code, testCase.code, error?.message);
      assert.equal(error?.param, testCase.param, error?.message);
      const current = await snapshot();
      const changed = [...current.keys()].filter(
        (name) => current.get(name) !== previous.get(name),
      );
      assert.deepEqual(
        changed,
        testCase.stored === true ? ['public.idempotency_keys'] : [],
        'tables written by a refused request',
      );
    });
  }

  test("another merchant's intent is unknown to retrieve, update and expand, and never found by search", async () => {
    const id = ids.get('unconfirmed') as string;
    const previous = await snapshot();
    for (const [method, route, body] of [
      ['GET', `/v1/payment_intents/${id}`, undefined],
      ['GET', `/v1/payment_intents/${id}?expand[]=payment_method`, undefined],
      ['POST', `/v1/payment_intents/${id}`, { metadata: { taken: 'yes' } }],
      ['POST', `/v1/payment_intents/${id}`, { amount: 1 }],
    ] as const) {
      const response = await call(server, method, route, { key: otherKey, body });
      assert.equal(response.status, 404, `${method} ${route}`);
      assert.equal(response.body.error?.code, 'resource_missing');
    }
    assert.deepEqual(await snapshot(), previous);
    // The other merchant's searches see none of this merchant's intents, whatever the query.
    for (const query of [
      "metadata['shop']:'first'",
      'amount>0',
      "-status:'nothing'",
      "status:'succeeded' OR status:'requires_payment_method' OR status:'requires_capture'",
      `created>0`,
    ]) {
      const mine = await call(server, 'GET', `${search}?query=${encodeURIComponent(query)}`, {
        key,
      });
      assert.ok((mine.body.data as unknown[]).length > 0, query);
      const theirs = await call(
        server,
        'GET',
        `${search}?query=${encodeURIComponent(query)}&expand[]=total_count`,
        { key: otherKey },
      );
      assert.equal(theirs.status, 200, JSON.stringify(theirs.body));
      assert.deepEqual(theirs.body.data, [], query);
      assert.equal(theirs.body.total_count, 0);
    }
    // A page token of this merchant's search, given by the other merchant, still finds only theirs.
    const paged = await call(server, 'GET', `${search}?query=amount>0&limit=1`, { key });
    assert.equal(paged.body.has_more, true);
    const borrowed = await call(
      server,
      'GET',
      `${search}?query=amount>0&limit=1&page=${paged.body.next_page}`,
      { key: otherKey },
    );
    assert.equal(borrowed.status, 200);
    assert.deepEqual(borrowed.body.data, []);
  });

  test('a stored payment method of another merchant can be neither set by update nor expanded', async () => {
    const method = await call(server, 'POST', '/v1/payment_methods', {
      key,
      body: {
        type: 'card',
        card: { number: '4242424242424242', exp_month: 12, exp_year: 2031, cvc: '123' },
      },
    });
    assert.equal(method.status, 200, JSON.stringify(method.body));
    const theirs = await call(server, 'POST', '/v1/payment_intents', {
      key: otherKey,
      body: { amount: 100, currency: 'usd' },
    });
    const update = await call(server, 'POST', `/v1/payment_intents/${theirs.body.id}`, {
      key: otherKey,
      body: { payment_method: method.body.id, expand: ['payment_method'] },
    });
    assert.equal(update.status, 404);
    assert.equal(update.body.error?.param, 'payment_method');
  });
});
