// Exactly-once for hosted checkout on the real PostgreSQL (PGlite has one session and would hide
// races): many submits of one session's form at once make one PaymentIntent, one capture at the
// PSP and one checkout.session.completed; submits racing an expire end the session once, either
// paid or expired, never both, and an expired session has nothing captured.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { verifyLedger } from '../../src/ledger/index.ts';
import type { RunningProcess } from '../support/processes.ts';
import {
  groundTruth as simulatorGroundTruth,
  startSimulatedStack,
  type SimulatedStack,
} from '../support/simulator.ts';
import { call, type TestServer } from '../support/server.ts';

type GroundTruth = { payments: { reference: string; captured: number }[] };
type Json = Record<string, unknown>;

const cards = ['4242424242424242', '5555555555554444', '4000056655665556', '378282246310005'];

describe('hosted checkout under concurrency (PostgreSQL)', () => {
  let simulator: RunningProcess;
  let server: TestServer;
  let stack: SimulatedStack;
  let key: string;

  const api = async (method: string, path: string, body?: unknown) => {
    const answer = await call(server, method, path, { key, body });
    assert.ok(answer.status < 300, `${method} ${path}: ${JSON.stringify(answer.body)}`);
    return answer.body as Json;
  };
  const newSession = () =>
    api('POST', '/v1/checkout/sessions', {
      mode: 'payment',
      line_items: [
        {
          price_data: { currency: 'usd', unit_amount: 4_321, product_data: { name: 'Lamp' } },
          quantity: 1,
        },
      ],
      success_url: 'https://shop.example/done',
      customer_email: 'race@example.com',
    });
  /** What the PSP captured for the intent's attempts, in all. */
  const capturedAtPsp = async (intent: Json) => {
    let total = 0;
    for (const attempt of intent.attempts as { id: string }[]) {
      const truth = await simulatorGroundTruth<GroundTruth>(simulator, { reference: attempt.id });
      for (const payment of truth.payments) total += payment.captured;
    }
    return total;
  };
  const submitAll = async (sessionId: string, count: number) => {
    const page = await fetch(`${server.url}/pay/${sessionId}`);
    const token = /name="token" value="([A-Za-z0-9]+)"/.exec(await page.text())?.[1] ?? '';
    return Promise.all(
      Array.from({ length: count }, async (_, index) => {
        const number = cards[index % cards.length] ?? '';
        const response = await fetch(`${server.url}/pay/${sessionId}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            token,
            card_number: number,
            expiry: '12/34',
            cvc: number.startsWith('3') ? '1234' : '123',
            name: `Buyer ${index}`,
          }).toString(),
          redirect: 'manual',
        });
        await response.text();
        return response.status;
      }),
    );
  };
  const endEvents = async (sessionId: string) => {
    const events = (await api('GET', '/v1/events?limit=100')).data as {
      type: string;
      data: { object: { id: string } };
    }[];
    return events
      .filter((event) => event.type.startsWith('checkout.session.'))
      .filter((event) => event.data.object.id === sessionId)
      .map((event) => event.type);
  };

  before(async () => {
    stack = await startSimulatedStack({
      database: 'postgres',
      env: { PAYRAIL_DB_POOL_SIZE: '30' },
    });
    ({ simulator, server } = stack);
    key = (await stack.merchant('Busy shop')).key;
  });
  after(() => stack.stop());

  test('12 submits of one session at once: one intent, captured once, completed once', async () => {
    const session = await newSession();
    const statuses = await submitAll(String(session.id), 12);
    // Each submit goes back to the page (303); none fails the server.
    assert.ok(
      statuses.every((status) => status === 303),
      statuses.join(','),
    );
    const done = await api('GET', `/v1/checkout/sessions/${String(session.id)}`);
    assert.equal(done.status, 'complete');
    assert.equal(done.payment_status, 'paid');
    const intent = await api('GET', `/v1/payment_intents/${String(done.payment_intent)}`);
    assert.equal(intent.status, 'succeeded');
    assert.equal(intent.amount_received, 4_321);
    assert.equal(await capturedAtPsp(intent), 4_321, 'the PSP captured the amount once');
    const succeeded = (intent.attempts as { status: string }[]).filter(
      (attempt) => attempt.status === 'captured',
    );
    assert.equal(succeeded.length, 1);
    // No other intent was left behind for this amount by a losing submit.
    const intents = (await api('GET', '/v1/payment_intents?limit=100')).data as Json[];
    assert.equal(intents.filter((item) => item.amount === 4_321).length, 1);
    assert.deepEqual(await endEvents(String(session.id)), ['checkout.session.completed']);
    const report = await verifyLedger(server.context.database);
    assert.equal(report.ok, true, JSON.stringify(report));
  });

  test('submits racing an expire: ended once, paid xor expired, nothing captured if expired', async () => {
    for (let round = 0; round < 3; round += 1) {
      const session = await newSession();
      const id = String(session.id);
      const [statuses, expired] = await Promise.all([
        submitAll(id, 6),
        call(server, 'POST', `/v1/checkout/sessions/${id}/expire`, { key, body: {} }),
      ]);
      assert.ok(
        statuses.every((status) => status === 303 || status === 400),
        statuses.join(','),
      );
      const ended = await api('GET', `/v1/checkout/sessions/${id}`);
      const events = await endEvents(id);
      if (ended.status === 'complete') {
        assert.notEqual(expired.status, 200, 'a paid session was not expired');
        assert.deepEqual(events, ['checkout.session.completed']);
        const intent = await api('GET', `/v1/payment_intents/${String(ended.payment_intent)}`);
        assert.equal(await capturedAtPsp(intent), 4_321);
      } else {
        // The expire may also have found a payment in progress and refused (400): the payment
        // then ends, and the session with it.
        assert.equal(ended.status, 'expired', JSON.stringify(ended));
        assert.deepEqual(events, ['checkout.session.expired']);
        if (ended.payment_intent !== null) {
          const intent = await api('GET', `/v1/payment_intents/${String(ended.payment_intent)}`);
          assert.equal(intent.status, 'canceled');
          assert.equal(await capturedAtPsp(intent), 0, 'an expired session captured nothing');
        }
      }
    }
  });
});
