// NATS plumbing shared by the relay and the workers: the connection (which must outlive a NATS
// server restart), and idempotent creation of the stream and of the durable consumers.
import { connect } from '@nats-io/transport-node';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
} from '@nats-io/jetstream';

export type StreamSettings = {
  readonly streamName: string;
  /** Events go to `<subjectPrefix>.<event type>`; the stream takes `<subjectPrefix>.>`. */
  readonly subjectPrefix: string;
  /** JetStream drops a message whose id it saw within this window (a relay publishing again). */
  readonly duplicateWindowMs: number;
  /** How long the stream keeps messages (limits retention: consumers added later still find them). */
  readonly maxAgeMs: number;
  readonly replicas: number;
};

export const defaultStreamSettings: StreamSettings = {
  streamName: 'PAYRAIL_EVENTS',
  subjectPrefix: 'payrail.events',
  duplicateWindowMs: 10 * 60_000,
  maxAgeMs: 7 * 24 * 3_600_000,
  replicas: 1,
};

const streamNameInUse = 10058;
const consumerAlreadyExists = 10148;

export type NatsConnectOptions = { readonly reconnectTimeWaitMs?: number; readonly name?: string };

/**
 * Reconnects forever (a NATS restart must not end this process's part in the bus) and, when NATS
 * is not up yet, keeps trying instead of failing the start.
 */
export function connectToNats(
  url: string,
  options: NatsConnectOptions = {},
): Promise<NatsConnection> {
  return connect({
    servers: url.split(',').map((server) => server.trim()),
    name: options.name ?? 'payrail',
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.reconnectTimeWaitMs ?? 1000,
    waitOnFirstConnect: true,
    pingInterval: 20_000,
    maxPingOut: 3,
  });
}

export function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

/** Creates the stream, or brings subjects and limits of an existing one up to `settings`. */
export async function ensureStream(
  manager: JetStreamManager,
  settings: StreamSettings,
): Promise<void> {
  const wanted = {
    subjects: [`${settings.subjectPrefix}.>`],
    duplicate_window: nanos(settings.duplicateWindowMs),
    max_age: nanos(settings.maxAgeMs),
  };
  let current;
  try {
    current = (await manager.streams.info(settings.streamName)).config;
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
    try {
      await manager.streams.add({
        name: settings.streamName,
        ...wanted,
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        num_replicas: settings.replicas,
      });
      return;
    } catch (addError) {
      // Another process created it in between: check it like an existing one.
      if (!isApiError(addError, streamNameInUse)) throw addError;
      current = (await manager.streams.info(settings.streamName)).config;
    }
  }
  const same =
    current.subjects.length === 1 &&
    current.subjects[0] === wanted.subjects[0] &&
    current.duplicate_window === wanted.duplicate_window &&
    current.max_age === wanted.max_age;
  if (!same) await manager.streams.update(settings.streamName, { ...current, ...wanted });
}

export type DurableSettings = { readonly ackWaitMs: number; readonly maxAckPending: number };

/**
 * One durable pull consumer per event consumer, explicit acks. `max_deliver` is unlimited on
 * purpose: the workers count deliveries themselves and dead-letter at `maxAttempts`, so a worker
 * that dies during the last attempt cannot make JetStream drop the message without a dead letter.
 */
export async function ensureConsumer(
  manager: JetStreamManager,
  streamName: string,
  durableName: string,
  settings: DurableSettings,
): Promise<void> {
  const wanted = {
    ack_wait: nanos(settings.ackWaitMs),
    max_deliver: -1,
    max_ack_pending: settings.maxAckPending,
  };
  try {
    const current = (await manager.consumers.info(streamName, durableName)).config;
    if (
      current.ack_wait !== wanted.ack_wait ||
      current.max_deliver !== wanted.max_deliver ||
      current.max_ack_pending !== wanted.max_ack_pending
    ) {
      await manager.consumers.update(streamName, durableName, wanted);
    }
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
    try {
      await manager.consumers.add(streamName, {
        ...wanted,
        durable_name: durableName,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
      });
    } catch (addError) {
      if (!isApiError(addError, consumerAlreadyExists)) throw addError;
    }
  }
}
