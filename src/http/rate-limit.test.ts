// The limiters without HTTP: in memory under a mocked clock (node:test's mock timers stand in
// for Date and setTimeout, which rate-limiter-flexible reads), and in a real Redis, shared by
// two limiter sets as two processes would share it, falling back to memory when Redis is gone.
import { after, afterEach, beforeEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { loadConfig, type RateLimitConfig } from '../config.ts';
import type { RateLimitOverride } from '../merchants/rate-limits.ts';
import { createLogger } from '../observability/logger.ts';
import { closeRedis, openRedis, type Redis } from '../storage/redis.ts';
import { ApiRateLimits, merchantLimits, rateLimitHeaders } from './rate-limit.ts';

const logger = createLogger('silent');

function configWith(env: Record<string, string> = {}): RateLimitConfig {
  return loadConfig({ PAYRAIL_DATA_DIR: 'memory://', ...env }).rateLimits;
}

function limitsWith(
  options: {
    env?: Record<string, string>;
    overrides?: Map<string, RateLimitOverride>;
    redis?: Redis;
  } = {},
): ApiRateLimits {
  const overrides = options.overrides ?? new Map<string, RateLimitOverride>();
  return new ApiRateLimits({
    config: configWith(options.env),
    redis: options.redis,
    overrides: {
      get: async (merchantId) => ({ override: overrides.get(merchantId) ?? {}, updatedAt: null }),
    },
    logger,
  });
}

async function admitMany(limits: ApiRateLimits, count: number, merchant = 'mch_a', live = false) {
  const admissions = [];
  for (let index = 0; index < count; index++) {
    const admission = await limits.admitMerchantRequest(merchant, live, 'GET /v1/balance');
    // Answered at once: the in-flight limit stays out of the way.
    admission.release?.();
    admissions.push(admission);
  }
  return admissions;
}

describe('configuration and headers', () => {
  test("defaults are Stripe's: 100/s live, 25/s test, 100/s per endpoint, 25 in flight", () => {
    const config = configWith();
    assert.equal(config.enabled, true);
    assert.deepEqual(merchantLimits(config, {}, true), {
      perSecond: 100,
      endpointPerSecond: 100,
      concurrent: 25,
    });
    assert.equal(merchantLimits(config, {}, false).perSecond, 25);
  });

  test('an override replaces only the fields it sets, and only for its mode', () => {
    const config = configWith();
    const override = { livePerSecond: 500, concurrent: 3 };
    assert.deepEqual(merchantLimits(config, override, true), {
      perSecond: 500,
      endpointPerSecond: 100,
      concurrent: 3,
    });
    assert.equal(merchantLimits(config, override, false).perSecond, 25);
  });

  test('PAYRAIL_RATE_LIMITS=off turns them off; bad values name the variable', () => {
    assert.equal(configWith({ PAYRAIL_RATE_LIMITS: 'off' }).enabled, false);
    assert.equal(configWith({ PAYRAIL_RATE_LIMIT_TEST_PER_SECOND: '7' }).testPerSecond, 7);
    assert.throws(() => configWith({ PAYRAIL_RATE_LIMITS: 'no' }), /PAYRAIL_RATE_LIMITS/);
    assert.throws(
      () => configWith({ PAYRAIL_RATE_LIMIT_CONCURRENT: '0' }),
      /PAYRAIL_RATE_LIMIT_CONCURRENT/,
    );
    assert.throws(
      () => configWith({ PAYRAIL_RATE_LIMIT_PREFIX: 'a b' }),
      /PAYRAIL_RATE_LIMIT_PREFIX/,
    );
  });

  test('the RateLimit header fields round the reset up to whole seconds', () => {
    const headers = rateLimitHeaders({
      admitted: true,
      limit: 25,
      remaining: 3,
      resetMs: 120,
      windowSeconds: 1,
    });
    assert.deepEqual(headers, {
      'ratelimit-limit': '25',
      'ratelimit-remaining': '3',
      'ratelimit-reset': '1',
      'ratelimit-policy': '25;w=1',
    });
  });
});

describe('in memory, on a mocked clock', () => {
  beforeEach(() => mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_800_000_000_000 }));
  afterEach(() => mock.timers.reset());

  test('a test merchant gets 25 a second, then 429s until the window ends', async () => {
    const limits = limitsWith();
    const admissions = await admitMany(limits, 30);
    const admitted = admissions.filter((admission) => admission.refusedBy === undefined);
    assert.equal(admitted.length, 25);
    assert.deepEqual(admitted.map((admission) => admission.shown.remaining).slice(-3), [2, 1, 0]);
    const refused = admissions[25];
    assert.equal(refused?.refusedBy, 'rate');
    assert.equal(refused?.shown.remaining, 0);
    assert.ok((refused?.shown.resetMs ?? 0) <= 1000);
    mock.timers.tick(1_001);
    const next = await limits.admitMerchantRequest('mch_a', false, 'GET /v1/balance');
    assert.equal(next.refusedBy, undefined);
  });

  test('a live merchant gets 100 a second; merchants do not share a count', async () => {
    const limits = limitsWith({ env: { PAYRAIL_RATE_LIMIT_ENDPOINT_PER_SECOND: '1000' } });
    const live = await admitMany(limits, 101, 'mch_live', true);
    assert.equal(live.filter((admission) => admission.refusedBy === undefined).length, 100);
    assert.equal(live[100]?.refusedBy, 'rate');
    const other = await limits.admitMerchantRequest('mch_other', false, 'GET /v1/balance');
    assert.equal(other.refusedBy, undefined);
  });

  test('one endpoint has its own limit within the account limit', async () => {
    const limits = limitsWith({ env: { PAYRAIL_RATE_LIMIT_ENDPOINT_PER_SECOND: '3' } });
    const refusals = [];
    for (let index = 0; index < 4; index++) {
      const admission = await limits.admitMerchantRequest('mch_a', true, 'POST /v1/refunds');
      admission.release?.();
      refusals.push(admission.refusedBy);
    }
    assert.deepEqual(refusals, [undefined, undefined, undefined, 'endpoint']);
    const elsewhere = await limits.admitMerchantRequest('mch_a', true, 'GET /v1/balance');
    assert.equal(elsewhere.refusedBy, undefined);
  });

  test('a refused request counts against no other limit', async () => {
    const overrides = new Map([['mch_a', { testPerSecond: 100, endpointPerSecond: 2 }]]);
    const limits = limitsWith({ overrides });
    const refusals = [];
    for (let index = 0; index < 3; index++) {
      const admission = await limits.admitMerchantRequest('mch_a', false, 'POST /v1/refunds');
      admission.release?.();
      refusals.push(admission.refusedBy);
    }
    assert.deepEqual(refusals, [undefined, undefined, 'endpoint']);
    await Promise.resolve();
    const elsewhere = await limits.admitMerchantRequest('mch_a', false, 'GET /v1/balance');
    // 100 less the two admitted and this one: the refused one was given back.
    assert.equal(elsewhere.shown.remaining, 97);
  });

  test('requests in flight: refused past the limit, a released slot is free again', async () => {
    const overrides = new Map([['mch_a', { concurrent: 2, testPerSecond: 100 }]]);
    const limits = limitsWith({ overrides });
    const first = await limits.admitMerchantRequest('mch_a', false, 'GET /v1/a');
    const second = await limits.admitMerchantRequest('mch_a', false, 'GET /v1/b');
    const third = await limits.admitMerchantRequest('mch_a', false, 'GET /v1/c');
    assert.equal(first.refusedBy, undefined);
    assert.equal(second.refusedBy, undefined);
    assert.equal(third.refusedBy, 'concurrency');
    // A refusal does not keep a slot: still one free after one release, not zero.
    first.release?.();
    first.release?.(); // twice is once
    await Promise.resolve();
    const fourth = await limits.admitMerchantRequest('mch_a', false, 'GET /v1/d');
    assert.equal(fourth.refusedBy, undefined);
    const fifth = await limits.admitMerchantRequest('mch_a', false, 'GET /v1/e');
    assert.equal(fifth.refusedBy, 'concurrency');
  });

  test('a slot never given back (a crashed process) comes back within the window', async () => {
    const overrides = new Map([['mch_a', { concurrent: 1, testPerSecond: 100 }]]);
    const limits = limitsWith({ overrides });
    await limits.admitMerchantRequest('mch_a', false, 'GET /v1/a'); // never released
    const blocked = await limits.admitMerchantRequest('mch_a', false, 'GET /v1/a');
    assert.equal(blocked.refusedBy, 'concurrency');
    mock.timers.tick(60_001);
    const later = await limits.admitMerchantRequest('mch_a', false, 'GET /v1/a');
    assert.equal(later.refusedBy, undefined);
  });

  test('an address is limited on its own', async () => {
    const limits = limitsWith({ env: { PAYRAIL_RATE_LIMIT_IP_PER_SECOND: '2' } });
    const verdicts = [];
    for (let index = 0; index < 3; index++) verdicts.push(await limits.admitAddress('10.0.0.1'));
    assert.deepEqual(
      verdicts.map((verdict) => verdict.admitted),
      [true, true, false],
    );
    assert.equal((await limits.admitAddress('10.0.0.2')).admitted, true);
  });
});

