// The short OpenAPI fuzz inside `npm test`: a few hundred generated requests over every operation
// of /openapi.json (the long run is `npm run fuzz`). A fixed seed keeps the suite reproducible;
// FUZZ_SEED picks another.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runFuzz } from './fuzz.ts';

const seed = Number(process.env.FUZZ_SEED ?? 20_261_206);

test('hostile requests generated from /openapi.json: no 5xx, hang, odd error shape or write', async () => {
  const result = await runFuzz({ requests: 300, seed, timeoutMs: 10_000 });
  const findings = result.findings
    .slice(0, 10)
    .map((finding) => `${finding.kind}: ${finding.request}\n  → ${finding.answer}`)
    .join('\n');
  assert.deepEqual(result.undocumentedRoutes, [], 'every registered route is in /openapi.json');
  assert.ok(result.operations >= 40, `only ${result.operations} operations in /openapi.json`);
  assert.equal(result.report.requests, 300);
  assert.deepEqual(result.operationsMissed, [], 'every operation got requests');
  assert.deepEqual(
    result.report,
    { fuzz: 'openapi', requests: 300, server_errors: 0, hangs: 0, bad_shape: 0, writes: 0 },
    `seed ${seed}:\n${findings}`,
  );
  // The requests reach past validation into the services, not only into refusals.
  assert.ok((result.statuses['200'] ?? 0) > 20, JSON.stringify(result.statuses));
});
