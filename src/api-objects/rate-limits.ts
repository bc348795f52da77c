// A merchant's API rate limits, as the operator API shows them: what the operator set (null:
// the process default applies) and the defaults of this deployment.
import { Type, type Static } from 'typebox';
import type { RateLimitConfig } from '../config.ts';
import type { StoredRateLimitOverride } from '../merchants/rate-limits.ts';
import { Nullable, Timestamp, unixSecondsOrNull } from './json.ts';

const Limit = Type.Integer({ minimum: 1 });

export const MerchantRateLimitsSchema = Type.Object({
  object: Type.Literal('merchant_rate_limits'),
  merchant: Type.String(),
  live_per_second: Nullable(Limit),
  test_per_second: Nullable(Limit),
  endpoint_per_second: Nullable(Limit),
  concurrent: Nullable(Limit),
  defaults: Type.Object({
    live_per_second: Limit,
    test_per_second: Limit,
    endpoint_per_second: Limit,
    concurrent: Limit,
    ip_per_second: Limit,
  }),
  enabled: Type.Boolean({ description: 'Whether this deployment enforces rate limits at all.' }),
  updated: Nullable(Timestamp),
});

export function presentMerchantRateLimits(
  merchantId: string,
  stored: StoredRateLimitOverride,
  defaults: RateLimitConfig,
): Static<typeof MerchantRateLimitsSchema> {
  const { override } = stored;
  return {
    object: 'merchant_rate_limits',
    merchant: merchantId,
    live_per_second: override.livePerSecond ?? null,
    test_per_second: override.testPerSecond ?? null,
    endpoint_per_second: override.endpointPerSecond ?? null,
    concurrent: override.concurrent ?? null,
    defaults: {
      live_per_second: defaults.livePerSecond,
      test_per_second: defaults.testPerSecond,
      endpoint_per_second: defaults.endpointPerSecond,
      concurrent: defaults.concurrent,
      ip_per_second: defaults.ipPerSecond,
    },
    enabled: defaults.enabled,
    updated: unixSecondsOrNull(stored.updatedAt),
  };
}
