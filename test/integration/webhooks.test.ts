// Webhooks to merchants: endpoints over HTTP (CRUD, validation, isolation), the fan-out consumer,
// and the deliverer against a local receiver that verifies every request with the reference
// Standard Webhooks package (success, retries on a schedule, 410, dead letter, timeout, replay,
// leases), plus two concurrent deliverers on real Postgres.
import { clockFrom, type Clock } from '../../src/clock.ts';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { insertEvents, newEvent, type EventType, type NewEvent } from '../../src/events/events.ts';
import { presentEvent } from '../../src/api-objects/event.ts';
import { buildApp } from '../../src/http/app.ts';
import { toJson } from '../../src/api-objects/json.ts';
import { Merchants } from '../../src/merchants/merchants.ts';
import type { Database } from '../../src/storage/database.ts';
import { openPostgres } from '../../src/storage/postgres.ts';
import {
  createWebhooks,
  fanOutEvent,
  fanOutEvents,
  masterKeySecretBox,
  webhookFanout,
  WebhookDeliverer,
  WebhookEndpoints,
  type DeliveryResult,
  type Resolver,
  type Webhooks,
} from '../../src/webhooks/index.ts';
import { openTestDatabase, type TestDatabase } from '../support/databases.ts';
import { call, startTestServer, testAdminKey, type TestServer } from '../support/server.ts';

// ---------------------------------------------------------------------------------------------
// A receiver: one node:http server, many endpoints (by path), each verified with its secret.

type Received = {
  path: string;
  id: string;
  body: string;
  verified: boolean;
  verifyError: string | undefined;
  headers: http.IncomingHttpHeaders;
};
type Answer = { status: number; delayMs?: number };

type Receiver = {
  url: string;
  received: Received[];
  secrets: Map<string, string>;
  /** How the next request to `path` is answered (default 200). */
  answer: (path: string, answer: (count: number) => Answer) => void;
  close(): Promise<void>;
};

