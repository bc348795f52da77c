// The matching engine and its service (issue 12 parts 2–5) on PGlite and PostgreSQL: ledger-side
// fixtures (an acknowledged batch, a payout) with the pipeline's report lines and statement
// entries, and records as file ingestion writes them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clockFrom } from '../../src/clock.ts';
import { Ledger, verifyLedger } from '../../src/ledger/index.ts';
import { ReconciliationService, ReconciliationError } from '../../src/reconciliation/service.ts';
import type { Database } from '../../src/storage/database.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.ts';
import { seedBatch, seedPayout } from '../support/money-in-fixtures.ts';

const cutoff = new Date('2026-12-07T18:00:00Z'); // a Monday: settlement day 2026-12-08
const payoutId = 'po_test00001';

async function seedWorld(db: Database): Promise<void> {
  await seedBatch(db, {
    id: 'sb_recon0001',
    connector: 'stripe',
    currency: 'usd',
    settlementReference: 'st_po_1',
    cutoffAt: cutoff,
    items: [
      { key: 'rc0000c1', type: 'charge', pspReference: 'ch_1', amount: 10000n },
      { key: 'rc0000c2', type: 'charge', pspReference: 'ch_2', amount: 5000n },
      { key: 'rc0000c3', type: 'charge', pspReference: 'ch_3', amount: 2000n },
      { key: 'rc0000r1', type: 'refund', pspReference: 're_1', amount: 1000n },
    ],
  });
  // The PSP's report as the pipeline stages it: ch_2's fee differs from the schedule (320 and
  // 175 expected), ch_3 is missing, ch_x is unknown, ch_1 appears twice.
  await db.query(
    `INSERT INTO settlement_report_lines (batch_id, line, type, psp_reference, currency, amount, fee, net)
     SELECT 'sb_recon0001', line, type, ref, 'usd', amount, fee, amount - fee
       FROM (VALUES (2, 'charge', 'ch_1', 10000, 320), (3, 'charge', 'ch_2', 5000, 100),
                    (4, 'refund', 're_1', -1000, 0), (5, 'charge', 'ch_x', 700, 0),
                    (6, 'charge', 'ch_1', 10000, 320)) AS l (line, type, ref, amount, fee)`,
  );
  await db.query(`UPDATE settlement_batches SET psp_fee = 420 WHERE id = 'sb_recon0001'`);
  await seedPayout(db, { id: payoutId, amount: 5000n, currency: 'usd', traceId: 'trace_1' });
  await db.query(`UPDATE payouts SET arrival_date = '2026-12-08T00:00:00Z' WHERE id = $1`, [
    payoutId,
  ]);
  // Net of the report: 9680 + 4900 − 1000 + 700 + 9680 = 23960, paid in two credits.
  await db.query(
    `INSERT INTO bank_statement_entries (entry_reference, direction, booking_date, currency, amount,
       kind, end_to_end_id, remittance, return_reason, seen_at)
     VALUES ('E1', 'credit', '2026-12-08', 'usd', 20000, 'settlement_credit', 'st_po_1', 'st_po_1', NULL, now()),
            ('E2', 'credit', '2026-12-08', 'usd', 3960, 'settlement_credit', 'st_po_1', 'st_po_1', NULL, now()),
            ('E3', 'debit', '2026-12-08', 'usd', 5000, 'payout_debit', $1, NULL, NULL, now()),
            ('E4', 'credit', '2026-12-09', 'usd', 5000, 'payout_return', $1, NULL, 'AC04', now())`,
    [payoutId],
  );
}

type Fixture = { db: TestDatabase; service: ReconciliationService; ledger: Ledger };

async function fixture(
  kind: 'pglite' | 'postgres',
  now = '2026-12-10T12:00:00Z',
): Promise<Fixture> {
  const db = await openTestDatabase(kind);
  const clock = clockFrom(() => new Date(now));
  const ledger = new Ledger(db.database, { clock });
  const service = new ReconciliationService({ database: db.database, ledger, clock });
  await seedWorld(db.database);
  return { db, service, ledger };
}

async function reasons(db: Database): Promise<string[]> {
  const result = await db.query<{ key: string }>(
    `SELECT key FROM recon_exceptions WHERE status = 'open' AND reason <> 'balance_drift' ORDER BY key`,
  );
  return result.rows.map((row) => row.key);
}

