// Events over HTTP: every state change of a payment writes its event with the object as it was
// right after the change; lists filter by type; another merchant's events are invisible.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';
import { call, type TestServer } from '../support/server.ts';

type EventBody = {
  id: string;
  object: string;
  type: string;
  created: number;
  data: { object: Record<string, unknown> };
};

describe('events over HTTP', () => {
  let server: TestServer;
  let stack: SimulatedStack;
  let key: string;
  let otherKey: string;

  async function eventsOf(objectId: string): Promise<EventBody[]> {
    const response = await call(server, 'GET', '/v1/events?limit=100', { key });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return (response.body.data as EventBody[])
      .filter(
        (event) =>
          event.data.object.id === objectId || event.data.object.payment_intent === objectId,
      )
      .reverse();
  }

  before(async () => {
    stack = await startSimulatedStack();
    ({ server } = stack);
    key = (await stack.merchant('Shop')).key;
    otherKey = (await stack.merchant('Other')).key;
  });
  after(() => stack.stop());

  test('a captured payment: created, then succeeded with the final object', async () => {
    const paid = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: { amount: 2500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
    });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    const events = await eventsOf(String(paid.body.id));
    assert.deepEqual(
      events.map((event) => event.type),
      ['payment_intent.created', 'payment_intent.succeeded'],
    );
    assert.equal(events[0]?.data.object.status, 'processing');
    const succeeded = events[1];
    assert.equal(succeeded?.object, 'event');
    assert.match(String(succeeded?.id), /^evt_/);
    assert.deepEqual(succeeded?.data.object, paid.body);
  });

  test('a decline, a manual capture, a cancel and refunds each write their events', async () => {
    const declined = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: {
        amount: 700,
        currency: 'usd',
        payment_method: 'pm_card_chargeDeclined',
        confirm: true,
      },
    });
    assert.equal(declined.status, 402);
    const listed = await call(server, 'GET', '/v1/events?type=payment_intent.payment_failed', {
      key,
    });
    const failed = listed.body.data as EventBody[];
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.data.object.amount, 700);
    assert.equal(failed[0]?.data.object.status, 'requires_payment_method');
    assert.equal(
      (failed[0]?.data.object.last_payment_error as { decline_code?: string } | null)?.decline_code,
      'generic_decline',
    );

    const manual = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: {
        amount: 5000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        capture_method: 'manual',
      },
    });
    const id = String(manual.body.id);
    assert.equal(
      (
        await call(server, 'POST', `/v1/payment_intents/${id}/capture`, {
          key,
          body: { amount_to_capture: 4000 },
        })
      ).status,
      200,
    );
    const refunded = await call(server, 'POST', '/v1/refunds', {
      key,
      body: { payment_intent: id, amount: 1000 },
    });
    assert.equal(refunded.status, 200, JSON.stringify(refunded.body));
    const types = (await eventsOf(id)).map((event) => event.type);
    assert.deepEqual(types, [
      'payment_intent.created',
      'payment_intent.amount_capturable_updated',
      'payment_intent.succeeded',
      'refund.created',
      'refund.updated',
      'charge.refunded',
    ]);
    const charge = (await eventsOf(id)).find((event) => event.type === 'charge.refunded');
    assert.equal(charge?.data.object.object, 'charge');
    assert.equal(charge?.data.object.amount_refunded, 1000);
    assert.equal(charge?.data.object.refunded, false);

    const toCancel = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: {
        amount: 900,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        capture_method: 'manual',
      },
    });
    assert.equal(
      (
        await call(server, 'POST', `/v1/payment_intents/${String(toCancel.body.id)}/cancel`, {
          key,
          body: {},
        })
      ).status,
      200,
    );
    const canceled = (await eventsOf(String(toCancel.body.id))).at(-1);
    assert.equal(canceled?.type, 'payment_intent.canceled');
    assert.equal(canceled?.data.object.status, 'canceled');
  });

  test('filters, paging, retrieve, and merchant isolation', async () => {
    const wildcard = await call(server, 'GET', '/v1/events?type=refund.*&limit=100', { key });
    assert.ok((wildcard.body.data as EventBody[]).length >= 2);
    assert.ok(
      (wildcard.body.data as EventBody[]).every((event) => event.type.startsWith('refund.')),
    );
    // Both array notations Stripe's SDKs and docs use: types[]=… and types[0]=….
    for (const query of [
      'types[]=refund.created&types[]=charge.refunded',
      'types[0]=refund.created&types[1]=charge.refunded',
    ]) {
      const both = await call(server, 'GET', `/v1/events?${query}&limit=100`, { key });
      assert.equal(both.status, 200, JSON.stringify(both.body));
      assert.deepEqual(
        [...new Set((both.body.data as EventBody[]).map((event) => event.type))].sort(),
        ['charge.refunded', 'refund.created'],
      );
    }

    const first = await call(server, 'GET', '/v1/events?limit=2', { key });
    assert.equal(first.body.has_more, true);
    const firstPage = first.body.data as EventBody[];
    const second = await call(
      server,
      'GET',
      `/v1/events?limit=2&starting_after=${firstPage[1]?.id}`,
      { key },
    );
    const secondPage = second.body.data as EventBody[];
    assert.ok(String(secondPage[0]?.id) < String(firstPage[1]?.id), 'newest first, no overlap');

    const one = await call(server, 'GET', `/v1/events/${firstPage[0]?.id}`, { key });
    assert.deepEqual(one.body, firstPage[0]);
    const hidden = await call(server, 'GET', `/v1/events/${firstPage[0]?.id}`, { key: otherKey });
    assert.equal(hidden.status, 404);
    assert.equal(hidden.body.error?.code, 'resource_missing');
    const otherList = await call(server, 'GET', '/v1/events', { key: otherKey });
    assert.deepEqual(otherList.body.data, []);
  });

  for (const [query, param] of [
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['type=Payment', 'type'],
    ['unknown=1', 'unknown'],
    ['type=refund.created&types[]=refund.failed', 'types'],
    ['types=refund.created&types=refund.failed', 'types'],
    ['types[][x]=refund.created', 'types[0]'],
    ['created[gt=1', undefined],
    ['starting_after=evt_a&ending_before=evt_b', 'ending_before'],
  ] as const) {
    test(`GET /v1/events?${query} is a 400 naming ${param}`, async () => {
      const response = await call(server, 'GET', `/v1/events?${query}`, { key });
      assert.equal(response.status, 400, JSON.stringify(response.body));
      assert.equal(response.body.error?.param, param);
    });
  }
});
