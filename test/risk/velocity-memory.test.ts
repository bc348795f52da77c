// The memory store against the shared contract, and its own bounds (entities in all, pruning).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MemoryVelocityStore,
  RedisVelocityStore,
  velocityStoreFor,
} from '../../src/risk/velocity/index.ts';
import { testClock, velocityEvent, velocityStoreContract } from './velocity-contract.ts';

describe('MemoryVelocityStore', () => {
  velocityStoreContract(async (options) => {
    const store = new MemoryVelocityStore(options);
    return { store, cleanup: () => store.close() };
  });

  test('entries older than a week (from the newest) are pruned', async () => {
    const store = new MemoryVelocityStore();
    const clock = testClock();
    await store.record(velocityEvent({ at: clock.now() }));
    clock.advance(7 * 86_400_000 - 1);
    await store.record(velocityEvent({ at: clock.now() }));
    assert.equal(store.entryCount('card_number', 'fp_1'), 2);
    clock.advance(1);
    await store.record(velocityEvent({ at: clock.now() }));
    assert.equal(store.entryCount('card_number', 'fp_1'), 2);
  });

  test('the number of entities is bounded: the least recently written go first', async () => {
    const store = new MemoryVelocityStore({ entitiesMax: 3 });
    const clock = testClock();
    for (const email of ['a', 'b', 'c'])
      await store.record(velocityEvent({ at: clock.now(), entities: { email } }));
    await store.record(velocityEvent({ at: clock.now(), entities: { email: 'a' } }));
    await store.record(velocityEvent({ at: clock.now(), entities: { email: 'd' } }));
    assert.equal(store.entityCount, 3);
    assert.equal(store.entryCount('email', 'b'), 0, 'b was written least recently');
    assert.equal(store.entryCount('email', 'a'), 2);
  });

  test('entities whose entries all left the week are swept as records come in', async () => {
    const store = new MemoryVelocityStore();
    const clock = testClock();
    for (let index = 0; index < 100; index += 1)
      await store.record(
        velocityEvent({ at: clock.now(), entities: { ip_address: `10.0.0.${index}` } }),
      );
    clock.advance(8 * 86_400_000);
    for (let index = 0; index < 1_024; index += 1)
      await store.record(velocityEvent({ at: clock.now(), entities: { ip_address: '10.9.9.9' } }));
    assert.equal(store.entityCount, 1);
  });

  test('a hot entity stays within its bound of entries', async () => {
    const store = new MemoryVelocityStore({ entriesPerEntityMax: 100 });
    const clock = testClock();
    for (let index = 0; index < 1_000; index += 1) {
      await store.record(velocityEvent({ at: clock.now(), entities: { ip_address: '10.0.0.1' } }));
      clock.advance(1_000);
    }
    assert.equal(store.entryCount('ip_address', '10.0.0.1'), 100);
  });

  test('bad bounds are refused at construction', () => {
    assert.throws(() => new MemoryVelocityStore({ entriesPerEntityMax: 0 }), RangeError);
    assert.throws(() => new MemoryVelocityStore({ entitiesMax: 1.5 }), RangeError);
  });
});

test('velocityStoreFor: memory without a Redis client, Redis with one', () => {
  assert.ok(velocityStoreFor(undefined) instanceof MemoryVelocityStore);
  const client = { isReady: false, sendCommand: () => Promise.reject(new Error('down')) };
  assert.ok(velocityStoreFor(client, { keyPrefix: 'x' }) instanceof RedisVelocityStore);
});
