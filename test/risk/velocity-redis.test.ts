// The Redis store against the shared contract on the local Redis (each test its own key prefix,
// deleted after), its key layout and expiry, and the memory store and the Redis store giving
// the same answers on the same random sequence of records and reads.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { createLogger } from '../../src/observability/logger.ts';
import { closeRedis, openRedis, type Redis } from '../../src/storage/redis.ts';
import { velocityEntities } from '../../src/risk/attributes.ts';
import type { VelocityEvent } from '../../src/risk/types.ts';
import { MemoryVelocityStore, RedisVelocityStore } from '../../src/risk/velocity/index.ts';
import { testClock, velocityEvent, velocityStoreContract } from './velocity-contract.ts';

const redisUrl = 'redis://127.0.0.1:6379';
let redis: Redis;

function uniquePrefix(): string {
  return `test:velocity:${randomUUID()}`;
}

async function deleteKeys(prefix: string): Promise<void> {
  const keys: string[] = [];
  for await (const batch of redis.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1_000 }))
    keys.push(...batch);
  if (keys.length > 0) await redis.del(keys);
}

before(async () => {
  redis = await openRedis(redisUrl, { logger: createLogger('silent') });
  assert.equal(redis.isReady, true, 'the local Redis at 127.0.0.1:6379 must run');
});

after(async () => {
  await closeRedis(redis);
});

