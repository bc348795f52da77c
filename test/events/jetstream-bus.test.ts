// The JetStream event bus against the local NATS (unique stream per test, deleted afterwards) and
// a private nats-server for the restart test: every event reaches every consumer once, however
// often it is published or delivered; failures end in the dead-letter store; a NATS restart is
// survived without losing or doubling anything.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  DeadLetters,
  JetStreamRelay,
  connectToNats,
  createEventBus,
  ensureConsumer,
  ensureStream,
  handleOnce,
  silentLogger,
  defaultStreamSettings,
  type BusHooks,
  type StreamSettings,
} from '../../src/events/bus/index.ts';
import { decodeEvent } from '../../src/events/bus/jetstream/codec.ts';
import { eventsById } from '../../src/events/events.ts';
import { openTestDatabase, type TestDatabase } from '../support/databases.ts';
import { waitUntil } from '../support/wait.ts';
import {
  PrivateNatsServer,
  commitEvents,
  testLogger,
  count,
  effects,
  natsUrl,
  prepareDatabase,
  recordingConsumer,
  someEvents,
  uniqueSuffix,
} from './support.ts';

const fastRetries = { retryDelayMsBase: 20, retryDelayMsMax: 100 };

function streamFor(suffix: string): StreamSettings {
  return {
    ...defaultStreamSettings,
    streamName: `PAYRAIL_TEST_${suffix}`,
    subjectPrefix: `payrail_test_${suffix}.events`,
    maxAgeMs: 3_600_000,
  };
}

function recordingHooks() {
  const seen = {
    redeliveries: [] as string[],
    deadLetters: [] as string[],
    results: [] as string[],
  };
  const hooks: BusHooks = {
    onRedelivery: (consumer) => seen.redeliveries.push(consumer),
    onDeadLetter: (consumer) => seen.deadLetters.push(consumer),
    onHandled: (consumer, result) => seen.results.push(`${consumer}:${result}`),
  };
  return { seen, hooks };
}

async function allHandled(testDatabase: TestDatabase, expected: number): Promise<boolean> {
  return (await count(testDatabase.database, 'SELECT 1 FROM bus_test_effects')) >= expected;
}

