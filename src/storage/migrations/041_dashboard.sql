-- The dashboard (issue 15): its users, their sessions, and the audit log of every action taken
-- through it that moves money or changes configuration.

-- A person who signs in to the dashboard: an operator's (merchant_id NULL: every merchant) or one
-- merchant's. The password is kept only as a scrypt hash (src/dashboard/passwords.ts).
CREATE TABLE dashboard_users (
  id text PRIMARY KEY CHECK (id ~ '^usr_[A-Za-z0-9]{8,64}$'),
  email text NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 320),
  password_hash text NOT NULL CHECK (password_hash LIKE 'scrypt$%'),
  role text NOT NULL CHECK (role IN ('admin', 'developer', 'support', 'finance')),
  merchant_id text REFERENCES merchants (id),
  created_at timestamptz NOT NULL,
  disabled_at timestamptz
);
CREATE INDEX dashboard_users_merchant ON dashboard_users (merchant_id, created_at);

-- A signed-in browser. The cookie holds a random token; only its SHA-256 is stored, so a copy of
-- the table signs nobody in. Who it acts as is fixed at sign-in (a user, or an API or admin key).
CREATE TABLE dashboard_sessions (
  token_hash text PRIMARY KEY,
  user_id text REFERENCES dashboard_users (id),
  merchant_id text REFERENCES merchants (id),
  role text NOT NULL CHECK (role IN ('admin', 'developer', 'support', 'finance')),
  actor text NOT NULL CHECK (length(actor) BETWEEN 1 AND 400),
  csrf_token text NOT NULL,
  -- Signed in with a key: its SHA-256 (as api_keys / admin_keys keep it), so the session ends when
  -- the key is revoked, rolled away or expires.
  key_source text CHECK (key_source IN ('merchant', 'admin')),
  key_hash text,
  CHECK ((key_source IS NULL) = (key_hash IS NULL)),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  idle_expires_at timestamptz NOT NULL
);
CREATE INDEX dashboard_sessions_user ON dashboard_sessions (user_id);
CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at);

-- Who did what, when, why, with the object before and after. Append-only: nothing updates or
-- deletes a row. merchant_id is whose object it was (NULL: the platform's).
CREATE TABLE audit_log (
  id text PRIMARY KEY,
  created_at timestamptz NOT NULL,
  actor text NOT NULL CHECK (length(actor) BETWEEN 1 AND 400),
  actor_role text NOT NULL,
  merchant_id text,
  action text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
  object_id text,
  reason text NOT NULL CHECK (length(reason) BETWEEN 3 AND 500),
  before jsonb,
  after jsonb,
  request_id text
);
CREATE INDEX audit_log_created ON audit_log (created_at DESC, id DESC);
CREATE INDEX audit_log_merchant ON audit_log (merchant_id, created_at DESC, id DESC);
CREATE INDEX audit_log_object ON audit_log (object_id) WHERE object_id IS NOT NULL;