async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const secrets = new Map<string, string>();
  const answers = new Map<string, (count: number) => Answer>();
  const counts = new Map<string, number>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      const body = Buffer.concat(chunks).toString('utf8');
      let verifyError: string | undefined;
      try {
        new Webhook(secrets.get(path) ?? 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw').verify(
          body,
          request.headers as Record<string, string>,
        );
      } catch (error) {
        verifyError = (error as Error).message;
      }
      received.push({
        path,
        id: String(request.headers['webhook-id']),
        body,
        verified: verifyError === undefined,
        verifyError,
        headers: request.headers,
      });
      const count = (counts.get(path) ?? 0) + 1;
      counts.set(path, count);
      const answer = answers.get(path)?.(count) ?? { status: 200 };
      const send = () => {
        if (!response.destroyed)
          response.writeHead(answer.status, { 'content-type': 'text/plain' }).end('ok');
      };
      if (answer.delayMs === undefined) send();
      else setTimeout(send, answer.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    secrets,
    answer: (path, answer) => void answers.set(path, answer),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers over a database.

const hugeAmount = 2n ** 60n + 1n; // beyond 2^53: must reach the receiver exact

function paymentEvent(merchantId: string, type: EventType = 'payment_intent.succeeded'): NewEvent {
  return newEvent(merchantId, type, {
    id: `pi_${crypto.randomBytes(6).toString('hex')}`,
    object: 'payment_intent',
    amount: hugeAmount,
    currency: 'usd',
  });
}

/** Inserts events (as a state change would) and fans them out (as the bus would). */
async function publish(database: Database, events: readonly NewEvent[]): Promise<void> {
  await database.transaction((tx) => insertEvents(tx, events, new Date()));
  for (const event of events) {
    const stored = await database.query<{
      created_at: Date;
      data: { object: Record<string, unknown> };
    }>('SELECT created_at, data FROM events WHERE id = $1', [event.id]);
    const row = stored.rows[0];
    assert.ok(row !== undefined);
    await database.transaction((tx) =>
      webhookFanout.handle(tx, {
        id: event.id,
        merchantId: event.merchantId,
        type: event.type,
        objectId: event.object.id,
        data: row.data,
        createdAt: row.created_at,
      }),
    );
  }
}

type DeliveryRow = {
  id: string;
  endpoint_id: string;
  event_id: string;
  status: string;
  attempt_count: number;
  next_attempt_at: Date | null;
  last_http_status: number | null;
  last_error: string | null;
};

async function deliveriesOf(database: Database, endpointId: string): Promise<DeliveryRow[]> {
  const result = await database.query<DeliveryRow>(
    'SELECT id, endpoint_id, event_id, status, attempt_count, next_attempt_at, last_http_status, last_error FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id',
    [endpointId],
  );
  return result.rows;
}

async function attemptsOf(
  database: Database,
  deliveryId: string,
): Promise<
  {
    attempt_number: number;
    http_status: number | null;
    error: string | null;
    duration_ms: number;
  }[]
> {
  const result = await database.query<{
    attempt_number: number;
    http_status: number | null;
    error: string | null;
    duration_ms: number;
  }>(
    'SELECT attempt_number, http_status, error, duration_ms FROM webhook_delivery_attempts WHERE delivery_id = $1 ORDER BY attempt_number',
    [deliveryId],
  );
  return result.rows;
}

// One in-memory PGlite for the fan-out and deliverer tests: migrating one takes seconds.
let sharedPglite: Promise<TestDatabase> | undefined;
const pglite = () => (sharedPglite ??= openTestDatabase('pglite'));
after(async () => {
  await (await sharedPglite)?.drop();
});

// ---------------------------------------------------------------------------------------------

describe('webhook fan-out consumer (pglite)', () => {
  let test_: TestDatabase;
  let endpoints: WebhookEndpoints;
  let merchantId: string;
  let otherMerchantId: string;

  before(async () => {
    test_ = await pglite();
    endpoints = new WebhookEndpoints(test_.database, masterKeySecretBox(crypto.randomBytes(32)));
    const merchants = new Merchants(test_.database);
    merchantId = (await merchants.create({ name: 'Shop' })).merchant.id;
    otherMerchantId = (await merchants.create({ name: 'Other' })).merchant.id;
  });

  test('one pending delivery per enabled endpoint of the merchant that subscribed; a redelivered event adds nothing', async () => {
    const url = 'https://merchant.example/hooks';
    const all = (await endpoints.create(merchantId, { url, enabledEvents: ['*'] })).endpoint;
    const exact = (
      await endpoints.create(merchantId, {
        url,
        enabledEvents: ['refund.created', 'payment_intent.succeeded'],
      })
    ).endpoint;
    const otherType = (
      await endpoints.create(merchantId, { url, enabledEvents: ['refund.created'] })
    ).endpoint;
    const disabled = (await endpoints.create(merchantId, { url, enabledEvents: ['*'] })).endpoint;
    await endpoints.update(merchantId, disabled.id, { disabled: true });
    const otherMerchant = (await endpoints.create(otherMerchantId, { url, enabledEvents: ['*'] }))
      .endpoint;

    const event = paymentEvent(merchantId);
    await publish(test_.database, [event]);
    const rows = await test_.database.query<{
      endpoint_id: string;
      status: string;
      merchant_id: string;
      event_id: string;
      next_attempt_at: Date | null;
    }>(
      'SELECT endpoint_id, status, merchant_id, event_id, next_attempt_at FROM webhook_deliveries WHERE event_id = $1 ORDER BY endpoint_id',
      [event.id],
    );
    assert.deepEqual(rows.rows.map((row) => row.endpoint_id).sort(), [all.id, exact.id].sort());
    for (const row of rows.rows) {
      assert.equal(row.status, 'pending');
      assert.equal(row.merchant_id, merchantId);
      assert.ok(row.next_attempt_at !== null && row.next_attempt_at.getTime() <= Date.now() + 1000);
    }
    assert.equal((await deliveriesOf(test_.database, otherType.id)).length, 0);
    assert.equal((await deliveriesOf(test_.database, disabled.id)).length, 0);
    assert.equal((await deliveriesOf(test_.database, otherMerchant.id)).length, 0);

    // The bus may hand the same event over again (crash before its inbox commit): nothing new.
    const stored = {
      id: event.id,
      merchantId,
      type: event.type,
      objectId: event.object.id,
      data: { object: event.object },
      createdAt: new Date(),
    };
    assert.equal(await test_.database.transaction((tx) => fanOutEvent(tx, stored)), 0);
    assert.equal(webhookFanout.name, 'webhook_fanout');
    const count = await test_.database.query<{ count: bigint }>(
      'SELECT count(*) AS count FROM webhook_deliveries WHERE event_id = $1',
      [event.id],
    );
    assert.equal(count.rows[0]?.count, 2n);
  });

  test('a batch of events of several merchants fans out as each event alone would', async () => {
    const url = 'https://merchant.example/batch';
    const mine = (
      await endpoints.create(merchantId, { url, enabledEvents: ['payment_intent.succeeded'] })
    ).endpoint;
    const theirs = (await endpoints.create(otherMerchantId, { url, enabledEvents: ['*'] }))
      .endpoint;
    const events = [
      paymentEvent(merchantId),
      paymentEvent(otherMerchantId),
      paymentEvent(merchantId),
    ];
    await test_.database.transaction((tx) => insertEvents(tx, events, new Date()));
    const stored = events.map((event) => ({
      id: event.id,
      merchantId: event.merchantId,
      type: event.type,
      objectId: event.object.id,
      data: { object: event.object },
      createdAt: new Date(),
    }));
    const handleMany = webhookFanout.handleMany;
    assert.ok(handleMany !== undefined, 'the fan-out takes batches');
    await test_.database.transaction((tx) => handleMany(tx, stored));
    assert.deepEqual(
      (await deliveriesOf(test_.database, mine.id)).map((row) => row.event_id).sort(),
      [events[0]?.id, events[2]?.id].sort(),
    );
    assert.deepEqual(
      (await deliveriesOf(test_.database, theirs.id)).map((row) => row.event_id),
      [events[1]?.id],
    );
    // Handed over again, the batch adds nothing.
    assert.equal(await test_.database.transaction((tx) => fanOutEvents(tx, stored)), 0);
  });

  test('an event of a merchant without endpoints makes no deliveries', async () => {
    const merchants = new Merchants(test_.database);
    const lonely = (await merchants.create({ name: 'Lonely' })).merchant.id;
    const event = paymentEvent(lonely, 'refund.created');
    await publish(test_.database, [event]);
    const count = await test_.database.query<{ count: bigint }>(
      'SELECT count(*) AS count FROM webhook_deliveries WHERE event_id = $1',
      [event.id],
    );
    assert.equal(count.rows[0]?.count, 0n);
  });
});

// ---------------------------------------------------------------------------------------------

describe('webhook deliverer (pglite, local receiver verifying with standardwebhooks)', () => {
  let test_: TestDatabase;
  let receiver: Receiver;
  let endpoints: WebhookEndpoints;
  let merchantId: string;
  const secretBox = masterKeySecretBox(crypto.randomBytes(32));
  // A clock the tests move forward (a few seconds at most: signatures must stay fresh).
  let offsetMs = 0;
  const clock = clockFrom(() => new Date(Date.now() + offsetMs));
  let results: DeliveryResult[] = [];

  function deliverer(
    options: {
      retryDelaysMs?: number[];
      timeoutMs?: number;
      leaseMs?: number;
      clock?: Clock;
      resolve?: Resolver;
    } = {},
  ): WebhookDeliverer {
    return new WebhookDeliverer(test_.database, {
      secretBox,
      allowLoopback: true, // the receiver is on 127.0.0.1
      retryDelaysMs: [1_000, 2_000],
      jitterRatio: 0,
      clock,
      onResult: (result) => results.push(result),
      ...options,
    });
  }

  /** An endpoint on the receiver at `path`, with its secret registered there. */
  async function endpoint(path: string, enabledEvents: string[] = ['*']): Promise<string> {
    const created = await endpoints.create(merchantId, {
      url: `${receiver.url}${path}`,
      enabledEvents,
    });
    receiver.secrets.set(path, created.secret);
    return created.endpoint.id;
  }

  before(async () => {
    test_ = await pglite();
    receiver = await startReceiver();
    endpoints = new WebhookEndpoints(test_.database, secretBox, { allowLoopback: true });
    merchantId = (await new Merchants(test_.database).create({ name: 'Shop' })).merchant.id;
  });
  after(() => receiver.close());
  beforeEach(async () => {
    // Each test starts with no deliveries anywhere (the deliverer claims from every merchant).
    await test_.database.query('DELETE FROM webhook_endpoints');
    receiver.received.length = 0;
    results = [];
    offsetMs = 0;
  });

  test('2xx: succeeded after one attempt; the request is the presented event, signed, with exact amounts', async () => {
    const endpointId = await endpoint('/ok');
    const event = paymentEvent(merchantId);
    await publish(test_.database, [event]);
    const outcome = await deliverer().runOnce();
    assert.deepEqual(
      outcome.map((result) => [result.outcome, result.httpStatus, result.attemptNumber]),
      [['succeeded', 200, 1]],
    );
    assert.equal(receiver.received.length, 1);
    const request = receiver.received[0];
    assert.ok(request !== undefined);
    assert.equal(request.verified, true, request.verifyError);
    assert.equal(request.id, event.id);
    assert.equal(request.headers['content-type'], 'application/json');
    const stored = await test_.database.query<{ created_at: Date }>(
      'SELECT created_at FROM events WHERE id = $1',
      [event.id],
    );
    const expected = toJson(
      presentEvent({
        id: event.id,
        merchantId,
        type: event.type,
        objectId: event.object.id,
        data: { object: event.object },
        createdAt: stored.rows[0]?.created_at as Date,
        // Made outside any API request; at the send, this one delivery had not succeeded yet.
        request: { id: null, idempotencyKey: null },
        pendingWebhooks: 1,
      }),
    );
    assert.equal(request.body, expected);
    assert.ok(request.body.includes(`"amount":${hugeAmount}`));
    const [delivery] = await deliveriesOf(test_.database, endpointId);
    assert.deepEqual(
      { ...delivery, id: undefined },
      {
        id: undefined,
        endpoint_id: endpointId,
        event_id: event.id,
        status: 'succeeded',
        attempt_count: 1,
        next_attempt_at: null,
        last_http_status: 200,
        last_error: null,
      },
    );
    const attempts = await attemptsOf(test_.database, delivery?.id ?? '');
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0]?.http_status, 200);
    assert.deepEqual(await deliverer().runOnce(), []);
  });

  test('500 then 500 then 200: retried on the schedule, not before', async () => {
    const endpointId = await endpoint('/flaky');
    receiver.answer('/flaky', (count) => ({ status: count <= 2 ? 500 : 200 }));
    await publish(test_.database, [paymentEvent(merchantId)]);
    const worker = deliverer();
    const first = await worker.runOnce();
    assert.equal(first[0]?.outcome, 'retrying');
    const [afterFirst] = await deliveriesOf(test_.database, endpointId);
    assert.equal(afterFirst?.status, 'pending');
    assert.equal(afterFirst?.last_http_status, 500);
    // With no jitter, the next attempt is exactly the first delay after the failure was recorded.
    const firstDelayMs = (afterFirst?.next_attempt_at?.getTime() ?? 0) - Date.now();
    assert.ok(firstDelayMs > 500 && firstDelayMs <= 1_000, `next attempt in ${firstDelayMs} ms`);
    assert.equal(first[0]?.nextAttemptAt?.getTime(), afterFirst?.next_attempt_at?.getTime());

    assert.deepEqual(await worker.runOnce(), [], 'not due yet');
    offsetMs = 1_000;
    const second = await worker.runOnce();
    assert.equal(second[0]?.outcome, 'retrying');
    const secondDelayMs = (second[0]?.nextAttemptAt?.getTime() ?? 0) - clock.now().getTime();
    assert.ok(
      secondDelayMs > 1_500 && secondDelayMs <= 2_000,
      `next attempt in ${secondDelayMs} ms`,
    );
    offsetMs = 2_000;
    assert.deepEqual(await worker.runOnce(), [], 'not due yet');
    offsetMs = 3_100;
    const third = await worker.runOnce();
    assert.equal(third[0]?.outcome, 'succeeded');
    const [delivery] = await deliveriesOf(test_.database, endpointId);
    assert.equal(delivery?.status, 'succeeded');
    assert.equal(delivery?.attempt_count, 3);
    assert.deepEqual(
      (await attemptsOf(test_.database, delivery?.id ?? '')).map((attempt) => attempt.http_status),
      [500, 500, 200],
    );
    assert.equal(receiver.received.length, 3);
    assert.ok(
      receiver.received.every((request) => request.verified && request.id === delivery?.event_id),
      'same webhook-id on every retry, each signed afresh',
    );
  });

  test('410 Gone: the endpoint is disabled with a reason, the delivery failed, its other deliveries are not sent', async () => {
    const endpointId = await endpoint('/gone');
    const keptId = await endpoint('/kept');
    receiver.answer('/gone', () => ({ status: 410 }));
    await publish(test_.database, [paymentEvent(merchantId)]);
    await publish(test_.database, [paymentEvent(merchantId)]);
    const worker = deliverer();
    // One at a time, so that the second delivery to /gone is still pending when the first gets 410.
    const outcomes: string[] = [];
    for (let run = 0; run < 10; run++)
      outcomes.push(
        ...(await worker.runOnce(1)).map(
          (result) => `${result.endpointId === endpointId ? 'gone' : 'kept'}:${result.outcome}`,
        ),
      );
    assert.deepEqual(
      outcomes.filter((outcome) => outcome.startsWith('gone')),
      ['gone:failed'],
    );
    assert.deepEqual(
      outcomes.filter((outcome) => outcome.startsWith('kept')),
      ['kept:succeeded', 'kept:succeeded'],
    );
    const stored = await endpoints.retrieve(merchantId, endpointId);
    assert.equal(stored.status, 'disabled');
    assert.match(stored.disabledReason ?? '', /410 Gone/);
    const deliveries = await deliveriesOf(test_.database, endpointId);
    assert.deepEqual(
      deliveries.map((delivery) => delivery.status),
      ['failed', 'failed'],
    );
    assert.deepEqual(deliveries.map((delivery) => delivery.attempt_count).sort(), [0, 1]);
    assert.ok(deliveries.every((delivery) => delivery.next_attempt_at === null));
    assert.equal(receiver.received.filter((request) => request.path === '/gone').length, 1);
    assert.equal((await endpoints.retrieve(merchantId, keptId)).status, 'enabled');
    // A new event is not fanned out to the disabled endpoint.
    await publish(test_.database, [paymentEvent(merchantId)]);
    assert.equal((await deliveriesOf(test_.database, endpointId)).length, 2);
  });

  test('a failure after the last scheduled retry is dead; nothing more is sent', async () => {
    const endpointId = await endpoint('/down');
    receiver.answer('/down', () => ({ status: 503 }));
    await publish(test_.database, [paymentEvent(merchantId)]);
    const worker = deliverer({ retryDelaysMs: [10, 20] });
    const outcomes: string[] = [];
    for (let run = 0; run < 8; run++) {
      outcomes.push(...(await worker.runOnce()).map((result) => result.outcome));
      await sleep(25);
    }
    assert.deepEqual(outcomes, ['retrying', 'retrying', 'dead']);
    const [delivery] = await deliveriesOf(test_.database, endpointId);
    assert.equal(delivery?.status, 'dead');
    assert.equal(delivery?.attempt_count, 3);
    assert.equal(delivery?.next_attempt_at, null);
    assert.equal(delivery?.last_http_status, 503);
    assert.equal(receiver.received.length, 3);
  });

  test('a timeout is a failed attempt (error recorded, no status) and is retried', async () => {
    const endpointId = await endpoint('/slow');
    receiver.answer('/slow', (count) =>
      count === 1 ? { status: 200, delayMs: 1_500 } : { status: 204 },
    );
    await publish(test_.database, [paymentEvent(merchantId)]);
    const worker = deliverer({ timeoutMs: 200, retryDelaysMs: [10] });
    const first = await worker.runOnce();
    assert.equal(first[0]?.outcome, 'retrying');
    assert.equal(first[0]?.httpStatus, null);
    assert.equal(first[0]?.error, 'timed out after 200 ms');
    assert.ok((first[0]?.durationMs ?? 0) >= 150);
    await sleep(20);
    assert.equal((await worker.runOnce())[0]?.outcome, 'succeeded');
    const [delivery] = await deliveriesOf(test_.database, endpointId);
    const attempts = await attemptsOf(test_.database, delivery?.id ?? '');
    assert.deepEqual(
      attempts.map((attempt) => [attempt.http_status, attempt.error]),
      [
        [null, 'timed out after 200 ms'],
        [204, null],
      ],
    );
  });

  test('a refused connection is a failed attempt too', async () => {
    const closed = await startReceiver();
    const url = closed.url;
    await closed.close();
    const created = await endpoints.create(merchantId, {
      url: `${url}/nobody`,
      enabledEvents: ['*'],
    });
    await publish(test_.database, [paymentEvent(merchantId)]);
    const [result] = await deliverer().runOnce();
    assert.equal(result?.outcome, 'retrying');
    assert.match(result?.error ?? '', /ECONNREFUSED|fetch failed/);
    assert.equal((await deliveriesOf(test_.database, created.endpoint.id))[0]?.status, 'pending');
  });

  test('a name that resolves to a non-public address is never connected to: a failed attempt', async () => {
    // Accepted at creation (a name), refused at delivery once resolved: as after a DNS change.
    const created = await endpoints.create(merchantId, {
      url: 'https://rebinding.merchant.test/hook',
      enabledEvents: ['*'],
    });
    await publish(test_.database, [paymentEvent(merchantId)]);
    const resolve = async () => [{ address: '::ffff:169.254.169.254', family: 6 }];
    const [result] = await deliverer({ resolve }).runOnce();
    assert.equal(result?.outcome, 'retrying');
    assert.equal(result?.httpStatus, null);
    assert.match(result?.error ?? '', /rebinding\.merchant\.test: .*not a public address/);
    assert.equal((await deliveriesOf(test_.database, created.endpoint.id))[0]?.status, 'pending');
  });

  test('manual replay of a dead delivery: pending now with a fresh schedule, attempt history kept', async () => {
    const endpointId = await endpoint('/replay');
    receiver.answer('/replay', (count) => ({ status: count <= 2 ? 500 : 200 }));
    await publish(test_.database, [paymentEvent(merchantId)]);
    const worker = deliverer({ retryDelaysMs: [10] });
    await worker.runOnce();
    await sleep(15);
    assert.equal((await worker.runOnce())[0]?.outcome, 'dead');
    const [dead] = await deliveriesOf(test_.database, endpointId);
    assert.ok(dead !== undefined);

    const replayed = await worker.redeliver(merchantId, dead.id);
    assert.equal(replayed.status, 'pending');
    assert.equal(replayed.attemptCount, 2);
    assert.deepEqual(
      replayed.attempts.map((attempt) => attempt.httpStatus),
      [500, 500],
    );
    assert.ok(replayed.nextAttemptAt !== null && replayed.nextAttemptAt.getTime() <= Date.now());
    assert.equal((await worker.runOnce())[0]?.outcome, 'succeeded');
    const attempts = await attemptsOf(test_.database, dead.id);
    assert.deepEqual(
      attempts.map((attempt) => [attempt.attempt_number, attempt.http_status]),
      [
        [1, 500],
        [2, 500],
        [3, 200],
      ],
    );

    // A succeeded delivery can be replayed as well; another merchant cannot replay it.
    assert.equal((await worker.redeliver(merchantId, dead.id)).status, 'pending');
    await assert.rejects(worker.redeliver('mch_someoneelse', dead.id), {
      code: 'resource_missing',
    });
    assert.equal((await worker.runOnce())[0]?.attemptNumber, 4);
    // A replay whose endpoint is disabled is refused: it would never be sent.
    await endpoints.update(merchantId, endpointId, { disabled: true });
    await assert.rejects(worker.redeliver(merchantId, dead.id), {
      code: 'webhook_endpoint_disabled',
    });
  });

  test('a lease that ran out is taken over; the late worker does not overwrite the new holder', async () => {
    const endpointId = await endpoint('/lease');
    receiver.answer('/lease', (count) =>
      count === 1 ? { status: 500, delayMs: 400 } : { status: 200 },
    );
    await publish(test_.database, [paymentEvent(merchantId)]);
    const slow = deliverer({ timeoutMs: 1_000, leaseMs: 1_001 });
    // The second worker's clock is past the first worker's lease.
    const late = slow.runOnce();
    await sleep(100);
    const takeover = await deliverer({
      clock: clockFrom(() => new Date(Date.now() + 1_500)),
    }).runOnce();
    assert.equal(takeover[0]?.outcome, 'succeeded');
    const [slowResult] = await late;
    assert.equal(slowResult?.outcome, 'lease_lost');
    const [delivery] = await deliveriesOf(test_.database, endpointId);
    assert.equal(delivery?.status, 'succeeded');
    assert.equal(delivery?.attempt_count, 1);
  });

  test('a delivery whose endpoint was disabled in the meantime is failed without being sent', async () => {
    const endpointId = await endpoint('/paused');
    await publish(test_.database, [paymentEvent(merchantId)]);
    // Disabling fails pending deliveries at once; one left pending by a race is caught by the claim.
    await test_.database.query(
      "UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = 'test' WHERE id = $1",
      [endpointId],
    );
    const [result] = await deliverer().runOnce();
    assert.equal(result?.outcome, 'endpoint_disabled');
    assert.equal(receiver.received.length, 0);
    assert.equal((await deliveriesOf(test_.database, endpointId))[0]?.status, 'failed');
  });

  test('start() drains due deliveries in the background; stop() waits for the run under way', async () => {
    const endpointId = await endpoint('/loop');
    await publish(
      test_.database,
      Array.from({ length: 5 }, () => paymentEvent(merchantId)),
    );
    const worker = new WebhookDeliverer(test_.database, {
      secretBox,
      allowLoopback: true,
      pollIntervalMs: 20,
      batchSize: 2,
      onResult: (result) => results.push(result),
    });
    worker.start();
    for (let wait = 0; wait < 100 && results.length < 5; wait++) await sleep(20);
    await worker.stop();
    assert.equal(results.length, 5);
    assert.ok(
      (await deliveriesOf(test_.database, endpointId)).every(
        (delivery) => delivery.status === 'succeeded',
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('two deliverers at once on real Postgres', () => {
  let test_: TestDatabase;
  let secondPool: Database;
  let receiver: Receiver;

  before(async () => {
    test_ = await openTestDatabase('postgres', { poolSize: 6 });
    secondPool = openPostgres({ connectionString: test_.url ?? '', poolSize: 6 });
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
    await secondPool.close();
    await test_.drop();
  });

  test('never send the same delivery twice, and together send every one', async () => {
    const secretBox = masterKeySecretBox(crypto.randomBytes(32));
    const merchantId = (await new Merchants(test_.database).create({ name: 'Busy' })).merchant.id;
    const endpoints = new WebhookEndpoints(test_.database, secretBox, { allowLoopback: true });
    for (const path of ['/a', '/b']) {
      const created = await endpoints.create(merchantId, {
        url: `${receiver.url}${path}`,
        enabledEvents: ['*'],
      });
      receiver.secrets.set(path, created.secret);
      receiver.answer(path, () => ({ status: 200, delayMs: Math.floor(Math.random() * 15) }));
    }
    const events = Array.from({ length: 60 }, () => paymentEvent(merchantId));
    await publish(test_.database, events);

    const workers = [test_.database, secondPool, test_.database, secondPool].map(
      (database) => new WebhookDeliverer(database, { secretBox, allowLoopback: true }),
    );
    const sent: string[][] = workers.map(() => []);
    await Promise.all(
      workers.map(async (worker, index) => {
        for (let idle = 0; idle < 3;) {
          const results = await worker.runOnce(7);
          sent[index]?.push(...results.map((result) => result.deliveryId));
          idle = results.length === 0 ? idle + 1 : 0;
        }
      }),
    );

    const all = sent.flat();
    assert.equal(all.length, 120);
    assert.equal(new Set(all).size, 120, 'no delivery was sent by two workers');
    assert.ok(sent.filter((ids) => ids.length > 0).length >= 2, 'the work was shared');
    assert.equal(receiver.received.length, 120);
    assert.equal(
      new Set(receiver.received.map((request) => `${request.path} ${request.id}`)).size,
      120,
    );
    assert.ok(receiver.received.every((request) => request.verified));
    const states = await test_.database.query<{
      status: string;
      attempt_count: number;
      count: bigint;
    }>(
      'SELECT status, attempt_count, count(*) AS count FROM webhook_deliveries GROUP BY status, attempt_count',
    );
    assert.deepEqual(states.rows, [{ status: 'succeeded', attempt_count: 1, count: 120n }]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('webhook endpoints over HTTP', () => {
  let server: TestServer;
  let app: FastifyInstance | undefined;
  let url: string;
  let webhooks: Webhooks;
  let receiver: Receiver;
  let key: string;
  let otherKey: string;

  before(async () => {
    server = await startTestServer('pglite', { PAYRAIL_WEBHOOK_ALLOW_LOOPBACK: '1' });
    receiver = await startReceiver();
    if (server.context.webhooks === undefined) {
      // Until the server wires webhooks itself: the same app, with webhooks in its context.
      webhooks = createWebhooks(server.context.database, {
        secretBox: masterKeySecretBox(crypto.randomBytes(32)),
        allowLoopback: true,
      });
      app = await buildApp({ ...server.context, webhooks });
      url = await app.listen({ host: '127.0.0.1', port: 0 });
    } else {
      webhooks = server.context.webhooks;
      url = server.url;
    }
    key = String(
      (
        await call({ url }, 'POST', '/v1/admin/merchants', {
          key: testAdminKey,
          body: { name: 'Shop' },
        })
      ).body.secret_key,
    );
    otherKey = String(
      (
        await call({ url }, 'POST', '/v1/admin/merchants', {
          key: testAdminKey,
          body: { name: 'Other' },
        })
      ).body.secret_key,
    );
  });
  after(async () => {
    await app?.close();
    await receiver.close();
    await server.stop();
  });

  const api = (method: string, path: string, options: Parameters<typeof call>[3] = {}) =>
    call({ url }, method, path, { key, ...options });
  const endpointCount = async () =>
    (await api('GET', '/v1/webhook_endpoints?limit=100')).body.data as unknown[];

  test('create returns the secret once; retrieve and list never do; the database holds it only sealed', async () => {
    const created = await api('POST', '/v1/webhook_endpoints', {
      body: {
        url: 'https://merchant.example/hooks',
        enabled_events: ['payment_intent.succeeded', 'refund.created'],
        description: 'orders',
        metadata: { team: 'payments' },
      },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const id = String(created.body.id);
    assert.match(id, /^we_/);
    const secret = String(created.body.secret);
    assert.match(secret, /^whsec_/);
    assert.deepEqual(
      { ...created.body, id: undefined, created: undefined, secret: undefined },
      {
        id: undefined,
        object: 'webhook_endpoint',
        api_version: null,
        application: null,
        created: undefined,
        description: 'orders',
        enabled_events: ['payment_intent.succeeded', 'refund.created'],
        livemode: false,
        metadata: { team: 'payments' },
        status: 'enabled',
        disabled_reason: null,
        signature_scheme: 'standard_webhooks',
        url: 'https://merchant.example/hooks',
        secret: undefined,
      },
    );
    const retrieved = await api('GET', `/v1/webhook_endpoints/${id}`);
    assert.equal(retrieved.status, 200);
    assert.equal(retrieved.body.secret, undefined);
    const { secret: _secret, ...withoutSecret } = created.body;
    assert.deepEqual(retrieved.body, withoutSecret);
    const listed = await api('GET', '/v1/webhook_endpoints');
    assert.equal(listed.body.object, 'list');
    assert.equal(listed.body.url, '/v1/webhook_endpoints');
    assert.ok(!JSON.stringify(listed.body).includes('whsec_'));
    const row = await server.context.database.query<Record<string, unknown>>(
      'SELECT * FROM webhook_endpoints WHERE id = $1',
      [id],
    );
    assert.ok(!JSON.stringify(row.rows[0]).includes(secret.slice('whsec_'.length)));
  });

  test('form-encoded bodies with bracket notation, as Stripe SDKs send them', async () => {
    const created = await api('POST', '/v1/webhook_endpoints', {
      rawBody: 'url=http%3A%2F%2F127.0.0.1%3A9%2Fhook&enabled_events[]=*&metadata[order]=42',
      contentType: 'application/x-www-form-urlencoded',
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.deepEqual(created.body.enabled_events, ['*']);
    assert.deepEqual(created.body.metadata, { order: '42' });
    const updated = await api('POST', `/v1/webhook_endpoints/${created.body.id}`, {
      rawBody: 'disabled=true&enabled_events[0]=refund.created',
      contentType: 'application/x-www-form-urlencoded',
    });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.body.status, 'disabled');
    assert.deepEqual(updated.body.enabled_events, ['refund.created']);
  });

  test("update: url, events, description, metadata merge ('' removes), disable and enable", async () => {
    const created = await api('POST', '/v1/webhook_endpoints', {
      body: { url: 'https://a.example/1', enabled_events: ['*'], metadata: { a: '1', b: '2' } },
    });
    const id = String(created.body.id);
    const updated = await api('POST', `/v1/webhook_endpoints/${id}`, {
      body: {
        url: 'https://b.example/2',
        enabled_events: ['refund.created', 'refund.created'],
        description: 'new',
        metadata: { a: '', c: '3' },
      },
    });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.body.url, 'https://b.example/2');
    assert.deepEqual(updated.body.enabled_events, ['refund.created']);
    assert.equal(updated.body.description, 'new');
    assert.deepEqual(updated.body.metadata, { b: '2', c: '3' });
    assert.equal(updated.body.secret, undefined);
    const disabled = await api('POST', `/v1/webhook_endpoints/${id}`, { body: { disabled: true } });
    assert.deepEqual(
      [disabled.body.status, disabled.body.disabled_reason],
      ['disabled', 'disabled by the merchant'],
    );
    const enabled = await api('POST', `/v1/webhook_endpoints/${id}`, {
      body: { disabled: false, description: '' },
    });
    assert.deepEqual(
      [enabled.body.status, enabled.body.disabled_reason, enabled.body.description],
      ['enabled', null, null],
    );
  });

  test('delete, then the endpoint is gone', async () => {
    const created = await api('POST', '/v1/webhook_endpoints', {
      body: { url: 'https://a.example/del', enabled_events: ['*'] },
    });
    const deleted = await api('DELETE', `/v1/webhook_endpoints/${created.body.id}`);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.deepEqual(deleted.body, {
      id: created.body.id,
      object: 'webhook_endpoint',
      deleted: true,
    });
    const again = await api('GET', `/v1/webhook_endpoints/${created.body.id}`);
    assert.equal(again.status, 404);
    assert.equal(again.body.error?.code, 'resource_missing');
    assert.equal((await api('DELETE', `/v1/webhook_endpoints/${created.body.id}`)).status, 404);
  });

  test("another merchant's endpoint is a 404 everywhere and absent from lists", async () => {
    const mine = await api('POST', '/v1/webhook_endpoints', {
      body: { url: 'https://a.example/mine', enabled_events: ['*'] },
    });
    const id = String(mine.body.id);
    const other = (method: string, path: string, body?: unknown) =>
      call({ url }, method, path, { key: otherKey, body });
    for (const [method, path, body] of [
      ['GET', `/v1/webhook_endpoints/${id}`, undefined],
      ['POST', `/v1/webhook_endpoints/${id}`, { description: 'mine now' }],
      ['DELETE', `/v1/webhook_endpoints/${id}`, undefined],
      ['GET', `/v1/webhook_endpoints/${id}/deliveries`, undefined],
    ] as const) {
      const response = await other(method, path, body);
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.equal(response.body.error?.code, 'resource_missing');
    }
    const list = await other('GET', '/v1/webhook_endpoints?limit=100');
    assert.ok(!(list.body.data as { id: string }[]).some((endpoint) => endpoint.id === id));
    assert.equal((await api('GET', `/v1/webhook_endpoints/${id}`)).body.description, null);
  });

  test('lists page newest first with starting_after and ending_before', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 3; index++)
      ids.push(
        String(
          (
            await api('POST', '/v1/webhook_endpoints', {
              body: { url: `https://a.example/page${index}`, enabled_events: ['*'] },
            })
          ).body.id,
        ),
      );
    const first = await api('GET', '/v1/webhook_endpoints?limit=2');
    assert.deepEqual(
      (first.body.data as { id: string }[]).map((endpoint) => endpoint.id),
      [ids[2], ids[1]],
    );
    assert.equal(first.body.has_more, true);
    const next = await api('GET', `/v1/webhook_endpoints?limit=1&starting_after=${ids[1]}`);
    assert.deepEqual(
      (next.body.data as { id: string }[]).map((endpoint) => endpoint.id),
      [ids[0]],
    );
    const back = await api('GET', `/v1/webhook_endpoints?limit=2&ending_before=${ids[0]}`);
    assert.deepEqual(
      (back.body.data as { id: string }[]).map((endpoint) => endpoint.id),
      [ids[2], ids[1]],
    );
  });

  const invalidCreates: {
    name: string;
    body: unknown;
    code: string;
    param?: string;
    message?: RegExp;
  }[] = [
    { name: 'no url', body: { enabled_events: ['*'] }, code: 'parameter_missing', param: 'url' },
    {
      name: 'no enabled_events',
      body: { url: 'https://a.example' },
      code: 'parameter_missing',
      param: 'enabled_events',
    },
    {
      name: 'empty enabled_events',
      body: { url: 'https://a.example', enabled_events: [] },
      code: 'parameter_invalid',
      param: 'enabled_events',
      message: /at least one/,
    },
    {
      name: 'unknown event type',
      body: { url: 'https://a.example', enabled_events: ['refund.created', 'nope.happened'] },
      code: 'parameter_invalid',
      param: 'enabled_events[1]',
      message: /not an event type/,
    },
    {
      name: 'enabled_events not a list',
      body: { url: 'https://a.example', enabled_events: 7 },
      code: 'parameter_invalid',
      param: 'enabled_events',
    },
    {
      name: 'plain http to a public host',
      body: { url: 'http://merchant.example/hook', enabled_events: ['*'] },
      code: 'url_invalid',
      param: 'url',
      message: /https/,
    },
    {
      name: 'not a URL',
      body: { url: 'merchant.example/hook', enabled_events: ['*'] },
      code: 'url_invalid',
      param: 'url',
      message: /absolute URL/,
    },
    {
      name: 'another scheme',
      body: { url: 'ftp://merchant.example/hook', enabled_events: ['*'] },
      code: 'url_invalid',
      param: 'url',
      message: /ftp/,
    },
    {
      name: 'url too long',
      body: { url: `https://a.example/${'x'.repeat(2048)}`, enabled_events: ['*'] },
      code: 'parameter_invalid',
      param: 'url',
    },
    {
      name: 'too many event types',
      body: { url: 'https://a.example', enabled_events: Array.from({ length: 101 }, () => '*') },
      code: 'parameter_invalid',
      param: 'enabled_events',
    },
    {
      name: 'description too long',
      body: { url: 'https://a.example', enabled_events: ['*'], description: 'x'.repeat(1001) },
      code: 'parameter_invalid',
      param: 'description',
    },
    {
      name: 'metadata value not a string',
      body: { url: 'https://a.example', enabled_events: ['*'], metadata: { a: 1 } },
      code: 'parameter_invalid',
      param: 'metadata[a]',
    },
    {
      name: 'unknown parameter',
      body: { url: 'https://a.example', enabled_events: ['*'], connect: true },
      code: 'parameter_unknown',
      param: 'connect',
    },
    {
      name: 'secret chosen by the caller',
      body: { url: 'https://a.example', enabled_events: ['*'], secret: 'whsec_x' },
      code: 'parameter_unknown',
      param: 'secret',
    },
  ];

  for (const invalid of invalidCreates) {
    test(`create refused with a 400 naming the param, nothing written: ${invalid.name}`, async () => {
      const before = (await endpointCount()).length;
      const response = await api('POST', '/v1/webhook_endpoints', { body: invalid.body });
      assert.equal(response.status, 400, JSON.stringify(response.body));
      assert.equal(response.body.error?.code, invalid.code, JSON.stringify(response.body));
      assert.equal(response.body.error?.param, invalid.param);
      if (invalid.message !== undefined)
        assert.match(response.body.error?.message ?? '', invalid.message);
      assert.equal((await endpointCount()).length, before);
    });
  }

  test('update and list refusals name the param and change nothing', async () => {
    const created = await api('POST', '/v1/webhook_endpoints', {
      body: { url: 'https://a.example/keep', enabled_events: ['*'] },
    });
    const id = String(created.body.id);
    const cases: { body?: unknown; path?: string; method?: string; code: string; param: string }[] =
      [
        { body: { url: 'http://evil.example' }, code: 'url_invalid', param: 'url' },
        {
          body: { enabled_events: ['bogus'] },
          code: 'parameter_invalid',
          param: 'enabled_events[0]',
        },
        { body: { disabled: 'maybe' }, code: 'parameter_invalid', param: 'disabled' },
        { body: { secret: 'whsec_x' }, code: 'parameter_unknown', param: 'secret' },
        {
          method: 'GET',
          path: '/v1/webhook_endpoints?limit=0',
          code: 'parameter_invalid',
          param: 'limit',
        },
        {
          method: 'GET',
          path: '/v1/webhook_endpoints?limit=101',
          code: 'parameter_invalid',
          param: 'limit',
        },
        {
          method: 'GET',
          path: `/v1/webhook_endpoints?starting_after=${id}&ending_before=${id}`,
          code: 'parameter_invalid',
          param: 'ending_before',
        },
        {
          method: 'GET',
          path: `/v1/webhook_endpoints/${'x'.repeat(101)}`,
          code: 'parameter_invalid',
          param: 'id',
        },
        {
          method: 'POST',
          path: `/v1/webhook_deliveries/wd_missing/retry`,
          body: { now: true },
          code: 'parameter_unknown',
          param: 'now',
        },
      ];
    for (const invalid of cases) {
      const response = await api(
        invalid.method ?? 'POST',
        invalid.path ?? `/v1/webhook_endpoints/${id}`,
        { body: invalid.body },
      );
      assert.equal(response.status, 400, JSON.stringify(response.body));
      assert.deepEqual(
        [response.body.error?.code, response.body.error?.param],
        [invalid.code, invalid.param],
      );
    }
    const unchanged = await api('GET', `/v1/webhook_endpoints/${id}`);
    assert.deepEqual(
      [unchanged.body.url, unchanged.body.enabled_events, unchanged.body.status],
      ['https://a.example/keep', ['*'], 'enabled'],
    );
  });

  test('a repeated create with the same Idempotency-Key makes one endpoint', async () => {
    const body = { url: 'https://a.example/idem', enabled_events: ['*'] };
    const first = await api('POST', '/v1/webhook_endpoints', {
      body,
      idempotencyKey: 'create-endpoint-1',
    });
    const second = await api('POST', '/v1/webhook_endpoints', {
      body,
      idempotencyKey: 'create-endpoint-1',
    });
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(second.body.id, first.body.id);
  });

  test('deliveries with their attempts, and a manual retry, over HTTP', async () => {
    const created = await api('POST', '/v1/webhook_endpoints', {
      body: { url: `${receiver.url}/http`, enabled_events: ['payment_intent.succeeded'] },
    });
    receiver.secrets.set('/http', String(created.body.secret));
    const merchantId =
      (
        await server.context.database.query<{ merchant_id: string }>(
          'SELECT merchant_id FROM webhook_endpoints WHERE id = $1',
          [created.body.id],
        )
      ).rows[0]?.merchant_id ?? '';
    const event = paymentEvent(merchantId);
    await publish(server.context.database, [event]);
    const waitFor = async (predicate: (delivery: Record<string, unknown>) => boolean) => {
      for (let round = 0; round < 100; round++) {
        await webhooks.deliverer.runOnce();
        const listed = await api('GET', `/v1/webhook_endpoints/${created.body.id}/deliveries`);
        const delivery = (listed.body.data as Record<string, unknown>[])[0];
        if (delivery !== undefined && predicate(delivery)) return delivery;
        await sleep(20);
      }
      assert.fail('the delivery did not reach the expected state');
    };
    const delivered = await waitFor((delivery) => delivery.status === 'succeeded');
    assert.equal(delivered.object, 'webhook_delivery');
    assert.equal(delivered.event, event.id);
    assert.equal(delivered.event_type, 'payment_intent.succeeded');
    assert.equal(delivered.attempt_count, 1);
    assert.deepEqual(
      (delivered.attempts as { attempt: number; http_status: number }[]).map((attempt) => [
        attempt.attempt,
        attempt.http_status,
      ]),
      [[1, 200]],
    );
    assert.ok(
      receiver.received.some(
        (request) => request.path === '/http' && request.id === event.id && request.verified,
      ),
    );

    const retried = await api('POST', `/v1/webhook_deliveries/${delivered.id}/retry`);
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.body.status, 'pending');
    const again = await waitFor(
      (delivery) => delivery.status === 'succeeded' && delivery.attempt_count === 2,
    );
    assert.equal((again.attempts as unknown[]).length, 2);
    const otherRetry = await call({ url }, 'POST', `/v1/webhook_deliveries/${delivered.id}/retry`, {
      key: otherKey,
    });
    assert.equal(otherRetry.status, 404);
    assert.equal(otherRetry.body.error?.param, 'id');
  });

  test('the routes are documented in the OpenAPI document', async () => {
    const response = await fetch(`${url}/openapi.json`);
    const document = (await response.json()) as { paths: Record<string, Record<string, unknown>> };
    assert.ok(document.paths['/v1/webhook_endpoints']?.post !== undefined);
    assert.ok(document.paths['/v1/webhook_endpoints/{id}']?.delete !== undefined);
    assert.ok(document.paths['/v1/webhook_endpoints/{id}/deliveries']?.get !== undefined);
    assert.ok(document.paths['/v1/webhook_deliveries/{id}/retry']?.post !== undefined);
  });
});
