// Starts a real Payrail server on a free port for HTTP tests, on in-memory PGlite or a
// throw-away PostgreSQL database; logs go to a buffer the test can inspect. stop() fails when
// any log line holds a card number (architecture §1 rule 8): every test card of the vault and the
// simulator, and any other number the test names with forbidInLogs().
import { Writable } from 'node:stream';
import { TEST_CARDS } from '../../sim/cards.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { invalidTestCardNumbers, testCardNumbers } from '../../src/vault/test-cards.ts';
import { createPostgresDatabase } from './databases.ts';

export const testAdminKey = 'test_admin_key_0123456789abcdef';

export type TestServer = RunningServer & {
  logs: string[];
  /** Card numbers (spaces and dashes ignored) that stop() must not find in any log line, besides the test cards. */
  forbidInLogs(...cardNumbers: string[]): void;
  /** Closes the server and drops its database, then throws if a log line holds a card number. */
  stop(): Promise<void>;
};

/**
 * A known list rather than a general rule: a Luhn check over every 13–19 digit run would also
 * catch millisecond timestamps and ids by chance. The list does not depend on the logger's own
 * rule either, so it fails if a card number gets past it (the mask removed, or a number the
 * mask does not recognise, such as one inside a longer digit run).
 */
export const knownTestCardNumbers: readonly string[] = [
  ...new Set([...testCardNumbers, ...invalidTestCardNumbers, ...TEST_CARDS.keys()]),
].filter((number) => number !== '');

/** The number with an optional space or dash between any two digits, as a client may write it. */
function cardNumberPattern(number: string): RegExp {
  return new RegExp([...number].join('[ -]?'), 'g');
}

/** The first log line that holds one of the numbers, with every such number masked down to its last4. */
export function findCardNumberInLogs(
  logs: readonly string[],
  cardNumbers: Iterable<string>,
): string | undefined {
  const patterns = [...cardNumbers].map(cardNumberPattern);
  const line = logs.find((text) => patterns.some((pattern) => text.search(pattern) !== -1));
  if (line === undefined) return undefined;
  return patterns.reduce(
    (masked, pattern) =>
      masked.replace(pattern, (found) => `[card number …${found.replace(/\D/g, '').slice(-4)}]`),
    line,
  );
}

export async function startTestServer(
  kind: 'pglite' | 'postgres' = 'pglite',
  env: Record<string, string> = {},
): Promise<TestServer> {
  const postgres = kind === 'postgres' ? await createPostgresDatabase() : undefined;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString('utf8'));
      callback();
    },
  });
  const config = loadConfig({
    PORT: '0',
    PAYRAIL_DATA_DIR: 'memory://',
    PAYRAIL_ADMIN_KEY: testAdminKey,
    LOG_LEVEL: 'info',
    PAYRAIL_TEST_CLOCKS: 'true',
    // Tests fire faster than a merchant may; the rate-limit tests turn the limits on.
    PAYRAIL_RATE_LIMITS: 'off',
    // Connector health is written when a test asks (runtime.connectorHealth.tick()), never by a
    // timer between two counts of the tables.
    PAYRAIL_CONNECTOR_HEALTH_SAMPLER: 'off',
    ...(postgres === undefined ? {} : { DATABASE_URL: postgres.url }),
    ...env,
  });
  const server = await startServer(config, createLogger(config.logLevel, sink));
  const cardNumbers = new Set(knownTestCardNumbers);
  return {
    ...server,
    logs,
    forbidInLogs(...numbers) {
      for (const number of numbers) {
        const digits = number.replace(/[ -]/g, '');
        if (!/^\d{12,19}$/.test(digits))
          throw new Error(`forbidInLogs: '${number}' is not a card number`);
        cardNumbers.add(digits);
      }
    },
    async stop() {
      await server.close();
      await postgres?.drop();
      const leaked = findCardNumberInLogs(logs, cardNumbers);
      if (leaked !== undefined)
        throw new Error(`a card number reached the server's log: ${leaked}`);
    },
  };
}

export type Call = {
  status: number;
  body: Record<string, unknown> & {
    error?: {
      code: string;
      param?: string;
      type: string;
      message: string;
      request_id: string;
      decline_code?: string;
      payment_intent?: Record<string, unknown>;
      charge?: string;
    };
  };
  headers: Headers;
};

export async function call(
  server: { url: string },
  method: string,
  path: string,
  options: {
    key?: string;
    body?: unknown;
    rawBody?: string;
    contentType?: string;
    idempotencyKey?: string;
  } = {},
): Promise<Call> {
  const headers: Record<string, string> = {};
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const response = await fetch(`${server.url}${path}`, { method, headers, body });
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? {} : JSON.parse(text),
    headers: response.headers,
  };
}
