-- Webhooks to merchants (architecture §4, src/webhooks): endpoints, one delivery per (endpoint, event),
-- and every attempt to send it. Deliveries are sent by workers that claim due rows with
-- FOR UPDATE SKIP LOCKED and lease them (next_attempt_at moves past the lease, lease_id names
-- the holder), so a crashed worker's delivery comes due again and two workers never send the
-- same attempt at once.

CREATE TABLE webhook_endpoints (
  id text PRIMARY KEY CHECK (id ~ '^we_[A-Za-z0-9]{8,64}$'),
  merchant_id text NOT NULL REFERENCES merchants (id),
  url text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  -- Event types, or '*' for all of them.
  enabled_events text[] NOT NULL CHECK (cardinality(enabled_events) BETWEEN 1 AND 100),
  description text CHECK (description IS NULL OR length(description) <= 1000),
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
  status text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
  disabled_reason text CHECK (disabled_reason IS NULL OR length(disabled_reason) <= 500),
  -- The whsec_ signing secret, AES-256-GCM sealed (src/webhooks/secret-box.ts) and bound to this
  -- row's id; the plaintext is shown once, by create.
  secret_sealed text NOT NULL CHECK (length(secret_sealed) BETWEEN 1 AND 1000),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'disabled') = (disabled_reason IS NOT NULL))
);
-- Lists (newest first by sortable id) and the fan-out's lookup by merchant.
CREATE INDEX webhook_endpoints_merchant ON webhook_endpoints (merchant_id, id);

CREATE TABLE webhook_deliveries (
  id text PRIMARY KEY CHECK (id ~ '^wd_[A-Za-z0-9]{8,64}$'),
  -- Deleting an endpoint stops its deliveries and drops their history with it.
  endpoint_id text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id text NOT NULL REFERENCES events (id),
  merchant_id text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed', 'dead')),
  -- Every attempt ever made (numbers the attempts); `round_attempt_count` restarts at a manual
  -- replay and picks the next delay of the retry schedule.
  attempt_count integer NOT NULL DEFAULT 0 CHECK (attempt_count >= 0),
  round_attempt_count integer NOT NULL DEFAULT 0 CHECK (round_attempt_count BETWEEN 0 AND attempt_count),
  next_attempt_at timestamptz,
  lease_id text,
  last_http_status integer CHECK (last_http_status IS NULL OR last_http_status BETWEEN 100 AND 599),
  last_error text CHECK (last_error IS NULL OR length(last_error) <= 1000),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (endpoint_id, event_id),
  -- Only a pending delivery is ever due, and only a pending one can be leased.
  CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL)),
  CHECK (lease_id IS NULL OR status = 'pending')
);
-- Claiming: the due pending deliveries in order. Finished ones are not in the index at all.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
-- The deliveries of one endpoint, newest first (the UNIQUE index leads with endpoint_id too, but
-- is ordered by event id).
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

CREATE TABLE webhook_delivery_attempts (
  delivery_id text NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempt_number integer NOT NULL CHECK (attempt_number >= 1),
  -- The endpoint's answer, or the error when there was none (timeout, refused connection …).
  http_status integer CHECK (http_status IS NULL OR http_status BETWEEN 100 AND 599),
  error text CHECK (error IS NULL OR length(error) <= 1000),
  duration_ms integer NOT NULL CHECK (duration_ms >= 0),
  attempted_at timestamptz NOT NULL,
  PRIMARY KEY (delivery_id, attempt_number),
  CHECK (http_status IS NOT NULL OR error IS NOT NULL)
);
