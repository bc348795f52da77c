// API rate limits over HTTP (src/http/rate-limit.ts): the RateLimit header fields on every
// merchant answer, test and live defaults, the operator's overrides, the in-flight limit, the
// per-address limit of the PSP webhooks, two `payrail serve` processes sharing one Redis count,
// and a Redis killed mid-run (the in-memory insurance takes over). The limiters read the real
// time (rate-limiter-flexible takes no clock): bursts here last milliseconds, well inside a
// one-second window that opens at its first request, and nothing sleeps.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import { createClient } from 'redis';
import { createPostgresDatabase } from '../support/databases.ts';
import { createMerchantKey } from '../support/merchants.ts';
import { freePort } from '../support/ports.ts';
import { startPayrail, type RunningProcess } from '../support/processes.ts';
import { call, startTestServer, testAdminKey, type TestServer } from '../support/server.ts';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Polls `check` every 20 ms until it holds (a bounded wait on something observable). */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function burst(servers: readonly { url: string }[], key: string, count: number) {
  return Promise.all(
    Array.from({ length: count }, (_, index) =>
      call(servers[index % servers.length] as { url: string }, 'GET', '/v1/customers', { key }),
    ),
  );
}

async function deleteKeys(prefix: string): Promise<void> {
  const client = createClient({ url: redisUrl });
  await client.connect();
  try {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(keys);
  } finally {
    await client.close();
  }
}

