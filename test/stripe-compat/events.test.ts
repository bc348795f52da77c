// Events as Stripe shapes them (issue 13, item 6), through Stripe's own SDK: the `types[]` filter,
// `request` (the id of the API request that caused the event, as the SDK saw it in Request-Id,
// and the Idempotency-Key it sent; null for what Payrail did itself), `api_version`, and
// `pending_webhooks` falling to 0 as the endpoints receive the event, in the events API and in the
// webhook bodies, which the SDK's constructEvent verifies.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type Stripe from 'stripe';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { eventApiVersion } from '../../src/api-objects/event.ts';
import { eventPayloadSchema } from '../../src/api-objects/event-payloads.ts';
import { startStripeStack, stripeClient, type StripeStack } from '../support/stripe.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { StatusSync, statusSyncDefaults } from '../../src/payments/status-sync.ts';
import { call, testAdminKey } from '../support/server.ts';
import { waitFor } from '../support/wait.ts';

type Received = { path: string; body: string; signature: string };

/** A merchant's endpoints on loopback; each path answers 200 unless told otherwise. */
async function startReceiver() {
  const received: Received[] = [];
  const status = new Map<string, number>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      received.push({
        path,
        body: Buffer.concat(chunks).toString('utf8'),
        signature: String(request.headers['stripe-signature']),
      });
      response.writeHead(status.get(path) ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    answer: (path: string, code: number) => void status.set(path, code),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('events through Stripe’s SDK', () => {
  let stack: StripeStack;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    stack = await startStripeStack({
      env: {
        PAYRAIL_WEBHOOK_ALLOW_LOOPBACK: '1',
        // A failed attempt waits a minute of the merchant's clock: only the test moves it.
        PAYRAIL_WEBHOOK_RETRY_SCHEDULE_MS: '60000,60000',
        // A lost PSP answer is known lost within a second and not retried: status sync's.
        PAYRAIL_PSP_TIMEOUT_MS: '1000',
        PAYRAIL_PSP_ATTEMPTS: '1',
      },
    });
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
    await stack.stop();
  });

  /** A merchant whose id the test knows (for its test clock), with the SDK on its key. */
  async function merchant(name: string): Promise<{ id: string; key: string; stripe: Stripe }> {
    const created = await call(stack.server, 'POST', '/v1/admin/merchants', {
      key: testAdminKey,
      body: { name },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const key = String(created.body.secret_key);
    return { id: String(created.body.id), key, stripe: stripeClient(stack.server, key) };
  }

  test('retrieve shows the request the SDK made and the key it sent; list filters by types[]', async () => {
    const { stripe } = await merchant('Request shop');
    const idempotencyKey = `order-${Date.now()}`;
    const intent = await stripe.paymentIntents.create(
      { amount: 2_500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
      { idempotencyKey },
    );
    assert.equal(intent.status, 'succeeded');
    const requestId = intent.lastResponse.requestId;
    assert.match(requestId, /^req_/);
    const created = await stripe.events.list({ types: ['payment_intent.created'] });
    assert.deepEqual(
      created.data.map((event) => event.type),
      ['payment_intent.created'],
    );
    const both = await stripe.events.list({
      types: ['payment_intent.created', 'payment_intent.succeeded'],
    });
    assert.deepEqual(both.data.map((event) => event.type).sort(), [
      'payment_intent.created',
      'payment_intent.succeeded',
    ]);
    for (const listed of both.data) {
      const event = await stripe.events.retrieve(listed.id);
      assert.equal(event.object, 'event');
      assert.equal(event.api_version, eventApiVersion);
      assert.deepEqual(event.request, { id: requestId, idempotency_key: idempotencyKey });
      assert.equal(event.pending_webhooks, 0, 'no endpoint: nothing to deliver');
      assert.equal((event.data.object as { id: string }).id, intent.id);
      // The retrieve is a request of its own; the event keeps the one that caused it.
      assert.notEqual(event.lastResponse.requestId, requestId);
    }
    const wildcard = await stripe.events.list({ types: ['payment_intent.*'], limit: 100 });
    assert.equal(wildcard.data.length, 2);
    const none = await stripe.events.list({ types: ['refund.created'] });
    assert.deepEqual(none.data, []);

    // A replay of the request (same key) is answered from the stored response: no new event.
    const replayed = await stripe.paymentIntents.create(
      { amount: 2_500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
      { idempotencyKey },
    );
    assert.equal(replayed.id, intent.id);
    assert.equal((await stripe.events.list({ limit: 100 })).data.length, 2);

    // Each event names its own request: a refund made later, with no key of the test's own (the
    // SDK sends its generated one), is not the intent's request.
    const refund = await stripe.refunds.create({ payment_intent: intent.id, amount: 500 });
    const [refundEvent] = (await stripe.events.list({ types: ['refund.created'] })).data;
    assert.ok(refundEvent !== undefined);
    assert.equal(refundEvent.request?.id, refund.lastResponse.requestId);
    assert.notEqual(refundEvent.request?.idempotency_key, idempotencyKey);
    assert.equal(typeof refundEvent.request?.idempotency_key, 'string');
  });

  test('a request sent with no Idempotency-Key has request.idempotency_key null', async () => {
    const { stripe, key } = await merchant('No key shop');
    // Stripe's SDK puts a key on every POST; a plain HTTP client need not.
    const created = await call(stack.server, 'POST', '/v1/payment_intents', {
      key,
      body: { amount: 900, currency: 'usd' },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const [event] = (await stripe.events.list({ types: ['payment_intent.created'] })).data;
    assert.ok(event !== undefined);
    assert.deepEqual(event.request, {
      id: created.headers.get('request-id'),
      idempotency_key: null,
    });
  });

  test("what a worker resolves is Payrail's: request null; refund.updated says what it replaced", async () => {
    const { stripe } = await merchant('Synced shop');
    const lost = await stripe.paymentIntents.create({
      amount: 4_100,
      currency: 'usd',
      payment_method: 'pm_card_pspLostResponse',
      confirm: true,
      // Payrail's own parameter: one connector, so the unknown outcome stays unknown (no failover).
      connector: 'stripe',
    } as Stripe.PaymentIntentCreateParams);
    assert.equal(lost.status, 'processing');
    // The status sync worker, as the server runs it (outside any request), due at once (the
    // server's own may have got there first: the same code, the same context).
    const worker = new StatusSync(
      stack.server.context.payments,
      stack.server.context.database,
      { ...statusSyncDefaults(1000), scheduleMs: [0], inFlightGraceMs: 0 },
      createLogger('silent'),
      stack.server.runtime.clock,
    );
    await worker.runOnce();
    assert.equal((await stripe.paymentIntents.retrieve(lost.id)).status, 'succeeded');
    const events = (await stripe.events.list({ limit: 100 })).data;
    const requestOf = (type: string) => events.find((event) => event.type === type)?.request;
    assert.equal(requestOf('payment_intent.created')?.id, lost.lastResponse.requestId);
    assert.equal(requestOf('payment_intent.processing')?.id, lost.lastResponse.requestId);
    assert.deepEqual(requestOf('payment_intent.succeeded'), { id: null, idempotency_key: null });

    const refund = await stripe.refunds.create({ payment_intent: lost.id, amount: 1_000 });
    assert.equal(refund.status, 'succeeded');
    const [updated] = (await stripe.events.list({ types: ['refund.updated'] })).data;
    assert.ok(updated !== undefined);
    assert.equal(updated.request?.id, refund.lastResponse.requestId);
    assert.deepEqual(updated.data.previous_attributes, { status: 'pending' });
    assert.equal((updated.data.object as Stripe.Refund).status, 'succeeded');
    const [created] = (await stripe.events.list({ types: ['refund.created'] })).data;
    assert.equal(created?.data.previous_attributes, undefined);
  });

  test('pending_webhooks falls from 3 to 0 as each endpoint receives the event; the bodies say so', async () => {
    const { id: merchantId, stripe } = await merchant('Hooked shop');
    const secrets = new Map<string, string>();
    for (const path of ['/a', '/b', '/c']) {
      const endpoint = await stripe.webhookEndpoints.create({
        url: `${receiver.url}${path}`,
        enabled_events: ['payment_intent.created'],
        signature_scheme: 'stripe',
      } as Stripe.WebhookEndpointCreateParams);
      secrets.set(path, String(endpoint.secret));
    }
    // b and c fail their first attempt, so the event waits for them.
    receiver.answer('/b', 500);
    receiver.answer('/c', 503);
    const intent = await stripe.paymentIntents.create({ amount: 1_000, currency: 'usd' });
    const [listed] = (await stripe.events.list({ types: ['payment_intent.created'] })).data;
    assert.ok(listed !== undefined);
    assert.ok(listed.pending_webhooks <= 3 && listed.pending_webhooks >= 2);

    const bodiesOf = (eventId: string) =>
      receiver.received
        .filter((entry) => entry.body.includes(eventId))
        .map((entry) => ({
          path: entry.path,
          event: stripe.webhooks.constructEvent(
            entry.body,
            entry.signature,
            secrets.get(entry.path) ?? '',
          ),
        }));
    // The server's own deliverer sends the first attempts; b and c then wait a minute.
    await waitFor('three first attempts', () =>
      bodiesOf(listed.id).length >= 3 ? true : undefined,
    );
    const pendingAfterFirst = await waitFor(
      'a retrieve showing two endpoints pending',
      async () => {
        const event = await stripe.events.retrieve(listed.id);
        return event.pending_webhooks === 2 ? event : undefined;
      },
    );
    assert.equal(pendingAfterFirst.request?.id, intent.lastResponse.requestId);
    // Each body is what /openapi.json's webhooks entry for its type documents.
    const payload = new Ajv2020({ strict: false, validateFormats: false }).compile(
      eventPayloadSchema('payment_intent.created'),
    );
    for (const { event } of bodiesOf(listed.id)) {
      assert.ok(payload(event), JSON.stringify(payload.errors));
      assert.equal(event.id, listed.id);
      assert.equal(event.type, 'payment_intent.created');
      assert.equal(event.api_version, eventApiVersion);
      assert.deepEqual(event.request, pendingAfterFirst.request);
      // Sent before any had succeeded: all three counted.
      assert.equal(event.pending_webhooks, 3);
    }

    // b recovers: the merchant's clock passes the retry, and only c still waits.
    receiver.answer('/b', 200);
    const advance = (seconds: number) =>
      call(stack.server, 'POST', '/v1/admin/test_clocks/advance', {
        key: testAdminKey,
        body: { merchant: merchantId, seconds },
      });
    assert.equal((await advance(120)).status, 200);
    const deliverer = stack.server.context.webhooks;
    assert.ok(deliverer !== undefined);
    await deliverer.deliverer.runOnce();
    // c failed again (its second attempt), b succeeded: one left.
    const oneLeft = await waitFor('one endpoint pending', async () => {
      const event = await stripe.events.retrieve(listed.id);
      return event.pending_webhooks === 1 ? event : undefined;
    });
    assert.equal(oneLeft.pending_webhooks, 1);
    const retried = bodiesOf(listed.id).slice(3);
    assert.deepEqual(retried.map(({ path }) => path).sort(), ['/b', '/c']);
    for (const { event } of retried) assert.equal(event.pending_webhooks, 2);

    receiver.answer('/c', 200);
    assert.equal((await advance(120)).status, 200);
    await deliverer.deliverer.runOnce();
    const done = await waitFor('no endpoint pending', async () => {
      const event = await stripe.events.retrieve(listed.id);
      return event.pending_webhooks === 0 ? event : undefined;
    });
    assert.equal(done.pending_webhooks, 0);
    const last = bodiesOf(listed.id).at(-1);
    assert.deepEqual([last?.path, last?.event.pending_webhooks], ['/c', 1]);
    // The list shows what retrieve shows.
    const [again] = (await stripe.events.list({ types: ['payment_intent.created'] })).data;
    assert.equal(again?.pending_webhooks, 0);
  });
});
