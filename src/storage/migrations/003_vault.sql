-- Card vault (architecture §1 rule 8, src/vault). Card numbers exist here only encrypted:
--  * payment_methods keeps brand, last4, expiry, a keyed fingerprint and the holder name in the
--    clear, and the number (with the name and expiry, authenticated) as AES-256-GCM ciphertext
--    under a data key, with associated data binding it to its merchant, id and data key;
--  * vault_data_keys keeps each data key wrapped (AES-256-GCM) under a key derived from the
--    master key, which never touches the database;
--  * there is no column for a plaintext number, and none for the CVC: it is never stored.

CREATE TABLE vault_data_keys (
  id text PRIMARY KEY CHECK (id ~ '^dk_[A-Za-z0-9]{8,64}$'),
  -- Public id derived from the master key that wraps this key: a wrong master key is reported as such.
  master_key_id text NOT NULL CHECK (master_key_id ~ '^[0-9a-f]{16}$'),
  wrapped_key bytea NOT NULL CHECK (length(wrapped_key) = 32),
  wrap_iv bytea NOT NULL CHECK (length(wrap_iv) = 12),
  wrap_tag bytea NOT NULL CHECK (length(wrap_tag) = 16),
  created_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz
);
-- At most one active data key, also when several processes create or rotate at once.
CREATE UNIQUE INDEX vault_data_keys_one_active ON vault_data_keys ((true)) WHERE retired_at IS NULL;

CREATE TABLE payment_methods (
  -- Stored ids are pm_ + base62 and so never collide with the test-mode ids (pm_card_visa …).
  id text PRIMARY KEY CHECK (id ~ '^pm_[A-Za-z0-9]{8,64}$'),
  merchant_id text NOT NULL REFERENCES merchants (id),
  type text NOT NULL DEFAULT 'card' CHECK (type = 'card'),
  brand text NOT NULL CHECK (brand IN ('visa', 'mastercard', 'amex', 'discover', 'diners', 'jcb', 'unionpay', 'unknown')),
  last4 text NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
  exp_month smallint NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
  exp_year smallint NOT NULL CHECK (exp_year BETWEEN 1000 AND 9999),
  -- HMAC-SHA256 of merchant id and number under a key derived from the master key (96 bits, base64url).
  fingerprint text NOT NULL CHECK (fingerprint ~ '^[A-Za-z0-9_-]{16}$'),
  -- Plaintext column: the code refuses long digit runs in it; so does this check, as a backstop.
  holder_name text CHECK (holder_name IS NULL OR (length(holder_name) <= 100 AND holder_name !~ '[0-9]([ -]?[0-9]){11}')),
  ciphertext bytea NOT NULL CHECK (length(ciphertext) BETWEEN 1 AND 4096),
  iv bytea NOT NULL CHECK (length(iv) = 12),
  auth_tag bytea NOT NULL CHECK (length(auth_tag) = 16),
  data_key_id text NOT NULL REFERENCES vault_data_keys (id),
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_methods_merchant ON payment_methods (merchant_id, id);
CREATE INDEX payment_methods_fingerprint ON payment_methods (merchant_id, fingerprint);
-- Finds the cards still under a retired data key (for re-encryption, or before deleting the key).
CREATE INDEX payment_methods_data_key ON payment_methods (data_key_id);