describe('RedisVelocityStore', () => {
  velocityStoreContract(async (options) => {
    const keyPrefix = uniquePrefix();
    const store = new RedisVelocityStore(redis, { ...options, keyPrefix });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await deleteKeys(keyPrefix);
      },
    };
  });

  test('one hash tag per entity, no raw email in key names, every key expires in 8 days', async () => {
    const keyPrefix = uniquePrefix();
    const store = new RedisVelocityStore(redis, { keyPrefix });
    try {
      const at = testClock().now();
      await store.record(velocityEvent({ at }));
      await store.record(velocityEvent({ at, result: 'declined' }));
      const keys: string[] = [];
      for await (const batch of redis.scanIterator({ MATCH: `${keyPrefix}:*` }))
        keys.push(...batch);
      assert.equal(keys.length, 6 * velocityEntities.length);
      for (const key of keys) {
        assert.match(
          key,
          /^test:velocity:[0-9a-f-]+:v:\{[a-z_]+:[A-Za-z0-9_-]{43}\}:(attempts|declined|amounts|cents|cards|hours)$/,
        );
        assert.equal(key.includes('example.com'), false);
        const ttlMs = await redis.pTTL(key);
        assert.ok(ttlMs > 8 * 86_400_000 - 60_000 && ttlMs <= 8 * 86_400_000, `${key}: ${ttlMs}`);
      }
      const tag = (key: string) => /\{[^}]*\}/.exec(key)?.[0];
      const email = store.keysOf('email', 'a@example.com');
      assert.equal(new Set(email.map(tag)).size, 1, 'one hash tag: one Cluster slot');
      assert.notEqual(tag(email[0]), tag(store.keysOf('email', 'b@example.com')[0]));
      assert.equal(tag(store.keysOf('email', 'a}{b')[0])?.includes('a}'), false);
    } finally {
      await deleteKeys(keyPrefix);
    }
  });

  test('attempts, amounts and cards older than a week (from the newest) are pruned', async () => {
    const keyPrefix = uniquePrefix();
    const store = new RedisVelocityStore(redis, { keyPrefix });
    try {
      const clock = testClock();
      const ip = { ip_address: '10.1.1.1' };
      await store.record(
        velocityEvent({ at: clock.now(), entities: ip, cardFingerprint: 'fp_old' }),
      );
      await store.record(
        velocityEvent({
          at: clock.now(),
          entities: ip,
          cardFingerprint: 'fp_old',
          result: 'declined',
        }),
      );
      clock.advance(7 * 86_400_000);
      await store.record(
        velocityEvent({ at: clock.now(), entities: ip, cardFingerprint: 'fp_new' }),
      );
      const [attempts, declined, amounts, cents, cards, hours] = store.keysOf(
        'ip_address',
        '10.1.1.1',
      );
      assert.equal(await redis.zCard(attempts), 1);
      assert.equal(await redis.zCard(declined), 0);
      assert.equal(await redis.zCard(amounts), 1);
      assert.equal(await redis.hLen(cents), 1);
      assert.deepEqual(await redis.zRange(cards, 0, -1), ['fp_new']);
      assert.deepEqual(Object.values(await redis.hGetAll(hours)), ['1000']);
    } finally {
      await deleteKeys(keyPrefix);
    }
  });

  test('a read of four entities sends its four scripts in one tick: one round trip', async () => {
    const keyPrefix = uniquePrefix();
    const sent: string[] = [];
    const counting = {
      get isReady() {
        return redis.isReady;
      },
      sendCommand<T>(args: readonly string[]): Promise<T> {
        sent.push(args[0] ?? '');
        return redis.sendCommand(args) as Promise<T>;
      },
    };
    const store = new RedisVelocityStore(counting, { keyPrefix });
    const entities = { card_number: 'fp', email: 'e', ip_address: 'i', customer: 'c' };
    await store.read(entities, 'fp', testClock().now()); // the scripts are known after this one
    sent.length = 0;
    const reading = store.read(entities, 'fp', testClock().now());
    // Everything was sent before read() first waited: node-redis writes it as one batch.
    assert.deepEqual(sent, ['EVALSHA', 'EVALSHA', 'EVALSHA', 'EVALSHA']);
    assert.equal((await reading).unavailable, false);
    assert.equal(sent.length, 4);
  });

  test('memory and Redis give the same readings on the same random sequence', async () => {
    const minuteMs = 60_000;
    const operation = fc.oneof(
      fc.record({
        kind: fc.constant('record' as const),
        attempt: fc.integer({ min: 1, max: 12 }),
        offsetMinutes: fc.integer({ min: 0, max: 12 * 24 * 60 }),
        result: fc.constantFrom('authorized' as const, 'declined' as const),
        cents: fc.option(fc.integer({ min: 0, max: 500_000 }), { nil: undefined }),
        card: fc.option(fc.constantFrom('fp_1', 'fp_2', 'fp_3', 'fp_4', 'fp_5', 'fp_6'), {
          nil: undefined,
        }),
        email: fc.option(fc.constantFrom('a@example.com', 'b@example.com'), { nil: undefined }),
        ip: fc.option(fc.constantFrom('10.0.0.1', '10.0.0.2'), { nil: undefined }),
        customer: fc.option(fc.constantFrom('cus_1', 'cus_2'), { nil: undefined }),
      }),
      fc.record({
        kind: fc.constant('read' as const),
        offsetMinutes: fc.integer({ min: 0, max: 14 * 24 * 60 }),
        card: fc.option(fc.constantFrom('fp_1', 'fp_2', 'fp_9'), { nil: undefined }),
      }),
    );
    const start = testClock().now().getTime();
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 30 }), async (operations) => {
        const keyPrefix = uniquePrefix();
        const memory = new MemoryVelocityStore({ entriesPerEntityMax: 4 });
        const shared = new RedisVelocityStore(redis, { keyPrefix, entriesPerEntityMax: 4 });
        try {
          for (const step of operations) {
            // Coarse times (whole minutes) so that entries of one instant meet the bound.
            const at = new Date(start + step.offsetMinutes * minuteMs);
            if (step.kind === 'record') {
              const event: VelocityEvent = {
                attemptId: `att_${step.attempt}`,
                at,
                result: step.result,
                amountInUsd: step.cents === undefined ? undefined : step.cents / 100,
                entities: {
                  ...(step.card === undefined ? {} : { card_number: step.card }),
                  ...(step.email === undefined ? {} : { email: step.email }),
                  ...(step.ip === undefined ? {} : { ip_address: step.ip }),
                  ...(step.customer === undefined ? {} : { customer: step.customer }),
                },
                cardFingerprint: step.card,
              };
              await memory.record(event);
              await shared.record(event);
              continue;
            }
            for (const entities of [
              {
                card_number: 'fp_1',
                email: 'a@example.com',
                ip_address: '10.0.0.1',
                customer: 'cus_1',
              },
              {
                card_number: 'fp_2',
                email: 'b@example.com',
                ip_address: '10.0.0.2',
                customer: 'cus_2',
              },
              { card_number: 'fp_3' },
            ]) {
              const fromMemory = await memory.read(entities, step.card, at);
              const fromRedis = await shared.read(entities, step.card, at);
              assert.deepEqual(fromRedis, fromMemory);
            }
          }
        } finally {
          await deleteKeys(keyPrefix);
        }
      }),
      { numRuns: 100 },
    );
  });

  test('bad options are refused at construction', () => {
    assert.throws(() => new RedisVelocityStore(redis, { keyPrefix: 'a{b}' }), RangeError);
    assert.throws(() => new RedisVelocityStore(redis, { keyPrefix: '' }), RangeError);
    assert.throws(() => new RedisVelocityStore(redis, { readTimeoutMs: 0 }), RangeError);
    assert.throws(() => new RedisVelocityStore(redis, { entriesPerEntityMax: -1 }), RangeError);
  });
});
