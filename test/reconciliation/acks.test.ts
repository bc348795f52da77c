// Acquirer acknowledgements against Payrail's own view of each item (issue 12; engine/acks.ts) on
// PGlite and PostgreSQL: the answers arrive as uploaded files; only batches whose answer was
// ingested are judged. Payrail's view: sb_ackbatch1 kept c1, c2, c3, c4 accepted, rejected x1 and
// x2 for good, and retried r1 (it left the batch); sb_ackbatch2 (b1) has no answer file.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clockFrom } from '../../src/clock.ts';
import { Ledger } from '../../src/ledger/index.ts';
import type { RunSummary } from '../../src/reconciliation/engine/run.ts';
import { ReconciliationFiles } from '../../src/reconciliation/ingest/service.ts';
import { ReconciliationService } from '../../src/reconciliation/service.ts';
import type { Database } from '../../src/storage/database.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.ts';
import { seedBatch } from '../support/money-in-fixtures.ts';

const clock = clockFrom(() => new Date('2026-12-10T12:00:00Z'));
const cutoff = new Date('2026-12-07T18:00:00Z');

async function seedWorld(db: Database): Promise<void> {
  const item = (key: string, accepted = true) => ({
    key: `ack000${key}`,
    type: 'charge' as const,
    pspReference: `ch_${key}`,
    amount: 1000n,
    accepted,
  });
  await seedBatch(db, {
    id: 'sb_ackbatch1',
    connector: 'stripe',
    currency: 'usd',
    settlementReference: 'st_ack_1',
    cutoffAt: cutoff,
    items: ['c1', 'c2', 'c3', 'c4', 'x1', 'x2'].map((key) => item(key)).concat(item('r1', false)),
  });
  await db.query(
    `UPDATE balance_transactions SET clearing_status = 'exception', rejections = 1,
            reject_reason = 'authorization_expired' WHERE id IN ('txn_ack000x1', 'txn_ack000x2')`,
  );
  await db.query(`UPDATE balance_transactions SET rejections = 1 WHERE id = 'txn_ack000r1'`);
  await seedBatch(db, {
    id: 'sb_ackbatch2',
    connector: 'stripe',
    currency: 'usd',
    settlementReference: 'st_ack_2',
    cutoffAt: new Date('2026-12-08T18:00:00Z'),
    items: [item('b1')],
  });
}

function answer(batchId: string, lines: readonly [string, 'accepted' | 'rejected'][]): string {
  const header = `{"batch_id":"${batchId}","acquirer_reference":"acq","status":"processed","settlement_reference":"st"}\n`;
  return (
    header +
    lines
      .map(([item, result]) =>
        result === 'accepted'
          ? `{"item_id":"${item}","result":"accepted"}\n`
          : `{"item_id":"${item}","result":"rejected","reason_code":"do_not_honor"}\n`,
      )
      .join('')
  );
}

async function* body(text: string): AsyncGenerator<Buffer> {
  yield Buffer.from(text);
}

async function openKeys(db: Database): Promise<string[]> {
  const result = await db.query<{ key: string }>(
    `SELECT key FROM recon_exceptions WHERE status = 'open' AND source = 'acquirer_ack'
      ORDER BY key`,
  );
  return result.rows.map((row) => row.key);
}

for (const kind of databaseKinds) {
  describe(`acquirer acknowledgements (${kind})`, () => {
    let f: TestDatabase;
    let service: ReconciliationService;
    let files: ReconciliationFiles;
    before(async () => {
      f = await openTestDatabase(kind);
      await seedWorld(f.database);
      const ledger = new Ledger(f.database, { clock });
      service = new ReconciliationService({ database: f.database, ledger, clock });
      files = new ReconciliationFiles({ database: f.database, clock });
    });
    after(() => f.drop());

    test('each line against Payrail’s view: matches, missing, unexpected, duplicate', async () => {
      // c1, c2 accepted and x1 rejected as Payrail holds them; r1 rejected (retried); c3 has no
      // line; c4 rejected though Payrail holds it accepted; x2 accepted though Payrail rejected
      // it; txn_nobody0001 was never Payrail's.
      const first = answer('sb_ackbatch1', [
        ['txn_ack000c1', 'accepted'],
        ['txn_ack000c2', 'accepted'],
        ['txn_ack000x1', 'rejected'],
        ['txn_ack000r1', 'rejected'],
        ['txn_ack000c4', 'rejected'],
        ['txn_ack000x2', 'accepted'],
        ['txn_nobody0001', 'accepted'],
      ]);
      // A second answer, for a batch Payrail never had, accepts c1 again.
      const ghost = answer('sb_ghost', [['txn_ack000c1', 'accepted']]);
      for (const [name, text] of [
        ['ack-1.ndjson', first],
        ['ack-ghost.ndjson', ghost],
      ] as const) {
        const ingested = await files.ingestFile({ name, body: body(text) });
        assert.equal(ingested.file.status, 'ingested', ingested.file.error ?? '');
      }
      const run = await service.run({ dryRun: false });
      assert.equal(run.status, 'succeeded', run.error ?? '');
      assert.deepEqual(await openKeys(f.database), [
        'duplicate:acquirer_ack:sb_ghost:txn_ack000c1',
        'missing:ack:sb_ackbatch1:txn_ack000c3',
        'missing:ack:sb_ackbatch1:txn_ack000c4',
        'unexpected:acquirer_ack:sb_ackbatch1:txn_ack000x2',
        'unexpected:acquirer_ack:sb_ackbatch1:txn_nobody0001',
      ]);
      const summary = run.summary as RunSummary;
      // Six items of sb_ackbatch1 in the batch, and r1's rejection; none for sb_ackbatch2 (no answer).
      assert.equal(summary.expectationsCreated.acks, 7);
      const matched = await f.database.query<{ key: string }>(
        `SELECT key FROM recon_expectations WHERE kind LIKE 'ack_%' AND group_id IS NOT NULL
          ORDER BY key`,
      );
      assert.deepEqual(
        matched.rows.map((row) => row.key),
        [
          'ack:sb_ackbatch1:txn_ack000c1',
          'ack:sb_ackbatch1:txn_ack000c2',
          'ack:sb_ackbatch1:txn_ack000r1',
          'ack:sb_ackbatch1:txn_ack000x1',
        ],
      );
      const c4 = await f.database.query<{ details: Record<string, unknown>; amount: unknown }>(
        `SELECT details, amount FROM recon_exceptions WHERE key = 'missing:ack:sb_ackbatch1:txn_ack000c4'`,
      );
      assert.equal(c4.rows[0]?.amount, null, 'an acknowledgement moves no money by itself');
      assert.deepEqual(
        [c4.rows[0]?.details.batch_id, c4.rows[0]?.details.payrail, c4.rows[0]?.details.acquirer],
        ['sb_ackbatch1', 'accepted', 'rejected'],
      );
    });

    test('running again changes nothing; a later answer with c3 closes its missing', async () => {
      const before = await openKeys(f.database);
      const again = await service.run({ dryRun: false });
      assert.deepEqual((again.summary as RunSummary).raised, {});
      assert.deepEqual(await openKeys(f.database), before);
      const late = answer('sb_ackbatch1', [['txn_ack000c3', 'accepted']]);
      await files.ingestFile({ name: 'ack-1-late.ndjson', body: body(late) });
      await service.run({ dryRun: false });
      assert.deepEqual(
        await openKeys(f.database),
        before.filter((key) => key !== 'missing:ack:sb_ackbatch1:txn_ack000c3'),
      );
    });
  });
}
