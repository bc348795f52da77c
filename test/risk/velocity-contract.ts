// The behaviour every VelocityStore must have, run against the memory store and the Redis store
// (velocity-memory.test.ts, velocity-redis.test.ts). Time comes from an OffsetClock that moves
// only when told: the stores take the time from their caller, so nothing here sleeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OffsetClock } from '../../src/clock.ts';
import { velocityAttributes } from '../../src/risk/attributes.ts';
import type { VelocityEntities, VelocityEvent, VelocityStore } from '../../src/risk/types.ts';
import { VelocityInputError } from '../../src/risk/velocity/index.ts';

export type StoreFactory = (options: { entriesPerEntityMax?: number }) => Promise<{
  store: VelocityStore;
  cleanup: () => Promise<void>;
}>;

const minuteMs = 60_000;
const hourMs = 60 * minuteMs;
const dayMs = 24 * hourMs;

/** A fixed start (the real time never leaks in) that only `advance` moves. */
export function testClock(): OffsetClock {
  const start = Date.UTC(2026, 11, 6, 12, 0, 0);
  return new OffsetClock(() => start);
}

let attemptCounter = 0;

export function velocityEvent(overrides: Partial<VelocityEvent> & { at: Date }): VelocityEvent {
  attemptCounter += 1;
  return {
    attemptId: `att_${attemptCounter}`,
    result: 'authorized',
    amountInUsd: 10,
    entities: {
      card_number: 'fp_1',
      email: 'a@example.com',
      ip_address: '10.0.0.1',
      customer: 'cus_1',
    },
    cardFingerprint: 'fp_1',
    ...overrides,
  };
}

async function withStore(
  factory: StoreFactory,
  options: { entriesPerEntityMax?: number },
  work: (store: VelocityStore) => Promise<void>,
): Promise<void> {
  const { store, cleanup } = await factory(options);
  try {
    await work(store);
  } finally {
    await cleanup();
  }
}

const everything: VelocityEntities = {
  card_number: 'fp_1',
  email: 'a@example.com',
  ip_address: '10.0.0.1',
  customer: 'cus_1',
};

