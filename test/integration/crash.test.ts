// Crash safety: Payrail is SIGKILLed right after the PSP answered and before the answer was
// recorded (a fault point enabled by PAYRAIL_FAULT_POINT). After a restart, a retry with the same
// Idempotency-Key, or a sync, finishes the work: exactly one charge, a correct ledger, and the
// retried request gets the final result.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Ledger, verifyLedger, type Leg } from '../../src/ledger/index.ts';
import { openPostgres } from '../../src/storage/postgres.ts';
import type { Database } from '../../src/storage/database.ts';
import { DatabaseClock } from '../../src/testmode/clock.ts';
import { TestClocks } from '../../src/testmode/clock-service.ts';
import { createPostgresDatabase } from '../support/databases.ts';
import {
  withPayrail as runPayrail,
  startSimulator,
  type RunningProcess,
} from '../support/processes.ts';
import { call, testAdminKey } from '../support/server.ts';
import { groundTruth } from '../support/simulator.ts';

const leaseMs = 800;

type Posting = { id: string; legs: Leg[] };

/** A posting that moves `amount` from one account to another, as src/payments/postings.ts writes them. */
function posting(id: string, from: string, to: string, amount: bigint): Posting {
  return {
    id,
    legs: [
      { accountId: from, direction: 'debit', amount, currency: 'usd' },
      { accountId: to, direction: 'credit', amount, currency: 'usd' },
    ],
  };
}

