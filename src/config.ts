// Configuration comes only from environment variables and is validated once at start-up.
// A wrong value stops the process with one line that names the variable (see cli.ts).
import path from 'node:path';
import { faultPoints, type FaultPoint } from './fault-points.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export type Config = {
  readonly host: string;
  readonly port: number;
  /** PostgreSQL connection string; undefined means the embedded PGlite database. */
  readonly databaseUrl: string | undefined;
  /** Where embedded PGlite keeps its files; 'memory://' keeps nothing. */
  readonly dataDirectory: string;
  readonly databasePoolSize: number;
  /** The operator key as given; undefined means "generate one on first start". */
  readonly adminKey: string | undefined;
  readonly logLevel: LogLevel;
  readonly bodyLimitBytes: number;
  /**
   * 32-byte master key (base64) that wraps the card vault's data keys. Undefined in development:
   * the vault then keeps a generated key file in the data directory (see src/vault).
   */
  readonly vaultMasterKey: Buffer | undefined;
  /** Where the PSP simulator listens: the base URL of every test merchant's connectors (src/testmode). */
  readonly simulatorUrl: string;
  /** A PSP call that takes longer is abandoned; its outcome is unknown until sync. */
  readonly pspTimeoutMs: number;
  /** Tries of one PSP call (the same idempotency key each time) before its outcome counts as unknown. */
  readonly pspAttempts: number;
  /** Consecutive PSP-health failures (timeouts, 5xx, no answer) that open a connector's circuit breaker. */
  readonly breakerThreshold: number;
  /** How long an open breaker refuses calls before it lets one probe through. */
  readonly breakerHalfOpenMs: number;
  /** PSP calls in flight per connector (and as many waiting) before further calls are refused with a 503. */
  readonly bulkheadLimit: number;
  /** How long a request holds its idempotency key before a retry may take it over. */
  readonly idempotencyLeaseMs: number;
  /** Tests only: the process kills itself (SIGKILL) at this point (src/testmode/faults.ts). */
  readonly faultPoint: FaultPoint | undefined;
  /** NATS with JetStream; undefined means the embedded event bus (workers in this process). */
  readonly natsUrl: string | undefined;
  /**
   * Redis for API rate limits and risk velocity, shared by every Payrail process; undefined keeps
   * both in each process's memory. Postgres stays the truth: nothing here is money.
   */
  readonly redisUrl: string | undefined;
  /**
   * Where browsers reach this Payrail (https://pay.example.com): 3-D Secure sends card holders back
   * to it. Undefined: the origin of the request that started the payment.
   */
  readonly publicUrl: string | undefined;
  /**
   * The 3-D Secure server live-mode payments authenticate card holders through (its root URL and
   * key); undefined: live payments cannot require action (test mode uses the simulator's).
   */
  readonly threeDSecureServer: { readonly url: string; readonly apiKey: string } | undefined;
  readonly natsStream: string;
  /**
   * Whether this server process also runs the workers (event consumers, webhook deliveries,
   * status sync). Off when separate `payrail worker` processes run them.
   */
  readonly runWorkers: boolean;
  /** Attempts of an event consumer before the event is dead-lettered. */
  readonly consumerAttemptsMax: number;
  /** JetStream: a message not acknowledged this long after delivery (its worker died) is delivered again. */
  readonly consumerAckWaitMs: number;
  /** A webhook delivery gets no answer in this long: the attempt failed. */
  readonly webhookTimeoutMs: number;
  /**
   * Whether test-mode merchants' webhook endpoints may be on loopback (a receiver on this machine).
   * Off by default: every other non-public address is refused in every mode, loopback too in live mode.
   */
  readonly webhookAllowLoopback: boolean;
  /** An authorization the PSP says it never received is failed only after this long (it may still arrive). */
  readonly neverSeenAfterMs: number;
  /** Waits between webhook delivery attempts (about three days in all by default). */
  readonly webhookRetryScheduleMs: readonly number[] | undefined;
  /** Waits between status syncs of an unresolved attempt (the last one repeats). */
  readonly syncScheduleMs: readonly number[] | undefined;
  /** How often the status sync worker looks for work. */
  readonly syncIntervalMs: number;
  /** How often workers run the money-out pipeline (architecture §12). */
  readonly moneyOutIntervalMs: number;
  /**
   * Whether this process writes its connector-health row every minute on its own
   * (PAYRAIL_CONNECTOR_HEALTH_SAMPLER=off: only when told, as the tests do, so that no background
   * row lands between a test's two counts of the tables).
   */
  readonly connectorHealthSampler: boolean;
  /** Authorizations never captured are voided after this many days. */
  readonly voidAuthorizationsAfterDays: number;
  /**
   * Test clocks (src/testmode/clock*.ts): an operator may move the system's or a merchant's time
   * forward. On for `npm start`, the demo and tests; off for `payrail serve` unless set.
   */
  readonly testClocks: boolean;
  /** API rate limits (src/http/rate-limit.ts); Redis-backed when `redisUrl` is set. */
  readonly rateLimits: RateLimitConfig;
};

