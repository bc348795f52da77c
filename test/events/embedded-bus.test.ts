// The embedded event bus on PGlite and real PostgreSQL: only committed events are delivered,
// each consumer handles each event once even with dispatchers racing, and a failing consumer is
// retried, dead-lettered and replayed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import {
  DeadLetters,
  EmbeddedBus,
  createEventBus,
  handleOnce,
  silentLogger,
  type BusHooks,
} from '../../src/events/bus/index.ts';
import { eventsById, insertEvents, newEvent } from '../../src/events/events.ts';
import { registerDeadLetterRoutes } from '../../src/http/routes/dead-letters.ts';
import { toErrorResponse } from '../../src/http/errors.ts';
import { openPostgres } from '../../src/storage/postgres.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.ts';
import { waitUntil } from '../support/wait.ts';
import {
  commitEvents,
  count,
  effects,
  prepareDatabase,
  recordingConsumer,
  someEvents,
} from './support.ts';
import type { EventConsumer } from '../../src/events/consumer.ts';

const fastRetries = { retryDelayMsBase: 5, retryDelayMsMax: 20 };

function countingHooks() {
  const counts = {
    redeliveries: new Map<string, number>(),
    deadLetters: new Map<string, number>(),
    handled: new Map<string, number>(),
    duplicates: new Map<string, number>(),
  };
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  const hooks: BusHooks = {
    onRedelivery: (consumer) => bump(counts.redeliveries, consumer),
    onDeadLetter: (consumer) => bump(counts.deadLetters, consumer),
    onHandled: (consumer, result) =>
      bump(result === 'handled' ? counts.handled : counts.duplicates, consumer),
  };
  return { counts, hooks };
}

