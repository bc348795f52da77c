// The short page fuzz inside `npm test`: every dashboard and checkout page route, hostile input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runPageFuzz } from './pages.ts';

const seed = Number(process.env.FUZZ_SEED ?? 20_261_206);

test('hostile requests to every page route: no 5xx, hang, non-page answer or stray write', async () => {
  const result = await runPageFuzz({ requests: 300, seed });
  assert.ok(result.routes.length >= 8, `only ${result.routes.length} page routes`);
  assert.deepEqual(result.routesMissed, []);
  assert.deepEqual(
    result.report,
    { fuzz: 'pages', requests: 300, server_errors: 0, hangs: 0, not_a_page: 0, writes: 0 },
    `seed ${seed}:\n${result.findings.slice(0, 10).join('\n')}`,
  );
  // Past the doors: many answers are pages, not only refusals.
  assert.ok((result.statuses['200'] ?? 0) > 30, JSON.stringify(result.statuses));
});
