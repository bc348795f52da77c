// The memory store against the shared contract, and its own bounds (entities in all, pruning).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
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

test('on any sequence: authorized + declined = total, and shorter windows never count more', async () => {
  const step = fc.record({
    attempt: fc.integer({ min: 1, max: 40 }),
    offsetMs: fc.integer({ min: 0, max: 9 * 86_400_000 }),
    authorized: fc.boolean(),
    cents: fc.integer({ min: 0, max: 10_000_000 }),
    card: fc.constantFrom('fp_1', 'fp_2', 'fp_3', 'fp_4'),
    ip: fc.constantFrom('10.0.0.1', '10.0.0.2'),
  });
  const start = testClock().now().getTime();
  await fc.assert(
    fc.asyncProperty(
      fc.array(step, { maxLength: 60 }),
      fc.integer({ min: 0, max: 10 * 86_400_000 }),
      async (steps, readOffsetMs) => {
        const store = new MemoryVelocityStore({ entriesPerEntityMax: 16 });
        for (const item of steps)
          await store.record({
            attemptId: `att_${item.attempt}`,
            at: new Date(start + item.offsetMs),
            result: item.authorized ? 'authorized' : 'declined',
            amountInUsd: item.cents / 100,
            entities: { card_number: item.card, ip_address: item.ip },
            cardFingerprint: item.card,
          });
        const { values } = await store.read(
          { card_number: 'fp_1', ip_address: '10.0.0.1' },
          undefined,
          new Date(start + readOffsetMs),
        );
        for (const entity of ['card_number', 'ip_address']) {
          const of = (measure: string, window: string) =>
            Number(values[`${measure}_per_${entity}_${window}`]);
          for (const window of ['hourly', 'daily', 'weekly'])
            assert.equal(
              of('authorized_charges', window) + of('declined_charges', window),
              of('total_charges', window),
            );
          for (const measure of ['total_charges', 'total_amount_in_usd']) {
            assert.ok(of(measure, 'hourly') <= of(measure, 'daily'));
            assert.ok(of(measure, 'daily') <= of(measure, 'weekly'));
          }
          assert.ok(of('total_charges', 'weekly') <= 16);
        }
        assert.ok(Number(values.cards_per_ip_address_weekly) <= 4);
      },
    ),
    { numRuns: 200 },
  );
});

test('an entity keeps at most its bound of cards: the least recently seen go', async () => {
  const store = new MemoryVelocityStore({ entriesPerEntityMax: 3 });
  const clock = testClock();
  for (const card of ['fp_1', 'fp_2', 'fp_3', 'fp_1', 'fp_4']) {
    await store.record(
      velocityEvent({
        at: clock.now(),
        entities: { ip_address: '10.0.0.1' },
        cardFingerprint: card,
      }),
    );
    clock.advance(1_000);
  }
  assert.equal(store.cardCount('ip_address', '10.0.0.1'), 3);
  const { values } = await store.read({ ip_address: '10.0.0.1' }, 'fp_2', clock.now());
  // fp_2 was the least recently seen and went; as the current card it counts again.
  assert.equal(values.cards_per_ip_address_hourly, 4);
});
