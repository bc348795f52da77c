// The settlement benchmark's own code on a small run (2,000 items, 10 merchants), so that
// `npm run bench:settlement` cannot silently break: seeding, the whole money-out pipeline and
// every verify check must pass, and the figures must be there.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOptions, runSettlementBench } from '../../bench/settlement.ts';
import { adminDatabaseUrl } from '../support/databases.ts';

test('bench:settlement settles 2,000 items of 10 merchants and verifies them', async () => {
  const result = await runSettlementBench({
    items: 2_000,
    merchants: 10,
    refundPercent: 10,
    databaseUrl: adminDatabaseUrl,
    json: true,
    verbose: false,
  });
  assert.deepEqual(result.problems, []);
  assert.equal(result.verify, 'ok');
  assert.equal(result.items, 2_000);
  assert.equal(result.captures, 1_800);
  assert.equal(result.refunds, 200);
  assert.equal(result.payouts, 10);
  assert.equal(result.steps.settlement_close, 2_000);
  assert.equal(result.steps.availability, 2_000);
  assert.ok(result.items_per_s > 0);
  assert.ok(result.peak_rss_mb > 0);
});

test('bench:settlement options: defaults, bounds, loopback only', () => {
  const defaults = parseOptions([]);
  assert.notEqual(defaults, 'help');
  if (defaults === 'help') return;
  assert.equal(defaults.items, 1_000_000);
  assert.equal(defaults.merchants, 1_000);
  assert.throws(() => parseOptions(['--items', '5']), /--items/);
  assert.throws(() => parseOptions(['--items', '100', '--merchants', '200']), /--merchants/);
  assert.throws(
    () => parseOptions(['--database-url', 'postgres://postgres@10.0.0.1:5432/postgres']),
    /local server/,
  );
});
