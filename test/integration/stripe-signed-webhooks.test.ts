// Issue 13, item 7: a merchant's endpoint may be signed as Stripe signs (`Stripe-Signature`), so a
// Stripe integration verifies Payrail's webhooks with the official SDK's constructEvent unchanged;
// Standard Webhooks stays the default; api_version is kept as given, and refused when malformed.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Stripe from 'stripe';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';
import { call } from '../support/server.ts';
import { waitFor } from '../support/wait.ts';

type Delivery = { headers: http.IncomingHttpHeaders; body: string };

describe('Stripe-signed webhooks', () => {
  let stack: SimulatedStack;
  let receiver: http.Server;
  let port: number;
  const deliveries: Delivery[] = [];

  before(async () => {
    stack = await startSimulatedStack({ env: { PAYRAIL_WEBHOOK_ALLOW_LOOPBACK: '1' } });
    receiver = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        deliveries.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    port = (receiver.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise((resolve) => receiver.close(resolve));
    await stack.stop();
  });

  test('stripe.webhooks.constructEvent verifies a delivery; the default stays Standard Webhooks', async () => {
    const { key } = await stack.merchant('Stripe shop');
    const created = await call(stack.server, 'POST', '/v1/webhook_endpoints', {
      key,
      body: {
        url: `http://127.0.0.1:${port}/stripe`,
        enabled_events: ['payment_intent.succeeded'],
        signature_scheme: 'stripe',
        api_version: '2024-06-20',
      },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.deepEqual(
      [created.body.signature_scheme, created.body.api_version],
      ['stripe', '2024-06-20'],
    );
    const standard = await call(stack.server, 'POST', '/v1/webhook_endpoints', {
      key,
      body: { url: `http://127.0.0.1:${port}/standard`, enabled_events: ['*'] },
    });
    assert.equal(standard.body.signature_scheme, 'standard_webhooks');
    const paid = await call(stack.server, 'POST', '/v1/payment_intents', {
      key,
      body: { amount: 1500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
    });
    assert.equal(paid.body.status, 'succeeded', JSON.stringify(paid.body));
    const delivery = await waitFor('a Stripe-signed delivery', () =>
      deliveries.find((entry) => entry.headers['stripe-signature'] !== undefined),
    );
    const stripe = new Stripe('sk_test_unused');
    const event = stripe.webhooks.constructEvent(
      delivery.body,
      String(delivery.headers['stripe-signature']),
      String(created.body.secret),
    );
    assert.equal(event.type, 'payment_intent.succeeded');
    assert.equal((event.data.object as { id: string }).id, paid.body.id);
    assert.equal(delivery.headers['webhook-signature'], undefined);
    assert.throws(() =>
      stripe.webhooks.constructEvent(
        delivery.body.replace('1500', '1501'),
        String(delivery.headers['stripe-signature']),
        String(created.body.secret),
      ),
    );
    const viaStandard = await waitFor('a Standard Webhooks delivery', () =>
      deliveries.find((entry) => entry.headers['webhook-signature'] !== undefined),
    );
    assert.equal(viaStandard.headers['stripe-signature'], undefined);
  });

  test('a malformed api_version or scheme is refused, naming it, and nothing is created', async () => {
    const { key } = await stack.merchant('Careful shop');
    for (const [field, value] of [
      ['api_version', 'yesterday'],
      ['signature_scheme', 'hmac'],
    ] as const) {
      const refused = await call(stack.server, 'POST', '/v1/webhook_endpoints', {
        key,
        body: { url: `http://127.0.0.1:${port}/x`, enabled_events: ['*'], [field]: value },
      });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.error?.param, field);
    }
    const listed = await call(stack.server, 'GET', '/v1/webhook_endpoints', { key });
    assert.deepEqual(listed.body.data, []);
  });
});
