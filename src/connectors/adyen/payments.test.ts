// End to end: payments through Payrail's API routed to the Adyen connector, against the
// simulator process, with the simulator's Adyen notifications sent to Payrail's PSP webhook
// route. Captures, cancels and refunds are "received" at Adyen: Payrail shows them in progress
// until the notification comes, then records them, and the ledger balances.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunningProcess } from '../../../test/support/processes.ts';
import { startSimulatedStack, type SimulatedStack } from '../../../test/support/simulator.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { call, testAdminKey, type TestServer } from '../../../test/support/server.ts';
import { verifyLedger } from '../../ledger/index.ts';
import { configureSimulatorWebhooks } from '../../testmode/simulator.ts';

type Body = Record<string, unknown>;

describe('payments routed to adyen', () => {
  let simulator: RunningProcess;
  let server: TestServer;
  let stack: SimulatedStack;
  let key: string;
  let merchantId: string;

  async function get(path: string): Promise<Body> {
    return (await call(server, 'GET', path, { key })).body;
  }

  async function statusBecomes(path: string, status: string): Promise<Body> {
    return waitFor(`${path} to be ${status}`, async () => {
      const body = await get(path);
      return body.status === status ? body : undefined;
    });
  }

  async function pay(body: Body): Promise<Body> {
    const paid = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: {
        currency: 'eur',
        payment_method: 'pm_card_visa',
        confirm: true,
        connector: 'adyen',
        ...body,
      },
    });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.equal(paid.body.connector, 'adyen');
    return paid.body;
  }

  before(async () => {
    stack = await startSimulatedStack();
    ({ simulator, server } = stack);
    ({ key, id: merchantId } = await stack.merchant('Adyen shop'));
    await configureSimulatorWebhooks(simulator.url, server.url, { retryBackoffMs: 100 }, ['adyen']);
  });
  after(() => stack.stop());

  test('a test-mode merchant has adyen; an automatic-capture payment succeeds at once', async () => {
    const listed = await call(server, 'GET', `/v1/admin/merchants/${merchantId}/connectors`, {
      key: testAdminKey,
    });
    const names = (listed.body.data as { connector: string }[]).map((entry) => entry.connector);
    assert.ok(names.includes('adyen'), names.join(', '));
    const paid = await pay({ amount: 2_000 });
    assert.equal(paid.status, 'succeeded');
    assert.equal(paid.amount_received, 2_000);
  });

  test('a declined card is a card error with its decline code', async () => {
    const declined = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: {
        amount: 1_000,
        currency: 'eur',
        payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
        confirm: true,
        connector: 'adyen',
      },
    });
    assert.equal(declined.status, 402);
    assert.equal(declined.body.error?.decline_code, 'insufficient_funds');
  });

  test('a manual capture is processing until the CAPTURE notification, then succeeded', async () => {
    const authorized = await pay({ amount: 3_000, capture_method: 'manual' });
    assert.equal(authorized.status, 'requires_capture');
    const id = String(authorized.id);
    const captured = await call(server, 'POST', `/v1/payment_intents/${id}/capture`, {
      key,
      body: { amount_to_capture: 2_500 },
    });
    assert.equal(captured.status, 200, JSON.stringify(captured.body));
    assert.ok(
      ['processing', 'succeeded'].includes(String(captured.body.status)),
      String(captured.body.status),
    );
    const done = await statusBecomes(`/v1/payment_intents/${id}`, 'succeeded');
    assert.equal(done.amount_received, 2_500);
  });

  test('a cancel is processing until the CANCELLATION notification, then canceled', async () => {
    const authorized = await pay({ amount: 1_200, capture_method: 'manual' });
    const id = String(authorized.id);
    const canceled = await call(server, 'POST', `/v1/payment_intents/${id}/cancel`, {
      key,
      body: {},
    });
    assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
    await statusBecomes(`/v1/payment_intents/${id}`, 'canceled');
  });

  test('partial refunds are pending until their REFUND notifications, then succeeded', async () => {
    const paid = await pay({ amount: 4_000 });
    for (const amount of [1_000, 500]) {
      const refund = await call(server, 'POST', '/v1/refunds', {
        key,
        body: { payment_intent: paid.id, amount },
      });
      assert.equal(refund.status, 200, JSON.stringify(refund.body));
      assert.ok(['pending', 'succeeded'].includes(String(refund.body.status)));
      await statusBecomes(`/v1/refunds/${String(refund.body.id)}`, 'succeeded');
    }
    const intent = await get(`/v1/payment_intents/${String(paid.id)}`);
    assert.equal(intent.amount_refunded, 1_500);
    assert.equal((await verifyLedger(server.context.database)).ok, true);
  });
});
