// The event bus (architecture §2), chosen by configuration: embedded (no NATS_URL: a dispatcher in this
// process drains the outbox) or JetStream (a relay publishes the outbox to a stream; workers,
// possibly in other processes, consume it). `roles` splits the JetStream mode between processes:
// the API process relays, `payrail worker` runs the consumers.
import type { NatsConnection } from '@nats-io/nats-core';
import type { Clock } from '../../clock.ts';
import type { Database } from '../../storage/database.ts';
import type { EventConsumer } from '../consumer.ts';
import { EmbeddedBus } from './embedded.ts';
import { JetStreamRelay } from './jetstream/relay.ts';
import { JetStreamWorkers } from './jetstream/workers.ts';
import { connectToNats, defaultStreamSettings, type StreamSettings } from './jetstream/nats.ts';
import type { BusHooks, BusLogger, RetryDelays } from './types.ts';

export { handleOnce, handleOnceWithin } from './handle-once.ts';
export {
  DeadLetterError,
  DeadLetters,
  deadLetterPageSizeMax,
  recordDeadLetter,
  type DeadLetter,
  type DeadLetterErrorCode,
  type DeadLetterListOptions,
  type DeadLetterStatus,
  type ReplayOutcome,
  type ReplayResult,
} from './dead-letters.ts';
export { EmbeddedBus, type EmbeddedBusOptions } from './embedded.ts';
export { JetStreamRelay, type JetStreamRelayOptions } from './jetstream/relay.ts';
export { JetStreamWorkers, type JetStreamWorkersOptions } from './jetstream/workers.ts';
export {
  connectToNats,
  defaultStreamSettings,
  ensureConsumer,
  ensureStream,
  type StreamSettings,
} from './jetstream/nats.ts';
export {
  silentLogger,
  type BusHooks,
  type BusLogger,
  type HandleResult,
  type RetryDelays,
} from './types.ts';

export type EventBusRole = 'relay' | 'workers';

export type EventBusOptions = {
  readonly database: Database;
  readonly consumers: readonly EventConsumer[];
  /** JetStream when set (comma-separated servers); the embedded dispatcher otherwise. */
  readonly natsUrl?: string;
  /** An open NATS connection to use instead of `natsUrl` (not closed by stop()). */
  readonly connection?: NatsConnection;
  readonly streamName?: string;
  readonly subjectPrefix?: string;
  readonly maxAttempts: number;
  readonly hooks?: BusHooks;
  readonly logger: BusLogger;
  /**
   * What this process does (default both). Embedded mode: the dispatcher runs with 'workers'.
   * JetStream: 'relay' publishes the outbox, 'workers' consumes the stream.
   */
  readonly roles?: readonly EventBusRole[];
  /** Business time for retries and claims (src/clock.ts); real time when not given. */
  readonly clock?: Clock;
  readonly tuning?: {
    readonly batchSize?: number;
    readonly pollIntervalMs?: number;
    /** While commits keep notifying, a dispatcher or relay step starts at most this often (default 50 ms). */
    readonly coalesceMs?: number;
    readonly retryDelays?: RetryDelays;
    readonly ackWaitMs?: number;
    readonly concurrency?: number;
    readonly reconnectTimeWaitMs?: number;
    readonly stream?: Partial<Omit<StreamSettings, 'streamName' | 'subjectPrefix'>>;
  };
};

export type EventBus = {
  readonly mode: 'embedded' | 'jetstream';
  start(): Promise<void>;
  /** Stops every part; waits for the work in flight. */
  stop(): Promise<void>;
  /** Events were committed: relay or dispatch them now rather than at the next poll. */
  notify(): void;
};

export function createEventBus(options: EventBusOptions): EventBus {
  const roles = new Set<EventBusRole>(options.roles ?? ['relay', 'workers']);
  if (options.natsUrl === undefined && options.connection === undefined) {
    if (!roles.has('workers'))
      return { mode: 'embedded', async start() {}, async stop() {}, notify() {} };
    const bus = new EmbeddedBus({
      database: options.database,
      consumers: options.consumers,
      maxAttempts: options.maxAttempts,
      logger: options.logger,
      hooks: options.hooks,
      batchSize: options.tuning?.batchSize,
      pollIntervalMs: options.tuning?.pollIntervalMs,
      coalesceMs: options.tuning?.coalesceMs,
      retryDelays: options.tuning?.retryDelays,
      clock: options.clock,
    });
    return {
      mode: 'embedded',
      start: () => bus.start(),
      stop: () => bus.stop(),
      notify: () => bus.notify(),
    };
  }
  return jetStreamBus(options, roles);
}

function jetStreamBus(options: EventBusOptions, roles: ReadonlySet<EventBusRole>): EventBus {
  const stream: Partial<StreamSettings> = {
    ...options.tuning?.stream,
    streamName: options.streamName ?? defaultStreamSettings.streamName,
    subjectPrefix: options.subjectPrefix ?? defaultStreamSettings.subjectPrefix,
  };
  let connection: NatsConnection | undefined;
  let relay: JetStreamRelay | undefined;
  let workers: JetStreamWorkers | undefined;
  return {
    mode: 'jetstream',
    async start() {
      connection =
        options.connection ??
        (await connectToNats(options.natsUrl as string, {
          reconnectTimeWaitMs: options.tuning?.reconnectTimeWaitMs,
        }));
      if (roles.has('relay')) {
        relay = new JetStreamRelay({
          connection,
          database: options.database,
          logger: options.logger,
          hooks: options.hooks,
          stream,
          batchSize: options.tuning?.batchSize,
          pollIntervalMs: options.tuning?.pollIntervalMs,
          coalesceMs: options.tuning?.coalesceMs,
          clock: options.clock,
        });
        await relay.start();
      }
      if (roles.has('workers')) {
        workers = new JetStreamWorkers({
          connection,
          database: options.database,
          consumers: options.consumers,
          maxAttempts: options.maxAttempts,
          logger: options.logger,
          hooks: options.hooks,
          stream,
          ackWaitMs: options.tuning?.ackWaitMs,
          concurrency: options.tuning?.concurrency,
          retryDelays: options.tuning?.retryDelays,
        });
        await workers.start();
      }
    },
    async stop() {
      await relay?.stop();
      await workers?.stop();
      // Relay and workers are stopped: nothing is left to flush, and drain could wait on a reconnect.
      if (options.connection === undefined) await connection?.close();
      relay = undefined;
      workers = undefined;
      connection = undefined;
    },
    notify() {
      relay?.notify();
    },
  };
}