describe('JetStream event bus', () => {
  let testDatabase: TestDatabase;
  let merchantId: string;
  let connection: NatsConnection;
  const streams: string[] = [];

  before(async () => {
    testDatabase = await openTestDatabase('postgres');
    merchantId = await prepareDatabase(testDatabase.database);
    connection = await connectToNats(natsUrl);
  });
  after(async () => {
    const manager = await jetstreamManager(connection);
    for (const name of streams) await manager.streams.delete(name).catch(() => false);
    await connection.drain();
    await testDatabase.drop();
  });

  async function clean(): Promise<void> {
    await testDatabase.database.exec(
      'DELETE FROM bus_test_effects; DELETE FROM event_inbox; DELETE FROM event_dead_letters; DELETE FROM event_outbox',
    );
  }

  test('relay and workers deliver each event once to each consumer; duplicates change nothing', async () => {
    await clean();
    const { database } = testDatabase;
    const stream = streamFor(uniqueSuffix());
    streams.push(stream.streamName);
    const consumers = [recordingConsumer('webhooks'), recordingConsumer('status_sync')];
    const { seen, hooks } = recordingHooks();
    const bus = createEventBus({
      database,
      consumers,
      connection,
      streamName: stream.streamName,
      subjectPrefix: stream.subjectPrefix,
      maxAttempts: 3,
      logger: silentLogger,
      hooks,
      tuning: { pollIntervalMs: 50, batchSize: 25, stream: { maxAgeMs: stream.maxAgeMs } },
    });
    assert.equal(bus.mode, 'jetstream');
    const events = someEvents(merchantId, 60);
    await commitEvents(database, events.slice(0, 30));
    await bus.start();
    await commitEvents(database, events.slice(30));
    bus.notify();
    try {
      await waitUntil('every event handled by both consumers', () => allHandled(testDatabase, 120));
      assert.equal(await count(database, 'SELECT 1 FROM event_outbox'), 0);

      // The same event published again with its id: JetStream drops it.
      const client = jetstream(connection);
      const [first] = await eventsById(database, [events[0]!.id]);
      const subject = `${stream.subjectPrefix}.${first!.type}`;
      const copy = await client.publish(
        subject,
        JSON.stringify({
          ...first,
          merchant_id: first!.merchantId,
          object_id: first!.objectId,
          created_at: first!.createdAt,
        }),
        { msgID: first!.id },
      );
      assert.equal(copy.duplicate, true);
      // Published again under another message id (a relay that came back after the duplicate
      // window): delivered, and the inboxes drop it.
      const late = await client.publish(
        subject,
        JSON.stringify({
          ...first,
          merchant_id: first!.merchantId,
          object_id: first!.objectId,
          created_at: first!.createdAt,
        }),
        { msgID: `${first!.id}-late` },
      );
      assert.equal(late.duplicate, false);
      await waitUntil(
        'the late copy to be seen by both consumers',
        () => seen.results.filter((result) => result.endsWith(':duplicate')).length === 2,
      );
    } finally {
      await bus.stop();
    }
    const rows = await effects(database);
    assert.equal(rows.length, 120);
    assert.ok(rows.every((row) => row.copies === 1));
    assert.equal(consumers[0]!.calls, 60);
    assert.equal(consumers[1]!.calls, 60);
    const info = await (await jetstreamManager(connection)).streams.info(stream.streamName);
    assert.equal(info.state.messages, 61, 'sixty events and the late copy');
  });

  test('two relays racing publish each outbox row once', async () => {
    await clean();
    const { database } = testDatabase;
    const stream = streamFor(uniqueSuffix());
    streams.push(stream.streamName);
    await ensureStream(await jetstreamManager(connection), stream);
    await commitEvents(database, someEvents(merchantId, 120));
    const relays = [0, 1].map(
      () =>
        new JetStreamRelay({ connection, database, logger: silentLogger, stream, batchSize: 10 }),
    );
    const claimedBy = await Promise.all(
      relays.map(async (relay) => {
        let total = 0;
        for (let claimed = await relay.relayOnce(); claimed > 0; claimed = await relay.relayOnce())
          total += claimed;
        return total;
      }),
    );
    assert.equal(claimedBy[0]! + claimedBy[1]!, 120, `claimed ${claimedBy.join(' + ')}`);
    assert.equal(await count(database, 'SELECT 1 FROM event_outbox'), 0);
    assert.equal(
      (await (await jetstreamManager(connection)).streams.info(stream.streamName)).state.messages,
      120,
    );
  });

  test('a delivery whose handler committed but whose ack was lost is redelivered and changes nothing', async () => {
    await clean();
    const { database } = testDatabase;
    const stream = streamFor(uniqueSuffix());
    streams.push(stream.streamName);
    const consumer = recordingConsumer('ledger_sync');
    const manager = await jetstreamManager(connection);
    await ensureStream(manager, stream);
    await ensureConsumer(manager, stream.streamName, consumer.name, {
      ackWaitMs: 30_000,
      maxAckPending: 1000,
    });
    const relay = new JetStreamRelay({ connection, database, logger: silentLogger, stream });
    const [event] = someEvents(merchantId, 1);
    await commitEvents(database, [event!]);
    assert.equal(await relay.relayOnce(), 1);

    // A worker takes the message, commits the handler's work, and then loses the ack.
    const first = await (
      await jetstream(connection).consumers.get(stream.streamName, consumer.name)
    ).next({ expires: 5000 });
    assert.ok(first !== null);
    assert.equal(await handleOnce(database, consumer, decodeEvent(first.data)), 'handled');
    first.nak();

    const { seen, hooks } = recordingHooks();
    const bus = createEventBus({
      database,
      consumers: [consumer],
      connection,
      roles: ['workers'],
      streamName: stream.streamName,
      subjectPrefix: stream.subjectPrefix,
      maxAttempts: 3,
      logger: silentLogger,
      hooks,
      tuning: { stream: { maxAgeMs: stream.maxAgeMs } },
    });
    await bus.start();
    try {
      await waitUntil('the redelivery', () => seen.results.length === 1);
    } finally {
      await bus.stop();
    }
    assert.deepEqual(seen.redeliveries, ['ledger_sync']);
    assert.deepEqual(seen.results, ['ledger_sync:duplicate']);
    assert.equal(consumer.calls, 1);
    assert.equal(await count(database, 'SELECT 1 FROM bus_test_effects'), 1);
  });

  test('a consumer failing every delivery is dead-lettered after maxAttempts, then replayed', async () => {
    await clean();
    const { database } = testDatabase;
    const stream = streamFor(uniqueSuffix());
    streams.push(stream.streamName);
    const healthy = recordingConsumer('healthy');
    const broken = recordingConsumer('broken', { failing: true });
    const { seen, hooks } = recordingHooks();
    const bus = createEventBus({
      database,
      consumers: [healthy, broken],
      connection,
      streamName: stream.streamName,
      subjectPrefix: stream.subjectPrefix,
      maxAttempts: 3,
      logger: silentLogger,
      hooks,
      tuning: {
        retryDelays: fastRetries,
        pollIntervalMs: 50,
        stream: { maxAgeMs: stream.maxAgeMs },
      },
    });
    await bus.start();
    const [event] = someEvents(merchantId, 1);
    await commitEvents(database, [event!]);
    bus.notify();
    try {
      await waitUntil('the dead letter', () => seen.deadLetters.length === 1);
      // Nothing more arrives for the broken consumer: the message was terminated.
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await bus.stop();
    }
    assert.equal(broken.calls, 3);
    assert.deepEqual(seen.redeliveries, ['broken', 'broken']);
    assert.deepEqual(seen.results, ['healthy:handled']);
    assert.equal(await count(database, "SELECT 1 FROM event_inbox WHERE consumer = 'broken'"), 0);

    const deadLetters = new DeadLetters(database, [healthy, broken]);
    const [deadLetter] = (await deadLetters.list({ limit: 10 })).deadLetters;
    assert.equal(deadLetter?.consumer, 'broken');
    assert.equal(deadLetter.eventId, event!.id);
    assert.equal(deadLetter.attempts, 3);
    broken.failing = false;
    assert.equal((await deadLetters.replay(deadLetter.id)).outcome, 'handled');
    assert.deepEqual(
      (await effects(database)).map((row) => `${row.consumer}:${row.copies}`),
      ['broken:1', 'healthy:1'],
    );
  });
});

