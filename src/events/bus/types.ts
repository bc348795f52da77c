// Shared vocabulary of the event bus (architecture §2): what a delivery can end in, the hooks metrics
// plug into, the logger it writes to, and the retry delays of a failing consumer.

/** `handled`: the handler ran and committed. `duplicate`: the consumer's inbox already had the event. */
export type HandleResult = 'handled' | 'duplicate';

/** Optional callbacks (metrics). Each is called after the outcome is committed, never inside a transaction. */
export type BusHooks = {
  /** A consumer got an event again: a retry after a failure, or a redelivery by JetStream. */
  onRedelivery?(consumer: string): void;
  /** A consumer gave up on an event; it is in the dead-letter store now. */
  onDeadLetter?(consumer: string): void;
  onHandled?(consumer: string, result: HandleResult): void;
  /** The relay handed this many outbox rows to JetStream. */
  onPublished?(count: number): void;
};

type LogMethod = (fields: Record<string, unknown>, message: string) => void;

/** The part of pino's Logger the bus uses. */
export type BusLogger = {
  readonly debug: LogMethod;
  readonly info: LogMethod;
  readonly warn: LogMethod;
  readonly error: LogMethod;
};

export const silentLogger: BusLogger = { debug() {}, info() {}, warn() {}, error() {} };

export type RetryDelays = { readonly retryDelayMsBase: number; readonly retryDelayMsMax: number };

export const defaultRetryDelays: RetryDelays = { retryDelayMsBase: 500, retryDelayMsMax: 60_000 };

/**
 * Delay before attempt `failedAttempts + 1`: exponential from `retryDelayMsBase`, capped, with
 * jitter (between half and all of it) so that consumers failing together do not retry in lockstep.
 */
export function retryDelayMs(failedAttempts: number, delays: RetryDelays): number {
  const ceilingMs = Math.min(
    delays.retryDelayMsMax,
    delays.retryDelayMsBase * 2 ** Math.max(0, failedAttempts - 1),
  );
  return Math.max(1, Math.round(ceilingMs * (0.5 + Math.random() / 2)));
}

const errorTextCharsMax = 2000;

/** What is stored and logged of a handler's error: its name and message, bounded. */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > errorTextCharsMax ? `${text.slice(0, errorTextCharsMax)}…` : text;
}

const consumerNamePattern = /^[a-z_]{1,40}$/;

/** Consumer names are inbox keys and JetStream durable names; two consumers may not share one. */
export function assertConsumerNames(consumers: readonly { readonly name: string }[]): void {
  const seen = new Set<string>();
  for (const consumer of consumers) {
    if (!consumerNamePattern.test(consumer.name))
      throw new Error(`event consumer name '${consumer.name}' must match ${consumerNamePattern}`);
    if (seen.has(consumer.name))
      throw new Error(`two event consumers are named '${consumer.name}'`);
    seen.add(consumer.name);
  }
}

export function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got ${value}`);
}
