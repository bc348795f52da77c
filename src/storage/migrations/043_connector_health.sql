-- Connector health over time (src/observability/connector-health*.ts): one row per minute of the
-- clock, connector and process ("instance"). Each process writes only the PSP calls it made
-- itself, so several processes on one database never count a call twice; readers sum over
-- instances. Latencies are kept as fixed log-scale histogram buckets (4 per doubling from 1 ms,
-- connector-health.ts), which add up exactly across processes and minutes; p50/p99 are read
-- from the merged buckets. Rows older than the retention (7 days by default) are pruned.
CREATE TABLE connector_health (
  minute timestamptz NOT NULL,
  connector text NOT NULL CHECK (length(connector) BETWEEN 1 AND 64),
  instance text NOT NULL CHECK (length(instance) BETWEEN 1 AND 128),
  -- PSP calls (attempts; a retry is another call) and those the PSP answered (approved or declined).
  calls integer NOT NULL CHECK (calls >= 0),
  successes integer NOT NULL CHECK (successes BETWEEN 0 AND calls),
  -- Refused before anything was sent (breaker open, bulkhead full): no call, no latency.
  rejected integer NOT NULL CHECK (rejected >= 0),
  -- Call counts per latency bucket, trailing zero buckets left out ('{}' for no call).
  latency integer[] NOT NULL,
  -- Breaker state at the end of the minute, and the worst state it was in during the minute:
  -- 0 closed, 1 half-open, 2 open (metrics.ts BREAKER_STATE_VALUE).
  breaker smallint NOT NULL CHECK (breaker BETWEEN 0 AND 2),
  breaker_worst smallint NOT NULL CHECK (breaker_worst BETWEEN breaker AND 2),
  PRIMARY KEY (minute, connector, instance)
);
