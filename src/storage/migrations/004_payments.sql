-- Payments core: connectors per merchant, prices, payment intents, attempts, refunds and the
-- idempotency keys of the API (architecture §4, §5).

-- Which PSPs a merchant uses, in priority order, with its credentials there. In test mode the
-- base URL points at the simulator. (Live credentials would be encrypted like vault data.)
CREATE TABLE merchant_connectors (
  merchant_id text NOT NULL REFERENCES merchants (id),
  connector text NOT NULL CHECK (connector ~ '^[a-z0-9_]{1,40}$'),
  enabled boolean NOT NULL DEFAULT true,
  priority integer NOT NULL DEFAULT 100,
  base_url text NOT NULL CHECK (length(base_url) <= 500),
  credentials jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, connector)
);

-- The merchant's price: basis points of the captured amount plus a fixed amount in minor units,
-- per currency, with '*' as the fallback for any other currency.
CREATE TABLE merchant_prices (
  merchant_id text NOT NULL REFERENCES merchants (id),
  currency text NOT NULL CHECK (currency = '*' OR currency ~ '^[a-z]{3}$'),
  percent_bps integer NOT NULL CHECK (percent_bps BETWEEN 0 AND 10000),
  fixed_amount bigint NOT NULL CHECK (fixed_amount >= 0),
  PRIMARY KEY (merchant_id, currency)
);

CREATE TABLE payment_intents (
  id text PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants (id),
  amount bigint NOT NULL CHECK (amount > 0),
  currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  status text NOT NULL CHECK (status IN ('requires_payment_method', 'requires_confirmation', 'requires_action',
    'processing', 'requires_capture', 'succeeded', 'canceled')),
  capture_method text NOT NULL CHECK (capture_method IN ('automatic', 'manual')),
  payment_method_id text,
  connector text,
  amount_capturable bigint NOT NULL DEFAULT 0 CHECK (amount_capturable >= 0),
  amount_received bigint NOT NULL DEFAULT 0 CHECK (amount_received >= 0),
  amount_refunded bigint NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0),
  -- Refunds sent to the PSP whose outcome is not known yet: reserved, so never over-refunded.
  amount_refunding bigint NOT NULL DEFAULT 0 CHECK (amount_refunding >= 0),
  -- A capture or cancel sent to the PSP and not yet resolved ('capture:<amount>' / 'cancel').
  pending_operation text,
  description text CHECK (length(description) <= 1000),
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  last_payment_error jsonb,
  cancellation_reason text,
  canceled_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (amount_received <= amount),
  CHECK (amount_capturable <= amount),
  -- Over-refund is impossible even for a bug in code.
  CHECK (amount_refunded + amount_refunding <= amount_received)
);
CREATE INDEX payment_intents_merchant ON payment_intents (merchant_id, id);

-- One try at one connector. A retry or a failover is a new attempt.
CREATE TABLE payment_attempts (
  id text PRIMARY KEY,
  payment_intent_id text NOT NULL REFERENCES payment_intents (id),
  merchant_id text NOT NULL,
  connector text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'authorized', 'captured', 'voided', 'failed', 'unknown')),
  amount bigint NOT NULL CHECK (amount > 0),
  currency text NOT NULL,
  capture_method text NOT NULL,
  -- Sent with the authorization; the PSP answers a repeat with the first result.
  psp_idempotency_key text NOT NULL UNIQUE,
  psp_reference text,
  amount_authorized bigint NOT NULL DEFAULT 0,
  amount_captured bigint NOT NULL DEFAULT 0,
  decline_code text,
  psp_code text,
  failure_message text,
  sync_count integer NOT NULL DEFAULT 0,
  last_synced_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_attempts_intent ON payment_attempts (payment_intent_id, created_at);
CREATE INDEX payment_attempts_unresolved ON payment_attempts (updated_at) WHERE status IN ('pending', 'unknown');

CREATE TABLE refunds (
  id text PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants (id),
  payment_intent_id text NOT NULL REFERENCES payment_intents (id),
  attempt_id text NOT NULL REFERENCES payment_attempts (id),
  amount bigint NOT NULL CHECK (amount > 0),
  currency text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  reason text CHECK (reason IN ('duplicate', 'fraudulent', 'requested_by_customer')),
  psp_idempotency_key text NOT NULL UNIQUE,
  psp_reference text,
  failure_reason text,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_merchant ON refunds (merchant_id, id);
CREATE INDEX refunds_intent ON refunds (payment_intent_id);

-- API idempotency keys (architecture §4), kept 72 h. A key is 'running' while a request holds its
-- lease; a lease that runs out (the process died) lets a retry take over and resume from the
-- state of the resource it names.
CREATE TABLE idempotency_keys (
  merchant_id text NOT NULL REFERENCES merchants (id),
  key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_method text NOT NULL,
  request_path text NOT NULL,
  request_hash text NOT NULL,
  status text NOT NULL CHECK (status IN ('running', 'finished')),
  locked_until timestamptz,
  resource_id text,
  response_status integer,
  response_body jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
