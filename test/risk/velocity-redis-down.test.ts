// Redis failing in the middle of a run, on a redis-server of this test's own (a free port, no
// persistence), stopped and killed by its PID only: reads answer `unavailable` at once and count
// the metric, records throw (the bus retries), nothing crashes and no rejection goes unhandled;
// after a restart on the same port (an empty Redis without the scripts) reads recover.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/observability/logger.ts';
import { closeRedis, openRedis, type Redis } from '../../src/storage/redis.ts';
import {
  RedisVelocityStore,
  VelocityUnavailableError,
  type VelocityUnavailableReason,
} from '../../src/risk/velocity/index.ts';
import { freePort } from '../support/ports.ts';
import { killRedisServer, startRedisServer, type RedisServer } from '../support/redis.ts';
import { waitUntil } from '../support/wait.ts';
import { testClock, velocityEvent } from './velocity-contract.ts';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
let port: number;
let server: RedisServer | undefined;
let redis: Redis | undefined;

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  port = await freePort();
  server = await startRedisServer(port);
  redis = await openRedis(`redis://127.0.0.1:${port}`, {
    logger: createLogger('silent'),
    reconnectDelayMsMax: 100,
  });
});

/** Closes the client, or destroys it if closing takes longer than a bound (never hangs the run). */
async function closeClient(client: Redis): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    closeRedis(client).then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), 2_000);
    }),
  ]);
  clearTimeout(timer);
  if (!closed) client.destroy();
}

after(async () => {
  process.off('unhandledRejection', onUnhandled);
  if (redis !== undefined) await closeClient(redis);
  if (server === undefined) return;
  const pid = server.child.pid;
  if (pid !== undefined && server.child.exitCode === null && server.child.signalCode === null)
    process.kill(pid, 'SIGCONT'); // in case a failed test left it stopped
  await killRedisServer(server);
});

describe('RedisVelocityStore with Redis failing mid-run', () => {
  test('killed: reads answer unavailable fast and count; records throw; a restart recovers', async () => {
    assert.ok(redis !== undefined && server !== undefined);
    const reasons: VelocityUnavailableReason[] = [];
    const store = new RedisVelocityStore(redis, {
      keyPrefix: 'down',
      onUnavailable: (reason) => reasons.push(reason),
    });
    const clock = testClock();
    for (let index = 0; index < 3; index += 1)
      await store.record(velocityEvent({ at: clock.now() }));
    const entities = { card_number: 'fp_1', email: 'a@example.com', customer: 'cus_1' };
    const healthy = await store.read(entities, 'fp_1', clock.now());
    assert.deepEqual(
      [healthy.unavailable, healthy.values.total_charges_per_customer_hourly],
      [false, 3],
    );

    // Reads and records in flight when the server dies: every read settles with an answer.
    const reads = Promise.all(
      Array.from({ length: 20 }, () => store.read(entities, 'fp_1', clock.now())),
    );
    const records = Promise.allSettled(
      Array.from({ length: 5 }, () => store.record(velocityEvent({ at: clock.now() }))),
    );
    await killRedisServer(server);
    for (const reading of await reads)
      assert.ok(
        reading.unavailable || reading.values.total_charges_per_customer_hourly !== undefined,
      );
    for (const outcome of await records)
      if (outcome.status === 'rejected')
        assert.ok(outcome.reason instanceof VelocityUnavailableError);

    reasons.length = 0;
    for (let index = 0; index < 20; index += 1) {
      const started = performance.now();
      const reading = await store.read(entities, 'fp_1', clock.now());
      assert.deepEqual(reading, { values: {}, unavailable: true });
      assert.ok(performance.now() - started < 100, 'a read while Redis is down answers at once');
    }
    assert.equal(reasons.length, 20, 'each unavailable read counts once');
    await assert.rejects(
      store.record(velocityEvent({ at: clock.now() })),
      VelocityUnavailableError,
    );

    server = await startRedisServer(port);
    const client = redis;
    await waitUntil('the client to reconnect', () => client.isReady, { timeoutMs: 10_000 });
    // The new server is empty and knows no scripts: the store sends them again.
    await store.record(velocityEvent({ at: clock.now() }));
    const recovered = await store.read(entities, 'fp_1', clock.now());
    assert.deepEqual(
      [recovered.unavailable, recovered.values.total_charges_per_customer_hourly],
      [false, 1],
    );
    assert.deepEqual(unhandled, []);
  });

  test('hung (SIGSTOP): reads give up at their bound, records at theirs; SIGCONT recovers', async () => {
    assert.ok(redis !== undefined && server !== undefined);
    const reasons: VelocityUnavailableReason[] = [];
    const store = new RedisVelocityStore(redis, {
      keyPrefix: 'hung',
      readTimeoutMs: 50,
      recordTimeoutMs: 200,
      onUnavailable: (reason) => reasons.push(reason),
    });
    const clock = testClock();
    await store.record(velocityEvent({ at: clock.now() }));
    const pid = server.child.pid as number;
    process.kill(pid, 'SIGSTOP');
    try {
      const started = performance.now();
      const reading = await store.read({ customer: 'cus_1' }, undefined, clock.now());
      const elapsedMs = performance.now() - started;
      assert.deepEqual(reading, { values: {}, unavailable: true });
      assert.ok(elapsedMs >= 45 && elapsedMs < 500, `${elapsedMs} ms`);
      assert.deepEqual(reasons, ['timeout']);
      await assert.rejects(store.record(velocityEvent({ at: clock.now() })), {
        name: 'VelocityUnavailableError',
        reason: 'timeout',
      });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // The commands sent while it hung are answered now; the store's next read is current.
    await waitUntil('Redis to answer again', async () => {
      const reading = await store.read({ customer: 'cus_1' }, undefined, clock.now());
      return !reading.unavailable;
    });
    const reading = await store.read({ customer: 'cus_1' }, undefined, clock.now());
    // The record that timed out may still have landed: the bus retries it and the marker dedupes.
    assert.ok([1, 2].includes(Number(reading.values.total_charges_per_customer_hourly)));
    assert.deepEqual(unhandled, []);
  });
});