describe('rate limits on one server', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('pglite', {
      PAYRAIL_RATE_LIMITS: 'on',
      PAYRAIL_RATE_LIMIT_IP_PER_SECOND: '3',
    });
  });
  after(async () => server.stop());

  test('every merchant answer carries the RateLimit fields: 25/s in test mode, 100/s live', async () => {
    const test = await createMerchantKey(server, 'Test shop');
    const answer = await call(server, 'GET', '/v1/customers', { key: test.key });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('ratelimit-limit'), '25');
    assert.equal(answer.headers.get('ratelimit-remaining'), '24');
    assert.equal(answer.headers.get('ratelimit-reset'), '1');
    assert.equal(answer.headers.get('ratelimit-policy'), '25;w=1');
    const created = await call(server, 'POST', '/v1/admin/merchants', {
      key: testAdminKey,
      body: { name: 'Live shop', livemode: true },
    });
    const live = await call(server, 'GET', '/v1/customers', {
      key: String(created.body.secret_key),
    });
    assert.equal(live.status, 200);
    assert.equal(live.headers.get('ratelimit-limit'), '100');
    // The operator's routes are not limited.
    const admin = await call(server, 'GET', '/v1/admin/merchants', { key: testAdminKey });
    assert.equal(admin.headers.get('ratelimit-limit'), null);
  });

  test("past the limit: 429 rate_limit in Stripe's shape, Retry-After and the fields", async () => {
    const merchant = await createMerchantKey(server);
    const set = await call(server, 'POST', `/v1/admin/merchants/${merchant.id}/rate_limits`, {
      key: testAdminKey,
      body: { test_per_second: 4 },
    });
    assert.equal(set.status, 200);
    const answers = await burst([server], merchant.key, 9);
    assert.equal(answers.filter((answer) => answer.status === 200).length, 4);
    const refused = answers.filter((answer) => answer.status === 429);
    assert.equal(refused.length, 5);
    for (const answer of refused) {
      assert.equal(answer.body.error?.type, 'rate_limit_error');
      assert.equal(answer.body.error?.code, 'rate_limit');
      assert.match(answer.body.error?.request_id ?? '', /^req_/);
      assert.equal(answer.headers.get('retry-after'), '1');
      assert.equal(answer.headers.get('ratelimit-limit'), '4');
      assert.equal(answer.headers.get('ratelimit-remaining'), '0');
      assert.equal(answer.headers.get('ratelimit-reset'), '1');
    }
    // A refusal is checked before the Idempotency-Key is taken: the same key passes later.
    const create = () =>
      call(server, 'POST', '/v1/customers', {
        key: merchant.key,
        body: { name: 'Retried' },
        idempotencyKey: 'rate-limited-create',
      });
    assert.equal((await create()).status, 429);
    let created: Awaited<ReturnType<typeof call>> | undefined;
    await eventually(async () => {
      created = await create();
      return created.status !== 429;
    }, 'the next window');
    assert.equal(created?.status, 200);
    assert.equal(created?.headers.get('idempotent-replayed'), null);
  });

  test('the operator reads, sets and clears overrides; bad input is a 400 naming the field', async () => {
    const merchant = await createMerchantKey(server);
    const path = `/v1/admin/merchants/${merchant.id}/rate_limits`;
    const initial = await call(server, 'GET', path, { key: testAdminKey });
    assert.equal(initial.status, 200);
    assert.deepEqual(initial.body, {
      object: 'merchant_rate_limits',
      merchant: merchant.id,
      live_per_second: null,
      test_per_second: null,
      endpoint_per_second: null,
      concurrent: null,
      defaults: {
        live_per_second: 100,
        test_per_second: 25,
        endpoint_per_second: 100,
        concurrent: 25,
        ip_per_second: 3,
      },
      enabled: true,
      updated: null,
    });
    const set = await call(server, 'POST', path, {
      key: testAdminKey,
      body: { test_per_second: 50, concurrent: 10 },
    });
    assert.equal(set.body.test_per_second, 50);
    assert.equal(set.body.concurrent, 10);
    assert.equal(typeof set.body.updated, 'number');
    // Applies at once in this process (the account's 50 is below the per-endpoint 100).
    const limited = await call(server, 'GET', '/v1/customers', { key: merchant.key });
    assert.equal(limited.headers.get('ratelimit-limit'), '50');
    const partial = await call(server, 'POST', path, {
      key: testAdminKey,
      body: { test_per_second: null },
    });
    assert.equal(partial.body.test_per_second, null);
    assert.equal(partial.body.concurrent, 10, 'a field not given stays');
    const back = await call(server, 'GET', '/v1/customers', { key: merchant.key });
    assert.equal(back.headers.get('ratelimit-limit'), '25');
    for (const [body, param] of [
      [{ test_per_second: 0 }, 'test_per_second'],
      [{ concurrent: 'many' }, 'concurrent'],
      [{ live_per_second: 1_000_001 }, 'live_per_second'],
      [{ burst: 5 }, 'burst'],
    ] as const) {
      const refused = await call(server, 'POST', path, { key: testAdminKey, body });
      assert.equal(refused.status, 400, JSON.stringify(body));
      assert.equal(refused.body.error?.param, param);
    }
    const missing = await call(server, 'GET', '/v1/admin/merchants/mch_nothere00/rate_limits', {
      key: testAdminKey,
    });
    assert.equal(missing.status, 404);
    const unauthenticated = await call(server, 'GET', path, { key: merchant.key });
    assert.equal(unauthenticated.status, 401);
  });

  test('requests in flight: past the limit a 429, and the slot comes back when one ends', async () => {
    const merchant = await createMerchantKey(server);
    await call(server, 'POST', `/v1/admin/merchants/${merchant.id}/rate_limits`, {
      key: testAdminKey,
      body: { concurrent: 2, test_per_second: 1000, endpoint_per_second: 1000 },
    });
    // Answered requests give their slot back (on a kept-alive connection too).
    for (let index = 0; index < 5; index++) {
      const answer = await call(server, 'GET', '/v1/customers', { key: merchant.key });
      assert.equal(answer.status, 200);
    }
    // Two requests whose bodies never finish: admitted (the limit is checked on the headers),
    // then held open.
    const url = new URL(server.url);
    const hanging = Array.from({ length: 2 }, () => {
      const request = http.request({
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/v1/customers',
        headers: {
          authorization: `Bearer ${merchant.key}`,
          'content-type': 'application/json',
          'content-length': '100',
        },
      });
      request.on('error', () => {});
      request.write('{"name": ');
      return request;
    });
    let refusal: Awaited<ReturnType<typeof call>> | undefined;
    await eventually(async () => {
      const answer = await call(server, 'GET', '/v1/customers', { key: merchant.key });
      if (answer.status === 429) refusal = answer;
      return answer.status === 429;
    }, 'the in-flight limit');
    assert.equal(refusal?.body.error?.code, 'rate_limit');
    assert.match(refusal?.body.error?.message ?? '', /in flight/);
    assert.equal(refusal?.headers.get('ratelimit-limit'), '2');
    for (const request of hanging) request.destroy();
    await eventually(
      async () =>
        (await call(server, 'GET', '/v1/customers', { key: merchant.key })).status === 200,
      'a slot given back',
    );
  });

  test('PSP webhooks (no API key) are limited per client address', async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        call(server, 'POST', '/v1/psp_webhooks/stripe', { body: { id: 'evt_1' } }),
      ),
    );
    const refused = answers.filter((answer) => answer.status === 429);
    assert.equal(refused.length, 3);
    for (const answer of refused) {
      assert.equal(answer.body.error?.code, 'rate_limit');
      assert.equal(answer.headers.get('ratelimit-limit'), '3');
      assert.ok(answer.headers.get('retry-after') !== null);
    }
    const passed = answers.filter((answer) => answer.status !== 429);
    for (const answer of passed) assert.equal(answer.headers.get('ratelimit-limit'), '3');
  });
});

