// Velocity in Redis, shared by every Payrail process (DESIGN §2: Postgres stays the truth;
// velocity is a signal: a lost Redis loses up to a week of counts, never a payment). One
// entity's data lives under one Redis Cluster hash tag (`{prefix}:v:{email:<hash>}:attempts`
// …), and no command spans two entities, so a cluster works. A read of a decision's entities
// is one pipelined round trip bounded by a timeout; when Redis is down, slow or closed it
// answers `unavailable` at once (the decision goes on with risk_level unknown) and never
// throws. A record throws on failure: the event bus retries it, and the per-attempt marker
// makes the retry count once.
import { createHash } from 'node:crypto';
import type { AttributeValue, VelocityEntity } from '../attributes.ts';
import type { VelocityEntities, VelocityEvent, VelocityReading, VelocityStore } from '../types.ts';
import { readScript, recordScript, type VelocityScript } from './scripts.ts';
import {
  authorizedCentsOf,
  checkVelocityEvent,
  givenEntities,
  readableCard,
  readableEntities,
  velocityEntriesPerEntityMax,
  velocityRetentionMs,
  velocityTimeToLiveMs,
  windowLengthsMs,
  writeEntityAttributes,
  type WindowTally,
} from './windows.ts';

/** The part of a node-redis client the store uses (the shared client of src/storage/redis.ts). */
export type VelocityRedisClient = {
  readonly isReady: boolean;
  sendCommand<T>(args: readonly string[]): Promise<T>;
};

/** Why a read answered `unavailable` (the caller's metric label). */
export type VelocityUnavailableReason = 'not_connected' | 'timeout' | 'error';

export type RedisVelocityOptions = {
  /** Starts every key (tests use a unique one). No braces: they would break the hash tags. */
  readonly keyPrefix?: string;
  /** A read that takes longer answers unavailable (default 50 ms). */
  readonly readTimeoutMs?: number;
  /** A record that takes longer throws (default 200 ms: it runs inside the bus's transaction). */
  readonly recordTimeoutMs?: number;
  readonly entriesPerEntityMax?: number;
  /** Called once per read that answered unavailable (wire the metric here). */
  readonly onUnavailable?: (reason: VelocityUnavailableReason) => void;
};

/** A record that could not be written (Redis down, slow or closed); the consumer retries. */
export class VelocityUnavailableError extends Error {
  override readonly name = 'VelocityUnavailableError';
  readonly reason: VelocityUnavailableReason;
  constructor(reason: VelocityUnavailableReason, options?: ErrorOptions) {
    super(`velocity store unavailable (${reason})`, options);
    this.reason = reason;
  }
}

class TimeoutError extends Error {}

/** An entity's keys: attempts, declined, amounts, cents, cards, hours (see scripts.ts). */
export type EntityKeys = readonly [string, string, string, string, string, string];

/** The promise, or a rejection after `timeoutMs`; a late settlement of the promise is ignored. */
function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError()), timeoutMs);
  });
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const keyPrefixPattern = /^[A-Za-z0-9:_.-]{1,64}$/;

function checkTimeout(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > 60_000)
    throw new RangeError(`${what} must be 1 to 60,000 ms`);
  return value;
}

export class RedisVelocityStore implements VelocityStore {
  readonly #client: VelocityRedisClient;
  readonly #keyPrefix: string;
  readonly #readTimeoutMs: number;
  readonly #recordTimeoutMs: number;
  readonly #entriesPerEntityMax: number;
  readonly #onUnavailable: (reason: VelocityUnavailableReason) => void;

