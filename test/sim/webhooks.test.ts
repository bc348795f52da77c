// PSP webhooks from the real simulator process to a node:http receiver in this test: each PSP's
// format and signature (checked here independently of sim/), duplicates, out-of-order delivery,
// retries and giving up, resending, the admin API and report, and that webhooks never hold back
// an API answer.
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import { PSPS } from '../../sim/psps/registry.ts';
import { stateAfter } from '../../sim/webhooks.ts';
import type { Operation } from '../../sim/store.ts';
import { freePort } from '../support/ports.ts';
import {
  CARDS,
  PAYTM_MID,
  admin,
  delay,
  groundTruth,
  paytm,
  paytmOrder,
  razorpay,
  razorpayPayment,
  startSimProcess,
  stripe,
  stripeIntent,
  text,
  type Json,
  type SimProcess,
} from './support.ts';

const SECRET = 'whsec_sim_test_secret';
const WAIT_MS = 5000;

type Received = {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly atMs: number;
};

/** A webhook endpoint: records every request and answers with respond()'s status (after holdMs). */
class Receiver {
  readonly received: Received[] = [];
  respond: (request: Received, index: number) => number = () => 200;
  holdMs = 0;
  readonly #server: Server;

  constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<Receiver> {
    const server = createServer();
    const receiver = new Receiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const request: Received = {
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          atMs: Date.now(),
        };
        const index = receiver.received.push(request) - 1;
        const status = receiver.respond(request, index);
        setTimeout(
          () => res.writeHead(status, { 'content-type': 'text/plain' }).end('ok'),
          receiver.holdMs,
        );
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hooks`;
  }

  clear(): void {
    this.received.length = 0;
    this.respond = () => 200;
    this.holdMs = 0;
  }

  async waitFor(count: number, timeoutMs = WAIT_MS): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (Date.now() > deadline)
        throw new Error(
          `expected ${count} webhooks, got ${this.received.length}: ${this.received.map((request) => request.body.slice(0, 120)).join('\n')}`,
        );
      await delay(10);
    }
    return [...this.received];
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

// ---- Independent signature checks (written from CONTRACT.md, not from sim/) ----

function hmac(secret: string, data: string, encoding: 'hex' | 'base64'): string {
  return createHmac('sha256', secret).update(data).digest(encoding);
}

function sameText(left: string, right: string): boolean {
  const a = Buffer.from(left);
  const b = Buffer.from(right);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Stripe: Stripe-Signature t=<ts>,v1=<hex HMAC of "<ts>.<body>">, within 5 minutes. */
function verifyStripe(request: Received, secret = SECRET): Json {
  const header = request.headers['stripe-signature'];
  assert.equal(typeof header, 'string');
  const parts = new Map(
    (header as string).split(',').map((part) => part.split('=') as [string, string]),
  );
  const timestamp = parts.get('t') ?? '';
  assert.ok(Math.abs(Date.now() / 1000 - Number(timestamp)) < 300, 'timestamp is recent');
  assert.ok(
    sameText(parts.get('v1') ?? '', hmac(secret, `${timestamp}.${request.body}`, 'hex')),
    'stripe signature verifies',
  );
  assert.match(String(request.headers['content-type']), /^application\/json/);
  return JSON.parse(request.body) as Json;
}

/** Razorpay: X-Razorpay-Signature = hex HMAC of the raw body; X-Razorpay-Event-Id. */
function verifyRazorpay(request: Received, secret = SECRET): { eventId: string; event: Json } {
  assert.ok(
    sameText(String(request.headers['x-razorpay-signature']), hmac(secret, request.body, 'hex')),
    'razorpay signature verifies',
  );
  const eventId = request.headers['x-razorpay-event-id'];
  assert.equal(typeof eventId, 'string');
  return { eventId: eventId as string, event: JSON.parse(request.body) as Json };
}

/** Paytm: form fields; CHECKSUMHASH = base64 HMAC of the other values, sorted by name, joined by "|". */
function verifyPaytm(request: Received, secret = SECRET): Record<string, string> {
  assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
  const fields = Object.fromEntries(new URLSearchParams(request.body));
  const names = Object.keys(fields)
    .filter((name) => name !== 'CHECKSUMHASH')
    .sort();
  const expected = hmac(secret, names.map((name) => fields[name]).join('|'), 'base64');
  assert.ok(sameText(fields.CHECKSUMHASH ?? '', expected), 'paytm checksum verifies');
  return fields;
}

// ---- Admin helpers ----

type Delivery = {
  seq: number;
  psp: string;
  eventId: string;
  type: string;
  paymentId: string;
  reference: string | null;
  refundId?: string;
  kind: 'original' | 'duplicate' | 'resend';
  late: boolean;
  state: 'pending' | 'delivered' | 'failed' | 'cancelled';
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
};

async function configure(psp: string, settings: Record<string, unknown>): Promise<void> {
  const reply = await admin(sim, 'PUT', `/webhooks/${psp}`, {
    url: receiver.url,
    secret: SECRET,
    ...settings,
  });
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
}

/** The delivery log once `count` deliveries exist and none is pending. */
async function settled(count: number, query: Record<string, string> = {}): Promise<Delivery[]> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const reply = await admin(
      sim,
      'GET',
      `/webhooks/deliveries?${new URLSearchParams(query).toString()}`,
    );
    const deliveries = reply.body.deliveries as Delivery[];
    if (deliveries.length >= count && deliveries.every((delivery) => delivery.state !== 'pending'))
      return deliveries;
    if (Date.now() > deadline)
      throw new Error(`deliveries did not settle: ${JSON.stringify(deliveries)}`);
    await delay(20);
  }
}

type Activity = {
  emitting: number;
  queued: number;
  held: number;
  inFlight: number;
  timers: number;
  idle: boolean;
};

/**
 * The simulator's own report of the webhook work still to come, once `done` holds for it (polled
 * with a bound: the simulator is another process). Absence is asserted after this signal, never
 * after a fixed sleep.
 */
async function activityOnce(done: (activity: Activity) => boolean): Promise<Activity> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const activity = (await admin(sim, 'GET', '/webhooks/activity')).body as Activity;
    if (done(activity)) return activity;
    if (Date.now() > deadline)
      throw new Error(`the simulator's webhooks did not get there: ${JSON.stringify(activity)}`);
    await delay(10);
  }
}

