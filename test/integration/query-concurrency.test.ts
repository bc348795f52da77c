// Updates of a payment intent under concurrency, on the real PostgreSQL (PGlite has one session
// and would hide races): concurrent metadata merges lose no key, and updates of the amount racing
// a confirm either land before it (the charge is of the updated amount) or are refused after it;
// never a charge of one amount on an intent that says another.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';
import { call, type TestServer } from '../support/server.ts';

describe('payment intent updates under concurrency (PostgreSQL)', () => {
  let stack: SimulatedStack;
  let server: TestServer;
  let key: string;

  before(async () => {
    stack = await startSimulatedStack({
      database: 'postgres',
      env: { PAYRAIL_DB_POOL_SIZE: '20' },
    });
    ({ server } = stack);
    key = (await stack.merchant('Racing shop')).key;
  });
  after(() => stack.stop());

  test('20 concurrent metadata updates of one intent: every key kept (no lost update)', async () => {
    const created = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: { amount: 1_000, currency: 'usd', metadata: { first: 'x' } },
    });
    const id = String(created.body.id);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        call(server, 'POST', `/v1/payment_intents/${id}`, {
          key,
          body: { metadata: { [`k${index}`]: String(index) } },
        }),
      ),
    );
    assert.deepEqual(
      answers.map((answer) => answer.status),
      answers.map(() => 200),
    );
    const final = await call(server, 'GET', `/v1/payment_intents/${id}`, { key });
    assert.equal(Object.keys(final.body.metadata as object).length, 21);
  });

  test('amount updates racing a confirm: the charge is of the amount the intent shows', async () => {
    for (let round = 0; round < 8; round++) {
      const created = await call(server, 'POST', '/v1/payment_intents', {
        key,
        body: { amount: 1_000, currency: 'usd', payment_method: 'pm_card_visa' },
      });
      const id = String(created.body.id);
      const updates = Array.from({ length: 6 }, (_, index) =>
        call(server, 'POST', `/v1/payment_intents/${id}`, {
          key,
          body: { amount: 2_000 + index },
        }),
      );
      const confirm = call(server, 'POST', `/v1/payment_intents/${id}/confirm`, { key, body: {} });
      const [confirmed, ...updated] = await Promise.all([confirm, ...updates]);
      assert.equal(confirmed?.status, 200, JSON.stringify(confirmed?.body));
      for (const answer of updated) {
        if (answer.status === 200) continue;
        assert.equal(answer.status, 400, JSON.stringify(answer.body));
        assert.equal(answer.body.error?.code, 'payment_intent_unexpected_state');
      }
      const final = await call(server, 'GET', `/v1/payment_intents/${id}`, { key });
      assert.equal(final.body.status, 'succeeded');
      const attempts = final.body.attempts as { amount: number; status: string }[];
      assert.equal(attempts.length, 1);
      assert.equal(attempts[0]?.amount, final.body.amount);
      assert.equal(final.body.amount_received, final.body.amount);
    }
  });
});
