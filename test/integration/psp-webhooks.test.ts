// PSP webhooks over HTTP: the real simulator process sends signed webhooks in each PSP's format
// to a real Payrail server (embedded PGlite), which verifies them and syncs the payment.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  configureSimulatorWebhooks,
  simulatorWebhookSecret,
  type SimulatorWebhookOptions,
} from '../../src/testmode/simulator.ts';
import type { RunningProcess } from '../support/processes.ts';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';
import { waitFor } from '../support/wait.ts';
import { call, type Call, type TestServer } from '../support/server.ts';

type Delivery = {
  eventId: string;
  type: string;
  kind: string;
  late: boolean;
  state: string;
  attempts: number;
  lastStatus: number | null;
  finishedAt: string | null;
};
type EventRow = { event_id: string; type: string; merchant_id: string; processed_at: Date | null };
type Attempt = { id: string; status: string };

describe('PSP webhooks over HTTP with the simulator', () => {
  let simulator: RunningProcess;
  let server: TestServer;
  let stack: SimulatedStack;
  let key: string;
  const syncCalls = new Map<string, number>();

  async function simulatorCall(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${simulator.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    };
  }

  function webhooksTo(connector: string, options: SimulatorWebhookOptions = {}): Promise<void> {
    return configureSimulatorWebhooks(
      simulator.url,
      server.url,
      { retryBackoffMs: 100, ...options },
      [connector],
    );
  }

  async function deliveries(reference: string): Promise<Delivery[]> {
    return (await simulatorCall('GET', `/_sim/webhooks/deliveries?reference=${reference}`)).body
      .deliveries as Delivery[];
  }

  async function allDelivered(reference: string, count: number): Promise<Delivery[]> {
    return waitFor(`${count} deliveries for ${reference}`, async () => {
      const found = await deliveries(reference);
      return found.length === count && found.every((delivery) => delivery.state !== 'pending')
        ? found
        : undefined;
    });
  }

  async function eventRows(intentId: string): Promise<EventRow[]> {
    const result = await server.context.database.query<EventRow>(
      'SELECT event_id, type, merchant_id, processed_at FROM psp_webhook_events WHERE payment_intent_id = $1 ORDER BY received_at',
      [intentId],
    );
    return result.rows;
  }

  async function eventCount(): Promise<number> {
    return Number(
      (
        await server.context.database.query<{ count: bigint }>(
          'SELECT count(*) AS count FROM psp_webhook_events',
        )
      ).rows[0]?.count,
    );
  }

  async function pay(body: Record<string, unknown>): Promise<{ id: string; attempt: string }> {
    const paid = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: { amount: 1_500, currency: 'usd', confirm: true, ...body },
    });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    return { id: String(paid.body.id), attempt: (paid.body.attempts as Attempt[])[0]?.id ?? '' };
  }

  async function intent(id: string): Promise<Call['body']> {
    return (await call(server, 'GET', `/v1/payment_intents/${id}`, { key })).body;
  }

  function waitForStatus(id: string, status: string): Promise<Call['body']> {
    return waitFor(`${id} to be ${status}`, async () => {
      const current = await intent(id);
      return current.status === status ? current : undefined;
    });
  }

  /** Sends a webhook with extra headers (the test support's `call` sets only auth and content type). */
  async function send(
    connector: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<Call> {
    const response = await fetch(`${server.url}/v1/psp_webhooks/${connector}`, {
      method: 'POST',
      headers,
      body,
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text === '' ? {} : JSON.parse(text),
      headers: response.headers,
    };
  }

  function stripeEvent(
    eventId: string,
    reference: string,
    type = 'payment_intent.succeeded',
  ): string {
    return JSON.stringify({
      id: eventId,
      object: 'event',
      api_version: '2024-06-20',
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
      data: {
        object: {
          id: 'pi_forged000000000000000000',
          object: 'payment_intent',
          amount: 1_500,
          currency: 'usd',
          status: 'succeeded',
          metadata: { reference },
        },
      },
    });
  }

  function stripeHeaders(
    body: string,
    options: { secret?: string; timestamp?: number } = {},
  ): Record<string, string> {
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
    const signature = createHmac('sha256', options.secret ?? simulatorWebhookSecret('stripe'))
      .update(`${timestamp}.${body}`)
      .digest('hex');
    return {
      'content-type': 'application/json; charset=utf-8',
      'stripe-signature': `t=${timestamp},v1=${signature}`,
    };
  }

  before(async () => {
    // One try per PSP call and no status sync worker: what resolves an unknown payment here is the webhook.
    stack = await startSimulatedStack({
      simulatorEnv: { SIM_TIMEOUT_DELAY_MS: '3000' },
      env: {
        PAYRAIL_PSP_TIMEOUT_MS: '1200',
        PAYRAIL_PSP_ATTEMPTS: '1',
        PAYRAIL_BREAKER_THRESHOLD: '1000',
        PAYRAIL_RUN_WORKERS: 'false',
      },
    });
    ({ simulator, server } = stack);
    key = (await stack.merchant('Webhook shop')).key;
    // Counts the syncs (by intent) that webhooks cause; nothing else in this file syncs.
    const payments = server.context.payments;
    const sync = payments.sync.bind(payments);
    payments.sync = async (merchantId: string, id: string) => {
      syncCalls.set(id, (syncCalls.get(id) ?? 0) + 1);
      return sync(merchantId, id);
    };
  });
  after(() => stack.stop());
  beforeEach(async () => {
    await simulatorCall('DELETE', '/_sim/faults');
    await configureSimulatorWebhooks(simulator.url, server.url, { retryBackoffMs: 100 });
  });

  for (const [connector, currency] of [
    ['stripe', 'usd'],
    ['razorpay', 'inr'],
    ['paytm', 'inr'],
  ] as const) {
    test(`${connector}: a payment whose answer was lost is resolved by the webhook, with no sync by hand`, async () => {
      const paid = await pay({ currency, payment_method: 'pm_card_pspLostResponse', connector });
      const resolved = await waitForStatus(paid.id, 'succeeded');
      assert.equal(resolved.amount_received, 1_500);
      assert.equal((resolved.attempts as Attempt[])[0]?.status, 'captured');
      const sent = await allDelivered(paid.attempt, connector === 'razorpay' ? 2 : 1);
      assert.ok(
        sent.every((delivery) => delivery.state === 'delivered' && delivery.lastStatus === 200),
        JSON.stringify(sent),
      );
      const rows = await eventRows(paid.id);
      assert.deepEqual(
        rows.map((row) => row.event_id).sort(),
        sent.map((delivery) => delivery.eventId).sort(),
      );
      assert.ok(rows.every((row) => row.processed_at !== null));
      assert.ok((syncCalls.get(paid.id) ?? 0) >= 1);
      const truth = (await simulatorCall('GET', `/_sim/ground-truth?reference=${paid.attempt}`))
        .body.payments as { captured: number }[];
      assert.equal(truth[0]?.captured, 1_500);
    });
  }

  test('duplicates (duplicateRate 1) are recorded and processed once each', async () => {
    await webhooksTo('stripe', { duplicateRate: 1 });
    const paid = await pay({
      payment_method: 'pm_card_visa',
      capture_method: 'manual',
      connector: 'stripe',
    });
    const captured = await call(server, 'POST', `/v1/payment_intents/${paid.id}/capture`, {
      key,
      body: {},
    });
    assert.equal(captured.body.status, 'succeeded', JSON.stringify(captured.body));
    const sent = await allDelivered(paid.attempt, 4);
    assert.deepEqual(
      sent.map((delivery) => delivery.kind),
      ['original', 'duplicate', 'original', 'duplicate'],
    );
    assert.ok(
      sent.every((delivery) => delivery.state === 'delivered' && delivery.lastStatus === 200),
      JSON.stringify(sent),
    );
    const rows = await eventRows(paid.id);
    assert.deepEqual(
      rows.map((row) => row.type),
      ['payment_intent.amount_capturable_updated', 'payment_intent.succeeded'],
    );
    assert.ok(rows.every((row) => row.processed_at !== null));
    assert.equal(syncCalls.get(paid.id), 2, 'one sync per distinct event, none for the duplicates');
    const final = await intent(paid.id);
    assert.equal(final.amount_received, 1_500);
    assert.equal(
      (await server.context.ledger.getTransaction(`capture:${paid.attempt}`))?.legs[0]?.amount,
      1_500n,
    );
  });

  test('out of order (outOfOrderRate 1): captured before authorized still ends captured, never moved back', async () => {
    await webhooksTo('razorpay', { outOfOrderRate: 1, outOfOrderDelayMs: 200 });
    const paid = await pay({
      currency: 'inr',
      payment_method: 'pm_card_pspLostResponse',
      connector: 'razorpay',
    });
    const sent = await allDelivered(paid.attempt, 2);
    const finishedAt = (type: string) =>
      Date.parse(sent.find((delivery) => delivery.type === type)?.finishedAt ?? '');
    assert.ok(
      sent.every((delivery) => delivery.late && delivery.state === 'delivered'),
      JSON.stringify(sent),
    );
    assert.ok(
      finishedAt('payment.captured') <= finishedAt('payment.authorized'),
      'the capture event came first',
    );
    const final = await waitForStatus(paid.id, 'succeeded');
    assert.equal(final.amount_received, 1_500);
    assert.equal(final.amount_capturable, 0);
    assert.equal((final.attempts as Attempt[])[0]?.status, 'captured');
    const rows = await eventRows(paid.id);
    assert.equal(rows.length, 2);
    assert.ok(rows.every((row) => row.processed_at !== null));
  });

  test('a tampered, stale or unknown webhook is a 400 and changes nothing; the genuine one resolves the payment once', async () => {
    await simulatorCall('DELETE', '/_sim/webhooks/stripe');
    const paid = await pay({ payment_method: 'pm_card_pspLostResponse', connector: 'stripe' });
    assert.equal((await intent(paid.id)).status, 'processing');
    const before = await eventCount();
    const body = stripeEvent('evt_ForgedButPlausible0000001', paid.attempt);
    const refusals: [string, Record<string, string>][] = [
      ['wrong secret', stripeHeaders(body, { secret: 'whsec_guess' })],
      ['tampered body', stripeHeaders(body.replace('1500', '150000'))],
      ['stale timestamp', stripeHeaders(body, { timestamp: Math.floor(Date.now() / 1000) - 301 })],
      ['no signature', { 'content-type': 'application/json' }],
    ];
    for (const [what, headers] of refusals) {
      const refused = await send('stripe', body, headers);
      assert.equal(refused.status, 400, what);
      assert.equal(refused.body.error?.code, 'psp_webhook_signature_invalid', what);
      assert.doesNotMatch(JSON.stringify(refused.body), /pa_|pi_|whsec|secret/, what);
    }
    const unknown = stripeEvent('evt_UnknownReference00000001', 'pa_doesnotexist');
    const refused = await send('stripe', unknown, stripeHeaders(unknown));
    assert.equal(refused.status, 400);
    assert.equal(
      refused.body.error?.code,
      'psp_webhook_signature_invalid',
      'the same answer as a bad signature',
    );
    assert.equal(await eventCount(), before);
    assert.equal((await intent(paid.id)).status, 'processing');
    assert.equal(syncCalls.get(paid.id) ?? 0, 0);

    // Correctly signed: Payrail asks the PSP, which says captured (the event's own amount is not believed).
    const accepted = await send('stripe', body, stripeHeaders(body));
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    assert.deepEqual(accepted.body, { received: true, duplicate: false });
    assert.equal((await intent(paid.id)).status, 'succeeded');
    const again = await send('stripe', body, stripeHeaders(body));
    assert.deepEqual(again.body, { received: true, duplicate: true });
    assert.equal(syncCalls.get(paid.id), 1);
    assert.equal((await eventRows(paid.id)).length, 1);
  });

  test("another PSP's format at a connector is a 400; an unknown connector a 404; no API key is needed, others' parsers are untouched", async () => {
    const paid = await pay({ payment_method: 'pm_card_visa', connector: 'stripe' });
    const before = await eventCount();
    const stripeBody = stripeEvent('evt_WrongConnector0000000001', paid.attempt);
    for (const connector of ['razorpay', 'paytm']) {
      const refused = await send(connector, stripeBody, stripeHeaders(stripeBody));
      assert.equal(refused.status, 400, connector);
      assert.equal(refused.body.error?.code, 'psp_webhook_invalid', connector);
    }
    const razorpayBody = JSON.stringify({
      entity: 'event',
      event: 'payment.captured',
      contains: ['payment'],
      payload: { payment: { entity: { id: 'pay_1', receipt: paid.attempt } } },
    });
    const signature = createHmac('sha256', simulatorWebhookSecret('razorpay'))
      .update(razorpayBody)
      .digest('hex');
    const atStripe = await send('stripe', razorpayBody, {
      'content-type': 'application/json',
      'x-razorpay-event-id': 'evt_Abc',
      'x-razorpay-signature': signature,
    });
    assert.equal(atStripe.body.error?.code, 'psp_webhook_invalid');
    // Right format, but the attempt belongs to another connector.
    const atRazorpay = await send('razorpay', razorpayBody, {
      'content-type': 'application/json',
      'x-razorpay-event-id': 'evt_Abc',
      'x-razorpay-signature': signature,
    });
    assert.equal(atRazorpay.body.error?.code, 'psp_webhook_signature_invalid');
    const unknown = await send('unknown_psp', stripeBody, stripeHeaders(stripeBody));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error?.code, 'resource_missing');
    const plain = await send('stripe', stripeBody, { 'content-type': 'text/plain' });
    assert.equal(plain.status, 415);
    assert.equal(await eventCount(), before);
    const empty = await send('stripe', '', { 'content-type': 'application/json' });
    assert.equal(empty.body.error?.code, 'psp_webhook_invalid');
    // The merchant API still parses JSON and forms itself.
    const merchantForm = await call(server, 'POST', '/v1/payment_intents', {
      key,
      contentType: 'application/x-www-form-urlencoded',
      rawBody: 'amount=700&currency=usd&confirm=true&payment_method=pm_card_visa&metadata[order]=7',
    });
    assert.equal(merchantForm.body.status, 'succeeded', JSON.stringify(merchantForm.body));
    assert.deepEqual(merchantForm.body.metadata, { order: '7' });
  });

  test('when the PSP cannot be asked, the webhook is recorded unprocessed and answered 500; the PSP retry processes it', async () => {
    await simulatorCall('DELETE', '/_sim/webhooks/stripe');
    const paid = await pay({ payment_method: 'pm_card_pspLostResponse', connector: 'stripe' });
    assert.equal((await simulatorCall('PUT', '/_sim/faults/stripe', { errorRate: 1 })).status, 200);
    await webhooksTo('stripe', { maxAttempts: 10, retryBackoffMs: 200 });
    assert.equal(
      (await simulatorCall('POST', '/_sim/webhooks/stripe/resend', { reference: paid.attempt }))
        .status,
      200,
    );
    const failing = await waitFor('a refused delivery', async () => {
      const [delivery] = await deliveries(paid.attempt);
      return delivery !== undefined && delivery.attempts >= 2 && delivery.lastStatus === 500
        ? delivery
        : undefined;
    });
    assert.equal(failing.state, 'pending');
    const [row] = await eventRows(paid.id);
    assert.equal(row?.event_id, failing.eventId);
    assert.equal(row?.processed_at, null);
    assert.equal((await intent(paid.id)).status, 'processing');

    assert.equal((await simulatorCall('DELETE', '/_sim/faults/stripe')).status, 200);
    const delivered = await waitFor('the retried delivery', async () => {
      const [delivery] = await deliveries(paid.attempt);
      return delivery?.state === 'delivered' ? delivery : undefined;
    });
    assert.equal(delivered.lastStatus, 200);
    assert.equal((await intent(paid.id)).status, 'succeeded');
    const rows = await eventRows(paid.id);
    assert.equal(rows.length, 1);
    assert.notEqual(rows[0]?.processed_at, null);
  });
});