/** Nothing more will be sent until the next operation. */
const idle = () => activityOnce((activity) => activity.idle);

let sim: SimProcess;
let receiver: Receiver;
before(async () => {
  sim = await startSimProcess({ SIM_TIMEOUT_DELAY_MS: '800' });
  receiver = await Receiver.start();
});
afterEach(async () => {
  assert.equal((await admin(sim, 'POST', '/reset')).status, 200);
  receiver.clear();
});
after(async () => {
  await receiver.close();
  assert.deepEqual(sim.stderr, [], 'the simulator wrote nothing to stderr');
  assert.equal(await sim.stop(), 0);
});

describe('webhooks: formats and signatures', () => {
  test('stripe: authorize, capture, refund and a decline arrive as signed Stripe events', async () => {
    await configure('stripe', {});
    const params = stripeIntent(CARDS.visa, { capture_method: 'manual', amount: '1000' });
    const reference = params['metadata[reference]'] ?? '';
    const created = await stripe(sim, '/v1/payment_intents', params, { key: 'wh-stripe-1' });
    const id = text(created.body, 'id');
    await stripe(sim, `/v1/payment_intents/${id}/capture`, { amount_to_capture: '600' });
    const refund = await stripe(sim, '/v1/refunds', {
      payment_intent: id,
      amount: '200',
      'metadata[reference]': 'rf_1',
    });
    const received = await receiver.waitFor(3);
    const events = received.map((request) => verifyStripe(request));
    assert.deepEqual(
      events.map((event) => event.type),
      ['payment_intent.amount_capturable_updated', 'payment_intent.succeeded', 'refund.created'],
    );
    for (const event of events) {
      assert.equal(event.object, 'event');
      assert.match(String(event.id), /^evt_[A-Za-z0-9]{24}$/);
      assert.equal(event.livemode, false);
    }
    assert.equal(new Set(events.map((event) => event.id)).size, 3, 'event ids are unique');
    const [authorized, captured, refunded] = events.map(
      (event) => (event.data as { object: Json }).object,
    );
    assert.deepEqual(
      [authorized?.id, authorized?.status, authorized?.amount_capturable, authorized?.currency],
      [id, 'requires_capture', 1000, 'usd'],
    );
    assert.deepEqual(authorized?.metadata, { reference });
    assert.deepEqual((events[0]?.request as Json).idempotency_key, 'wh-stripe-1');
    assert.deepEqual(
      [captured?.status, captured?.amount_received, captured?.amount_capturable],
      ['succeeded', 600, 0],
    );
    assert.deepEqual(
      [
        refunded?.object,
        refunded?.id,
        refunded?.payment_intent,
        refunded?.amount,
        refunded?.status,
      ],
      ['refund', text(refund.body, 'id'), id, 200, 'succeeded'],
    );
    assert.deepEqual(refunded?.metadata, { reference: 'rf_1' });

    const declined = await stripe(
      sim,
      '/v1/payment_intents',
      stripeIntent(CARDS.insufficientFunds),
    );
    const failed = verifyStripe((await receiver.waitFor(4))[3] as Received);
    assert.equal(failed.type, 'payment_intent.payment_failed');
    const failedIntent = (failed.data as { object: Json }).object;
    assert.equal(failedIntent.status, 'requires_payment_method');
    assert.equal((failedIntent.last_payment_error as Json).decline_code, 'insufficient_funds');
    assert.equal(
      failedIntent.id,
      (declined.body.error as { payment_intent: Json }).payment_intent.id,
    );

    const deliveries = await settled(4, { psp: 'stripe' });
    assert.deepEqual(
      deliveries.map((delivery) => [
        delivery.eventId,
        delivery.type,
        delivery.kind,
        delivery.state,
        delivery.attempts,
        delivery.lastStatus,
      ]),
      [...events, failed].map((event) => [event.id, event.type, 'original', 'delivered', 1, 200]),
    );
    assert.equal(deliveries[2]?.refundId, text(refund.body, 'id'));
    const truth = (await admin(sim, 'GET', `/ground-truth?reference=${reference}`)).body as {
      webhooks: Delivery[];
    };
    assert.deepEqual(
      truth.webhooks.map((delivery) => delivery.eventId),
      events.map((event) => event.id),
    );
  });

  test('stripe: an automatic capture sends only payment_intent.succeeded; a cancel sends payment_intent.canceled', async () => {
    await configure('stripe', {});
    await stripe(sim, '/v1/payment_intents', stripeIntent(CARDS.visa));
    const manual = await stripe(
      sim,
      '/v1/payment_intents',
      stripeIntent(CARDS.visa, { capture_method: 'manual' }),
    );
    await receiver.waitFor(2);
    await stripe(sim, `/v1/payment_intents/${text(manual.body, 'id')}/cancel`, {
      cancellation_reason: 'abandoned',
    });
    const events = (await receiver.waitFor(3)).map((request) => verifyStripe(request));
    assert.deepEqual(events.map((event) => event.type).sort(), [
      'payment_intent.amount_capturable_updated',
      'payment_intent.canceled',
      'payment_intent.succeeded',
    ]);
    const canceled = (
      events.find((event) => event.type === 'payment_intent.canceled')?.data as { object: Json }
    ).object;
    assert.deepEqual([canceled.status, canceled.cancellation_reason], ['canceled', 'abandoned']);
    const capturable = (
      events.find((event) => event.type === 'payment_intent.amount_capturable_updated')?.data as {
        object: Json;
      }
    ).object;
    assert.equal(
      capturable.cancellation_reason,
      null,
      'the snapshot is of the moment of the event',
    );
  });

  test('razorpay: payment.authorized, payment.captured, refund.processed and payment.failed, signed with X-Razorpay-Signature', async () => {
    await configure('razorpay', {});
    const body = razorpayPayment(CARDS.visa, { amount: 50_000 });
    const created = await razorpay(sim, '/v1/payments/create/json', body);
    const id = text(created.body, 'id');
    await razorpay(sim, `/v1/payments/${id}/capture`, { amount: 50_000, currency: 'INR' });
    const refund = await razorpay(sim, `/v1/payments/${id}/refund`, {
      amount: 10_000,
      receipt: 'rf_rzp',
    });
    const verified = (await receiver.waitFor(3)).map((request) => verifyRazorpay(request));
    assert.deepEqual(
      verified.map(({ event }) => event.event),
      ['payment.authorized', 'payment.captured', 'refund.processed'],
    );
    assert.equal(new Set(verified.map(({ eventId }) => eventId)).size, 3);
    for (const { event } of verified) {
      assert.equal(event.entity, 'event');
      assert.equal(typeof event.account_id, 'string');
      assert.equal(typeof event.created_at, 'number');
    }
    const payment = (index: number): Json =>
      ((verified[index]?.event.payload as Json).payment as { entity: Json }).entity;
    assert.deepEqual(
      [
        payment(0).id,
        payment(0).status,
        payment(0).captured,
        payment(0).amount,
        payment(0).currency,
        payment(0).receipt,
      ],
      [id, 'authorized', false, 50_000, 'INR', body.receipt],
    );
    assert.deepEqual([payment(1).status, payment(1).captured], ['captured', true]);
    assert.deepEqual(verified[2]?.event.contains, ['refund', 'payment']);
    const refundEntity = ((verified[2]?.event.payload as Json).refund as { entity: Json }).entity;
    assert.deepEqual(
      [
        refundEntity.id,
        refundEntity.payment_id,
        refundEntity.amount,
        refundEntity.status,
        refundEntity.receipt,
      ],
      [text(refund.body, 'id'), id, 10_000, 'processed', 'rf_rzp'],
    );
    assert.deepEqual([payment(2).amount_refunded, payment(2).refund_status], [10_000, 'partial']);

    await razorpay(sim, '/v1/payments/create/json', razorpayPayment(CARDS.lost));
    const failed = verifyRazorpay((await receiver.waitFor(4))[3] as Received).event;
    assert.equal(failed.event, 'payment.failed');
    const failedPayment = ((failed.payload as Json).payment as { entity: Json }).entity;
    assert.deepEqual(
      [failedPayment.status, failedPayment.error_reason],
      ['failed', 'card_reported_lost'],
    );
    const deliveries = await settled(4, { psp: 'razorpay' });
    assert.deepEqual(
      deliveries.map((delivery) => delivery.eventId),
      (await receiver.waitFor(4)).map((request) => request.headers['x-razorpay-event-id']),
    );
  });

  test('paytm: PAYMENT_STATUS and REFUND_STATUS form posts with a CHECKSUMHASH', async () => {
    await configure('paytm', {});
    const order = paytmOrder(CARDS.visa, '25.50');
    const paid = await paytm(sim, '/v3/order/pay', order);
    const txnId = text(paid.body, 'body', 'txnId');
    await paytm(sim, '/refund/apply', {
      mid: PAYTM_MID,
      txnType: 'REFUND',
      orderId: order.orderId,
      txnId,
      refId: 'REF_WH_1',
      refundAmount: '25.50',
    });
    const [payment, refund] = (await receiver.waitFor(2)).map((request) => verifyPaytm(request));
    assert.deepEqual(
      [
        payment?.EVENTTYPE,
        payment?.STATUS,
        payment?.RESPCODE,
        payment?.ORDERID,
        payment?.TXNID,
        payment?.TXNAMOUNT,
        payment?.CURRENCY,
        payment?.MID,
      ],
      ['PAYMENT_STATUS', 'TXN_SUCCESS', '01', order.orderId, txnId, '25.50', 'INR', PAYTM_MID],
    );
    assert.equal(payment?.BANKTXNID, text(paid.body, 'body', 'bankTxnId'));
    assert.deepEqual(
      [
        refund?.EVENTTYPE,
        refund?.STATUS,
        refund?.RESPCODE,
        refund?.REFID,
        refund?.REFUNDAMOUNT,
        refund?.TOTALREFUNDAMT,
        refund?.ORDERID,
      ],
      ['REFUND_STATUS', 'TXN_SUCCESS', '10', 'REF_WH_1', '25.50', '25.50', order.orderId],
    );
    assert.notEqual(payment?.EVENTID, refund?.EVENTID);

    await paytm(sim, '/v3/order/pay', paytmOrder(CARDS.insufficientFunds));
    const declined = verifyPaytm((await receiver.waitFor(3))[2] as Received);
    assert.deepEqual(
      [declined.EVENTTYPE, declined.STATUS, declined.RESPCODE, declined.BANKTXNID],
      ['PAYMENT_STATUS', 'TXN_FAILURE', '235', ''],
    );
    const deliveries = await settled(3, { psp: 'paytm' });
    assert.deepEqual(
      deliveries.map((delivery) => [delivery.eventId, delivery.type]),
      [payment, refund, declined].map((fields) => [fields?.EVENTID, fields?.EVENTTYPE]),
    );
  });

  test('a wrong secret does not verify (the checks above are not vacuous)', async () => {
    await configure('razorpay', {});
    await razorpay(sim, '/v1/payments/create/json', razorpayPayment(CARDS.visa));
    const [request] = await receiver.waitFor(1);
    assert.throws(() => verifyRazorpay(request as Received, 'another_secret'));
  });
});

