// JetStream workers (architecture §2): one durable pull consumer per event consumer. Each message is
// handled through the consumer's inbox (handleOnce) and acknowledged after the commit, so a lost
// ack only causes a redelivery that changes nothing. A failure is nak'ed with a backoff delay;
// the delivery that reaches `maxAttempts` and fails writes the dead letter and terminates the
// message. The NATS client reconnects by itself and `consume` resumes pulling after a server
// restart; if the consume loop ends anyway (consumer or stream lost), it is set up again.
import {
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JsMsg,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Database } from '../../../storage/database.ts';
import { consumes, type EventConsumer } from '../../consumer.ts';
import type { StoredEvent } from '../../events.ts';
import { recordDeadLetter } from '../dead-letters.ts';
import { handleOnce } from '../handle-once.ts';
import {
  assertConsumerNames,
  assertPositiveInteger,
  defaultRetryDelays,
  errorText,
  retryDelayMs,
  type BusHooks,
  type BusLogger,
  type RetryDelays,
} from '../types.ts';
import { decodeEvent } from './codec.ts';
import {
  defaultStreamSettings,
  ensureConsumer,
  ensureStream,
  type StreamSettings,
} from './nats.ts';

export type JetStreamWorkersOptions = {
  readonly connection: NatsConnection;
  readonly database: Database;
  readonly consumers: readonly EventConsumer[];
  /** Deliveries per (event, consumer) before the event is dead-lettered for that consumer. */
  readonly maxAttempts: number;
  readonly logger: BusLogger;
  readonly hooks?: BusHooks;
  readonly stream?: Partial<StreamSettings>;
  /** JetStream redelivers a message not acked within this time (default 30 s). */
  readonly ackWaitMs?: number;
  /** Messages each consumer handles at once (default 4). */
  readonly concurrency?: number;
  readonly retryDelays?: RetryDelays;
  /** Pause before setting up a consume loop that ended (default 1 s). */
  readonly restartDelayMs?: number;
};

const lostResources = new Set(['consumer_deleted', 'consumer_not_found', 'stream_not_found']);

export class JetStreamWorkers {
  readonly #connection: NatsConnection;
  readonly #client: JetStreamClient;
  readonly #database: Database;
  readonly #consumers: readonly EventConsumer[];
  readonly #maxAttempts: number;
  readonly #logger: BusLogger;
  readonly #hooks: BusHooks;
  readonly #stream: StreamSettings;
  readonly #ackWaitMs: number;
  readonly #concurrency: number;
  readonly #retryDelays: RetryDelays;
  readonly #restartDelayMs: number;
  readonly #open = new Set<ConsumerMessages>();
  readonly #loops: Promise<void>[] = [];
  #stopping = false;
  #wakeStopped: (() => void) | undefined;
  readonly #stopped: Promise<void>;

