// Issue 12: "ingesting [the same files] in another order gives the same result". The same PSP
// reports, statement and ledger side taken in in opposite orders, on two databases, reconcile to
// the same records, the same groups and exceptions and the same result hash; taking the files in
// again changes nothing.
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { clockFrom } from '../../src/clock.ts';
import { Ledger } from '../../src/ledger/index.ts';
import { ReconciliationFiles } from '../../src/reconciliation/ingest/service.ts';
import { ReconciliationService } from '../../src/reconciliation/service.ts';
import { openTestDatabase } from '../support/databases.ts';
import { seedBatch } from '../support/money-in-fixtures.ts';

const files = [
  { path: 'src/settlement/reports/fixtures/adyen_batch_42.csv', connector: undefined },
  { path: 'src/settlement/reports/fixtures/razorpay_recon.json', connector: 'razorpay' },
  { path: 'src/banking/fixtures/statement_2026-12-08.xml', connector: undefined },
];

async function reconciled(order: readonly number[]) {
  const db = await openTestDatabase('pglite');
  const clock = clockFrom(() => new Date('2026-12-10T12:00:00Z'));
  const ledger = new Ledger(db.database, { clock });
  // The ledger side: a batch whose settlement the Adyen report describes (one item reported, one
  // not), so that the run has matches, a missing line and an unexpected one.
  await seedBatch(db.database, {
    id: 'sb_order0001',
    connector: 'adyen',
    currency: 'eur',
    settlementReference: '42',
    cutoffAt: new Date('2026-12-07T18:00:00Z'),
    items: [
      { key: 'or0000c1', type: 'charge', pspReference: '8815000000000001', amount: 10000n },
      { key: 'or0000c2', type: 'charge', pspReference: '8815000000000077', amount: 3000n },
    ],
  });
  const ingestion = new ReconciliationFiles({ database: db.database, clock });
  const take = async (index: number) => {
    const file = files[index];
    assert.ok(file !== undefined);
    return ingestion.ingestFile({
      name: file.path.split('/').at(-1) ?? 'file',
      connector: file.connector,
      body: createReadStream(file.path),
    });
  };
  for (const index of order) assert.equal((await take(index)).file.status, 'ingested');
  const service = new ReconciliationService({ database: db.database, ledger, clock });
  const run = await service.run({ dryRun: false });
  const state = await db.database.query<{ row: string }>(
    `SELECT 'r ' || source || ':' || row_key || ' ' || coalesce(group_id, '-') AS row FROM recon_records
     UNION ALL SELECT 'e ' || key || ' ' || coalesce(group_id, '-') FROM recon_expectations
     UNION ALL SELECT 'x ' || key || ' ' || status FROM recon_exceptions
     ORDER BY 1`,
  );
  return { db, run, state: state.rows.map((row) => row.row), take };
}

describe('reconciliation is the same whatever order the files came in', () => {
  let forward: Awaited<ReturnType<typeof reconciled>>;
  let backward: Awaited<ReturnType<typeof reconciled>>;
  before(async () => {
    forward = await reconciled([0, 1, 2]);
    backward = await reconciled([2, 1, 0]);
  });
  after(async () => {
    await forward.db.drop();
    await backward.db.drop();
  });

  test('the same records, groups, exceptions and result hash', () => {
    assert.ok(
      forward.state.some((row) => row.startsWith('x ')),
      'the run raised exceptions',
    );
    assert.ok(
      forward.state.some((row) => row.startsWith('r ') && !row.endsWith(' -')),
      'matches',
    );
    assert.deepEqual(backward.state, forward.state);
    assert.equal(backward.run.resultHash, forward.run.resultHash);
  });

  test('the same files again: the same file rows, nothing new', async () => {
    for (const index of [0, 1, 2]) {
      const again = await forward.take(index);
      assert.equal(again.created, false);
    }
    const records = await forward.db.database.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM recon_records',
    );
    assert.equal(records.rows[0]?.n, forward.state.filter((row) => row.startsWith('r ')).length);
  });
});