describe('webhooks: delivery faults', () => {
  test('duplicateRate 1 sends every event twice with the same event id', async () => {
    await configure('razorpay', { duplicateRate: 1 });
    const created = await razorpay(sim, '/v1/payments/create/json', razorpayPayment(CARDS.visa));
    await razorpay(sim, `/v1/payments/${text(created.body, 'id')}/capture`, {
      amount: 50_000,
      currency: 'INR',
    });
    const verified = (await receiver.waitFor(4)).map((request) => verifyRazorpay(request));
    const ids = verified.map(({ eventId }) => eventId);
    assert.equal(new Set(ids).size, 2);
    for (const eventId of new Set(ids)) {
      const copies = verified.filter((entry) => entry.eventId === eventId);
      assert.equal(copies.length, 2);
      assert.deepEqual(copies[0]?.event, copies[1]?.event, 'the same payload');
    }
    const deliveries = await settled(4);
    assert.deepEqual(deliveries.map((delivery) => delivery.kind).sort(), [
      'duplicate',
      'duplicate',
      'original',
      'original',
    ]);
  });

  test("outOfOrderRate 1 delivers a payment's events latest first: captured before authorized", async () => {
    await configure('razorpay', { outOfOrderRate: 1, outOfOrderDelayMs: 400 });
    const created = await razorpay(sim, '/v1/payments/create/json', razorpayPayment(CARDS.visa));
    await razorpay(sim, `/v1/payments/${text(created.body, 'id')}/capture`, {
      amount: 50_000,
      currency: 'INR',
    });
    // Both events are made and held back: none queued, in flight or sent.
    const held = await activityOnce((activity) => activity.emitting === 0);
    assert.deepEqual([held.held, held.queued, held.inFlight], [2, 0, 0], JSON.stringify(held));
    assert.equal(receiver.received.length, 0, 'late events are held back');
    const events = (await receiver.waitFor(2)).map(
      (request) => verifyRazorpay(request).event.event,
    );
    assert.deepEqual(events, ['payment.captured', 'payment.authorized']);
    const deliveries = await settled(2);
    assert.ok(deliveries.every((delivery) => delivery.late && delivery.state === 'delivered'));
  });

  test("a late event goes right after the payment's next on-time event", async () => {
    // Seed 1 draws (duplicate, late) = (0.63, 0.00) for the first event and (0.53, 0.98) for the second.
    await configure('stripe', { outOfOrderRate: 0.5, outOfOrderDelayMs: 5000, seed: 1 });
    const created = await stripe(
      sim,
      '/v1/payment_intents',
      stripeIntent(CARDS.visa, { capture_method: 'manual' }),
    );
    await stripe(sim, `/v1/payment_intents/${text(created.body, 'id')}/capture`, {});
    const events = (await receiver.waitFor(2, 3000)).map((request) => verifyStripe(request).type);
    assert.deepEqual(events, [
      'payment_intent.succeeded',
      'payment_intent.amount_capturable_updated',
    ]);
  });

  test('a 500 is retried with backoff until a 2xx; the report shows the attempts', async () => {
    receiver.respond = (_request, index) => (index < 2 ? 500 : 200);
    await configure('stripe', { retryBackoffMs: 30 });
    await stripe(sim, '/v1/payment_intents', stripeIntent(CARDS.visa));
    const received = await receiver.waitFor(3);
    const ids = received.map((request) => verifyStripe(request).id);
    assert.equal(new Set(ids).size, 1, 'the same event each time');
    assert.ok((received[1]?.atMs ?? 0) - (received[0]?.atMs ?? 0) >= 25, 'waited for the backoff');
    assert.ok((received[2]?.atMs ?? 0) - (received[1]?.atMs ?? 0) >= 55, 'the backoff doubled');
    const [delivery] = await settled(1);
    assert.deepEqual(
      [delivery?.state, delivery?.attempts, delivery?.lastStatus, delivery?.eventId],
      ['delivered', 3, 200, ids[0]],
    );
  });

  test('after maxAttempts non-2xx answers the delivery is given up and recorded as failed', async () => {
    receiver.respond = () => 503;
    await configure('paytm', { maxAttempts: 2, retryBackoffMs: 10 });
    await paytm(sim, '/v3/order/pay', paytmOrder(CARDS.visa));
    const [delivery] = await settled(1);
    assert.deepEqual(
      [delivery?.state, delivery?.attempts, delivery?.lastStatus],
      ['failed', 2, 503],
    );
    await idle();
    assert.equal(receiver.received.length, 2, 'no attempt after giving up');
  });

  test('connection failures are retried too and recorded with an error', async () => {
    const port = await freePort();
    await admin(sim, 'PUT', '/webhooks/razorpay', {
      url: `http://127.0.0.1:${port}/nobody`,
      secret: SECRET,
      maxAttempts: 3,
      retryBackoffMs: 10,
    });
    await razorpay(sim, '/v1/payments/create/json', razorpayPayment(CARDS.visa));
    const [delivery] = await settled(1);
    assert.deepEqual(
      [delivery?.state, delivery?.attempts, delivery?.lastStatus],
      ['failed', 3, null],
    );
    assert.equal(typeof delivery?.lastError, 'string');
  });

  test('the same seed gives the same duplicates', async () => {
    const pattern = async (tag: string): Promise<string[]> => {
      await configure('stripe', { seed: 42, duplicateRate: 0.5 });
      for (let index = 0; index < 8; index += 1) {
        await stripe(
          sim,
          '/v1/payment_intents',
          stripeIntent(CARDS.visa, { 'metadata[reference]': `${tag}_${index}` }),
        );
      }
      const deliveries = await settled(8);
      const kinds = new Map<string, number>();
      for (const delivery of deliveries)
        if (delivery.reference?.startsWith(tag))
          kinds.set(delivery.reference, (kinds.get(delivery.reference) ?? 0) + 1);
      return [...kinds.entries()]
        .sort()
        .map(([reference, count]) => `${reference.slice(tag.length)}:${count}`);
    };
    const first = await pattern('dup_a');
    await admin(sim, 'POST', '/reset');
    const second = await pattern('dup_b');
    assert.deepEqual(second, first);
    assert.ok(
      first.some((entry) => entry.endsWith(':2')) && first.some((entry) => entry.endsWith(':1')),
      first.join(','),
    );
  });
});

