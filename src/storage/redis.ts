// The optional Redis connection (DESIGN §2: rate limits and risk velocity; Postgres stays the
// truth). One client per process, shared by its users. Commands fail at once while the
// connection is down (no offline queue), so a caller falls back instead of waiting; the client
// reconnects by itself with a capped backoff, and its errors are logged, never thrown at the
// process.
import { createClient, type RedisClientType } from 'redis';
import type { Logger } from '../observability/logger.ts';

export type Redis = RedisClientType;

export type RedisOptions = {
  readonly logger: Logger;
  /** A connection attempt that takes longer fails (and is retried by the backoff). */
  readonly connectTimeoutMs?: number;
  /** Longest wait between reconnection attempts. */
  readonly reconnectDelayMsMax?: number;
};

/**
 * Connects to Redis at `url`. Resolves once connected or once the first attempt failed: a Redis
 * that is down at start is not an error (callers see `isReady` false and fall back).
 */
export async function openRedis(url: string, options: RedisOptions): Promise<Redis> {
  const delayMax = options.reconnectDelayMsMax ?? 2_000;
  const client: Redis = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 1_000,
      reconnectStrategy: (retries) => Math.min(50 * 2 ** Math.min(retries, 10), delayMax),
    },
  });
  let lastLogged = 0;
  client.on('error', (error: Error) => {
    // A Redis that stays down reports every reconnection attempt: one line per 10 s is enough.
    const now = Date.now();
    if (now - lastLogged < 10_000) return;
    lastLogged = now;
    options.logger.warn({ err: error.message }, 'redis unavailable; falling back');
  });
  // connect() settles only once connected (it keeps retrying meanwhile): wait for the first
  // connection or the first failure, and let reconnection go on in the background.
  const settled = new Promise<void>((resolve) => {
    client.once('ready', () => resolve());
    client.once('error', () => resolve());
  });
  client.connect().catch(() => {});
  await settled;
  return client;
}

/** Closes the client whether or not it is connected. */
export async function closeRedis(client: Redis): Promise<void> {
  try {
    if (client.isOpen) await client.close();
  } catch {
    client.destroy();
  }
}
