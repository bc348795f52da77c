-- Merchants and their API keys. Keys are random 256-bit secrets, so a plain SHA-256 is enough
-- to store them safely (no dictionary to attack); the secret itself is shown once and never kept.
CREATE TABLE merchants (
  id text PRIMARY KEY CHECK (id ~ '^mch_[A-Za-z0-9]{8,64}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  email text CHECK (email IS NULL OR length(email) <= 320),
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id text PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants (id),
  key_hash text NOT NULL UNIQUE,
  key_hint text NOT NULL,
  livemode boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX api_keys_merchant ON api_keys (merchant_id);

CREATE TABLE admin_keys (
  id text PRIMARY KEY,
  key_hash text NOT NULL UNIQUE,
  source text NOT NULL CHECK (source IN ('generated', 'environment')),
  created_at timestamptz NOT NULL DEFAULT now()
);