describe('webhooks: when and what', () => {
  test('no webhook is sent when none is configured (or after DELETE)', async () => {
    await stripe(sim, '/v1/payment_intents', stripeIntent(CARDS.visa));
    await razorpay(sim, '/v1/payments/create/json', razorpayPayment(CARDS.visa, { capture: true }));
    await paytm(sim, '/v3/order/pay', paytmOrder(CARDS.visa));
    await configure('stripe', {});
    assert.equal((await admin(sim, 'DELETE', '/webhooks/stripe')).status, 200);
    await stripe(sim, '/v1/payment_intents', stripeIntent(CARDS.visa));
    await idle();
    assert.equal(receiver.received.length, 0);
    assert.deepEqual((await admin(sim, 'GET', '/webhooks/deliveries')).body, {
      deliveries: [],
      dropped: 0,
    });
    assert.equal((await groundTruth(sim)).operations.length, 8, 'the operations happened');
  });

  test('webhooks never hold back the API answer: a slow endpoint, and the timeout card', async () => {
    receiver.holdMs = 1500;
    await configure('stripe', {});
    const started = Date.now();
    const created = await stripe(
      sim,
      '/v1/payment_intents',
      stripeIntent(CARDS.visa, { capture_method: 'manual' }),
    );
    await stripe(sim, `/v1/payment_intents/${text(created.body, 'id')}/capture`, {});
    assert.ok(Date.now() - started < 700, `API calls took ${Date.now() - started} ms`);
    receiver.holdMs = 0;
    const pending = stripe(sim, '/v1/payment_intents', stripeIntent(CARDS.timeout));
    const received = await receiver.waitFor(1);
    const answered = await pending;
    assert.equal(answered.status, 200);
    assert.ok(
      (received[0]?.atMs ?? Infinity) < Date.now() - 300,
      'the webhook of the timeout card came before its (800 ms late) answer',
    );
  });

  test('resend: the same events again with their ids; a payment from before the webhook was set gets its events now', async () => {
    const before = razorpayPayment(CARDS.visa, { capture: true });
    const early = await razorpay(sim, '/v1/payments/create/json', before);
    await configure('razorpay', {});
    const created = await razorpay(sim, '/v1/payments/create/json', razorpayPayment(CARDS.visa));
    const id = text(created.body, 'id');
    await razorpay(sim, `/v1/payments/${id}/capture`, { amount: 50_000, currency: 'INR' });
    const originals = (await receiver.waitFor(2)).map((request) => verifyRazorpay(request).eventId);
    await settled(2);
    const resent = await admin(sim, 'POST', '/webhooks/razorpay/resend', { paymentId: id });
    assert.equal(resent.status, 200);
    assert.deepEqual(
      (resent.body.resent as { eventId: string }[]).map((event) => event.eventId),
      originals,
    );
    const again = (await receiver.waitFor(4)).slice(2).map((request) => verifyRazorpay(request));
    assert.deepEqual(
      again.map(({ eventId }) => eventId),
      originals,
    );
    assert.deepEqual(
      again.map(({ event }) => event.event),
      ['payment.authorized', 'payment.captured'],
    );
    const byReference = await admin(sim, 'POST', '/webhooks/razorpay/resend', {
      reference: String(before.receipt),
    });
    assert.equal(byReference.status, 200);
    const late = (await receiver.waitFor(6))
      .slice(4)
      .map((request) => verifyRazorpay(request).event);
    assert.deepEqual(
      late.map((event) => event.event),
      ['payment.authorized', 'payment.captured'],
    );
    assert.equal(
      (((late[0]?.payload as Json).payment as { entity: Json }).entity as Json).id,
      text(early.body, 'id'),
    );
    assert.equal(
      (((late[0]?.payload as Json).payment as { entity: Json }).entity as Json).status,
      'authorized',
      'a snapshot of that moment',
    );
    const deliveries = await settled(6);
    assert.deepEqual(
      deliveries.map((delivery) => delivery.kind),
      ['original', 'original', 'resend', 'resend', 'resend', 'resend'],
    );
  });

  test('resend refuses what it cannot do', async () => {
    assert.equal(
      (await admin(sim, 'POST', '/webhooks/stripe/resend', { paymentId: 'pi_none' })).status,
      409,
      'no webhook set',
    );
    await configure('stripe', {});
    assert.equal(
      (await admin(sim, 'POST', '/webhooks/stripe/resend', { paymentId: 'pi_none' })).status,
      404,
    );
    assert.equal((await admin(sim, 'POST', '/webhooks/stripe/resend', {})).status, 400);
    assert.equal(
      (await admin(sim, 'POST', '/webhooks/stripe/resend', { paymentId: 'a', reference: 'b' }))
        .status,
      400,
    );
    assert.equal((await admin(sim, 'GET', '/webhooks/stripe/resend')).status, 404);
  });
});

