// The reconciliation benchmark's own code on a small run (2,000 items, 20 merchants), so that
// `npm run bench:recon` cannot silently break: seeding, the generated files, ingestion, one run,
// and every exception against the seeded ground truth (precision and recall 1), ledger verified.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOptions, runReconBench } from '../../bench/recon.ts';
import { adminDatabaseUrl } from '../support/databases.ts';

test('bench:recon reconciles 2,000 items with their seeded discrepancies exactly', async () => {
  const result = await runReconBench({
    items: 2_000,
    merchants: 20,
    refundPercent: 10,
    databaseUrl: adminDatabaseUrl,
    json: true,
    verbose: false,
  });
  assert.deepEqual(result.problems, []);
  assert.equal(result.ledger, 'ok');
  assert.equal(result.ledger_items, 2_000);
  assert.ok(result.report_lines > 1_900);
  assert.ok(result.statement_entries > 20);
  assert.ok(result.discrepancies >= 20);
  assert.equal(result.precision, 1);
  assert.equal(result.recall, 1);
  assert.match(result.recall_by_kind.late_line ?? '', /^([1-9]\d*)\/\1$/);
  assert.equal(
    result.records,
    result.ledger_items + result.report_lines + result.statement_entries,
  );
  assert.ok(result.records_per_s > 0);
  assert.ok(result.peak_rss_mb > 0);
});

test('bench:recon options: defaults, bounds, loopback only', () => {
  const defaults = parseOptions([]);
  assert.notEqual(defaults, 'help');
  if (defaults === 'help') return;
  assert.equal(defaults.items, 1_000_000);
  assert.equal(defaults.merchants, 1_000);
  const small = parseOptions(['--items', '2000']);
  assert.ok(small !== 'help' && small.merchants === 20);
  assert.throws(() => parseOptions(['--items', '5']), /--items/);
  assert.throws(
    () => parseOptions(['--database-url', 'postgres://postgres@10.0.0.1:5432/postgres']),
    /local server/,
  );
});
