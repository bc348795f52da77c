// The status sync worker and "settle first": unresolved authorizations are resolved by asking
// the PSP on schedule, stuck captures and refunds are re-driven, old authorizations are voided,
// and a capture of an unresolved authorization syncs it first. Two workers on PostgreSQL never
// claim the same attempt in one pass.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  StatusSync,
  statusSyncDefaults,
  type StatusSyncOptions,
} from '../../src/payments/status-sync.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { advanceClock } from '../support/clock.ts';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';
import { call, type TestServer } from '../support/server.ts';

const now: Partial<StatusSyncOptions> = { scheduleMs: [0], inFlightGraceMs: 0 };

function worker(server: TestServer, options: Partial<StatusSyncOptions> = {}): StatusSync {
  return new StatusSync(
    server.context.payments,
    server.context.database,
    { ...statusSyncDefaults(1000), ...options },
    createLogger('silent'),
    server.runtime.clock,
  );
}

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`status sync (${kind})`, () => {
    let server: TestServer;
    let stack: SimulatedStack;
    let key: string;

    async function pay(body: Record<string, unknown>) {
      // One connector, so an unknown outcome stays unknown (no failover).
      return call(server, 'POST', '/v1/payment_intents', {
        key,
        body: { currency: 'usd', confirm: true, connector: 'stripe', ...body },
      });
    }
    async function retrieve(id: string) {
      return (await call(server, 'GET', `/v1/payment_intents/${id}`, { key })).body;
    }

    before(async () => {
      stack = await startSimulatedStack({
        database: kind,
        env: {
          PAYRAIL_PSP_TIMEOUT_MS: '1000',
          PAYRAIL_PSP_ATTEMPTS: '1',
          PAYRAIL_BREAKER_THRESHOLD: '1000',
        },
      });
      ({ server } = stack);
      key = (await stack.merchant('Shop')).key;
    });
    after(() => stack.stop());

    test('a lost answer is resolved by the worker, not before it is due', async () => {
      const lost = await pay({ amount: 4100, payment_method: 'pm_card_pspLostResponse' });
      assert.equal(lost.body.status, 'processing', JSON.stringify(lost.body));
      const id = String(lost.body.id);
      assert.deepEqual(
        await worker(server).runOnce(),
        { attempts: 0, operations: 0, voided: 0, errors: 0 },
        'not due yet',
      );
      assert.equal((await retrieve(id)).status, 'processing');
      const pass = await worker(server, now).runOnce();
      assert.ok(pass.attempts >= 1);
      const settled = await retrieve(id);
      assert.equal(settled.status, 'succeeded');
      assert.equal(settled.amount_received, 4100);
      assert.equal((await verifyLedger(server.context.database)).ok, true);
      // Once resolved, nothing is left for the next pass.
      assert.equal((await worker(server, now).runOnce()).attempts, 0);
    });

    test('a capture of an authorization whose outcome is unknown syncs it first', async () => {
      const lost = await pay({
        amount: 3000,
        payment_method: 'pm_card_pspLostResponse',
        capture_method: 'manual',
      });
      assert.equal(lost.body.status, 'processing');
      const captured = await call(
        server,
        'POST',
        `/v1/payment_intents/${String(lost.body.id)}/capture`,
        { key, body: { amount_to_capture: 2000 } },
      );
      assert.equal(captured.status, 200, JSON.stringify(captured.body));
      assert.equal(captured.body.status, 'succeeded');
      assert.equal(captured.body.amount_received, 2000);
    });

    test('a refund of a payment whose outcome is unknown syncs it first', async () => {
      const lost = await pay({ amount: 1500, payment_method: 'pm_card_pspLostResponse' });
      const refund = await call(server, 'POST', '/v1/refunds', {
        key,
        body: { payment_intent: String(lost.body.id), amount: 500 },
      });
      assert.equal(refund.status, 200, JSON.stringify(refund.body));
      assert.equal(refund.body.status, 'succeeded');
    });

    test('a capture left in flight is driven to its end', async () => {
      const authorized = await pay({
        amount: 2200,
        payment_method: 'pm_card_visa',
        capture_method: 'manual',
      });
      const id = String(authorized.body.id);
      // As if the process died right after recording the capture it was about to send.
      await server.context.database.query(
        `UPDATE payment_intents SET pending_operation = 'capture:2200' WHERE id = $1`,
        [id],
      );
      const pass = await worker(server, now).runOnce();
      assert.ok(pass.operations >= 1);
      const settled = await retrieve(id);
      assert.equal(settled.status, 'succeeded');
      assert.equal(settled.amount_received, 2200);
    });

    test('authorizations never captured are voided after the configured time', async () => {
      const authorized = await pay({
        amount: 1800,
        payment_method: 'pm_card_visa',
        capture_method: 'manual',
      });
      const id = String(authorized.body.id);
      assert.equal((await worker(server, now).runOnce()).voided, 0, 'not old enough');
      const pass = await worker(server, { ...now, voidAuthorizationsAfterMs: 0 }).runOnce();
      assert.ok(pass.voided >= 1);
      const voided = await retrieve(id);
      assert.equal(voided.status, 'canceled');
      assert.equal(voided.cancellation_reason, 'abandoned');
      const hold = await server.context.ledger.getHold(
        `auth:${(voided.attempts as { id: string }[])[0]?.id}`,
      );
      assert.equal(hold?.status, 'voided');
    });

    if (kind === 'postgres') {
      test('two workers at once claim each unresolved attempt once', async () => {
        const ids: string[] = [];
        for (let index = 0; index < 6; index++)
          ids.push(
            String(
              (await pay({ amount: 100 + index, payment_method: 'pm_card_pspLostResponse' })).body
                .id,
            ),
          );
        // Due one second after creation (or after the last claim): a row one worker has just
        // claimed is not due for the other. The clock moves past the second instead of sleeping.
        await advanceClock(server, 2);
        const options = { scheduleMs: [1000], batchSize: 3 };
        const [first, second] = await Promise.all([
          worker(server, options).runOnce(),
          worker(server, options).runOnce(),
        ]);
        assert.equal(first.attempts + second.attempts, 6);
        const counts = await server.context.database.query<{ sync_count: number }>(
          'SELECT sync_count FROM payment_attempts WHERE payment_intent_id = ANY($1::text[])',
          [ids],
        );
        assert.deepEqual(
          counts.rows.map((row) => row.sync_count),
          [1, 1, 1, 1, 1, 1],
        );
        for (const id of ids) assert.equal((await retrieve(id)).status, 'succeeded');
      });
    }
  });
}