for (const kind of databaseKinds) {
  describe(`embedded event bus on ${kind}`, () => {
    let testDatabase: TestDatabase;
    let merchantId: string;
    before(async () => {
      testDatabase = await openTestDatabase(kind);
      merchantId = await prepareDatabase(testDatabase.database);
    });
    after(() => testDatabase.drop());

    test('a consumer of some event types gets only those: no call and no inbox row for the rest, and the outbox empties', async () => {
      const { database } = testDatabase;
      const created = someEvents(merchantId, 3);
      const refunded = newEvent(merchantId, 'charge.refunded', {
        id: 'ch_test_1',
        object: 'charge',
      });
      await commitEvents(database, [...created, refunded]);
      const seen: string[] = [];
      const picky: EventConsumer = {
        name: 'picky',
        eventTypes: new Set(['charge.refunded']),
        async handle(_tx, event) {
          seen.push(event.type);
        },
      };
      const everything = recordingConsumer('everything');
      const bus = new EmbeddedBus({
        database,
        consumers: [picky, everything],
        maxAttempts: 3,
        logger: silentLogger,
        retryDelays: fastRetries,
      });
      await bus.dispatchOnce();
      assert.deepEqual(seen, ['charge.refunded']);
      assert.equal(everything.calls, 4);
      const inbox = await database.query<{ n: string }>(
        "SELECT count(*)::text AS n FROM event_inbox WHERE consumer = 'picky'",
      );
      assert.equal(inbox.rows[0]?.n, '1');
      assert.equal(await count(database, 'SELECT 1 FROM event_outbox'), 0);
      await database.query("DELETE FROM bus_test_effects WHERE consumer = 'everything'");
    });

    test('a consumer that takes batches gets one call per batch; when the batch fails, each event is handled once on its own', async () => {
      const { database } = testDatabase;
      const events = someEvents(merchantId, 12);
      await commitEvents(database, events);
      const batches: number[] = [];
      let singles = 0;
      let failBatch = true;
      const insert = (tx: Parameters<EventConsumer['handle']>[0], eventId: string) =>
        tx.query('INSERT INTO bus_test_effects (consumer, event_id) VALUES ($1, $2)', [
          'batcher',
          eventId,
        ]);
      const batcher: EventConsumer = {
        name: 'batcher',
        async handle(tx, event) {
          singles++;
          await insert(tx, event.id);
        },
        async handleMany(tx, many) {
          batches.push(many.length);
          for (const event of many) await insert(tx, event.id);
          if (failBatch) {
            failBatch = false;
            throw new Error('the first batch fails');
          }
        },
      };
      const bus = new EmbeddedBus({
        database,
        consumers: [batcher],
        maxAttempts: 3,
        logger: silentLogger,
        retryDelays: fastRetries,
      });
      await bus.dispatchOnce();
      const mine = (await effects(database)).filter((row) => row.consumer === 'batcher');
      assert.equal(mine.length, 12);
      assert.ok(
        mine.every((row) => row.copies === 1),
        'the failed batch left nothing behind',
      );
      assert.deepEqual(batches, [12], 'one call for the batch');
      assert.equal(singles, 12, 'after the failure, one call per event');
      const more = someEvents(merchantId, 5);
      await commitEvents(database, more);
      await bus.dispatchOnce();
      assert.deepEqual(batches, [12, 5]);
      assert.equal(singles, 12);
      await database.query("DELETE FROM bus_test_effects WHERE consumer = 'batcher'");
    });

    test('an event of a rolled-back transaction is never delivered; committed ones reach every consumer once', async () => {
      const { database } = testDatabase;
      const [rolledBack, committed] = someEvents(merchantId, 2);
      await assert.rejects(
        database.transaction(async (tx) => {
          await insertEvents(tx, [rolledBack!], new Date());
          throw new Error('the change failed');
        }),
        /the change failed/,
      );
      await commitEvents(database, [committed!]);
      const consumers = [recordingConsumer('first'), recordingConsumer('second')];
      const bus = createEventBus({
        database,
        consumers,
        maxAttempts: 3,
        logger: silentLogger,
        tuning: { pollIntervalMs: 50 },
      });
      assert.equal(bus.mode, 'embedded');
      await bus.start();
      bus.notify();
      try {
        await waitUntil(
          'the outbox to drain',
          async () => (await count(database, 'SELECT 1 FROM event_outbox')) === 0,
        );
      } finally {
        await bus.stop();
      }
      assert.deepEqual(await effects(database), [
        { consumer: 'first', event_id: committed!.id, copies: 1 },
        { consumer: 'second', event_id: committed!.id, copies: 1 },
      ]);
      assert.equal(
        await count(database, 'SELECT 1 FROM events WHERE id = $1', [rolledBack!.id]),
        0,
      );
      await database.exec('DELETE FROM bus_test_effects');
    });

    test('handleOnce: a second delivery of the same event changes nothing', async () => {
      const { database } = testDatabase;
      const [event] = someEvents(merchantId, 1);
      await commitEvents(database, [event!]);
      const [stored] = await eventsById(database, [event!.id]);
      const consumer = recordingConsumer('once');
      assert.equal(await handleOnce(database, consumer, stored!), 'handled');
      assert.equal(await handleOnce(database, consumer, stored!), 'duplicate');
      assert.equal(consumer.calls, 1);
      assert.equal(
        await count(database, "SELECT 1 FROM bus_test_effects WHERE consumer = 'once'"),
        1,
      );
      await database.exec('DELETE FROM event_outbox; DELETE FROM bus_test_effects');
    });

    test('a failing consumer is retried with backoff, dead-lettered after maxAttempts, and replayed', async () => {
      const { database } = testDatabase;
      const [poison, flaky] = someEvents(merchantId, 2);
      await commitEvents(database, [poison!, flaky!]);
      const healthy = recordingConsumer('healthy');
      const broken = recordingConsumer('broken', { failing: true });
      const { counts, hooks } = countingHooks();
      const bus = new EmbeddedBus({
        database,
        consumers: [healthy, broken],
        maxAttempts: 3,
        logger: silentLogger,
        hooks,
        pollIntervalMs: 1000,
        retryDelays: fastRetries,
      });
      await bus.start();
      bus.notify();
      try {
        await waitUntil(
          'the outbox to drain',
          async () => (await count(database, 'SELECT 1 FROM event_outbox')) === 0,
        );
      } finally {
        await bus.stop();
      }
      // Three attempts for each of the two events, and the fast-path run that found the first failure.
      assert.equal(broken.calls, 7);
      assert.equal(counts.redeliveries.get('broken'), 4);
      assert.equal(counts.deadLetters.get('broken'), 2);
      assert.equal(counts.handled.get('healthy'), 2);
      assert.equal(
        counts.duplicates.size,
        0,
        'retry passes do not report the healthy consumer again',
      );
      assert.equal(
        counts.redeliveries.get('healthy'),
        undefined,
        'the healthy consumer is not retried',
      );
      assert.equal(
        await count(database, "SELECT 1 FROM event_inbox WHERE consumer = 'broken'"),
        0,
        'a dead letter leaves no inbox row',
      );
      assert.equal(await count(database, 'SELECT 1 FROM event_consumer_failures'), 0);

      const deadLetters = new DeadLetters(database, [healthy, broken], hooks);
      const page = await deadLetters.list({ limit: 1, status: 'pending' });
      assert.equal(page.deadLetters.length, 1);
      assert.equal(page.hasMore, true);
      const all = (await deadLetters.list({ limit: 10, consumer: 'broken' })).deadLetters;
      assert.deepEqual(
        all.map((deadLetter) => deadLetter.eventId).sort(),
        [poison!.id, flaky!.id].sort(),
      );
      const deadLetter = all.find((entry) => entry.eventId === poison!.id)!;
      assert.equal(deadLetter.attempts, 3);
      assert.match(deadLetter.lastError, /failing on purpose/);

      const failedReplay = await deadLetters.replay(deadLetter.id);
      assert.equal(failedReplay.outcome, 'failed');
      assert.equal(failedReplay.deadLetter.replayedAt, null);
      assert.equal(failedReplay.deadLetter.replayCount, 1);

      broken.failing = false;
      const replay = await deadLetters.replay(deadLetter.id);
      assert.equal(replay.outcome, 'handled');
      assert.notEqual(replay.deadLetter.replayedAt, null);
      assert.equal(replay.deadLetter.replayCount, 2);
      const again = await deadLetters.replay(deadLetter.id);
      assert.equal(again.outcome, 'duplicate');
      assert.equal(
        await count(database, "SELECT 1 FROM bus_test_effects WHERE consumer = 'broken'"),
        1,
      );
      assert.deepEqual(
        (await deadLetters.list({ limit: 10, status: 'replayed' })).deadLetters.map(
          (entry) => entry.id,
        ),
        [deadLetter.id],
      );
      await database.exec('DELETE FROM bus_test_effects');
    });

    test('a consumer that fails its first two attempts is handled on the third, without a dead letter', async () => {
      const { database } = testDatabase;
      const [event] = someEvents(merchantId, 1);
      await commitEvents(database, [event!]);
      // The first failure happens on the fast path, which is run again with savepoints: attempt one.
      const flaky = recordingConsumer('flaky', { failuresLeft: 3 });
      const { counts, hooks } = countingHooks();
      const bus = new EmbeddedBus({
        database,
        consumers: [flaky],
        maxAttempts: 3,
        logger: silentLogger,
        hooks,
        pollIntervalMs: 1000,
        retryDelays: fastRetries,
      });
      await bus.start();
      try {
        await waitUntil(
          'the outbox to drain',
          async () => (await count(database, 'SELECT 1 FROM event_outbox')) === 0,
        );
      } finally {
        await bus.stop();
      }
      assert.equal(flaky.calls, 4);
      assert.equal(counts.redeliveries.get('flaky'), 2);
      assert.equal(counts.handled.get('flaky'), 1);
      assert.equal(
        await count(database, "SELECT 1 FROM event_dead_letters WHERE consumer = 'flaky'"),
        0,
      );
      assert.equal(await count(database, "SELECT 1 FROM event_inbox WHERE consumer = 'flaky'"), 1);
      await database.exec('DELETE FROM bus_test_effects');
    });
  });
}

