-- Test clocks (src/testmode/clock*.ts): how far the system's time, and a merchant's time beyond
-- it, run ahead of real time. Kept in the database so that every Payrail process sharing it (the
-- server and `payrail worker`) sees the same time. Offsets never shrink except by an explicit
-- reset, which deletes rows. Only written when test clocks are enabled.
CREATE TABLE test_clocks (
  -- 'system', or a merchant id
  scope text PRIMARY KEY CHECK (length(scope) BETWEEN 1 AND 64),
  offset_ms bigint NOT NULL CHECK (offset_ms >= 0 AND offset_ms <= 3153600000000),
  updated_at timestamptz NOT NULL
);