/** Requests per second per merchant account (Stripe's defaults), in flight, and per IP. */
export type RateLimitConfig = {
  /** Off only for tests and benchmarks that fire faster than any merchant may (PAYRAIL_RATE_LIMITS=off). */
  readonly enabled: boolean;
  readonly livePerSecond: number;
  readonly testPerSecond: number;
  /** Per merchant and route pattern (`POST /v1/payment_intents`), as Stripe's per-endpoint limit. */
  readonly endpointPerSecond: number;
  /** Requests of one merchant in flight at once. */
  readonly concurrent: number;
  /** Per client IP address on the routes that take no API key (PSP webhooks, 3-D Secure return). */
  readonly ipPerSecond: number;
  /** Prefix of every Redis key of the limiters; processes sharing one limit share the prefix. */
  readonly keyPrefix: string;
  /**
   * A Redis answer slower than this counts as Redis down: the process's in-memory limiter
   * decides. Not too short: a busy event loop runs timers before reading the answer.
   */
  readonly redisTimeoutMs: number;
};

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

const logLevels: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

type Environment = Readonly<Record<string, string | undefined>>;

function readInteger(
  env: Environment,
  name: string,
  fallback: number,
  minimum: number,
  maximum: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw))
    throw new ConfigError(name, `must be an integer from ${minimum} to ${maximum}, got "${raw}"`);
  const value = Number(raw);
  if (value < minimum || value > maximum) {
    throw new ConfigError(name, `must be an integer from ${minimum} to ${maximum}, got "${raw}"`);
  }
  return value;
}

function readDatabaseUrl(env: Environment): string | undefined {
  const raw = env.DATABASE_URL;
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(
      'DATABASE_URL',
      'must be a URL such as postgres://user@127.0.0.1:5432/payrail',
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(
      'DATABASE_URL',
      `must start with postgres:// or postgresql://, got "${url.protocol}//"`,
    );
  }
  return raw;
}

function readAdminKey(env: Environment): string | undefined {
  const raw = env.PAYRAIL_ADMIN_KEY;
  if (raw === undefined || raw === '') return undefined;
  if (!/^[A-Za-z0-9_\-]{24,200}$/.test(raw)) {
    throw new ConfigError(
      'PAYRAIL_ADMIN_KEY',
      'must be 24 to 200 characters of letters, digits, "_" or "-"',
    );
  }
  return raw;
}

function readLogLevel(env: Environment): LogLevel {
  const raw = env.LOG_LEVEL;
  if (raw === undefined || raw === '') return 'info';
  const level = logLevels.find((candidate) => candidate === raw);
  if (level === undefined)
    throw new ConfigError('LOG_LEVEL', `must be one of ${logLevels.join(', ')}, got "${raw}"`);
  return level;
}

function readMasterKey(env: Environment): Buffer | undefined {
  const raw = env.PAYRAIL_VAULT_MASTER_KEY;
  if (raw === undefined || raw === '') return undefined;
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(raw) ? Buffer.from(raw, 'base64') : Buffer.alloc(0);
  if (key.length !== 32)
    throw new ConfigError(
      'PAYRAIL_VAULT_MASTER_KEY',
      'must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)',
    );
  return key;
}

function readSimulatorUrl(env: Environment): string {
  const raw = env.PAYRAIL_SIMULATOR_URL;
  if (raw === undefined || raw === '') return 'http://127.0.0.1:8090';
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
  } catch {
    throw new ConfigError(
      'PAYRAIL_SIMULATOR_URL',
      `must be an http(s) URL such as http://127.0.0.1:8090, got "${raw}"`,
    );
  }
  return raw.replace(/\/+$/, '');
}