describe('crash between the PSP call and recording its answer', () => {
  let simulator: RunningProcess;
  let postgres: { url: string; drop(): Promise<void> };
  let database: Database;
  let ledger: Ledger;
  const outputs: string[] = [];
  let env: Record<string, string>;
  let key: string;
  let clocks: TestClocks;

  /**
   * Moves the system's test clock forward, as `payrail clock advance` would, between two Payrail
   * processes: the next one starts at the moved time, so leases and the outbox age without sleeping.
   */
  async function advanceClock(milliseconds: number): Promise<void> {
    await clocks.move({ kind: 'advance', milliseconds });
  }

  const truthOf = (reference: string) => groundTruth(simulator, { reference });

  const withPayrail = <T>(
    faultPoint: string | undefined,
    work: (payrail: RunningProcess) => Promise<T>,
  ): Promise<T> => runPayrail(env, faultPoint, work, (output) => outputs.push(output));

  /**
   * Every ledger transaction of this payment (its attempts' `capture:`/`fee:`/`auth:`… and its
   * refunds' `refund:`), each with its legs, checked to be exactly the expected ones and not
   * waiting in the outbox.
   */
  async function assertPostings(
    intentId: string,
    expected: (merchantId: string) => Posting[],
  ): Promise<void> {
    const owner = await database.query<{ merchant_id: string }>(
      'SELECT merchant_id FROM payment_intents WHERE id = $1',
      [intentId],
    );
    const merchantId = owner.rows[0]?.merchant_id ?? '';
    const ids = await database.query<{ id: string }>(
      `SELECT t.id FROM ledger_transactions t
         JOIN (SELECT id FROM payment_attempts WHERE payment_intent_id = $1 UNION ALL SELECT id FROM refunds WHERE payment_intent_id = $1) owned
           ON right(t.id, length(owned.id) + 1) = ':' || owned.id`,
      [intentId],
    );
    const postings: Posting[] = [];
    for (const { id } of ids.rows) {
      const transaction = await ledger.getTransaction(id);
      postings.push({
        id,
        legs: (transaction?.legs ?? []).map(({ accountId, direction, amount, currency }) => ({
          accountId,
          direction,
          amount,
          currency,
        })),
      });
    }
    const byId = (left: Posting, right: Posting) => (left.id < right.id ? -1 : 1);
    assert.deepEqual(postings.sort(byId), expected(merchantId).sort(byId));
    const waiting = await database.query<{ count: bigint }>(
      'SELECT count(*)::bigint AS count FROM ledger_outbox',
    );
    assert.equal(waiting.rows[0]?.count, 0n, 'nothing waits in the ledger outbox');
  }

  /** The postings of a captured attempt: the captured amount to the merchant, then the fee (2.9 % + 0.30 USD, half up) to the platform. */
  const captureAndFee = (
    attemptId: string,
    merchantId: string,
    captured: bigint,
    fee: bigint,
  ): Posting[] => [
    posting(
      `capture:${attemptId}`,
      'psp:stripe:receivable:usd',
      `merchant:${merchantId}:pending:usd`,
      captured,
    ),
    posting(`fee:${attemptId}`, `merchant:${merchantId}:pending:usd`, 'platform:fees:usd', fee),
  ];

  /** Sends the request to a Payrail that dies on it; returns once the process is gone. */
  async function crashOn(
    faultPoint: string,
    method: string,
    path: string,
    body: unknown,
    idempotencyKey: string,
  ): Promise<void> {
    await withPayrail(faultPoint, async (payrail) => {
      await assert.rejects(
        call(payrail, method, path, { key, body, idempotencyKey }),
        'the connection dies with the process',
      );
      await payrail.exited;
      assert.equal(payrail.child.signalCode, 'SIGKILL');
    });
  }

  before(async () => {
    simulator = await startSimulator();
    postgres = await createPostgresDatabase('payrail_crash');
    database = openPostgres({ connectionString: postgres.url, poolSize: 2 });
    ledger = new Ledger(database);
    env = {
      PAYRAIL_TEST_CLOCKS: 'true',
      DATABASE_URL: postgres.url,
      PAYRAIL_SIMULATOR_URL: simulator.url,
      PAYRAIL_ADMIN_KEY: testAdminKey,
      PAYRAIL_IDEMPOTENCY_LEASE_MS: String(leaseMs),
      PAYRAIL_VAULT_MASTER_KEY: crypto.randomBytes(32).toString('base64'),
    };
    key = await withPayrail(undefined, async (payrail) => {
      const created = await call(payrail, 'POST', '/v1/admin/merchants', {
        key: testAdminKey,
        body: { name: 'Crashy shop' },
      });
      return String(created.body.secret_key);
    });
    // After the first start: migrations have made the table the clocks live in.
    clocks = new TestClocks(database, new DatabaseClock(database));
  });
  after(async () => {
    await database.close();
    await simulator.stop();
    await postgres.drop();
  });

  test('an authorization: the retried request resumes and returns the final result, one charge', async () => {
    const body = {
      amount: 2_500,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      connector: 'stripe',
    };
    await crashOn('after_psp_authorize', 'POST', '/v1/payment_intents', body, 'crash-pay-1');
    const stuck = await database.query<{ status: string }>('SELECT status FROM payment_attempts');
    assert.deepEqual(
      stuck.rows.map((row) => row.status),
      ['pending'],
      'the PSP charged, Payrail had not recorded it',
    );
    await advanceClock(leaseMs + 200); // the crashed request's idempotency lease runs out
    const final = await withPayrail(undefined, (payrail) =>
      call(payrail, 'POST', '/v1/payment_intents', { key, body, idempotencyKey: 'crash-pay-1' }),
    );
    assert.equal(final.status, 200, JSON.stringify(final.body));
    assert.equal(final.body.status, 'succeeded');
    const attemptId = (final.body.attempts as { id: string }[])[0]?.id ?? '';
    const truth = await truthOf(attemptId);
    assert.equal(truth.operations.filter((operation) => operation.type === 'authorize').length, 1);
    assert.equal(truth.payments[0]?.captured, 2_500);
    const intents = await database.query<{ count: bigint }>(
      'SELECT count(*)::bigint AS count FROM payment_intents',
    );
    assert.equal(intents.rows[0]?.count, 1n, 'the retry did not create a second intent');
    await assertPostings(String(final.body.id), (merchantId) =>
      captureAndFee(attemptId, merchantId, 2_500n, 103n),
    );
  });

  test('an authorization resolved by sync after the restart', async () => {
    const created = await withPayrail(undefined, (payrail) =>
      call(payrail, 'POST', '/v1/payment_intents', {
        key,
        body: {
          amount: 1_100,
          currency: 'usd',
          payment_method: 'pm_card_visa',
          connector: 'stripe',
        },
      }),
    );
    await crashOn(
      'after_psp_authorize',
      'POST',
      `/v1/payment_intents/${created.body.id}/confirm`,
      {},
      'crash-confirm-1',
    );
    await advanceClock(leaseMs + 200); // the crashed request's idempotency lease runs out
    const { synced, retried, replayed } = await withPayrail(undefined, async (payrail) => {
      const synced = await call(payrail, 'POST', `/v1/payment_intents/${created.body.id}/sync`, {
        key,
        body: {},
      });
      // The client that lost its connection retries the confirm: it gets the final result, and that is what its key now stores.
      const retried = await call(
        payrail,
        'POST',
        `/v1/payment_intents/${created.body.id}/confirm`,
        { key, body: {}, idempotencyKey: 'crash-confirm-1' },
      );
      const replayed = await call(
        payrail,
        'POST',
        `/v1/payment_intents/${created.body.id}/confirm`,
        { key, body: {}, idempotencyKey: 'crash-confirm-1' },
      );
      return { synced, retried, replayed };
    });
    assert.equal(synced.body.status, 'succeeded', JSON.stringify(synced.body));
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.deepEqual(
      [retried.body.id, retried.body.status, retried.body.amount_received],
      [created.body.id, 'succeeded', 1_100],
    );
    assert.deepEqual(
      retried.body.attempts,
      synced.body.attempts,
      'the retry authorized nothing again',
    );
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replayed.body, retried.body);
    const attemptId = (synced.body.attempts as { id: string }[])[0]?.id ?? '';
    const truth = await truthOf(attemptId);
    assert.equal(truth.operations.filter((operation) => operation.type === 'authorize').length, 1);
    assert.equal(truth.payments[0]?.captured, 1_100);
    await assertPostings(String(created.body.id), (merchantId) =>
      captureAndFee(attemptId, merchantId, 1_100n, 62n),
    );
  });

  test('a refund: the retried request finishes it without refunding twice', async () => {
    const paid = await withPayrail(undefined, (payrail) =>
      call(payrail, 'POST', '/v1/payment_intents', {
        key,
        body: {
          amount: 3_000,
          currency: 'usd',
          payment_method: 'pm_card_visa',
          confirm: true,
          connector: 'stripe',
        },
      }),
    );
    await crashOn(
      'after_psp_refund',
      'POST',
      '/v1/refunds',
      { payment_intent: paid.body.id, amount: 1_000 },
      'crash-refund-1',
    );
    await advanceClock(leaseMs + 200); // the crashed request's idempotency lease runs out
    const final = await withPayrail(undefined, (payrail) =>
      call(payrail, 'POST', '/v1/refunds', {
        key,
        body: { payment_intent: paid.body.id, amount: 1_000 },
        idempotencyKey: 'crash-refund-1',
      }),
    );
    assert.equal(final.body.status, 'succeeded', JSON.stringify(final.body));
    const truth = await truthOf((paid.body.attempts as { id: string }[])[0]?.id ?? '');
    assert.equal(truth.operations.filter((operation) => operation.type === 'refund').length, 1);
    assert.equal(truth.payments[0]?.refunded, 1_000);
    const refunds = await database.query<{ count: bigint }>(
      'SELECT count(*)::bigint AS count FROM refunds',
    );
    assert.equal(refunds.rows[0]?.count, 1n);
    const attemptId = (paid.body.attempts as { id: string }[])[0]?.id ?? '';
    await assertPostings(String(paid.body.id), (merchantId) => [
      ...captureAndFee(attemptId, merchantId, 3_000n, 117n),
      posting(
        `refund:${String(final.body.id)}`,
        `merchant:${merchantId}:pending:usd`,
        'psp:stripe:receivable:usd',
        1_000n,
      ),
    ]);
  });

  test('a crash after the commit and before the ledger posting: the sweeper posts it after the restart', async () => {
    const body = {
      amount: 1_700,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      connector: 'stripe',
    };
    await crashOn('before_ledger_post', 'POST', '/v1/payment_intents', body, 'crash-ledger-1');
    const left = await database.query<{ count: bigint }>(
      'SELECT count(*)::bigint AS count FROM ledger_outbox',
    );
    assert.equal(left.rows[0]?.count, 1n, 'the posting waits in the outbox');
    // Past the sweeper's 2 s (a posting younger than that may still be posted by its writer).
    await advanceClock(2_100);
    const final = await withPayrail(undefined, async (payrail) => {
      const answer = await call(payrail, 'POST', '/v1/payment_intents', {
        key,
        body,
        idempotencyKey: 'crash-ledger-1',
      });
      // The sweeper runs at start-up; give it a moment.
      for (let tries = 0; tries < 50; tries++) {
        const remaining = await database.query<{ count: bigint }>(
          'SELECT count(*)::bigint AS count FROM ledger_outbox',
        );
        if (remaining.rows[0]?.count === 0n) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return answer;
    });
    assert.equal(final.body.status, 'succeeded', JSON.stringify(final.body));
    const attemptId = (final.body.attempts as { id: string }[])[0]?.id ?? '';
    const truth = await truthOf(attemptId);
    assert.equal(truth.payments[0]?.captured, 1_700);
    await assertPostings(String(final.body.id), (merchantId) =>
      captureAndFee(attemptId, merchantId, 1_700n, 79n),
    );
  });

  test('the ledger verifies, and no card number reached a log line or a database column', async () => {
    const report = await verifyLedger(database);
    assert.deepEqual(report.problems, []);
    const logs = outputs.join('\n');
    assert.ok(logs.length > 1000, 'the processes logged');
    for (const pan of ['4242424242424242', '5555555555554444']) {
      assert.ok(!logs.includes(pan), `PAN ${pan} found in the logs`);
      const tables = await database.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
      );
      for (const { table_name: table } of tables.rows) {
        const hits = await database.query(
          `SELECT 1 FROM ${table} t WHERE t::text LIKE $1 LIMIT 1`,
          [`%${pan}%`],
        );
        assert.equal(hits.rows.length, 0, `PAN ${pan} found in table ${table}`);
      }
    }
  });
});
