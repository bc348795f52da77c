// Settlement items from real payments: a payment captured and partly refunded through the
// simulator's stripe becomes a charge and a refund item (by the fast record path and the refund
// path of the ledger poster), each with the PSP's own reference; a run after the cutoff closes
// the batch and submits it to the simulator's acquirer.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { advanceClock } from '../support/clock.ts';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';
import { call, testAdminKey } from '../support/server.ts';

describe('settlement items from payments over HTTP', () => {
  let stack: SimulatedStack;

  before(async () => {
    stack = await startSimulatedStack();
  });
  after(() => stack.stop());

  test('a capture and a refund are items with their PSP references; a run batches them', async () => {
    const merchant = await stack.merchant();
    const paid = await call(stack.server, 'POST', '/v1/payment_intents', {
      key: merchant.key,
      body: {
        amount: 10_000,
        currency: 'usd',
        confirm: true,
        payment_method: 'pm_card_visa',
        connector: 'stripe',
      },
    });
    assert.equal(paid.body.status, 'succeeded', JSON.stringify(paid.body));
    const refunded = await call(stack.server, 'POST', '/v1/refunds', {
      key: merchant.key,
      body: { payment_intent: paid.body.id, amount: 2_500 },
    });
    assert.equal(refunded.body.status, 'succeeded', JSON.stringify(refunded.body));
    const database = stack.server.context.database;
    const items = await database.query<{
      type: string;
      source: string;
      amount: bigint;
      fee: bigint;
      net: bigint;
      clearing_status: string;
      psp_reference: string | null;
    }>(
      `SELECT i.type, i.source, i.amount, i.fee, i.net, i.clearing_status,
              CASE WHEN i.type = 'charge' THEN a.psp_reference ELSE r.psp_reference END AS psp_reference
         FROM balance_transactions i
         LEFT JOIN payment_attempts a ON a.id = i.attempt_id
         LEFT JOIN refunds r ON r.id = i.source
        WHERE i.merchant_id = $1 ORDER BY i.amount DESC`,
      [merchant.id],
    );
    assert.equal(items.rows.length, 2);
    const [charge, refund] = items.rows;
    assert.equal(charge?.type, 'charge');
    assert.equal(charge?.source, paid.body.id);
    assert.equal(charge?.amount, 10_000n);
    assert.ok((charge?.fee ?? 0n) > 0n, 'the default price charges a fee');
    assert.equal(charge?.net, 10_000n - (charge?.fee ?? 0n));
    assert.match(charge?.psp_reference ?? '', /^pi_/);
    assert.deepEqual(
      [refund?.type, refund?.source, refund?.amount, refund?.fee, refund?.net],
      ['refund', refunded.body.id, -2_500n, 0n, -2_500n],
    );
    assert.match(refund?.psp_reference ?? '', /^re_/);

    // A day later the cutoff has passed: the run closes one stripe/usd batch and submits it.
    await advanceClock(stack.server, 24 * 3600);
    const run = await call(stack.server, 'POST', '/v1/admin/settlement/run', { key: testAdminKey });
    assert.equal(run.status, 200, JSON.stringify(run.body));
    assert.equal(run.body.batches_closed, 1);
    assert.equal(run.body.batches_submitted, 1);
    const listed = await call(
      stack.server,
      'GET',
      '/v1/admin/settlement/batches?connector=stripe',
      {
        key: testAdminKey,
      },
    );
    // The newest is the intake batch the close opened for the next cutoff.
    const batch = (listed.body.data as Record<string, unknown>[]).find(
      (candidate) => candidate.intake_open === false,
    );
    assert.deepEqual([batch?.item_count, batch?.net_amount], [2, 7_500]);
    const retrieved = await call(
      stack.server,
      'GET',
      `/v1/admin/settlement/batches/${String(batch?.id)}`,
      {
        key: testAdminKey,
      },
    );
    assert.deepEqual(retrieved.body, batch);
    // With the simulator's acquirer (issue 11) the batch is acknowledged; without it (an older
    // simulator) the submission failed and the batch waits, submitted, with the error.
    assert.ok(
      ['acknowledged', 'partially_acknowledged', 'submitted'].includes(String(batch?.status)),
      String(batch?.status),
    );
    if (batch?.status === 'submitted') assert.match(String(batch.last_error), /acquirer answered/);
    else assert.equal(batch?.accepted_count, 2);
  });
});
