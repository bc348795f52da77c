// Exactly-once for risk's new ways to move money, on the real PostgreSQL (PGlite has one session
// and would hide races): many approvals of one review at once capture the held payment once; many
// browsers returning from one 3-D Secure challenge at once authorize (and capture) it once.
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

describe('risk under concurrency (PostgreSQL)', () => {
  let simulator: RunningProcess;
  let server: TestServer;
  let stack: SimulatedStack;
  let key: string;

  /** What the PSP captured for these attempts, in all. */
  const captured = async (attemptIds: readonly string[]) => {
    let total = 0;
    for (const reference of attemptIds) {
      const truth = await simulatorGroundTruth<GroundTruth>(simulator, { reference });
      for (const payment of truth.payments) total += payment.captured;
    }
    return total;
  };
  const attemptIdsOf = (intent: Record<string, unknown>) =>
    (intent.attempts as { id: string }[]).map((attempt) => attempt.id);

  before(async () => {
    stack = await startSimulatedStack({
      database: 'postgres',
      env: { PAYRAIL_DB_POOL_SIZE: '30' },
    });
    ({ simulator, server } = stack);
    key = (await stack.merchant('Reviewed shop')).key;
  });
  after(() => stack.stop());

  test('20 approvals of one review at once: captured once, the review approved once', async () => {
    const rule = await call(server, 'POST', '/v1/radar/rules', {
      key,
      body: { rule: 'review if :amount: = 6543' },
    });
    assert.equal(rule.status, 200, JSON.stringify(rule.body));
    const held = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: { amount: 6_543, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
    });
    assert.equal(held.body.status, 'requires_capture', JSON.stringify(held.body));
    const review = String(held.body.review);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        call(server, 'POST', `/v1/reviews/${review}/approve`, { key, body: {} }),
      ),
    );
    for (const answer of answers) {
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.closed_reason, 'approved');
    }
    const intent = await call(server, 'GET', `/v1/payment_intents/${String(held.body.id)}`, {
      key,
    });
    assert.equal(intent.body.status, 'succeeded');
    assert.equal(intent.body.amount_received, 6_543);
    assert.equal(await captured(attemptIdsOf(intent.body)), 6_543, 'captured once at the PSP');
    const closed = await call(server, 'GET', '/v1/events?type=review.closed', { key });
    assert.equal(
      (closed.body.data as { data: { object: { id: string } } }[]).filter(
        (event) => event.data.object.id === review,
      ).length,
      1,
    );
    assert.equal((await verifyLedger(server.context.database)).ok, true);
  });

  test('8 browsers back from one 3-D Secure challenge at once: one authorization, captured once', async () => {
    const intent = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: {
        amount: 7_654,
        currency: 'eur',
        payment_method: 'pm_card_threeDSecure2Required',
        confirm: true,
        return_url: 'https://shop.example/done',
      },
    });
    assert.equal(intent.body.status, 'requires_action', JSON.stringify(intent.body));
    const acs = (intent.body.next_action as { redirect_to_url: { url: string } }).redirect_to_url
      .url;
    const answered = await fetch(acs, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=complete',
      redirect: 'manual',
    });
    const payrailReturn = answered.headers.get('location') ?? '';
    const returns = await Promise.all(
      Array.from({ length: 8 }, () => fetch(payrailReturn, { redirect: 'manual' })),
    );
    for (const back of returns) {
      await back.arrayBuffer();
      assert.ok([303, 503].includes(back.status), `return answered ${back.status}`);
    }
    const paid = await call(server, 'GET', `/v1/payment_intents/${String(intent.body.id)}`, {
      key,
    });
    assert.equal(paid.body.status, 'succeeded', JSON.stringify(paid.body));
    assert.equal(paid.body.amount_received, 7_654);
    const succeeded = (paid.body.attempts as { status: string }[]).filter(
      (attempt) => attempt.status === 'captured',
    );
    assert.equal(succeeded.length, 1, 'one captured attempt');
    assert.equal(await captured(attemptIdsOf(paid.body)), 7_654, 'captured once at the PSP');
    assert.equal((await verifyLedger(server.context.database)).ok, true);
  });
});