  constructor(client: VelocityRedisClient, options: RedisVelocityOptions = {}) {
    this.#client = client;
    this.#keyPrefix = options.keyPrefix ?? 'payrail';
    if (!keyPrefixPattern.test(this.#keyPrefix))
      throw new RangeError('keyPrefix must be 1 to 64 of A-Z a-z 0-9 : _ . -');
    this.#readTimeoutMs = checkTimeout(options.readTimeoutMs ?? 50, 'readTimeoutMs');
    this.#recordTimeoutMs = checkTimeout(options.recordTimeoutMs ?? 200, 'recordTimeoutMs');
    this.#entriesPerEntityMax = options.entriesPerEntityMax ?? velocityEntriesPerEntityMax;
    if (!Number.isSafeInteger(this.#entriesPerEntityMax) || this.#entriesPerEntityMax < 1)
      throw new RangeError('entriesPerEntityMax must be a positive integer');
    this.#onUnavailable = options.onUnavailable ?? (() => {});
  }

  /**
   * The keys of one entity (see scripts.ts), in the scripts' order. The value is hashed: no email
   * or IP address in key names, a bounded key length, and no brace in the value can move the
   * hash tag.
   */
  keysOf(entity: VelocityEntity, value: string): EntityKeys {
    const hashed = createHash('sha256').update(value).digest('base64url');
    const base = `${this.#keyPrefix}:v:{${entity}:${hashed}}`;
    const key = (name: string) => `${base}:${name}`;
    return [
      key('attempts'),
      key('declined'),
      key('amounts'),
      key('cents'),
      key('cards'),
      key('hours'),
    ];
  }

  async record(event: VelocityEvent): Promise<void> {
    checkVelocityEvent(event);
    const given = givenEntities(event.entities);
    if (given.length === 0) return;
    if (!this.#client.isReady) throw new VelocityUnavailableError('not_connected');
    const args = [
      String(event.at.getTime()),
      event.attemptId,
      event.result === 'authorized' ? 'a' : 'd',
      String(authorizedCentsOf(event)),
      event.cardFingerprint ?? '',
      String(velocityRetentionMs),
      String(this.#entriesPerEntityMax),
      String(velocityTimeToLiveMs),
    ];
    const calls = given.map(([entity, value]) =>
      this.#evaluate(recordScript, this.keysOf(entity, value), args),
    );
    try {
      await withTimeout(Promise.all(calls), this.#recordTimeoutMs);
    } catch (error) {
      throw new VelocityUnavailableError(error instanceof TimeoutError ? 'timeout' : 'error', {
        cause: error,
      });
    }
  }

  async read(
    entities: VelocityEntities,
    cardFingerprint: string | undefined,
    now: Date,
  ): Promise<VelocityReading> {
    const given = readableEntities(entities);
    if (given.length === 0) return { values: {}, unavailable: false };
    if (!this.#client.isReady) return this.#unavailable('not_connected');
    const argumentsOfRead = [
      String(now.getTime()),
      readableCard(cardFingerprint) ?? '',
      ...windowLengthsMs.map(String),
    ];
    // Sent in one tick: the client writes them together, one round trip for the decision.
    const calls = given.map(([entity, value]) =>
      this.#evaluate<number[]>(readScript, this.keysOf(entity, value), argumentsOfRead),
    );
    let replies: number[][];
    try {
      replies = await withTimeout(Promise.all(calls), this.#readTimeoutMs);
    } catch (error) {
      return this.#unavailable(error instanceof TimeoutError ? 'timeout' : 'error');
    }
    const values: Record<string, AttributeValue> = {};
    given.forEach(([entity], index) =>
      writeEntityAttributes(values, entity, talliesOf(replies[index] ?? [])),
    );
    return { values, unavailable: false };
  }

  #unavailable(reason: VelocityUnavailableReason): VelocityReading {
    try {
      this.#onUnavailable(reason);
    } catch {
      // A failing metric must not turn a degraded read into a failed decision.
    }
    return { values: {}, unavailable: true };
  }

  /** EVALSHA, and EVAL once when Redis does not know the script (first use, after a restart). */
  async #evaluate<T>(
    script: VelocityScript,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.#client.sendCommand<T>(['EVALSHA', script.sha, ...tail]);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.#client.sendCommand<T>(['EVAL', script.text, ...tail]);
    }
  }

  /** The client is shared (src/storage/redis.ts): its owner closes it. */
  async close(): Promise<void> {}
}

/** The read script's 15 integers as tallies, in `velocityWindows` order. */
function talliesOf(reply: readonly number[]): WindowTally[] {
  return windowLengthsMs.map((_, window) => {
    const at = window * 5;
    const field = (offset: number) => Number(reply[at + offset] ?? 0);
    return {
      total: field(0),
      authorized: field(1),
      declined: field(2),
      authorizedCents: field(3),
      distinctCards: field(4),
    };
  });
}
