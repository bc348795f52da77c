// The HTTP foundation over a real server: health, auth, merchants, ledger reads, isolation,
// error shapes and input validation.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, startTestServer, testAdminKey, type TestServer } from '../support/server.ts';
import { move } from '../support/ledger-fixtures.ts';

describe('HTTP foundation', () => {
  let server: TestServer;
  let merchantA: { id: string; key: string };
  let merchantB: { id: string; key: string };

  async function createMerchant(name: string): Promise<{ id: string; key: string }> {
    const response = await call(server, 'POST', '/v1/admin/merchants', {
      key: testAdminKey,
      body: { name },
    });
    assert.equal(response.status, 201);
    return { id: String(response.body.id), key: String(response.body.secret_key) };
  }

  before(async () => {
    server = await startTestServer();
    merchantA = await createMerchant('Shop A');
    merchantB = await createMerchant('Shop B');
    const ledger = server.context.ledger;
    await ledger.createAccounts([
      { id: 'bank:usd', type: 'asset', currency: 'usd', owner: 'platform' },
      {
        id: `merchant:${merchantA.id}:available:usd`,
        type: 'liability',
        currency: 'usd',
        owner: merchantA.id,
        limit: 'debits_must_not_exceed_credits',
      },
      {
        id: `merchant:${merchantB.id}:available:usd`,
        type: 'liability',
        currency: 'usd',
        owner: merchantB.id,
        limit: 'debits_must_not_exceed_credits',
      },
    ]);
    for (let index = 0; index < 3; index++) {
      await ledger.transfer({
        kind: 'posted',
        id: `fund-a-${index}`,
        legs: move(
          'bank:usd',
          `merchant:${merchantA.id}:available:usd`,
          1_000n * BigInt(index + 1),
        ),
      });
    }
    await ledger.transfer({
      kind: 'pending',
      id: 'hold-a',
      legs: move(
        `merchant:${merchantA.id}:available:usd`,
        `merchant:${merchantB.id}:available:usd`,
        500n,
      ),
    });
  });
  after(() => server.stop());

  test('healthz and readyz', async () => {
    assert.deepEqual((await call(server, 'GET', '/healthz')).body, { status: 'ok' });
    const ready = await call(server, 'GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'ready');
  });

  test('the OpenAPI document and the docs page are served', async () => {
    const openapi = await call(server, 'GET', '/openapi.json');
    assert.equal(openapi.status, 200);
    const paths = openapi.body.paths as Record<string, unknown>;
    for (const path of [
      '/v1/admin/merchants',
      '/v1/ledger/accounts',
      '/v1/ledger/accounts/{id}/entries',
      '/v1/admin/ledger/verify',
    ]) {
      assert.ok(path in paths, `${path} documented`);
    }
    const docs = await fetch(`${server.url}/docs/`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger/i);
  });

  test('merchant routes need a valid secret key; admin routes need the admin key', async () => {
    const missing = await call(server, 'GET', '/v1/ledger/accounts');
    assert.equal(missing.status, 401);
    assert.equal(missing.body.error?.code, 'api_key_missing');
    const wrong = await call(server, 'GET', '/v1/ledger/accounts', { key: 'sk_test_nope' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error?.code, 'api_key_invalid');
    const merchantOnAdmin = await call(server, 'GET', '/v1/admin/merchants', {
      key: merchantA.key,
    });
    assert.equal(merchantOnAdmin.status, 401);
    const adminOnMerchant = await call(server, 'GET', '/v1/ledger/accounts', { key: testAdminKey });
    assert.equal(adminOnMerchant.status, 401);
  });

  test('a revoked key stops working at once, although valid keys are cached', async () => {
    const created = await createMerchant('Revoking shop');
    assert.equal(
      (await call(server, 'GET', '/v1/ledger/accounts', { key: created.key })).status,
      200,
    );
    const fresh = await server.context.merchants.issueKey(created.id, { revokeOthers: true });
    assert.equal(
      (await call(server, 'GET', '/v1/ledger/accounts', { key: created.key })).status,
      401,
    );
    assert.equal((await call(server, 'GET', '/v1/ledger/accounts', { key: fresh })).status, 200);
  });

  test('secret keys are stored hashed, never in plaintext', async () => {
    const rows = await server.context.database.query<{ key_hash: string }>(
      'SELECT key_hash FROM api_keys',
    );
    for (const row of rows.rows) {
      assert.notEqual(row.key_hash, merchantA.key);
      assert.match(row.key_hash, /^[0-9a-f]{64}$/);
    }
    assert.ok(!server.logs.join('').includes(merchantA.key), 'secret key must not be logged');
  });

  test('a merchant lists its own accounts with posted, pending and available balances', async () => {
    const response = await call(server, 'GET', '/v1/ledger/accounts', { key: merchantA.key });
    assert.equal(response.status, 200);
    assert.equal(response.body.object, 'list');
    const data = response.body.data as {
      id: string;
      balance: { posted: number; pending: number; available: number };
    }[];
    assert.equal(data.length, 1);
    assert.deepEqual(data[0]?.balance, { posted: 6_000, pending: -500, available: 5_500 });
  });

  test('entries page newest first with cursors', async () => {
    const accountId = `merchant:${merchantA.id}:available:usd`;
    const first = await call(server, 'GET', `/v1/ledger/accounts/${accountId}/entries?limit=2`, {
      key: merchantA.key,
    });
    assert.equal(first.status, 200);
    const entries = first.body.data as { sequence: number; amount: number; layer: string }[];
    assert.deepEqual(
      entries.map((entry) => entry.sequence),
      [4, 3],
    );
    assert.equal(entries[0]?.layer, 'pending');
    assert.equal(first.body.has_more, true);
    const second = await call(
      server,
      'GET',
      `/v1/ledger/accounts/${accountId}/entries?limit=2&starting_after=3`,
      { key: merchantA.key },
    );
    assert.deepEqual(
      (second.body.data as { sequence: number }[]).map((entry) => entry.sequence),
      [2, 1],
    );
    assert.equal(second.body.has_more, false);
  });

  test("a merchant gets 404 for another merchant's account, exactly as for a missing one", async () => {
    const other = `merchant:${merchantB.id}:available:usd`;
    for (const path of [
      `/v1/ledger/accounts/${other}`,
      `/v1/ledger/accounts/${other}/entries`,
      '/v1/ledger/accounts/bank:usd',
    ]) {
      const response = await call(server, 'GET', path, { key: merchantA.key });
      assert.equal(response.status, 404, path);
      assert.equal(response.body.error?.code, 'resource_missing');
    }
    const missing = await call(server, 'GET', '/v1/ledger/accounts/nothing-here', {
      key: merchantA.key,
    });
    assert.equal(missing.status, 404);
  });

  test('balance as of a time', async () => {
    const accountId = `merchant:${merchantA.id}:available:usd`;
    const past = await call(server, 'GET', `/v1/ledger/accounts/${accountId}?as_of=0`, {
      key: merchantA.key,
    });
    assert.deepEqual(past.body.balance, { posted: 0, pending: 0, available: 0 });
    const now = await call(
      server,
      'GET',
      `/v1/ledger/accounts/${accountId}?as_of=${Math.floor(Date.now() / 1000) + 5}`,
      { key: merchantA.key },
    );
    assert.deepEqual(now.body.balance, { posted: 6_000, pending: -500, available: 5_500 });
  });

  test('operators list all accounts and run verify', async () => {
    const accounts = await call(server, 'GET', '/v1/admin/ledger/accounts?limit=100', {
      key: testAdminKey,
    });
    assert.equal((accounts.body.data as unknown[]).length, 3);
    const verify = await call(server, 'POST', '/v1/admin/ledger/verify', { key: testAdminKey });
    assert.equal(verify.status, 200);
    assert.equal(verify.body.ok, true);
    assert.equal(verify.body.transactions, 4);
  });

  test('errors carry the request id that the response header and the log carry', async () => {
    const response = await call(server, 'GET', '/v1/nowhere', { key: merchantA.key });
    assert.equal(response.status, 404);
    assert.equal(response.body.error?.code, 'route_not_found');
    const requestId = response.headers.get('request-id');
    assert.match(requestId ?? '', /^req_/);
    assert.equal(response.body.error?.request_id, requestId);
    assert.ok(server.logs.some((line) => line.includes(requestId ?? '-')));
  });

  describe('bad input is refused with the param named, and nothing is written', () => {
    const cases: {
      name: string;
      body?: unknown;
      rawBody?: string;
      contentType?: string;
      status: number;
      code: string;
      param?: string;
    }[] = [
      { name: 'missing name', body: {}, status: 400, code: 'parameter_missing', param: 'name' },
      {
        name: 'unknown field',
        body: { name: 'x', colour: 'red' },
        status: 400,
        code: 'parameter_unknown',
        param: 'colour',
      },
      {
        name: 'wrong type',
        body: { name: 12 },
        status: 400,
        code: 'parameter_invalid',
        param: 'name',
      },
      {
        name: 'empty name',
        body: { name: '' },
        status: 400,
        code: 'parameter_invalid',
        param: 'name',
      },
      {
        name: 'name too long',
        body: { name: 'n'.repeat(201) },
        status: 400,
        code: 'parameter_invalid',
        param: 'name',
      },
      {
        name: 'bad email',
        body: { name: 'x', email: 'not-an-email' },
        status: 400,
        code: 'parameter_invalid',
        param: 'email',
      },
      {
        name: 'metadata value not a string',
        body: { name: 'x', metadata: { a: 1 } },
        status: 400,
        code: 'parameter_invalid',
        param: 'metadata[a]',
      },
      { name: 'malformed JSON', rawBody: '{"name":', status: 400, code: 'body_invalid' },
      {
        name: 'wrong content type',
        rawBody: 'name=x',
        contentType: 'text/plain',
        status: 415,
        code: 'content_type_unsupported',
      },
      {
        name: 'oversized body',
        body: { name: 'x', metadata: { a: 'b'.repeat(300_000) } },
        status: 413,
        code: 'body_too_large',
      },
    ];
    for (const testCase of cases) {
      test(testCase.name, async () => {
        const before = await server.context.database.query<{ count: bigint }>(
          'SELECT count(*)::bigint AS count FROM merchants',
        );
        const response = await call(server, 'POST', '/v1/admin/merchants', {
          key: testAdminKey,
          body: testCase.body,
          rawBody: testCase.rawBody,
          contentType: testCase.contentType,
        });
        assert.equal(response.status, testCase.status, JSON.stringify(response.body));
        assert.equal(response.body.error?.code, testCase.code);
        if (testCase.param !== undefined) assert.equal(response.body.error?.param, testCase.param);
        assert.ok((response.body.error?.message ?? '').length > 10);
        const afterCount = await server.context.database.query<{ count: bigint }>(
          'SELECT count(*)::bigint AS count FROM merchants',
        );
        assert.equal(afterCount.rows[0]?.count, before.rows[0]?.count);
      });
    }

    test('query parameters out of range are named too', async () => {
      const response = await call(server, 'GET', '/v1/ledger/accounts?limit=1000', {
        key: merchantA.key,
      });
      assert.equal(response.status, 400);
      assert.equal(response.body.error?.param, 'limit');
      const unknown = await call(server, 'GET', '/v1/ledger/accounts?colour=red', {
        key: merchantA.key,
      });
      assert.equal(unknown.body.error?.code, 'parameter_unknown');
      assert.equal(unknown.body.error?.param, 'colour');
    });
  });
});
