// Risk decision benchmark: one process, the assessor the payment path calls (src/risk/assess.ts)
// with 30 compiled rules that read 12 velocity attributes, the score, and velocity in memory and
// in Redis (loopback only).
//
//   npm run bench:risk -- [--decisions 50000] [--redis-decisions 5000] [--redis-url redis://127.0.0.1:6379] [--json]
//
// Velocity is seeded first (cards, emails, IPs and customers with a week of history), then:
//   memory   --decisions decisions one after another, each timed: decisions per second, p50, p99
//   redis    --redis-decisions decisions one after another on the Redis store (one round trip
//            each), each timed; skipped (null) when Redis cannot be reached
// With --json the last line on stdout is
//   {"bench":"risk","decisions_per_s":…,"p99_ms_memory":…,"p99_ms_redis":…, …}
// Exit status: 0 ok, 1 a decision failed, 2 bad arguments.
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { RiskFacts } from '../src/payments/dependencies.ts';
import { RiskAssessor, type RiskPolicy } from '../src/risk/assess.ts';
import { compileRule } from '../src/risk/rules/index.ts';
import { defaultRiskThresholds, defaultRiskWeights } from '../src/risk/score.ts';
import type { VelocityEvent, VelocityStore } from '../src/risk/types.ts';
import { MemoryVelocityStore, RedisVelocityStore } from '../src/risk/velocity/index.ts';
import { closeRedis, openRedis } from '../src/storage/redis.ts';
import { seededRandom } from '../src/random.ts';
import type { PaymentMethod } from '../src/vault/index.ts';
import { integerOption, percentile, UsageError } from './support.ts';

type Options = {
  decisions: number;
  redisDecisions: number;
  redisUrl: string;
  json: boolean;
};

const usage = `usage: npm run bench:risk -- [--decisions N] [--redis-decisions N] [--redis-url URL] [--json]`;

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      decisions: { type: 'string' },
      'redis-decisions': { type: 'string' },
      'redis-url': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const redisUrl = values['redis-url'] ?? process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const host = new URL(redisUrl).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host))
    throw new UsageError('--redis-url must be on loopback');
  return {
    decisions: integerOption(values.decisions, 'decisions', 50_000, 1_000, 10_000_000),
    redisDecisions: integerOption(
      values['redis-decisions'],
      'redis-decisions',
      5_000,
      100,
      1_000_000,
    ),
    redisUrl,
    json: values.json,
  };
}

/**
 * Twelve velocity attributes (three windows of four measures over four entities, and distinct
 * cards) and thirty rules over them and the payment: what a busy merchant's rule set looks like.
 */
const velocityAttributesRead = [
  'total_charges_per_card_number_hourly',
  'declined_charges_per_card_number_daily',
  'authorized_charges_per_card_number_weekly',
  'total_amount_in_usd_per_card_number_daily',
  'total_charges_per_email_daily',
  'declined_charges_per_email_weekly',
  'total_charges_per_ip_address_hourly',
  'declined_charges_per_ip_address_daily',
  'cards_per_ip_address_daily',
  'cards_per_email_weekly',
  'total_charges_per_customer_daily',
  'total_amount_in_usd_per_customer_weekly',
];

function ruleTexts(): string[] {
  const rules: string[] = [];
  velocityAttributesRead.forEach((attribute, index) => {
    rules.push(`review if :${attribute}: > ${50 + index} and :amount_in_usd: > 5000`);
    rules.push(`block if :${attribute}: > ${500 + index}`);
  });
  rules.push(
    'request_3ds if :card_country: != :ip_country: and :amount_in_usd: > 20000',
    'allow if :email_domain: in @vip_domains',
    "block if :card_bin: in ('411111', '400000') and :ip_country: = 'KP'",
    "review if ::order_type:: = 'gift_card' and :amount_in_usd: > 2000",
    "block if :email: like '%@mailinator.%'",
    'review if is_missing(:ip_address:) and :amount_in_usd: > 1000',
  );
  return rules;
}

function policyOf(): RiskPolicy {
  const rules = ruleTexts().map((text, index) => ({
    id: `rule_bench${index}`,
    version: 1,
    mode: index % 10 === 9 ? ('shadow' as const) : ('enforced' as const),
    compiled: compileRule(text),
  }));
  const vip = new Set(['vip.example']);
  return {
    enabled: true,
    rules,
    lists: (alias, value) => alias === 'vip_domains' && vip.has(value),
    weights: defaultRiskWeights,
    thresholds: defaultRiskThresholds,
    livemode: false,
  };
}

const now = new Date('2026-12-06T12:00:00Z');
// Most payers are seen a few times a week; the score's velocity signals fire for a few.
const population = { cards: 20_000, emails: 15_000, ips: 8_000, customers: 12_000 };

function card(index: number): PaymentMethod {
  return {
    id: `pm_bench${index}`,
    type: 'card',
    brand: 'visa',
    last4: '4242',
    expMonth: 12,
    expYear: 2030,
    country: index % 7 === 0 ? 'DE' : 'US',
    bin: '424242',
    fingerprint: `fp_${index}`,
    holderName: null,
    billingDetails: {},
    customerId: null,
    usable: true,
    metadata: {},
    createdAt: now,
  };
}

function ipOf(index: number): string {
  return `10.${Math.floor(index / 65_536) % 256}.${Math.floor(index / 256) % 256}.${index % 256}`;
}