describe('JetStream event bus across a NATS restart', () => {
  test('events committed while NATS is down are delivered once it is back, each once per consumer', async () => {
    const server = new PrivateNatsServer();
    const testDatabase = await openTestDatabase('postgres');
    await server.start();
    const consumers = [recordingConsumer('webhooks'), recordingConsumer('status_sync')];
    const bus = createEventBus({
      database: testDatabase.database,
      consumers,
      natsUrl: server.url,
      maxAttempts: 5,
      logger: testLogger(),
      tuning: { pollIntervalMs: 50, reconnectTimeWaitMs: 100, retryDelays: fastRetries },
    });
    try {
      const merchantId = await prepareDatabase(testDatabase.database);
      const events = someEvents(merchantId, 30);
      await bus.start();
      await commitEvents(testDatabase.database, events.slice(0, 10));
      bus.notify();
      await waitUntil('the first events', () => allHandled(testDatabase, 20));

      await server.kill();
      await commitEvents(testDatabase.database, events.slice(10, 20));
      bus.notify();
      await new Promise((resolve) => setTimeout(resolve, 500));
      await server.start();
      await commitEvents(testDatabase.database, events.slice(20));
      bus.notify();
      await waitUntil('every event after the restart', () => allHandled(testDatabase, 60), {
        timeoutMs: 30_000,
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const rows = await effects(testDatabase.database);
      assert.equal(rows.length, 60);
      assert.ok(rows.every((row) => row.copies === 1));
      assert.equal(await count(testDatabase.database, 'SELECT 1 FROM event_outbox'), 0);
    } finally {
      await bus.stop();
      await server.destroy();
      await testDatabase.drop();
    }
  });
});