describe('embedded event bus: two dispatchers racing on PostgreSQL', () => {
  test('each consumer handles each event exactly once', async () => {
    const testDatabase = await openTestDatabase('postgres');
    // A second pool stands in for a second Payrail process.
    const secondPool = openPostgres({ connectionString: testDatabase.url!, poolSize: 4 });
    try {
      const { database } = testDatabase;
      const merchantId = await prepareDatabase(database);
      const eventCount = 300;
      const events = someEvents(merchantId, eventCount);
      for (let index = 0; index < eventCount; index += 50)
        await commitEvents(database, events.slice(index, index + 50));
      const names = ['alpha', 'beta', 'gamma'];
      const handledBy = [0, 0];
      const buses = [database, secondPool].map(
        (pool, index) =>
          new EmbeddedBus({
            database: pool,
            consumers: names.map((name) => recordingConsumer(name, { delayMs: 1 })),
            maxAttempts: 3,
            logger: silentLogger,
            batchSize: 20,
            pollIntervalMs: 20,
            hooks: { onHandled: () => handledBy[index]!++ },
          }),
      );
      await Promise.all(buses.map((bus) => bus.start()));
      try {
        await waitUntil(
          'the outbox to drain',
          async () => (await count(database, 'SELECT 1 FROM event_outbox')) === 0,
          { timeoutMs: 30_000 },
        );
      } finally {
        await Promise.all(buses.map((bus) => bus.stop()));
      }
      const rows = await effects(database);
      assert.equal(rows.length, eventCount * names.length);
      assert.ok(
        rows.every((row) => row.copies === 1),
        'no event was handled twice by one consumer',
      );
      assert.equal(await count(database, 'SELECT 1 FROM event_inbox'), eventCount * names.length);
      assert.equal(handledBy[0]! + handledBy[1]!, eventCount * names.length);
      assert.ok(
        handledBy[0]! > 0 && handledBy[1]! > 0,
        `both dispatchers took part (${handledBy.join(' and ')})`,
      );
    } finally {
      await secondPool.close();
      await testDatabase.drop();
    }
  });
});

