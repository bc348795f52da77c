-- Radar (issue 14): a merchant's risk rules (versioned), value lists and their items, risk
-- settings, and one version counter per merchant that every write bumps in its transaction, so
-- that a process holding a cached rule set learns with one cheap read whether it is stale
-- (src/risk/store.ts).

-- The counter's row is also the lock that serializes a merchant's risk writes (bounds are counted
-- under it).
CREATE TABLE radar_versions (
  merchant_id text PRIMARY KEY REFERENCES merchants (id),
  version bigint NOT NULL CHECK (version >= 1)
);

-- A rule as it is now; every version (this one included) is kept in radar_rule_versions.
CREATE TABLE radar_rules (
  id text PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants (id),
  version integer NOT NULL CHECK (version >= 1),
  action text NOT NULL CHECK (action IN ('request_3ds', 'allow', 'block', 'review')),
  predicate text NOT NULL,
  rule_text text NOT NULL CHECK (length(rule_text) BETWEEN 1 AND 1000),
  mode text NOT NULL CHECK (mode IN ('enforced', 'shadow')),
  status text NOT NULL CHECK (status IN ('active', 'disabled')),
  description text CHECK (description IS NULL OR length(description) <= 500),
  position integer NOT NULL CHECK (position BETWEEN 0 AND 1000000),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX radar_rules_merchant ON radar_rules (merchant_id, id);

CREATE TABLE radar_rule_versions (
  rule_id text NOT NULL REFERENCES radar_rules (id),
  version integer NOT NULL CHECK (version >= 1),
  merchant_id text NOT NULL REFERENCES merchants (id),
  action text NOT NULL CHECK (action IN ('request_3ds', 'allow', 'block', 'review')),
  predicate text NOT NULL,
  rule_text text NOT NULL CHECK (length(rule_text) BETWEEN 1 AND 1000),
  mode text NOT NULL CHECK (mode IN ('enforced', 'shadow')),
  status text NOT NULL CHECK (status IN ('active', 'disabled')),
  description text CHECK (description IS NULL OR length(description) <= 500),
  position integer NOT NULL CHECK (position BETWEEN 0 AND 1000000),
  -- When this version was written.
  created_at timestamptz NOT NULL,
  PRIMARY KEY (rule_id, version)
);

CREATE TABLE radar_value_lists (
  id text PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants (id),
  alias text NOT NULL CHECK (alias ~ '^[A-Za-z0-9_-]{1,100}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  item_type text NOT NULL CHECK (item_type IN ('card_fingerprint', 'card_bin', 'email',
    'ip_address', 'country', 'string', 'case_sensitive_string', 'customer_id')),
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  UNIQUE (merchant_id, alias)
);

-- Deleting a list deletes its items (Stripe's semantics); expired items are left in place and
-- never match (decided by the clock when looked up).
CREATE TABLE radar_value_list_items (
  id text PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants (id),
  value_list_id text NOT NULL REFERENCES radar_value_lists (id) ON DELETE CASCADE,
  value text NOT NULL CHECK (length(value) BETWEEN 1 AND 800),
  expires_at timestamptz,
  created_at timestamptz NOT NULL,
  UNIQUE (value_list_id, value)
);
CREATE INDEX radar_value_list_items_list ON radar_value_list_items (value_list_id, id);
CREATE INDEX radar_value_list_items_merchant ON radar_value_list_items (merchant_id, id);

-- Absent row: risk on, default weights and thresholds.
CREATE TABLE radar_settings (
  merchant_id text PRIMARY KEY REFERENCES merchants (id),
  enabled boolean NOT NULL,
  -- The merchant's weights (null: the defaults).
  weights jsonb,
  threshold_elevated integer NOT NULL CHECK (threshold_elevated BETWEEN 0 AND 100),
  threshold_highest integer NOT NULL CHECK (threshold_highest BETWEEN 0 AND 100),
  updated_at timestamptz NOT NULL,
  CHECK (threshold_elevated <= threshold_highest)
);