describe('webhooks admin', () => {
  test('PUT shows the settings with defaults, GET lists every PSP, DELETE turns them off, reset clears', async () => {
    const put = await admin(sim, 'PUT', '/webhooks/paytm', {
      url: receiver.url,
      secret: SECRET,
      seed: 7,
    });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body.paytm, {
      url: receiver.url,
      secret: SECRET,
      seed: 7,
      duplicateRate: 0,
      outOfOrderRate: 0,
      outOfOrderDelayMs: 1000,
      maxAttempts: 4,
      retryBackoffMs: 200,
      timeoutMs: 5000,
    });
    const all = await admin(sim, 'GET', '/webhooks');
    assert.deepEqual(Object.keys(all.body).sort(), [...PSPS].sort());
    for (const psp of ['paytm', 'razorpay', 'stripe']) assert.ok(psp in all.body, psp);
    assert.equal(all.body.stripe, null);
    assert.equal((await admin(sim, 'GET', '/webhooks/paytm')).body.paytm !== null, true);
    await admin(sim, 'POST', '/reset');
    assert.equal((await admin(sim, 'GET', '/webhooks/paytm')).body.paytm, null);
  });

  test('bad settings are 400, an unknown PSP is 404', async () => {
    const good = { url: receiver.url, secret: SECRET };
    for (const body of [
      {},
      { secret: SECRET },
      { url: receiver.url },
      { ...good, url: 'ftp://example.com/' },
      { ...good, url: 'not a url' },
      { ...good, secret: '' },
      { ...good, duplicateRate: 2 },
      { ...good, outOfOrderRate: -1 },
      { ...good, maxAttempts: 0 },
      { ...good, maxAttempts: 1.5 },
      { ...good, timeoutMs: 0 },
      { ...good, bogus: true },
    ]) {
      const reply = await admin(sim, 'PUT', '/webhooks/stripe', body);
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.equal(typeof (reply.body.error as Json).message, 'string');
    }
    assert.equal((await admin(sim, 'PUT', '/webhooks/unknown_psp', good)).status, 404);
    assert.equal((await admin(sim, 'GET', '/webhooks/deliveries?psp=unknown_psp')).status, 400);
  });
});

test('stateAfter replays a payment up to one operation', () => {
  const base = {
    psp: 'stripe',
    paymentId: 'pi_1',
    reference: null,
    currency: 'usd',
    atMs: 0,
  } as const;
  const operations: Operation[] = [
    { ...base, seq: 1, type: 'authorize', status: 'succeeded', amount: 1000 },
    { ...base, seq: 2, type: 'capture', status: 'succeeded', amount: 800 },
    { ...base, seq: 5, type: 'refund', status: 'succeeded', amount: 300 },
    { ...base, seq: 9, type: 'refund', status: 'succeeded', amount: 500 },
  ];
  assert.deepEqual(stateAfter(operations, 1), {
    status: 'authorized',
    authorized: 1000,
    captured: 0,
    refunded: 0,
    voided: false,
  });
  assert.deepEqual(stateAfter(operations, 5), {
    status: 'partially_refunded',
    authorized: 1000,
    captured: 800,
    refunded: 300,
    voided: false,
  });
  assert.deepEqual(stateAfter(operations, 9), {
    status: 'refunded',
    authorized: 1000,
    captured: 800,
    refunded: 800,
    voided: false,
  });
});