export function velocityStoreContract(factory: StoreFactory): void {
  test('the hourly window slides: counted at +59 min, gone at +60 min and +61 min', () =>
    withStore(factory, {}, async (store) => {
      const clock = testClock();
      await store.record(velocityEvent({ at: clock.now() }));
      clock.advance(59 * minuteMs);
      let reading = await store.read({ card_number: 'fp_1' }, undefined, clock.now());
      assert.equal(reading.unavailable, false);
      assert.equal(reading.values.total_charges_per_card_number_hourly, 1);
      clock.advance(minuteMs);
      reading = await store.read({ card_number: 'fp_1' }, undefined, clock.now());
      assert.equal(reading.values.total_charges_per_card_number_hourly, 0);
      clock.advance(minuteMs);
      reading = await store.read({ card_number: 'fp_1' }, undefined, clock.now());
      assert.equal(reading.values.total_charges_per_card_number_hourly, 0);
      assert.equal(reading.values.total_charges_per_card_number_daily, 1);
      assert.equal(reading.values.total_charges_per_card_number_weekly, 1);
    }));

  test('the daily and weekly windows slide to the millisecond', () =>
    withStore(factory, {}, async (store) => {
      const clock = testClock();
      await store.record(velocityEvent({ at: clock.now() }));
      clock.advance(dayMs - 1);
      let values = (await store.read(everything, undefined, clock.now())).values;
      assert.equal(values.total_charges_per_email_daily, 1);
      clock.advance(1);
      values = (await store.read(everything, undefined, clock.now())).values;
      assert.equal(values.total_charges_per_email_daily, 0);
      assert.equal(values.total_charges_per_email_weekly, 1);
      clock.advance(6 * dayMs - 1);
      values = (await store.read(everything, undefined, clock.now())).values;
      assert.equal(values.total_charges_per_ip_address_weekly, 1);
      clock.advance(1);
      values = (await store.read(everything, undefined, clock.now())).values;
      assert.equal(values.total_charges_per_ip_address_weekly, 0);
      assert.equal(values.authorized_charges_per_customer_weekly, 0);
    }));

  test('an entry newer than the read time is not counted; late events are', () =>
    withStore(factory, {}, async (store) => {
      const clock = testClock();
      const start = clock.now();
      clock.advance(10 * minuteMs);
      await store.record(velocityEvent({ at: clock.now() }));
      await store.record(velocityEvent({ at: new Date(start.getTime() + minuteMs) }));
      const before = await store.read({ customer: 'cus_1' }, undefined, start);
      assert.equal(before.values.total_charges_per_customer_hourly, 0);
      const after = await store.read({ customer: 'cus_1' }, undefined, clock.now());
      assert.equal(after.values.total_charges_per_customer_hourly, 2);
    }));

  test('authorized, declined, totals and the authorized amount in dollars with cents', () =>
    withStore(factory, {}, async (store) => {
      const clock = testClock();
      const at = clock.now();
      await store.record(velocityEvent({ at, amountInUsd: 0.1 }));
      await store.record(velocityEvent({ at, amountInUsd: 0.2 }));
      await store.record(velocityEvent({ at, amountInUsd: 1234.567 }));
      await store.record(velocityEvent({ at, result: 'declined', amountInUsd: 500 }));
      await store.record(velocityEvent({ at, amountInUsd: undefined }));
      const { values } = await store.read(everything, undefined, at);
      assert.equal(values.total_charges_per_card_number_daily, 5);
      assert.equal(values.authorized_charges_per_card_number_daily, 4);
      assert.equal(values.declined_charges_per_card_number_daily, 1);
      // 0.10 + 0.20 + 1234.57 (rounded to cents); the decline's amount is not a sum of authorized.
      assert.equal(values.total_amount_in_usd_per_card_number_daily, 1234.87);
      assert.equal(values.total_amount_in_usd_per_email_hourly, 1234.87);
    }));

  test('every attribute of a given entity is there, 0 included; others are missing', () =>
    withStore(factory, {}, async (store) => {
      const clock = testClock();
      const { values, unavailable } = await store.read(
        { email: 'nobody@example.com' },
        undefined,
        clock.now(),
      );
      assert.equal(unavailable, false);
      const expected = velocityAttributes.filter((name) => name.includes('_per_email_'));
      assert.deepEqual(Object.keys(values).sort(), [...expected].sort());
      for (const name of expected) assert.equal(values[name], 0, name);
      assert.equal(values.total_charges_per_card_number_daily, undefined);
      const none = await store.read({}, 'fp_1', clock.now());
      assert.deepEqual(none, { values: {}, unavailable: false });
    }));

  test('distinct cards per IP address and per email, the current card included', () =>
    withStore(factory, {}, async (store) => {
      const clock = testClock();
      const shared = { email: 'shared@example.com', ip_address: '192.0.2.7' };
      for (const card of ['fp_a', 'fp_b', 'fp_a', 'fp_c'])
        await store.record(
          velocityEvent({
            at: clock.now(),
            entities: { ...shared, card_number: card },
            cardFingerprint: card,
          }),
        );
      await store.record(
        velocityEvent({ at: clock.now(), entities: shared, cardFingerprint: undefined }),
      );
      clock.advance(2 * hourMs);
      await store.record(
        velocityEvent({
          at: clock.now(),
          entities: shared,
          cardFingerprint: 'fp_d',
          result: 'declined',
        }),
      );
      let values = (await store.read(shared, undefined, clock.now())).values;
      assert.equal(values.cards_per_ip_address_hourly, 1);
      assert.equal(values.cards_per_ip_address_daily, 4);
      assert.equal(values.cards_per_email_weekly, 4);
      assert.equal(values.total_charges_per_ip_address_daily, 6);
      values = (await store.read(shared, 'fp_a', clock.now())).values;
      assert.equal(values.cards_per_ip_address_hourly, 2, 'the current card counts as seen');
      assert.equal(values.cards_per_email_daily, 4, 'a card already seen counts once');
      values = (await store.read(shared, 'fp_new', clock.now())).values;
      assert.equal(values.cards_per_email_daily, 5);
      assert.equal('cards_per_card_number_daily' in values, false);
    }));

  test('an attempt recorded twice counts once (a redelivered event)', () =>
    withStore(factory, {}, async (store) => {
      const clock = testClock();
      const event = velocityEvent({ at: clock.now(), amountInUsd: 25 });
      await store.record(event);
      await store.record(event);
      // Even if the redelivery carries other details, the attempt was counted already.
      await store.record({ ...event, result: 'declined', at: new Date(event.at.getTime() + 5) });
      clock.advance(minuteMs);
      const { values } = await store.read(everything, undefined, clock.now());
      assert.equal(values.total_charges_per_customer_hourly, 1);
      assert.equal(values.declined_charges_per_customer_hourly, 0);
      assert.equal(values.total_amount_in_usd_per_ip_address_hourly, 25);
    }));

  test('entities do not mix: the same text as an email and as a customer are two entities', () =>
    withStore(factory, {}, async (store) => {
      const clock = testClock();
      await store.record(velocityEvent({ at: clock.now(), entities: { email: 'x' } }));
      await store.record(velocityEvent({ at: clock.now(), entities: { email: 'y' } }));
      const { values } = await store.read({ email: 'x', customer: 'x' }, undefined, clock.now());
      assert.equal(values.total_charges_per_email_hourly, 1);
      assert.equal(values.total_charges_per_customer_hourly, 0);
    }));

  test('an entity keeps at most its bound of entries: the oldest go', () =>
    withStore(factory, { entriesPerEntityMax: 5 }, async (store) => {
      const clock = testClock();
      for (let index = 0; index < 8; index += 1) {
        await store.record(velocityEvent({ at: clock.now(), amountInUsd: index + 1 }));
        clock.advance(minuteMs);
      }
      const { values } = await store.read(everything, undefined, clock.now());
      assert.equal(values.total_charges_per_card_number_hourly, 5);
      // The five newest: 4 + 5 + 6 + 7 + 8.
      assert.equal(values.total_amount_in_usd_per_card_number_hourly, 30);
    }));

  test('record refuses what is outside the bounds; read leaves such entities out', () =>
    withStore(factory, {}, async (store) => {
      const clock = testClock();
      const at = clock.now();
      const refused: VelocityEvent[] = [
        velocityEvent({ at, attemptId: 'a'.repeat(513) }),
        velocityEvent({ at, attemptId: '' }),
        velocityEvent({ at, attemptId: 'att\u001fx' }),
        velocityEvent({ at, amountInUsd: -1 }),
        velocityEvent({ at, amountInUsd: Number.NaN }),
        velocityEvent({ at, amountInUsd: 2e9 }),
        velocityEvent({ at: new Date(Number.NaN) }),
        velocityEvent({ at, entities: { email: 'e'.repeat(600) } }),
        velocityEvent({ at, cardFingerprint: 'fp\n' }),
      ];
      for (const event of refused) await assert.rejects(store.record(event), VelocityInputError);
      const reading = await store.read(
        { email: 'e'.repeat(600), customer: 'cus_1' },
        'x'.repeat(600),
        at,
      );
      assert.equal(reading.unavailable, false);
      assert.equal(reading.values.total_charges_per_email_daily, undefined);
      assert.equal(reading.values.total_charges_per_customer_daily, 0);
      await store.record(velocityEvent({ at, entities: {} }));
    }));
}
