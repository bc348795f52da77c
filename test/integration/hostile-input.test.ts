// Defects found by trying the API as an attacker would: each answered 500 before its fix. Every
// answer here must be a 4xx in the Stripe error shape naming what is wrong.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { call, startTestServer, testAdminKey, type TestServer } from '../support/server.ts';

let server: TestServer;
let key: string;
let account: string;

before(async () => {
  server = await startTestServer('pglite');
  const created = await call(server, 'POST', '/v1/admin/merchants', {
    key: testAdminKey,
    body: { name: 'Hostile input' },
  });
  key = String(created.body.secret_key);
  account = `merchant:${String(created.body.id)}:available:usd`;
  await server.context.ledger.createAccount({
    id: account,
    type: 'liability',
    currency: 'usd',
    owner: String(created.body.id),
  });
});

after(async () => {
  await server.stop();
});

const form = 'application/x-www-form-urlencoded';
const nestedJson = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

type Refusal = { status?: number; code: string; param?: string; message: RegExp };

async function assertRefused(
  method: string,
  path: string,
  options: { rawBody?: string; contentType?: string },
  expected: Refusal,
): Promise<void> {
  const response = await call(server, method, path, { key, ...options });
  const label = `${method} ${path.slice(0, 80)} ${options.rawBody?.slice(0, 80) ?? ''}`;
  assert.equal(
    response.status,
    expected.status ?? 400,
    `${label}: ${JSON.stringify(response.body)}`,
  );
  assert.equal(response.body.error?.type, 'invalid_request_error', label);
  assert.equal(response.body.error?.code, expected.code, label);
  assert.equal(response.body.error?.param, expected.param, label);
  assert.match(response.body.error?.message ?? '', expected.message, label);
  assert.equal(response.headers.get('request-id'), response.body.error?.request_id, label);
}

test('a JSON body nested deeper than the limit is a 400 naming the param, at any depth', async () => {
  for (const depth of [21, 1_000, 20_000]) {
    await assertRefused(
      'POST',
      '/v1/payment_intents',
      { rawBody: `{"amount":100,"currency":"usd","metadata":${nestedJson(depth)}}` },
      { code: 'parameter_invalid', param: 'metadata', message: /nested more than 20 levels/ },
    );
  }
  await assertRefused(
    'POST',
    '/v1/webhook_endpoints',
    { rawBody: `{"url":${'['.repeat(50_000)}${']'.repeat(50_000)}}` },
    { code: 'parameter_invalid', param: 'url', message: /nested more than 20 levels/ },
  );
});

test('a form body nested too deep is a 400 naming its field', async () => {
  await assertRefused(
    'POST',
    '/v1/payment_intents',
    { rawBody: `amount=100&currency=usd&metadata${'[a]'.repeat(10_000)}=1`, contentType: form },
    { code: 'parameter_invalid', param: 'metadata', message: /nested more than 5 levels/ },
  );
});

test('lone UTF-16 surrogates are refused at validation, naming the param', async () => {
  const surrogate = /unpaired UTF-16 surrogate/;
  const intent = '"amount":100,"currency":"usd"';
  for (const [path, rawBody, param] of [
    ['/v1/payment_intents', `{${intent},"description":"a\\ud800"}`, 'description'],
    ['/v1/payment_intents', `{${intent},"metadata":{"k":"\\udc00"}}`, 'metadata[k]'],
    ['/v1/payment_intents', `{${intent},"metadata":{"k\\ud800":"v"}}`, 'metadata'],
    [
      '/v1/webhook_endpoints',
      '{"url":"https://example.com/\\ud800","enabled_events":["*"]}',
      'url',
    ],
    [
      '/v1/webhook_endpoints',
      '{"url":"https://example.com/","enabled_events":["*"],"description":"\\udfff"}',
      'description',
    ],
  ] as const)
    await assertRefused(
      'POST',
      path,
      { rawBody },
      { code: 'parameter_invalid', param, message: surrogate },
    );
});

