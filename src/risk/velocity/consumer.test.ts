// The velocity consumer: which events it counts, that `load` decides what is counted, that a
// redelivered event counts once, and that a store failure reaches the bus (which retries).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredEvent } from '../../events/events.ts';
import type { EventType } from '../../events/events.ts';
import type { Queryable } from '../../storage/database.ts';
import type { VelocityEvent, VelocityStore } from '../types.ts';
import { velocityConsumer, velocityConsumerName } from './consumer.ts';
import { MemoryVelocityStore } from './memory.ts';

const at = new Date(Date.UTC(2026, 11, 6, 12));
const tx = {} as Queryable;

function storedEvent(type: EventType, chargeId: string): StoredEvent {
  return {
    id: `evt_${type}_${chargeId}`,
    merchantId: 'mer_1',
    type,
    objectId: chargeId,
    data: { object: { id: chargeId, object: 'charge' } },
    createdAt: at,
  };
}

function loadFrom(seen: StoredEvent[]) {
  return async (_tx: Queryable, events: readonly StoredEvent[]): Promise<VelocityEvent[]> => {
    seen.push(...events);
    return events
      .filter((event) => event.objectId !== 'ch_skip')
      .map((event) => ({
        attemptId: event.objectId,
        at: event.createdAt,
        result: event.type === 'charge.succeeded' ? 'authorized' : 'declined',
        amountInUsd: 12.5,
        entities: { customer: 'cus_1' },
        cardFingerprint: 'fp_1',
      }));
  };
}

describe('velocityConsumer', () => {
  test('counts charge.succeeded and charge.failed once each; other events are not loaded', async () => {
    const store = new MemoryVelocityStore();
    const seen: StoredEvent[] = [];
    const consumer = velocityConsumer(store, loadFrom(seen));
    assert.equal(consumer.name, velocityConsumerName);
    assert.match(consumer.name, /^[a-z_]{1,40}$/);
    await consumer.handle(tx, storedEvent('charge.succeeded', 'ch_1'));
    await consumer.handle(tx, storedEvent('charge.captured', 'ch_1'));
    await consumer.handle(tx, storedEvent('payment_intent.succeeded', 'pi_1'));
    await consumer.handle(tx, storedEvent('charge.failed', 'ch_2'));
    await consumer.handle(tx, storedEvent('charge.failed', 'ch_skip'));
    // A redelivery (the bus's inbox rolled back after Redis was written) counts nothing more.
    await consumer.handle(tx, storedEvent('charge.succeeded', 'ch_1'));
    assert.deepEqual(
      seen.map((event) => event.objectId),
      ['ch_1', 'ch_2', 'ch_skip', 'ch_1'],
    );
    const { values } = await store.read({ customer: 'cus_1' }, undefined, at);
    assert.equal(values.total_charges_per_customer_hourly, 2);
    assert.equal(values.authorized_charges_per_customer_hourly, 1);
    assert.equal(values.declined_charges_per_customer_hourly, 1);
    assert.equal(values.total_amount_in_usd_per_customer_hourly, 12.5);
  });

  test('a batch gives the same counts as one event at a time', async () => {
    const store = new MemoryVelocityStore();
    const consumer = velocityConsumer(store, loadFrom([]));
    const events = Array.from({ length: 70 }, (_, index) =>
      storedEvent(index % 3 === 0 ? 'charge.failed' : 'charge.succeeded', `ch_${index % 50}`),
    );
    await consumer.handleMany?.(tx, [...events, storedEvent('charge.refunded', 'ch_1')]);
    const { values } = await store.read({ customer: 'cus_1' }, undefined, at);
    assert.equal(values.total_charges_per_customer_daily, 50);
  });

  test('a store that cannot record makes the handler throw (the bus retries)', async () => {
    const failing: VelocityStore = {
      record: () => Promise.reject(new Error('velocity store unavailable (not_connected)')),
      read: () => Promise.resolve({ values: {}, unavailable: true }),
      close: () => Promise.resolve(),
    };
    const consumer = velocityConsumer(failing, loadFrom([]));
    await assert.rejects(
      consumer.handle(tx, storedEvent('charge.succeeded', 'ch_1')),
      /unavailable/,
    );
    await assert.rejects(
      consumer.handleMany?.(tx, [storedEvent('charge.failed', 'ch_2')]) ?? Promise.resolve(),
      /unavailable/,
    );
    // An event velocity does not count never reaches the store, so it cannot fail.
    await consumer.handle(tx, storedEvent('charge.refunded', 'ch_1'));
  });
});