function factsOf(random: () => number): RiskFacts {
  const pick = (size: number) => Math.floor(random() * size);
  return {
    merchantId: 'acct_bench',
    amount: BigInt(100 + pick(500_000)),
    currency: 'usd',
    card: card(pick(population.cards)),
    email: `buyer${pick(population.emails)}@shop.example`,
    ipAddress: ipOf(pick(population.ips)),
    ipCountry: random() < 0.1 ? 'DE' : 'US',
    customerId: `cus_bench${pick(population.customers)}`,
    metadata: { order_type: random() < 0.05 ? 'gift_card' : 'goods' },
    now,
  };
}

/** A week of history: 20,000 outcomes over the population, older to newer. */
async function seed(store: VelocityStore, random: () => number): Promise<void> {
  const weekMs = 7 * 86_400_000;
  const events: VelocityEvent[] = [];
  for (let index = 0; index < 20_000; index++) {
    const facts = factsOf(random);
    events.push({
      attemptId: `pa_bench${index}`,
      at: new Date(now.getTime() - Math.floor(random() * weekMs)),
      result: random() < 0.85 ? 'authorized' : 'declined',
      amountInUsd: Math.round(random() * 50_000) / 100,
      entities: {
        card_number: facts.card.fingerprint as string,
        email: facts.email as string,
        ip_address: facts.ipAddress as string,
        customer: facts.customerId as string,
      },
      cardFingerprint: facts.card.fingerprint as string,
    });
  }
  for (let start = 0; start < events.length; start += 64)
    await Promise.all(events.slice(start, start + 64).map((event) => store.record(event)));
}

type Run = { decisions: number; seconds: number; p50Ms: number; p99Ms: number; actions: object };

async function run(assessor: RiskAssessor, count: number, random: () => number): Promise<Run> {
  const timings = new Float64Array(count);
  const actions: Record<string, number> = {};
  const started = performance.now();
  for (let index = 0; index < count; index++) {
    const facts = factsOf(random);
    const before = performance.now();
    const record = await assessor.assess(facts);
    timings[index] = performance.now() - before;
    if (record === undefined) throw new Error('risk was off');
    actions[record.action] = (actions[record.action] ?? 0) + 1;
  }
  const seconds = (performance.now() - started) / 1000;
  const sorted = [...timings].sort((a, b) => a - b);
  return {
    decisions: count,
    seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    actions,
  };
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const policy = policyOf();
  const memory = new MemoryVelocityStore();
  await seed(memory, seededRandom(1));
  const memoryAssessor = new RiskAssessor({ policy: async () => policy, velocity: memory });
  // A warm-up, so the timed run measures compiled code.
  await run(memoryAssessor, 2_000, seededRandom(2));
  const inMemory = await run(memoryAssessor, options.decisions, seededRandom(3));
  out(
    `memory: ${inMemory.decisions} decisions in ${inMemory.seconds.toFixed(2)} s = ` +
      `${Math.round(inMemory.decisions / inMemory.seconds)}/s, p50 ${inMemory.p50Ms.toFixed(3)} ms, ` +
      `p99 ${inMemory.p99Ms.toFixed(3)} ms, actions ${JSON.stringify(inMemory.actions)}`,
  );
  let inRedis: Run | undefined;
  const client = await openRedis(options.redisUrl, { logger: pino({ level: 'silent' }) });
  try {
    if (client.isReady) {
      const keyPrefix = `payrail_bench_${crypto.randomBytes(4).toString('hex')}`;
      const redis = new RedisVelocityStore(client, { keyPrefix, readTimeoutMs: 1_000 });
      await seed(redis, seededRandom(1));
      const redisAssessor = new RiskAssessor({ policy: async () => policy, velocity: redis });
      await run(redisAssessor, 200, seededRandom(2));
      inRedis = await run(redisAssessor, options.redisDecisions, seededRandom(3));
      out(
        `redis: ${inRedis.decisions} decisions in ${inRedis.seconds.toFixed(2)} s = ` +
          `${Math.round(inRedis.decisions / inRedis.seconds)}/s, p50 ${inRedis.p50Ms.toFixed(3)} ms, ` +
          `p99 ${inRedis.p99Ms.toFixed(3)} ms`,
      );
      await deleteKeys(client, `${keyPrefix}:*`);
    } else out(`redis: not reachable at ${options.redisUrl}; skipped`);
  } finally {
    await closeRedis(client);
  }
  if (options.json)
    out(
      JSON.stringify({
        bench: 'risk',
        decisions_per_s: Math.round(inMemory.decisions / inMemory.seconds),
        p99_ms_memory: round(inMemory.p99Ms, 4),
        p99_ms_redis: inRedis === undefined ? null : round(inRedis.p99Ms, 4),
        p50_ms_memory: round(inMemory.p50Ms, 4),
        p50_ms_redis: inRedis === undefined ? null : round(inRedis.p50Ms, 4),
        decisions_per_s_redis:
          inRedis === undefined ? null : Math.round(inRedis.decisions / inRedis.seconds),
        rules: policy.rules.length,
        velocity_attributes: velocityAttributesRead.length,
      }),
    );
}

async function deleteKeys(client: Awaited<ReturnType<typeof openRedis>>, pattern: string) {
  for await (const keys of client.scanIterator({ MATCH: pattern, COUNT: 1_000 }))
    if (keys.length > 0) await client.del(keys);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n${usage}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
