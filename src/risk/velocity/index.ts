// Velocity: counts and sums per card, email, IP address and customer over sliding windows, in
// Redis when configured and in memory otherwise (see memory.ts, redis.ts).
import type { VelocityStore } from '../types.ts';
import { MemoryVelocityStore, type MemoryVelocityOptions } from './memory.ts';
import {
  RedisVelocityStore,
  type RedisVelocityOptions,
  type VelocityRedisClient,
} from './redis.ts';

export { MemoryVelocityStore, type MemoryVelocityOptions } from './memory.ts';
export {
  RedisVelocityStore,
  VelocityUnavailableError,
  type RedisVelocityOptions,
  type VelocityRedisClient,
  type VelocityUnavailableReason,
} from './redis.ts';
export {
  velocityConsumer,
  velocityConsumerName,
  velocityEventTypes,
  type VelocityLoader,
} from './consumer.ts';
export {
  VelocityInputError,
  velocityAmountInUsdMax,
  velocityEntriesPerEntityMax,
  velocityIdentifierLengthMax,
  velocityRetentionMs,
  velocityTimeToLiveMs,
} from './windows.ts';

/**
 * The store of a process: Redis when a client is given (REDIS_URL set, even if Redis is down at
 * start: reads then answer unavailable until it comes back), memory otherwise (one process).
 */
export function velocityStoreFor(
  redis: VelocityRedisClient | undefined,
  options: RedisVelocityOptions & MemoryVelocityOptions = {},
): VelocityStore {
  return redis === undefined
    ? new MemoryVelocityStore(options)
    : new RedisVelocityStore(redis, options);
}
