// Velocity: counts and sums per card, email, IP address and customer over sliding windows, in
// Redis when configured and in memory otherwise (see memory.ts, redis.ts).
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