test('non-finite and out-of-range ledger cursors are a 400, never BigInt(Infinity)', async () => {
  const entries = `/v1/ledger/accounts/${encodeURIComponent(account)}/entries`;
  for (const [query, param] of [
    ['starting_after=1e400', 'starting_after'],
    ['ending_before=Infinity', 'ending_before'],
    ['ending_before=-Infinity', 'ending_before'],
    ['starting_after=1e30', 'starting_after'],
    ['ending_before=99999999999999999999', 'ending_before'],
  ] as const)
    await assertRefused(
      'GET',
      `${entries}?${query}`,
      {},
      { code: 'parameter_invalid', param, message: new RegExp(param) },
    );
  // The largest exact integer passes validation: as a cursor naming no entry, it is a 404 naming
  // the cursor (one way to list), not a 400.
  const largest = await call(server, 'GET', `${entries}?starting_after=9007199254740991`, { key });
  assert.equal(largest.status, 404, JSON.stringify(largest.body));
  assert.equal(largest.body.error?.code, 'resource_missing');
  assert.equal(largest.body.error?.param, 'starting_after');
  await assertRefused(
    'GET',
    `/v1/ledger/accounts/${encodeURIComponent(account)}?as_of=1e400`,
    {},
    { code: 'parameter_invalid', param: 'as_of', message: /as_of/ },
  );
});

test('a path that does not decode, or is too long, is answered in the Stripe error shape', async () => {
  await assertRefused(
    'GET',
    '/v1/payment_intents/%ED%A0%80',
    {},
    {
      code: 'url_invalid',
      message: /percent-encoding/,
    },
  );
  await assertRefused(
    'GET',
    `/v1/payment_intents/${'p'.repeat(1_001)}`,
    {},
    {
      code: 'url_invalid',
      message: /too long/,
    },
  );
});

test('webhook endpoints on non-public addresses are refused at creation (SSRF)', async () => {
  for (const [url, message] of [
    ['https://169.254.169.254/latest/meta-data', /not a public address/],
    ['https://[::ffff:a9fe:a9fe]/', /not a public address/],
    ['https://0x0a000001/hook', /not a public address/],
    ['https://[fd00::1]/hook', /not a public address/],
    // This server was started without PAYRAIL_WEBHOOK_ALLOW_LOOPBACK.
    ['http://127.0.0.1:9/hook', /PAYRAIL_WEBHOOK_ALLOW_LOOPBACK/],
    ['http://localhost:9/hook', /PAYRAIL_WEBHOOK_ALLOW_LOOPBACK/],
  ] as const)
    await assertRefused(
      'POST',
      '/v1/webhook_endpoints',
      { rawBody: JSON.stringify({ url, enabled_events: ['*'] }) },
      { code: 'url_invalid', param: 'url', message },
    );
});

/** Writes raw bytes to the server and reads its answer until it closes the connection. */
async function rawExchange(bytes: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(server.url);
  const socket = net.connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(bytes);
  await new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const text = Buffer.concat(chunks).toString('utf8');
  const [head = '', body = ''] = text.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), body };
}

test('a request the HTTP parser refuses is answered in the Stripe error shape too', async () => {
  for (const [bytes, status, code] of [
    ['NOT HTTP AT ALL\r\n\r\n', 400, 'request_malformed'],
    [
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(20_000)}\r\n\r\n`,
      431,
      'request_headers_too_large',
    ],
    [
      'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
      400,
      'request_malformed',
    ],
  ] as const) {
    const answer = await rawExchange(bytes);
    assert.equal(answer.status, status, answer.body);
    const body = JSON.parse(answer.body) as {
      error: { type: string; code: string; message: string };
    };
    assert.equal(body.error.type, 'invalid_request_error');
    assert.equal(body.error.code, code);
    assert.equal(typeof body.error.message, 'string');
  }
});

test('a huge unknown key is named shortened, not echoed whole (which cost seconds of masking)', async () => {
  const name = '1 '.repeat(100_000);
  const response = await call(server, 'POST', '/v1/payment_intents', {
    key,
    body: { amount: 100, currency: 'usd', [name]: 1 },
  });
  assert.equal(response.status, 400);
  assert.equal(response.body.error?.code, 'parameter_unknown');
  assert.equal(response.body.error?.param, `${name.slice(0, 100)}…`);
  assert.ok(JSON.stringify(response.body).length < 1_000);
});