function readSchedule(env: Environment, name: string): readonly number[] | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const values = raw.split(',').map((part) => Number(part.trim()));
  if (
    values.length === 0 ||
    values.length > 50 ||
    values.some((value) => !Number.isInteger(value) || value < 0 || value > 7 * 24 * 3_600_000)
  ) {
    throw new ConfigError(
      name,
      `must be a comma-separated list of 1 to 50 waits in milliseconds (0 to 604800000), got "${raw}"`,
    );
  }
  return values;
}

function readNatsUrl(env: Environment): string | undefined {
  const raw = env.NATS_URL;
  if (raw === undefined || raw === '') return undefined;
  if (!/^(nats|tls):\/\/[^\s]+$/.test(raw) && !/^[\w.-]+:\d+$/.test(raw))
    throw new ConfigError('NATS_URL', `must look like nats://127.0.0.1:4222, got "${raw}"`);
  return raw;
}

function readPublicUrl(env: Environment): string | undefined {
  const raw = env.PAYRAIL_PUBLIC_URL;
  if (raw === undefined || raw === '') return undefined;
  if (!/^https?:\/\/[^\s/]+$/.test(raw))
    throw new ConfigError(
      'PAYRAIL_PUBLIC_URL',
      `must be an origin such as https://pay.example.com (no path), got "${raw}"`,
    );
  return raw;
}

function readThreeDSecureServer(env: Environment): Config['threeDSecureServer'] {
  const url = env.PAYRAIL_3DS_SERVER_URL;
  if (url === undefined || url === '') return undefined;
  if (!/^https?:\/\/[^\s]+$/.test(url))
    throw new ConfigError('PAYRAIL_3DS_SERVER_URL', `must be an http(s) URL, got "${url}"`);
  const apiKey = env.PAYRAIL_3DS_SERVER_KEY;
  if (apiKey === undefined || apiKey === '')
    throw new ConfigError('PAYRAIL_3DS_SERVER_KEY', 'must be set with PAYRAIL_3DS_SERVER_URL');
  return { url, apiKey };
}

function readRedisUrl(env: Environment): string | undefined {
  const raw = env.REDIS_URL;
  if (raw === undefined || raw === '') return undefined;
  if (!/^rediss?:\/\/[^\s]+$/.test(raw))
    throw new ConfigError('REDIS_URL', `must look like redis://127.0.0.1:6379, got "${raw}"`);
  return raw;
}

function readFaultPoint(env: Environment): FaultPoint | undefined {
  const raw = env.PAYRAIL_FAULT_POINT;
  if (raw === undefined || raw === '') return undefined;
  const point = faultPoints.find((candidate) => candidate === raw);
  if (point === undefined)
    throw new ConfigError(
      'PAYRAIL_FAULT_POINT',
      `must be one of ${faultPoints.join(', ')}, got "${raw}"`,
    );
  return point;
}

function readBoolean(env: Environment, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function readSwitch(env: Environment, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === 'on') return true;
  if (raw === 'off') return false;
  throw new ConfigError(name, `must be on or off, got "${raw}"`);
}

function readRateLimits(env: Environment): RateLimitConfig {
  const perSecondMax = 1_000_000;
  const prefix = env.PAYRAIL_RATE_LIMIT_PREFIX;
  if (prefix !== undefined && prefix !== '' && !/^[A-Za-z0-9_:.-]{1,64}$/.test(prefix))
    throw new ConfigError(
      'PAYRAIL_RATE_LIMIT_PREFIX',
      `must be 1 to 64 letters, digits, _ : . or -, got "${prefix}"`,
    );
  return {
    enabled: readSwitch(env, 'PAYRAIL_RATE_LIMITS'),
    livePerSecond: readInteger(env, 'PAYRAIL_RATE_LIMIT_LIVE_PER_SECOND', 100, 1, perSecondMax),
    testPerSecond: readInteger(env, 'PAYRAIL_RATE_LIMIT_TEST_PER_SECOND', 25, 1, perSecondMax),
    endpointPerSecond: readInteger(
      env,
      'PAYRAIL_RATE_LIMIT_ENDPOINT_PER_SECOND',
      100,
      1,
      perSecondMax,
    ),
    concurrent: readInteger(env, 'PAYRAIL_RATE_LIMIT_CONCURRENT', 25, 1, perSecondMax),
    ipPerSecond: readInteger(env, 'PAYRAIL_RATE_LIMIT_IP_PER_SECOND', 100, 1, perSecondMax),
    keyPrefix: prefix === undefined || prefix === '' ? 'payrail:rl' : prefix,
    redisTimeoutMs: readInteger(env, 'PAYRAIL_RATE_LIMIT_REDIS_TIMEOUT_MS', 200, 1, 60_000),
  };
}

