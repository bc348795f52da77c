// The dashboard benchmark's own code on a small run (2,000 payments, 10 merchants), so that
// `npm run bench:dashboard` cannot silently break: the seed must load, and every scenario must
// run (a timeline that finds no payment throws) and report its figures.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOptions, runDashboardBench } from '../../bench/dashboard.ts';
import { adminDatabaseUrl } from '../support/databases.ts';

for (const http of [true, false])
  test(`bench:dashboard seeds 2,000 payments and times every scenario (${http ? 'pages over HTTP' : 'queries alone'})`, async () => {
    const result = await runDashboardBench({
      payments: 2_000,
      merchants: 10,
      samples: 10,
      databaseUrl: adminDatabaseUrl,
      json: true,
      verbose: false,
      keep: false,
      http,
    });
    assert.equal(result.bench, 'dashboard');
    assert.equal(result.payments, 2_000);
    assert.ok(Object.keys(result.scenarios).length >= 15);
    for (const [name, scenario] of Object.entries(result.scenarios))
      assert.ok(scenario.p50_ms > 0 && scenario.p99_ms >= scenario.p50_ms, name);
    assert.ok(result.list_p99_ms > 0 && result.timeline_p99_ms > 0);
    assert.ok(result.js_gzip_kb > 0 && result.js_gzip_kb < 100);
    assert.equal(result.database, null);
  });

test('bench:dashboard options: defaults, bounds, loopback only, pages by default', () => {
  const defaults = parseOptions([]);
  assert.notEqual(defaults, 'help');
  if (defaults === 'help') return;
  assert.equal(defaults.payments, 1_000_000);
  assert.equal(defaults.merchants, 100);
  assert.equal(defaults.samples, 200);
  assert.throws(() => parseOptions(['--payments', '5']), /--payments/);
  assert.throws(() => parseOptions(['--payments', '1000', '--merchants', '200']), /--merchants/);
  assert.throws(
    () => parseOptions(['--database-url', 'postgres://postgres@10.0.0.1:5432/postgres']),
    /local server/,
  );
  assert.equal(defaults.http, true);
  const queries = parseOptions(['--queries-only']);
  assert.ok(queries !== 'help' && !queries.http);
  assert.throws(() => parseOptions(['--http']), /http/);
  assert.equal(parseOptions(['--help']), 'help');
});