const expectedKeys = [
  'duplicate:psp_report:stripe:st_po_1:6',
  'fee_variance:item:txn_rc0000c2',
  'missing:item:txn_rc0000c3',
  'returned:po_test00001',
  'unexpected:psp_report:stripe:st_po_1:5',
];

for (const kind of databaseKinds) {
  describe(`reconciliation engine (${kind})`, () => {
    let f: Fixture;
    before(async () => {
      f = await fixture(kind);
    });
    after(async () => {
      await f.db.drop();
    });

    test('a run raises each reason for its case and nothing else; the split credit matches', async () => {
      const run = await f.service.run({ dryRun: false });
      assert.equal(run.status, 'succeeded', run.error ?? '');
      assert.equal(run.asOf, '2026-12-10');
      assert.deepEqual(await reasons(f.db.database), expectedKeys);
      const groups = await f.db.database.query<{ pass: string; count: number }>(
        `SELECT pass, count(*)::int AS count FROM recon_groups GROUP BY pass ORDER BY pass`,
      );
      // ch_1, ch_2, re_1 and the payout's debit exactly; the batch's two credits by aggregate.
      assert.deepEqual(groups.rows, [
        { pass: 'aggregate', count: 1 },
        { pass: 'exact', count: 4 },
      ]);
      const history = await f.db.database.query<{ action: string; actor: string }>(
        `SELECT DISTINCT action, actor FROM recon_exception_history`,
      );
      assert.deepEqual(history.rows, [{ action: 'raised', actor: 'system' }]);
    });

    test('re-running changes nothing and gives the same result hash', async () => {
      const first = (await f.service.listRuns({ limit: 1 })).runs[0];
      const again = await f.service.run({ dryRun: false });
      assert.equal(again.resultHash, first?.resultHash);
      assert.deepEqual(again.summary.raised, {});
      assert.deepEqual(await reasons(f.db.database), expectedKeys);
    });

    test('a late line closes its missing exception', async () => {
      // Carried by the next settlement (st_po_2) but dated on its own day, as an Adyen line's
      // Creation Date is: the settlement that carried it says it is late, not the date.
      await f.db.database.query(
        `INSERT INTO recon_records (source, row_key, line, kind, connector, psp_reference,
           batch_reference, currency, amount, fee, value_date, seen_on)
         VALUES ('psp_report', 'stripe:st_po_2:2', 2, 'charge', 'stripe', 'ch_3', 'st_po_2', 'usd',
                 2000, 88, '2026-12-07', '2026-12-07')`,
      );
      await f.service.run({ dryRun: false });
      const keys = await reasons(f.db.database);
      assert.ok(keys.includes('late:item:txn_rc0000c3'));
      assert.ok(!keys.includes('missing:item:txn_rc0000c3'));
      const missing = await f.db.database.query<{ id: string }>(
        `SELECT id FROM recon_exceptions WHERE key = 'missing:item:txn_rc0000c3'`,
      );
      const detail = await f.service.getException(missing.rows[0]?.id ?? '');
      assert.equal(detail.exception.resolution, 'matched');
      assert.deepEqual(
        detail.history.map((entry) => [entry.action, entry.actor]),
        [
          ['raised', 'system'],
          ['resolved', 'system'],
        ],
      );
    });

    test('lists, filters and pages exceptions; the export is exactly the filtered list', async () => {
      const all = await f.service.listExceptions({ status: 'open' }, { limit: 2 });
      assert.equal(all.exceptions.length, 2);
      assert.equal(all.hasMore, true);
      const next = await f.service.listExceptions(
        { status: 'open' },
        { limit: 100, startingAfter: all.exceptions[1]?.id },
      );
      const exported = [];
      for await (const exception of f.service.exceptionsForExport({ status: 'open' }))
        exported.push(exception.id);
      assert.deepEqual(
        exported,
        [...all.exceptions, ...next.exceptions].map((e) => e.id),
      );
      const fees = await f.service.listExceptions({ reason: 'fee_variance' }, { limit: 10 });
      assert.deepEqual(
        fees.exceptions.map((e) => [e.key, e.amount]),
        [['fee_variance:item:txn_rc0000c2', -75n]],
      );
    });

    test('a write-off posts one balanced transaction, once; a second resolve conflicts', async () => {
      const page = await f.service.listExceptions({ reason: 'unexpected' }, { limit: 10 });
      const unexpected = page.exceptions[0];
      assert.ok(unexpected !== undefined);
      await f.service.assign(unexpected.id, 'ops@example.com', 'admin');
      const resolved = await f.service.resolve(unexpected.id, {
        action: 'write_off',
        reason: 'PSP line for a test charge',
        actor: 'admin',
      });
      assert.equal(resolved.resolution, 'written_off');
      assert.equal(resolved.ledgerTransactionId, `recon_resolution:${unexpected.id}`);
      await assert.rejects(
        f.service.resolve(unexpected.id, { action: 'write_off', reason: 'again', actor: 'admin' }),
        (error: unknown) =>
          error instanceof ReconciliationError && error.code === 'exception_already_resolved',
      );
      const entries = await f.ledger.listEntries('psp:stripe:receivable:usd', { limit: 10 });
      assert.deepEqual(
        entries.entries.map((entry) => [entry.transactionId, entry.direction, entry.amount]),
        [[`recon_resolution:${unexpected.id}`, 'debit', 700n]],
      );
      assert.equal((await verifyLedger(f.db.database)).ok, true);
      const detail = await f.service.getException(unexpected.id);
      assert.deepEqual(
        detail.history.map((entry) => entry.action),
        ['raised', 'assigned', 'resolved'],
      );
      assert.equal(detail.exception.resolutionReason, 'PSP line for a test charge');
    });
  });

  describe(`reconciliation determinism (${kind})`, () => {
    test('a dry run changes nothing and reports the hash the real run then gets', async () => {
      const f = await fixture(kind);
      try {
        const dry = await f.service.run({ dryRun: true });
        assert.equal(dry.dryRun, true);
        const none = await f.db.database.query(`SELECT 1 FROM recon_exceptions`);
        assert.equal(none.rows.length, 0);
        const none2 = await f.db.database.query(`SELECT 1 FROM recon_records`);
        assert.equal(none2.rows.length, 0);
        const real = await f.service.run({ dryRun: false });
        assert.equal(real.resultHash, dry.resultHash);
        assert.deepEqual(real.summary.raised, dry.summary.raised);
      } finally {
        await f.db.drop();
      }
    });

    test('records ingested in another order give the same result hash', async () => {
      const rows = [
        `('bank_statement', 'X1:credit', 1, 'credit', NULL, 'usd', 10, '2026-12-08')`,
        `('psp_report', 'stripe:st_po_9:2', 2, 'charge', 'ch_1', 'usd', 10000, '2026-12-08')`,
        `('psp_report', 'stripe:st_po_9:3', 3, 'charge', 'ch_77', 'usd', 50, '2026-12-08')`,
      ];
      const hashes: (string | null)[] = [];
      for (const order of [rows, [...rows].reverse()]) {
        const f = await fixture(kind);
        try {
          for (const row of order)
            await f.db.database.query(
              `INSERT INTO recon_records (source, row_key, line, kind, psp_reference, currency,
                 amount, value_date, seen_on, connector)
               SELECT s, k, l, kd, ref, c, a, d, d, CASE WHEN s = 'psp_report' THEN 'stripe' END
                 FROM (VALUES ${row}) AS v (s, k, l, kd, ref, c, a, d)`,
            );
          hashes.push((await f.service.run({ dryRun: false })).resultHash);
        } finally {
          await f.db.drop();
        }
      }
      assert.equal(hashes[0], hashes[1]);
    });
  });
}

describe('reconciliation runs on PostgreSQL, concurrently', () => {
  test('two runs at once: one after the other, no exception twice', async () => {
    const f = await fixture('postgres');
    try {
      const runs = await Promise.all([
        f.service.run({ dryRun: false }),
        f.service.run({ dryRun: false }),
      ]);
      assert.deepEqual(
        runs.map((run) => run.status),
        ['succeeded', 'succeeded'],
      );
      assert.equal(runs[0]?.resultHash, runs[1]?.resultHash);
      const counts = await f.db.database.query<{ n: number; keys: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT key)::int AS keys FROM recon_exceptions`,
      );
      assert.equal(counts.rows[0]?.n, counts.rows[0]?.keys);
      assert.deepEqual(await reasons(f.db.database), expectedKeys);
    } finally {
      await f.db.drop();
    }
  });
});
