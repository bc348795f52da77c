// The one-statement record of authorizations' outcomes is a compare-and-set per outcome: on real
// PostgreSQL each applies only to the state it was planned from, and when an attempt changes
// under it after its intent was updated (a concurrent sync), payrail_assert undoes the whole
// statement, so an intent never moves without its attempt. Outcomes of concurrent payments share
// the statement (group commit); each still applies or not on its own.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import {
  compareAndSetStatement,
  plan,
  recordConflictState,
  writeFastRecords,
  type FastRecord,
} from '../../src/payments/record.ts';
import { findIntentWithAttempts } from '../../src/payments/repository.ts';
import type { Attempt, IntentWithAttempts } from '../../src/payments/types.ts';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';
import { call, type TestServer } from '../support/server.ts';

const captured = (amount: bigint) => ({
  status: 'captured' as const,
  amountCaptured: amount,
  pspReference: 'ch_test',
});
const noFee = { percentBps: 0n, fixedAmount: 0n };
const options = { synced: false, failIfNeverSeen: false };

describe('the compare-and-set record statement (postgres)', () => {
  let server: TestServer;
  let stack: SimulatedStack;
  let key: string;
  let merchantId: string;

  /** An intent left processing with an unknown attempt (the PSP's answer was lost). */
  async function unresolved(amount: number): Promise<IntentWithAttempts & { attempt: Attempt }> {
    const paid = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: {
        amount,
        currency: 'usd',
        payment_method: 'pm_card_pspLostResponse',
        confirm: true,
        connector: 'stripe',
      },
    });
    assert.equal(paid.body.status, 'processing', JSON.stringify(paid.body));
    const state = await findIntentWithAttempts(
      server.context.database,
      merchantId,
      String(paid.body.id),
    );
    assert.ok(state !== undefined);
    return { ...state, attempt: state.attempts[0] as Attempt };
  }
  async function rowsFor(intentId: string, attemptId: string) {
    const database = server.context.database;
    const intent = (
      await database.query<{ status: string }>('SELECT status FROM payment_intents WHERE id = $1', [
        intentId,
      ])
    ).rows[0];
    const attempt = (
      await database.query<{ status: string }>(
        'SELECT status FROM payment_attempts WHERE id = $1',
        [attemptId],
      )
    ).rows[0];
    const events = (
      await database.query<{ type: string }>(
        "SELECT type FROM events WHERE object_id = $1 AND type <> 'payment_intent.created' AND type <> 'payment_intent.processing'",
        [intentId],
      )
    ).rows;
    const outbox = (
      await database.query('SELECT 1 FROM ledger_outbox WHERE transfers::text LIKE $1', [
        `%${attemptId}%`,
      ])
    ).rows;
    return {
      intent: intent?.status,
      attempt: attempt?.status,
      events: events.map((row) => row.type),
      outbox: outbox.length,
    };
  }

  const record = (
    state: IntentWithAttempts & { attempt: Attempt },
    amount: bigint,
    before = state.attempt,
  ): FastRecord => ({
    before,
    planned: plan(state.intent, state.attempts, before, captured(amount), noFee, options),
  });

  before(async () => {
    stack = await startSimulatedStack({
      database: 'postgres',
      env: {
        PAYRAIL_PSP_ATTEMPTS: '1',
        PAYRAIL_BREAKER_THRESHOLD: '1000',
        PAYRAIL_RUN_WORKERS: 'false',
      },
    });
    ({ server } = stack);
    ({ key: key, id: merchantId } = await stack.merchant('Shop'));
  });
  after(() => stack.stop());

  test('applies to the state it was planned from: intent, attempt, ledger outbox row and event together', async () => {
    const state = await unresolved(1100);
    const [row] = await writeFastRecords(server.context.database, [record(state, 1100n)]);
    assert.equal(row?.applied, true);
    assert.notEqual(row?.ledgerOutboxId, null);
    assert.deepEqual(await rowsFor(state.intent.id, state.attempt.id), {
      intent: 'succeeded',
      attempt: 'captured',
      events: ['payment_intent.succeeded'],
      outbox: 1,
    });
    // The same statement again: the attempt is no longer unknown, nothing is written twice.
    const [again] = await writeFastRecords(server.context.database, [record(state, 1100n)]);
    assert.deepEqual(again, { applied: false, ledgerOutboxId: null });
    assert.deepEqual(await rowsFor(state.intent.id, state.attempt.id), {
      intent: 'succeeded',
      attempt: 'captured',
      events: ['payment_intent.succeeded'],
      outbox: 1,
    });
  });

  test('a plan made from a stale attempt status changes nothing', async () => {
    const state = await unresolved(1200);
    const stale = { ...state.attempt, status: 'pending' as const };
    const [row] = await writeFastRecords(server.context.database, [record(state, 1200n, stale)]);
    assert.equal(row?.applied, false);
    assert.deepEqual(await rowsFor(state.intent.id, state.attempt.id), {
      intent: 'processing',
      attempt: 'unknown',
      events: [],
      outbox: 0,
    });
  });

  test('an attempt abandoned by a failover since the plan was made is never recorded by it', async () => {
    const state = await unresolved(1800);
    // A failover leaves the attempt unknown and abandoned: its status alone would still match.
    await server.context.database.query(
      'UPDATE payment_attempts SET abandoned = true WHERE id = $1',
      [state.attempt.id],
    );
    const [row] = await writeFastRecords(server.context.database, [record(state, 1800n)]);
    assert.equal(row?.applied, false);
    assert.deepEqual(await rowsFor(state.intent.id, state.attempt.id), {
      intent: 'processing',
      attempt: 'unknown',
      events: [],
      outbox: 0,
    });
  });

  test('in a batch each outcome applies on its own: a stale one beside current ones changes nothing of its own', async () => {
    const first = await unresolved(1400);
    const stale = await unresolved(1500);
    const third = await unresolved(1600);
    const rows = await writeFastRecords(server.context.database, [
      record(first, 1400n),
      record(stale, 1500n, { ...stale.attempt, status: 'pending' }),
      record(third, 1600n),
    ]);
    assert.deepEqual(
      rows.map((row) => row.applied),
      [true, false, true],
    );
    assert.equal(rows[1]?.ledgerOutboxId, null);
    // Each caller gets the id of its own ledger outbox row.
    for (const [index, state] of [
      [0, first],
      [2, third],
    ] as const) {
      const outbox = await server.context.database.query<{ transfers: unknown }>(
        'SELECT transfers FROM ledger_outbox WHERE id = $1',
        [rows[index]?.ledgerOutboxId],
      );
      assert.match(JSON.stringify(outbox.rows[0]?.transfers), new RegExp(state.attempt.id));
    }
    assert.deepEqual(await rowsFor(first.intent.id, first.attempt.id), {
      intent: 'succeeded',
      attempt: 'captured',
      events: ['payment_intent.succeeded'],
      outbox: 1,
    });
    assert.deepEqual(await rowsFor(stale.intent.id, stale.attempt.id), {
      intent: 'processing',
      attempt: 'unknown',
      events: [],
      outbox: 0,
    });
    assert.deepEqual(await rowsFor(third.intent.id, third.attempt.id), {
      intent: 'succeeded',
      attempt: 'captured',
      events: ['payment_intent.succeeded'],
      outbox: 1,
    });
  });

  test('two outcomes of one intent are never written by one statement', async () => {
    const state = await unresolved(1700);
    await assert.rejects(
      writeFastRecords(server.context.database, [record(state, 1700n), record(state, 1700n)]),
      /two outcomes of one payment intent/,
    );
    assert.deepEqual(await rowsFor(state.intent.id, state.attempt.id), {
      intent: 'processing',
      attempt: 'unknown',
      events: [],
      outbox: 0,
    });
  });

  test('an attempt settled by another transaction while the statement waits undoes the whole statement, the batch included', async () => {
    const state = await unresolved(1300);
    const bystander = await unresolved(1350);
    const statement = compareAndSetStatement([record(bystander, 1350n), record(state, 1300n)]);
    const other = new pg.Client({ connectionString: server.context.config.databaseUrl });
    await other.connect();
    try {
      // Another writer holds the attempt (not the intent): the statement updates the intent, then waits.
      await other.query('BEGIN');
      await other.query("UPDATE payment_attempts SET status = 'failed' WHERE id = $1", [
        state.attempt.id,
      ]);
      // Caught at once: the statement fails as soon as the COMMIT lands, possibly before we look.
      const racing = server.context.database.query(statement.sql, statement.parameters).then(
        () => undefined,
        (error: unknown) => error,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      await other.query('COMMIT');
      assert.equal(((await racing) as { code?: string } | undefined)?.code, recordConflictState);
    } finally {
      await other.end();
    }
    // Nothing of the statement stayed: the intent did not move, no event, no ledger posting, and
    // the other payment of the batch was not written either (the group commit retries it alone).
    assert.deepEqual(await rowsFor(state.intent.id, state.attempt.id), {
      intent: 'processing',
      attempt: 'failed',
      events: [],
      outbox: 0,
    });
    assert.deepEqual(await rowsFor(bystander.intent.id, bystander.attempt.id), {
      intent: 'processing',
      attempt: 'unknown',
      events: [],
      outbox: 0,
    });
    const [alone] = await writeFastRecords(server.context.database, [record(bystander, 1350n)]);
    assert.equal(alone?.applied, true);
  });
});