describe('embedded event bus: a consumer failing on every event (PostgreSQL)', () => {
  test('careful batches stay within the savepoint budget and dead-letter everything', async () => {
    const testDatabase = await openTestDatabase('postgres');
    try {
      const { database } = testDatabase;
      const merchantId = await prepareDatabase(database);
      await commitEvents(database, someEvents(merchantId, 150));
      const { counts, hooks } = countingHooks();
      const consumers = [
        recordingConsumer('good'),
        recordingConsumer('other'),
        recordingConsumer('bad', { failing: true }),
      ];
      const bus = new EmbeddedBus({
        database,
        consumers,
        maxAttempts: 2,
        logger: silentLogger,
        hooks,
        pollIntervalMs: 1000,
        retryDelays: fastRetries,
      });
      await bus.start();
      try {
        await waitUntil(
          'the outbox to drain',
          async () => (await count(database, 'SELECT 1 FROM event_outbox')) === 0,
          { timeoutMs: 30_000 },
        );
      } finally {
        await bus.stop();
      }
      assert.equal(counts.deadLetters.get('bad'), 150);
      assert.equal(counts.handled.get('good'), 150);
      assert.equal(counts.handled.get('other'), 150);
      assert.equal(
        await count(
          database,
          "SELECT 1 FROM event_dead_letters WHERE consumer = 'bad' AND attempts = 2",
        ),
        150,
      );
      assert.equal(await count(database, 'SELECT 1 FROM event_consumer_failures'), 0);
      assert.ok(
        (await effects(database)).every((row) => row.copies === 1 && row.consumer !== 'bad'),
      );
    } finally {
      await testDatabase.drop();
    }
  });
});

describe('dead-letter admin routes', () => {
  test('list and replay over HTTP', async () => {
    const testDatabase = await openTestDatabase('postgres');
    const app = Fastify();
    try {
      const { database } = testDatabase;
      const merchantId = await prepareDatabase(database);
      const [event] = someEvents(merchantId, 1);
      await commitEvents(database, [event!]);
      const consumer = recordingConsumer('routed', { failing: true });
      const bus = new EmbeddedBus({
        database,
        consumers: [consumer],
        maxAttempts: 1,
        logger: silentLogger,
      });
      await bus.dispatchOnce();
      app.setErrorHandler((error, request, reply) => {
        const response = toErrorResponse(error, request.id);
        void reply.code(response.status).send(response.body);
      });
      registerDeadLetterRoutes(app, { deadLetters: new DeadLetters(database, [consumer]) });
      const listed = await app.inject({
        method: 'GET',
        url: '/v1/admin/dead_letters?limit=10&status=pending',
      });
      assert.equal(listed.statusCode, 200);
      const body = listed.json() as {
        object: string;
        data: { id: string; event: string; event_type: string; attempts: number; replayed: null }[];
      };
      assert.equal(body.object, 'list');
      assert.equal(body.data.length, 1);
      assert.equal(body.data[0]!.event, event!.id);
      assert.equal(body.data[0]!.event_type, 'payment_intent.created');
      consumer.failing = false;
      const replayed = await app.inject({
        method: 'POST',
        url: `/v1/admin/dead_letters/${body.data[0]!.id}/replay`,
      });
      assert.equal(replayed.statusCode, 200);
      assert.equal((replayed.json() as { replay_outcome: string }).replay_outcome, 'handled');
      const missing = await app.inject({
        method: 'POST',
        url: '/v1/admin/dead_letters/dl_nope/replay',
      });
      assert.equal(missing.statusCode, 404);
    } finally {
      await app.close();
      await testDatabase.drop();
    }
  });
});