function readName(env: Environment, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(raw))
    throw new ConfigError(name, `must be 1 to 64 letters, digits, _ or -, got "${raw}"`);
  return raw;
}

export function loadConfig(env: Environment = process.env): Config {
  const dataDirectory =
    env.PAYRAIL_DATA_DIR === undefined || env.PAYRAIL_DATA_DIR === ''
      ? path.resolve('.payrail')
      : env.PAYRAIL_DATA_DIR === 'memory://'
        ? 'memory://'
        : path.resolve(env.PAYRAIL_DATA_DIR);
  const host = env.HOST === undefined || env.HOST === '' ? '127.0.0.1' : env.HOST;
  return {
    host,
    port: readInteger(env, 'PORT', 8080, 0, 65535),
    databaseUrl: readDatabaseUrl(env),
    dataDirectory,
    databasePoolSize: readInteger(env, 'PAYRAIL_DB_POOL_SIZE', 20, 1, 500),
    adminKey: readAdminKey(env),
    logLevel: readLogLevel(env),
    bodyLimitBytes: readInteger(
      env,
      'PAYRAIL_BODY_LIMIT_BYTES',
      256 * 1024,
      1024,
      16 * 1024 * 1024,
    ),
    vaultMasterKey: readMasterKey(env),
    simulatorUrl: readSimulatorUrl(env),
    pspTimeoutMs: readInteger(env, 'PAYRAIL_PSP_TIMEOUT_MS', 10_000, 50, 120_000),
    pspAttempts: readInteger(env, 'PAYRAIL_PSP_ATTEMPTS', 3, 1, 10),
    breakerThreshold: readInteger(env, 'PAYRAIL_BREAKER_THRESHOLD', 5, 1, 10_000),
    breakerHalfOpenMs: readInteger(env, 'PAYRAIL_BREAKER_HALF_OPEN_MS', 5_000, 10, 600_000),
    bulkheadLimit: readInteger(env, 'PAYRAIL_BULKHEAD_LIMIT', 64, 1, 10_000),
    idempotencyLeaseMs: readInteger(env, 'PAYRAIL_IDEMPOTENCY_LEASE_MS', 60_000, 100, 3_600_000),
    faultPoint: readFaultPoint(env),
    natsUrl: readNatsUrl(env),
    redisUrl: readRedisUrl(env),
    publicUrl: readPublicUrl(env),
    threeDSecureServer: readThreeDSecureServer(env),
    natsStream: readName(env, 'PAYRAIL_NATS_STREAM', 'PAYRAIL_EVENTS'),
    runWorkers: readBoolean(env, 'PAYRAIL_RUN_WORKERS', true),
    consumerAttemptsMax: readInteger(env, 'PAYRAIL_CONSUMER_ATTEMPTS', 8, 1, 100),
    consumerAckWaitMs: readInteger(env, 'PAYRAIL_CONSUMER_ACK_WAIT_MS', 30_000, 1_000, 3_600_000),
    webhookTimeoutMs: readInteger(env, 'PAYRAIL_WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
    webhookAllowLoopback: readBoolean(env, 'PAYRAIL_WEBHOOK_ALLOW_LOOPBACK', false),
    neverSeenAfterMs: readInteger(env, 'PAYRAIL_NEVER_SEEN_AFTER_MS', 600_000, 1_000, 86_400_000),
    webhookRetryScheduleMs: readSchedule(env, 'PAYRAIL_WEBHOOK_RETRY_SCHEDULE_MS'),
    syncScheduleMs: readSchedule(env, 'PAYRAIL_SYNC_SCHEDULE_MS'),
    syncIntervalMs: readInteger(env, 'PAYRAIL_SYNC_INTERVAL_MS', 5_000, 100, 3_600_000),
    moneyOutIntervalMs: readInteger(env, 'PAYRAIL_MONEY_OUT_INTERVAL_MS', 60_000, 100, 86_400_000),
    connectorHealthSampler: readSwitch(env, 'PAYRAIL_CONNECTOR_HEALTH_SAMPLER'),
    voidAuthorizationsAfterDays: readInteger(
      env,
      'PAYRAIL_VOID_AUTHORIZATIONS_AFTER_DAYS',
      7,
      1,
      30,
    ),
    testClocks: readBoolean(env, 'PAYRAIL_TEST_CLOCKS', false),
    rateLimits: readRateLimits(env),
  };
}
