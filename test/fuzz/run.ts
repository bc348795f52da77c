// npm run fuzz [-- --requests N] [--seed S] [--timeout-ms T] [--postgres] [--json]
// The long OpenAPI fuzz (fuzz.ts): 10,000 requests by default. Prints what it found and, with
// --json, one last line: {"fuzz":"openapi","requests":N,"server_errors":0,"hangs":0,"bad_shape":0,"writes":0}.
// Exits 1 when any count is not 0 or a registered route is missing from /openapi.json.
import { parseArgs } from 'node:util';
import { runFuzz } from './fuzz.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    seed: { type: 'string' },
    'timeout-ms': { type: 'string', default: '10000' },
    json: { type: 'boolean', default: false },
    postgres: { type: 'boolean', default: false },
  },
});

const requests = Number(values.requests);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
if (!Number.isSafeInteger(requests) || requests < 1 || !Number.isSafeInteger(seed)) {
  console.error('fuzz: --requests and --seed are integers');
  process.exit(2);
}
const started = performance.now();
console.error(`fuzz: ${requests} requests, seed ${seed}`);
const result = await runFuzz({
  requests,
  seed,
  timeoutMs: Number(values['timeout-ms']),
  database: values.postgres ? 'postgres' : 'pglite',
  onProgress: (done, report) => {
    if (done % 1_000 === 0 || done === requests)
      console.error(`fuzz: ${done} requests ${JSON.stringify(report)}`);
  },
});
for (const finding of result.findings)
  console.error(`${finding.kind}: ${finding.request}\n  → ${finding.answer}`);
for (const route of result.undocumentedRoutes)
  console.error(`route missing from /openapi.json: ${route}`);
if (result.refusedHosts.length > 0)
  console.error(
    `hosts beyond loopback the server tried to reach (refused): ${result.refusedHosts.join(', ')}`,
  );
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.error(`fuzz: answers by status ${JSON.stringify(result.statuses)}`);
console.error(
  `fuzz: ${result.operations} operations, ${result.report.requests} requests in ${seconds} s (seed ${seed})`,
);
const { report } = result;
const clean =
  report.server_errors === 0 &&
  report.hangs === 0 &&
  report.bad_shape === 0 &&
  report.writes === 0 &&
  result.undocumentedRoutes.length === 0;
if (values.json) console.log(JSON.stringify(report));
else console.log(clean ? 'fuzz: clean' : 'fuzz: FAILED');
process.exit(clean ? 0 : 1);