describe('in Redis', () => {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `test:rl:${crypto.randomBytes(6).toString('hex')}`;
  const clients: Redis[] = [];
  const open = async (url = redisUrl) => {
    const client = await openRedis(url, { logger });
    clients.push(client);
    return client;
  };
  after(async () => {
    const client = clients[0];
    if (client?.isReady === true) {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(keys);
    }
    for (const each of clients) await closeRedis(each);
  });

  test('two limiter sets on one Redis (two processes) share one count', async () => {
    const env = {
      // Generous: on a loaded machine a slow answer would make each set fall back to memory.
      PAYRAIL_RATE_LIMIT_REDIS_TIMEOUT_MS: '5000',
      PAYRAIL_RATE_LIMIT_PREFIX: `${prefix}:shared`,
      PAYRAIL_RATE_LIMIT_TEST_PER_SECOND: '10',
    };
    const one = limitsWith({ env, redis: await open() });
    const two = limitsWith({ env, redis: await open() });
    const admissions = await Promise.all(
      Array.from({ length: 16 }, (_, index) =>
        (index % 2 === 0 ? one : two).admitMerchantRequest('mch_a', false, 'GET /v1/balance'),
      ),
    );
    for (const admission of admissions) admission.release?.();
    const admitted = admissions.filter((admission) => admission.refusedBy === undefined);
    // The window opens at the first request: a burst of a few milliseconds is within one.
    assert.equal(admitted.length, 10);
    assert.ok(admissions.some((admission) => admission.refusedBy === 'rate'));
  });

  test('Redis unreachable: the in-memory limiter decides, nothing throws', async () => {
    // A port nothing listens on: openRedis gives up at once and keeps reconnecting behind.
    const down = await open('redis://127.0.0.1:1');
    assert.equal(down.isReady, false);
    const limits = limitsWith({
      env: { PAYRAIL_RATE_LIMIT_PREFIX: `${prefix}:down`, PAYRAIL_RATE_LIMIT_TEST_PER_SECOND: '3' },
      redis: down,
    });
    const admissions = await admitMany(limits, 5);
    assert.deepEqual(
      admissions.map((admission) => admission.refusedBy),
      [undefined, undefined, undefined, 'rate', 'rate'],
    );
  });
});