  constructor(options: JetStreamWorkersOptions) {
    assertConsumerNames(options.consumers);
    assertPositiveInteger('maxAttempts', options.maxAttempts);
    this.#connection = options.connection;
    this.#client = jetstream(options.connection);
    this.#database = options.database;
    this.#consumers = options.consumers;
    this.#maxAttempts = options.maxAttempts;
    this.#logger = options.logger;
    this.#hooks = options.hooks ?? {};
    this.#stream = { ...defaultStreamSettings, ...options.stream };
    this.#ackWaitMs = options.ackWaitMs ?? 30_000;
    this.#concurrency = options.concurrency ?? 4;
    assertPositiveInteger('concurrency', this.#concurrency);
    this.#retryDelays = options.retryDelays ?? defaultRetryDelays;
    this.#restartDelayMs = options.restartDelayMs ?? 1000;
    this.#stopped = new Promise((resolve) => {
      this.#wakeStopped = resolve;
    });
  }

  /** Creates or updates the stream and the durable consumers, then starts consuming. */
  async start(): Promise<void> {
    await this.#ensure();
    for (const consumer of this.#consumers) this.#loops.push(this.#run(consumer));
  }

  /** Stops pulling; waits for the messages being handled (the rest are redelivered later). */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wakeStopped?.();
    await Promise.all([...this.#open].map((messages) => messages.close()));
    await Promise.all(this.#loops);
  }

  async #ensure(): Promise<void> {
    const manager = await jetstreamManager(this.#connection);
    await ensureStream(manager, this.#stream);
    for (const consumer of this.#consumers) {
      await ensureConsumer(manager, this.#stream.streamName, consumer.name, {
        ackWaitMs: this.#ackWaitMs,
        maxAckPending: Math.max(1000, this.#concurrency * 4),
      });
    }
  }

  async #run(consumer: EventConsumer): Promise<void> {
    let setUp = true;
    while (!this.#stopping) {
      try {
        if (!setUp) await this.#ensure();
        setUp = false;
        const messages = await (
          await this.#client.consumers.get(this.#stream.streamName, consumer.name)
        ).consume({
          max_messages: Math.max(10, this.#concurrency * 2),
        });
        this.#open.add(messages);
        try {
          if (this.#stopping) await messages.close();
          void this.#watch(consumer, messages);
          await this.#drain(consumer, messages);
        } finally {
          this.#open.delete(messages);
        }
      } catch (error) {
        if (!this.#stopping)
          this.#logger.warn(
            { err: error, consumer: consumer.name },
            'event worker stopped consuming; setting up again',
          );
      }
      if (this.#stopping) break;
      await Promise.race([
        new Promise((resolve) => setTimeout(resolve, this.#restartDelayMs)),
        this.#stopped,
      ]);
    }
  }

  /** A consumer or stream that disappeared is not recreated by `consume`; end it so `#run` sets it up again. */
  async #watch(consumer: EventConsumer, messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      if (!lostResources.has(status.type)) continue;
      this.#logger.warn(
        { consumer: consumer.name, status: status.type },
        'event worker lost its JetStream consumer',
      );
      await messages.close();
      return;
    }
  }

  async #drain(consumer: EventConsumer, messages: ConsumerMessages): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    for await (const message of messages) {
      const task: Promise<void> = this.#process(consumer, message).finally(() =>
        inFlight.delete(task),
      );
      inFlight.add(task);
      if (inFlight.size >= this.#concurrency) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }

  /** Never throws: every path ends in ack, nak or term. */
  async #process(consumer: EventConsumer, message: JsMsg): Promise<void> {
    const deliveries = message.info.deliveryCount;
    if (deliveries > 1) this.#hooks.onRedelivery?.(consumer.name);
    let event: StoredEvent;
    try {
      event = decodeEvent(message.data);
    } catch (error) {
      // Not an event this bus wrote; it can never succeed, and has no event row to dead-letter.
      this.#logger.error(
        { err: error, consumer: consumer.name, subject: message.subject, sequence: message.seq },
        'undecodable event message dropped',
      );
      message.term('undecodable');
      return;
    }
    if (deliveries > this.#maxAttempts) {
      // The last attempt ended without an outcome (its worker died, or its dead letter failed).
      await this.#deadLetter(
        consumer,
        event,
        message,
        `delivered ${deliveries} times without an outcome (worker stopped, or writing the dead letter failed)`,
      );
      return;
    }
    // An event of a type the consumer does not handle: acknowledged, no inbox row.
    if (!consumes(consumer, event.type)) {
      message.ack();
      return;
    }
    // A slow handler keeps its message: without this JetStream would redeliver it after ack_wait.
    const keepAlive = setInterval(
      () => message.working(),
      Math.max(100, Math.floor(this.#ackWaitMs / 2)),
    );
    try {
      const result = await handleOnce(this.#database, consumer, event);
      clearInterval(keepAlive);
      message.ack();
      this.#hooks.onHandled?.(consumer.name, result);
    } catch (error) {
      clearInterval(keepAlive);
      const lastError = errorText(error);
      if (deliveries >= this.#maxAttempts) {
        await this.#deadLetter(consumer, event, message, lastError);
        return;
      }
      const retryInMs = retryDelayMs(deliveries, this.#retryDelays);
      this.#logger.warn(
        {
          consumer: consumer.name,
          eventId: event.id,
          eventType: event.type,
          attempt: deliveries,
          error: lastError,
          retryInMs,
        },
        'event consumer failed; will retry',
      );
      message.nak(retryInMs);
    }
  }

  async #deadLetter(
    consumer: EventConsumer,
    event: StoredEvent,
    message: JsMsg,
    lastError: string,
  ): Promise<void> {
    const attempts = Math.min(message.info.deliveryCount, this.#maxAttempts);
    try {
      const recorded = await recordDeadLetter(this.#database, {
        consumer: consumer.name,
        eventId: event.id,
        attempts,
        lastError,
      });
      message.term('dead-lettered');
      if (recorded) {
        this.#logger.error(
          {
            consumer: consumer.name,
            eventId: event.id,
            eventType: event.type,
            attempts,
            error: lastError,
          },
          'event consumer gave up; event dead-lettered',
        );
        this.#hooks.onDeadLetter?.(consumer.name);
      }
    } catch (error) {
      // Delivered again later (max_deliver is unlimited), and dead-lettered then.
      this.#logger.error(
        { err: error, consumer: consumer.name, eventId: event.id },
        'writing a dead letter failed; will retry',
      );
      message.nak(retryDelayMs(message.info.deliveryCount, this.#retryDelays));
    }
  }
}
