// Helpers for the event bus tests: a merchant and its events, consumers that record what they
// did in a table (so effects are counted after commit, not per attempt), polling, and a private
// nats-server process for the restart test.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EventConsumer } from '../../src/events/consumer.ts';
import { insertEvents, newEvent, type NewEvent } from '../../src/events/events.ts';
import { Merchants } from '../../src/merchants/merchants.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { BusLogger } from '../../src/events/bus/index.ts';
import type { Database } from '../../src/storage/database.ts';
import { freePort } from '../support/ports.ts';

export async function prepareDatabase(database: Database): Promise<string> {
  await database.exec(
    'CREATE TABLE bus_test_effects (consumer text NOT NULL, event_id text NOT NULL)',
  );
  const { merchant } = await new Merchants(database).create({ name: 'Bus test merchant' });
  return merchant.id;
}

export function someEvents(merchantId: string, count: number): NewEvent[] {
  return Array.from({ length: count }, (_, index) =>
    newEvent(merchantId, 'payment_intent.created', {
      id: `pi_test_${index}`,
      object: 'payment_intent',
      amount: 1000 + index,
      currency: 'eur',
    }),
  );
}

export async function commitEvents(database: Database, events: readonly NewEvent[]): Promise<void> {
  await database.transaction((tx) => insertEvents(tx, events, new Date()));
}

export type RecordingConsumer = EventConsumer & {
  calls: number;
  failing: boolean;
  failuresLeft: number;
};

/** Writes one effect row per handled event; throws while `failing`, or for the next `failuresLeft` calls. */
export function recordingConsumer(
  name: string,
  options: { failing?: boolean; failuresLeft?: number; delayMs?: number } = {},
): RecordingConsumer {
  const consumer: RecordingConsumer = {
    name,
    calls: 0,
    failing: options.failing ?? false,
    failuresLeft: options.failuresLeft ?? 0,
    async handle(tx, event) {
      consumer.calls++;
      await tx.query('INSERT INTO bus_test_effects (consumer, event_id) VALUES ($1, $2)', [
        name,
        event.id,
      ]);
      if (options.delayMs !== undefined)
        await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      if (consumer.failing) throw new Error(`${name} is failing on purpose`);
      if (consumer.failuresLeft > 0) {
        consumer.failuresLeft--;
        throw new Error(`${name} fails this attempt`);
      }
    },
  };
  return consumer;
}

export async function effects(
  database: Database,
): Promise<{ consumer: string; event_id: string; copies: number }[]> {
  const result = await database.query<{ consumer: string; event_id: string; copies: number }>(
    'SELECT consumer, event_id, count(*)::int AS copies FROM bus_test_effects GROUP BY consumer, event_id ORDER BY consumer, event_id',
  );
  return result.rows;
}

export async function count(
  database: Database,
  sql: string,
  parameters: unknown[] = [],
): Promise<number> {
  const result = await database.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (${sql}) counted`,
    parameters,
  );
  return Number(result.rows[0]?.n ?? 0);
}

export function uniqueSuffix(): string {
  return crypto.randomBytes(5).toString('hex');
}

/** The project's pino logger; silent unless BUS_TEST_LOG is set (e.g. BUS_TEST_LOG=debug). */
export function testLogger(): BusLogger {
  const level = process.env.BUS_TEST_LOG;
  return createLogger(level === 'debug' || level === 'info' || level === 'warn' ? level : 'silent');
}

export const natsUrl = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** A nats-server of this test alone, on its own port and storage directory; restartable. */
export class PrivateNatsServer {
  readonly storeDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'payrail-nats-'));
  port = 0;
  #process: ChildProcess | undefined;

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const child = spawn(
      '/usr/sbin/nats-server',
      ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDirectory],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#process = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(
        () => reject(new Error(`nats-server did not start: ${output}`)),
        10_000,
      );
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited with ${code}: ${output}`));
      });
    });
  }

  /** kill -9: no clean shutdown. */
  async kill(): Promise<void> {
    const child = this.#process;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.#process = undefined;
  }

  async destroy(): Promise<void> {
    await this.kill();
    fs.rmSync(this.storeDirectory, { recursive: true, force: true });
  }
}