describe('two server processes sharing one Redis', () => {
  const prefix = `test:rl:${crypto.randomBytes(6).toString('hex')}`;
  let postgres: { url: string; drop(): Promise<void> };
  const servers: RunningProcess[] = [];
  before(async () => {
    postgres = await createPostgresDatabase();
    const env = {
      DATABASE_URL: postgres.url,
      REDIS_URL: redisUrl,
      PAYRAIL_ADMIN_KEY: testAdminKey,
      PAYRAIL_VAULT_MASTER_KEY: crypto.randomBytes(32).toString('base64'),
      PAYRAIL_RATE_LIMITS: 'on',
      PAYRAIL_RATE_LIMIT_PREFIX: prefix,
      PAYRAIL_RATE_LIMIT_TEST_PER_SECOND: '6',
      // Generous: on a loaded machine a slow answer would make each process fall back to its
      // own in-memory count, which is the Redis-down case (tested below), not this one.
      PAYRAIL_RATE_LIMIT_REDIS_TIMEOUT_MS: '5000',
      LOG_LEVEL: 'warn',
    };
    // One after the other: the first applies the migrations.
    servers.push(await startPayrail(env));
    servers.push(await startPayrail(env));
  });
  after(async () => {
    for (const server of servers) await server.stop();
    await postgres?.drop();
    await deleteKeys(prefix);
  });

  test('requests split across both hit one limit', async () => {
    const merchant = await createMerchantKey(servers[0] as RunningProcess);
    const answers = await burst(servers, merchant.key, 14);
    assert.equal(answers.filter((answer) => answer.status === 200).length, 6);
    assert.equal(answers.filter((answer) => answer.status === 429).length, 8);
    // Both processes answered, and both refused: the count is shared, not per process.
    for (const parity of [0, 1]) {
      const mine = answers.filter((_, index) => index % 2 === parity);
      assert.ok(
        mine.some((answer) => answer.status === 429),
        `server ${parity} refused none`,
      );
    }
  });
});

describe('Redis killed mid-run', () => {
  const prefix = `test:rl:${crypto.randomBytes(6).toString('hex')}`;
  let redis: ChildProcess | undefined;
  let server: TestServer;
  before(async () => {
    const port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const started = redis;
    await new Promise<void>((resolve, reject) => {
      started.once('error', reject);
      started.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('Ready to accept connections')) resolve();
      });
    });
    server = await startTestServer('pglite', {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      PAYRAIL_RATE_LIMITS: 'on',
      PAYRAIL_RATE_LIMIT_PREFIX: prefix,
      PAYRAIL_RATE_LIMIT_TEST_PER_SECOND: '3',
    });
  });
  after(async () => {
    await server?.stop();
    if (redis?.exitCode === null) redis.kill('SIGKILL');
  });

  test('limits go on in memory, answers go on, nothing crashes', async () => {
    const merchant = await createMerchantKey(server);
    assert.equal(server.context.redis?.isReady, true);
    const before = await burst([server], merchant.key, 5);
    assert.deepEqual(before.map((answer) => answer.status).sort(), [200, 200, 200, 429, 429]);
    const pid = redis?.pid;
    assert.ok(pid !== undefined);
    process.kill(pid, 'SIGKILL');
    await eventually(async () => server.context.redis?.isReady === false, 'the client to notice');
    // The in-memory insurance keeps its own count, from zero.
    const during = await burst([server], merchant.key, 5);
    assert.deepEqual(during.map((answer) => answer.status).sort(), [200, 200, 200, 429, 429]);
    const health = await call(server, 'GET', '/healthz');
    assert.equal(health.status, 200);
  });
});
