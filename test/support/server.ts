// Starts a real Payrail server on a free port for HTTP tests, on in-memory PGlite or a
// throw-away PostgreSQL database; logs go to a buffer the test can inspect.
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { createPostgresDatabase } from './databases.ts';

export const testAdminKey = 'test_admin_key_0123456789abcdef';

export type TestServer = RunningServer & { logs: string[]; stop(): Promise<void> };

export async function startTestServer(kind: 'pglite' | 'postgres' = 'pglite', env: Record<string, string> = {}): Promise<TestServer> {
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
    ...(postgres === undefined ? {} : { DATABASE_URL: postgres.url }),
    ...env,
  });
  const server = await startServer(config, createLogger(config.logLevel, sink));
  return {
    ...server,
    logs,
    async stop() {
      await server.close();
      await postgres?.drop();
    },
  };
}

export type Call = { status: number; body: Record<string, unknown> & { error?: { code: string; param?: string; type: string; message: string; request_id: string; decline_code?: string; payment_intent?: Record<string, unknown> } }; headers: Headers };

export async function call(server: { url: string }, method: string, path: string, options: { key?: string; body?: unknown; rawBody?: string; contentType?: string; idempotencyKey?: string } = {}): Promise<Call> {
  const headers: Record<string, string> = {};
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const response = await fetch(`${server.url}${path}`, { method, headers, body });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : JSON.parse(text), headers: response.headers };
}
