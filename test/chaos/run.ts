// `npm run chaos -- [--seconds 60] [--clients 8] [--kills 4] [--seed N] [--days 6]
//                   [--money-out-kills 3] [--no-money-out-faults]
//                   [--no-reconciliation-seeding] [--json]`
//
// Mixed payment flows through the real server, worker, simulator and JetStream, with PSP
// timeouts, 5xx, lost responses and declines; SIGKILLs of the API and the worker at seeded
// moments; one NATS restart. Then, with faults off and everything synced: no double charge, no
// acknowledged payment lost, the ledger verifies, every event reached the merchant's webhook
// receiver with a valid signature, no payment is left non-terminal. Then money out: the test
// clock moves day by day through cutoffs, availability and payouts (acquirer and bank faults,
// SIGKILLs during the pipeline's runs), and the acquirer's and the bank's ground truth are
// checked against Payrail: no batch submitted twice, no payout executed twice, no payout whose
// bank outcome and ledger disagree. Prints a summary table; with
// --json the last line is one JSON object. Exits 1 when a check fails.
import { parseArgs } from 'node:util';
import { defaultChaosOptions, runChaosScenario, type ChaosOptions } from './chaos.ts';
import { formatReport } from './report.ts';

function integer(
  value: string | undefined,
  name: string,
  minimum: number,
  maximum: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < minimum || parsed > maximum)
    throw new Error(`--${name} must be an integer from ${minimum} to ${maximum}`);
  return parsed;
}

export function parseChaosOptions(argv: readonly string[]): ChaosOptions & { json: boolean } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seconds: { type: 'string' },
      clients: { type: 'string' },
      kills: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      'nats-restarts': { type: 'string' },
      merchants: { type: 'string' },
      mode: { type: 'string' },
      'database-url': { type: 'string' },
      'keep-logs': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      days: { type: 'string' },
      'money-out-kills': { type: 'string' },
      'no-money-out-faults': { type: 'boolean', default: false },
      'no-reconciliation-seeding': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const mode = values.mode ?? defaultChaosOptions.mode;
  if (mode !== 'jetstream' && mode !== 'embedded')
    throw new Error('--mode must be jetstream or embedded');
  const databaseUrl = values['database-url'] ?? defaultChaosOptions.databaseUrl;
  if (!['127.0.0.1', 'localhost'].includes(new URL(databaseUrl).hostname))
    throw new Error('the chaos test only runs against a local PostgreSQL');
  return {
    ...defaultChaosOptions,
    seconds: integer(values.seconds, 'seconds', 1, 3_600, defaultChaosOptions.seconds),
    clients: integer(values.clients, 'clients', 1, 64, defaultChaosOptions.clients),
    kills: integer(values.kills, 'kills', 0, 100, defaultChaosOptions.kills),
    seed: integer(values.seed, 'seed', 0, 2 ** 31 - 1, defaultChaosOptions.seed),
    natsRestarts: integer(
      values['nats-restarts'],
      'nats-restarts',
      0,
      10,
      defaultChaosOptions.natsRestarts,
    ),
    merchants: integer(values.merchants, 'merchants', 1, 10, defaultChaosOptions.merchants),
    mode,
    databaseUrl,
    keepLogs: values['keep-logs'],
    moneyOutDays: integer(values.days, 'days', 0, 60, defaultChaosOptions.moneyOutDays),
    moneyOutKills: integer(
      values['money-out-kills'],
      'money-out-kills',
      0,
      60,
      defaultChaosOptions.moneyOutKills,
    ),
    moneyOutFaults: !values['no-money-out-faults'],
    reconciliationSeeding: !values['no-reconciliation-seeding'],
    verbose: !values.quiet,
    json: values.json,
  };
}

export async function main(argv: readonly string[]): Promise<number> {
  const options = parseChaosOptions(argv);
  const result = await runChaosScenario(options);
  console.log(formatReport(result));
  if (options.json) console.log(JSON.stringify(result.summary));
  return result.summary.chaos === 'ok' ? 0 : 1;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
