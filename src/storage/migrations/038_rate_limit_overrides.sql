-- A merchant's API rate limits set by the operator (src/merchants/rate-limits.ts). A null
-- column keeps the process default (config.ts rateLimits); a merchant without a row has all
-- the defaults.
CREATE TABLE rate_limit_overrides (
  merchant_id text PRIMARY KEY REFERENCES merchants (id) ON DELETE CASCADE,
  live_per_second integer CHECK (live_per_second BETWEEN 1 AND 1000000),
  test_per_second integer CHECK (test_per_second BETWEEN 1 AND 1000000),
  endpoint_per_second integer CHECK (endpoint_per_second BETWEEN 1 AND 1000000),
  concurrent integer CHECK (concurrent BETWEEN 1 AND 1000000),
  updated_at timestamptz NOT NULL DEFAULT now()
);
