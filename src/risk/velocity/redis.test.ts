// The Redis store's failure handling against a fake client (no Redis): a read never throws and
// reports why it answered unavailable; a record throws a typed error the bus retries.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { VelocityEvent } from '../types.ts';
import {
  RedisVelocityStore,
  VelocityUnavailableError,
  type VelocityRedisClient,
  type VelocityUnavailableReason,
} from './redis.ts';

const now = new Date(Date.UTC(2026, 11, 6, 12));
const event: VelocityEvent = {
  attemptId: 'att_1',
  at: now,
  result: 'authorized',
  amountInUsd: 10,
  entities: { email: 'a@example.com', ip_address: '10.0.0.1' },
  cardFingerprint: 'fp_1',
};

function fakeClient(
  answer: (args: readonly string[]) => Promise<unknown>,
  isReady = true,
): VelocityRedisClient & { sent: string[][] } {
  const sent: string[][] = [];
  return {
    isReady,
    sent,
    sendCommand<T>(args: readonly string[]): Promise<T> {
      sent.push([...args]);
      return answer(args) as Promise<T>;
    },
  };
}

function storeWith(client: VelocityRedisClient) {
  const reasons: VelocityUnavailableReason[] = [];
  const store = new RedisVelocityStore(client, {
    keyPrefix: 'unit',
    readTimeoutMs: 20,
    recordTimeoutMs: 30,
    onUnavailable: (reason) => reasons.push(reason),
  });
  return { store, reasons };
}

describe('RedisVelocityStore when Redis fails', () => {
  test('not connected: read answers unavailable without sending; record throws', async () => {
    const client = fakeClient(() => Promise.resolve([]), false);
    const { store, reasons } = storeWith(client);
    assert.deepEqual(await store.read({ email: 'a@example.com' }, undefined, now), {
      values: {},
      unavailable: true,
    });
    assert.deepEqual(reasons, ['not_connected']);
    await assert.rejects(store.record(event), (error: unknown) => {
      assert.ok(error instanceof VelocityUnavailableError);
      assert.equal(error.reason, 'not_connected');
      return true;
    });
    assert.equal(client.sent.length, 0);
  });

  test('a command that never answers: read gives up at its bound, record too', async () => {
    const client = fakeClient(() => new Promise(() => {}));
    const { store, reasons } = storeWith(client);
    const started = performance.now();
    const reading = await store.read({ email: 'a@example.com' }, undefined, now);
    assert.equal(reading.unavailable, true);
    assert.ok(performance.now() - started < 1_000);
    assert.deepEqual(reasons, ['timeout']);
    await assert.rejects(store.record(event), {
      name: 'VelocityUnavailableError',
      reason: 'timeout',
    });
  });

  test('an error reply or a closed connection: unavailable, and the late rejection is handled', async () => {
    let reject: (error: Error) => void = () => {};
    const client = fakeClient(
      () =>
        new Promise((_, rejectCommand) => {
          reject = rejectCommand;
        }),
    );
    const { store, reasons } = storeWith(client);
    const reading = await store.read({ email: 'a@example.com' }, undefined, now);
    assert.equal(reading.unavailable, true);
    // The command fails after the read gave up: nothing may surface as an unhandled rejection.
    reject(new Error('Socket closed unexpectedly'));
    const failing = fakeClient(() => Promise.reject(new Error('LOADING Redis is loading')));
    const second = storeWith(failing);
    assert.equal((await second.store.read({ customer: 'cus_1' }, 'fp', now)).unavailable, true);
    assert.deepEqual([...reasons, ...second.reasons], ['timeout', 'error']);
    await assert.rejects(second.store.record(event), { reason: 'error' });
  });

  test('a metric callback that throws does not fail the read', async () => {
    const store = new RedisVelocityStore(
      fakeClient(() => Promise.resolve([]), false),
      {
        onUnavailable: () => {
          throw new Error('metric broken');
        },
      },
    );
    assert.equal((await store.read({ customer: 'cus_1' }, undefined, now)).unavailable, true);
  });

  test('NOSCRIPT: the script is sent in full once, then by its hash again', async () => {
    const client = fakeClient((args) =>
      args[0] === 'EVALSHA'
        ? Promise.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'))
        : Promise.resolve([1, 1, 0, 1000, 1, 2, 2, 0, 2000, 1, 3, 3, 0, 3000, 2]),
    );
    const { store } = storeWith(client);
    const reading = await store.read({ ip_address: '10.0.0.1' }, undefined, now);
    assert.deepEqual(
      client.sent.map((args) => args[0]),
      ['EVALSHA', 'EVAL'],
    );
    assert.equal(reading.values.total_charges_per_ip_address_hourly, 1);
    assert.equal(reading.values.total_amount_in_usd_per_ip_address_daily, 20);
    assert.equal(reading.values.cards_per_ip_address_weekly, 2);
  });

  test('nothing to read or record sends nothing', async () => {
    const client = fakeClient(() => Promise.reject(new Error('unexpected')));
    const { store, reasons } = storeWith(client);
    assert.deepEqual(await store.read({}, 'fp', now), { values: {}, unavailable: false });
    await store.record({ ...event, entities: {} });
    assert.deepEqual([client.sent.length, reasons.length], [0, 0]);
  });
});
