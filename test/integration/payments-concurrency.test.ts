// Exactly-once under concurrency, on the real PostgreSQL (PGlite has one session and would hide
// races): one idempotency key hammered by 50 clients, 50 partial refunds racing on one payment,
// and many different payments at once (their statements share group commits).
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

type GroundTruth = {
  operations: { type: string; reference: string; amount: number }[];
  payments: { reference: string; captured: number; refunded: number }[];
};

describe('payments under concurrency (PostgreSQL)', () => {
  let simulator: RunningProcess;
  let server: TestServer;
  let stack: SimulatedStack;
  let key: string;

  const groundTruth = (reference: string) =>
    simulatorGroundTruth<GroundTruth>(simulator, { reference });

  before(async () => {
    stack = await startSimulatedStack({
      database: 'postgres',
      env: {
        PAYRAIL_DB_POOL_SIZE: '30',
      },
    });
    ({ simulator, server } = stack);
    key = (await stack.merchant('Busy shop')).key;
  });
  after(() => stack.stop());

  test('50 concurrent identical POSTs with one key: one charge; every answer the stored response or 409', async () => {
    // Some latency at the PSP keeps the first request in flight while the others arrive.
    await fetch(`${simulator.url}/_sim/faults/stripe`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latency: { distribution: 'fixed', meanMs: 150 } }),
    });
    const body = {
      amount: 4_321,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      connector: 'stripe',
    };
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        call(server, 'POST', '/v1/payment_intents', { key, body, idempotencyKey: 'checkout-42' }),
      ),
    );
    await fetch(`${simulator.url}/_sim/faults/stripe`, { method: 'DELETE' });
    const statuses = answers.map((answer) => answer.status);
    assert.ok(
      statuses.every((status) => status === 200 || status === 409),
      `statuses: ${statuses.join(',')}`,
    );
    const successes = answers.filter((answer) => answer.status === 200);
    assert.ok(successes.length >= 1);
    for (const conflict of answers.filter((answer) => answer.status === 409))
      assert.equal(conflict.body.error?.code, 'idempotency_key_in_use');
    // One request did the work; every other 200 is the stored response replayed.
    assert.equal(
      successes.filter((answer) => answer.headers.get('idempotent-replayed') === null).length,
      1,
      'one original answer',
    );
    const replay = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body,
      idempotencyKey: 'checkout-42',
    });
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.body.status, 'succeeded');
    // Every 200 is the stored response itself, not merely the same intent id.
    for (const success of successes) assert.deepEqual(success.body, replay.body);
    const intents = await server.context.database.query<{ count: bigint }>(
      'SELECT count(*)::bigint AS count FROM payment_intents',
    );
    assert.equal(intents.rows[0]?.count, 1n);
    const attemptId = (replay.body.attempts as { id: string }[])[0]?.id ?? '';
    const truth = await groundTruth(attemptId);
    assert.equal(truth.operations.filter((operation) => operation.type === 'authorize').length, 1);
    assert.equal(truth.payments[0]?.captured, 4_321);
  });

  test('60 different payments at once: each its own intent, attempt, events and postings (group-committed statements)', async () => {
    const cards = ['pm_card_visa', 'pm_card_visa', 'pm_card_chargeDeclined'] as const;
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, index) =>
        call(server, 'POST', '/v1/payment_intents', {
          key,
          body: {
            amount: 3_000 + index,
            currency: 'usd',
            payment_method: cards[index % 3],
            confirm: true,
            connector: 'stripe',
            capture_method: index % 3 === 1 ? 'manual' : 'automatic',
            metadata: { n: String(index) },
          },
        }),
      ),
    );
    const expected = (index: number) =>
      index % 3 === 0
        ? 'succeeded'
        : index % 3 === 1
          ? 'requires_capture'
          : 'requires_payment_method';
    const ids: string[] = [];
    for (const [index, answer] of answers.entries()) {
      if (index % 3 === 2) {
        assert.equal(answer.status, 402, JSON.stringify(answer.body));
        assert.equal(answer.body.error?.code, 'card_declined');
        const declined = answer.body.error?.payment_intent as
          { id: string; amount: number } | undefined;
        assert.equal(declined?.amount, 3_000 + index);
        ids.push(String(declined?.id));
        continue;
      }
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.amount, 3_000 + index);
      assert.equal(answer.body.status, expected(index));
      assert.deepEqual(answer.body.metadata, { n: String(index) });
      ids.push(String(answer.body.id));
    }
    assert.equal(new Set(ids).size, 60);
    const database = server.context.database;
    const rows = await database.query<{
      id: string;
      amount: bigint;
      status: string;
      attempts: bigint;
      attempt_amount: bigint;
      events: string[];
    }>(
      `SELECT i.id, i.amount, i.status, count(DISTINCT a.id)::bigint AS attempts, max(a.amount) AS attempt_amount,
              array_agg(DISTINCT e.type ORDER BY e.type) AS events
         FROM payment_intents i JOIN payment_attempts a ON a.payment_intent_id = i.id JOIN events e ON e.object_id = i.id
        WHERE i.id = ANY($1::text[]) GROUP BY i.id`,
      [ids],
    );
    assert.equal(rows.rows.length, 60);
    const finalEvent = {
      succeeded: 'payment_intent.succeeded',
      requires_capture: 'payment_intent.amount_capturable_updated',
      requires_payment_method: 'payment_intent.payment_failed',
    } as const;
    for (const row of rows.rows) {
      const index = Number(row.amount) - 3_000;
      assert.equal(row.id, ids[index]);
      assert.equal(row.status, expected(index));
      assert.equal(row.attempts, 1n);
      assert.equal(row.attempt_amount, row.amount);
      assert.deepEqual(row.events, ['payment_intent.created', finalEvent[expected(index)]].sort());
    }
    for (const [index, answer] of answers.entries()) {
      if (index % 3 === 2) continue;
      const truth = await groundTruth((answer.body.attempts as { id: string }[])[0]?.id ?? '');
      assert.equal(
        truth.operations.filter((operation) => operation.type === 'authorize').length,
        1,
      );
      assert.equal(truth.payments[0]?.captured ?? 0, index % 3 === 0 ? 3_000 + index : 0);
    }
    const report = await verifyLedger(database);
    assert.deepEqual(report.problems, []);
  });

  test('20 concurrent captures of one authorization capture once, never more than authorized', async () => {
    const held = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: {
        amount: 2_000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        capture_method: 'manual',
        connector: 'stripe',
      },
    });
    assert.equal(held.body.status, 'requires_capture');
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        call(server, 'POST', `/v1/payment_intents/${held.body.id}/capture`, {
          key,
          body: { amount_to_capture: 1_000 + index * 100 },
        }),
      ),
    );
    for (const answer of answers)
      assert.ok(answer.status === 200 || answer.status === 400, JSON.stringify(answer.body));
    const intent = await call(server, 'GET', `/v1/payment_intents/${held.body.id}`, { key });
    assert.equal(intent.body.status, 'succeeded');
    const received = Number(intent.body.amount_received);
    // Every 200 reports the one capture that happened; nobody is told a different amount was captured.
    for (const answer of answers.filter((candidate) => candidate.status === 200))
      assert.equal(answer.body.amount_received, received);
    assert.ok(received >= 1_000 && received <= 2_000);
    const attemptId = (intent.body.attempts as { id: string }[])[0]?.id ?? '';
    const truth = await groundTruth(attemptId);
    assert.equal(truth.operations.filter((operation) => operation.type === 'capture').length, 1);
    assert.equal(truth.payments[0]?.captured, received);
    const posted = await server.context.ledger.getTransaction(`capture:${attemptId}`);
    assert.equal(posted?.legs[0]?.amount, BigInt(received));
  });

  test('50 concurrent partial refunds never exceed the captured amount', async () => {
    const paid = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: {
        amount: 1_000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        connector: 'stripe',
      },
    });
    assert.equal(paid.body.status, 'succeeded');
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        call(server, 'POST', '/v1/refunds', {
          key,
          body: { payment_intent: paid.body.id, amount: 70 },
        }),
      ),
    );
    const succeeded = answers.filter(
      (answer) => answer.status === 200 && answer.body.status === 'succeeded',
    );
    const refused = answers.filter((answer) => answer.status === 400);
    assert.equal(succeeded.length, 14, 'floor(1000 / 70) refunds fit');
    assert.equal(
      succeeded.length + refused.length,
      50,
      answers.map((answer) => answer.status).join(','),
    );
    for (const answer of refused)
      assert.ok(
        ['amount_too_large', 'charge_already_refunded'].includes(answer.body.error?.code ?? ''),
        JSON.stringify(answer.body),
      );
    const intent = await call(server, 'GET', `/v1/payment_intents/${paid.body.id}`, { key });
    assert.equal(intent.body.amount_refunded, 980);
    const truth = await groundTruth((paid.body.attempts as { id: string }[])[0]?.id ?? '');
    assert.equal(truth.payments[0]?.refunded, 980);
    const report = await verifyLedger(server.context.database);
    assert.deepEqual(report.problems, []);
  });
});
