-- Customers, saved cards, SetupIntents and erasure by crypto-shredding (src/customers, src/vault).
--  * customers hold a merchant's customer's personal fields; erasure (DELETE /v1/customers/:id)
--    blanks them and keeps the row (id, merchant, times) so that payments keep pointing at an id;
--  * a card attached to a customer is re-encrypted under that customer's own data key
--    (vault_customer_keys, wrapped under the master key like vault_data_keys); erasure deletes the
--    key row and the cards' ciphertext in one transaction, so no copy of the key or the card
--    survives anywhere Payrail keeps data (crypto-shredding). A detached card is shredded too:
--    Stripe never lets a detached payment method be used again.
CREATE TABLE customers (
  id text PRIMARY KEY CHECK (id ~ '^cus_[A-Za-z0-9]{8,64}$'),
  merchant_id text NOT NULL REFERENCES merchants (id),
  email text CHECK (email IS NULL OR length(email) <= 512),
  name text CHECK (name IS NULL OR length(name) <= 256),
  phone text CHECK (phone IS NULL OR length(phone) <= 40),
  description text CHECK (description IS NULL OR length(description) <= 1000),
  address jsonb CHECK (address IS NULL OR jsonb_typeof(address) = 'object'),
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
  default_payment_method text,
  deleted_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  -- An erased customer keeps nothing personal.
  CONSTRAINT customers_erased_blank CHECK (
    deleted_at IS NULL OR (email IS NULL AND name IS NULL AND phone IS NULL AND description IS NULL
      AND address IS NULL AND metadata = '{}'::jsonb AND default_payment_method IS NULL))
);
CREATE INDEX customers_merchant ON customers (merchant_id, id);
CREATE INDEX customers_email ON customers (merchant_id, email, id) WHERE email IS NOT NULL;

CREATE TABLE vault_customer_keys (
  id text PRIMARY KEY CHECK (id ~ '^ck_[A-Za-z0-9]{8,64}$'),
  customer_id text NOT NULL UNIQUE REFERENCES customers (id),
  master_key_id text NOT NULL CHECK (master_key_id ~ '^[0-9a-f]{16}$'),
  wrapped_key bytea NOT NULL CHECK (length(wrapped_key) = 32),
  wrap_iv bytea NOT NULL CHECK (length(wrap_iv) = 12),
  wrap_tag bytea NOT NULL CHECK (length(wrap_tag) = 16),
  created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE payment_methods
  ADD COLUMN customer_id text REFERENCES customers (id),
  ADD COLUMN customer_key_id text REFERENCES vault_customer_keys (id),
  ADD COLUMN billing_details jsonb NOT NULL DEFAULT '{}'::jsonb
    CHECK (jsonb_typeof(billing_details) = 'object' AND length(billing_details::text) <= 2000),
  -- When the card's number was destroyed (detached, or its customer erased).
  ADD COLUMN shredded_at timestamptz,
  ALTER COLUMN ciphertext DROP NOT NULL,
  ALTER COLUMN iv DROP NOT NULL,
  ALTER COLUMN auth_tag DROP NOT NULL,
  ALTER COLUMN data_key_id DROP NOT NULL,
  ALTER COLUMN fingerprint DROP NOT NULL;
ALTER TABLE payment_methods ADD CONSTRAINT payment_methods_sealed_once CHECK (
  CASE WHEN shredded_at IS NULL
    THEN ciphertext IS NOT NULL AND iv IS NOT NULL AND auth_tag IS NOT NULL AND fingerprint IS NOT NULL
      AND (data_key_id IS NULL) <> (customer_key_id IS NULL)
      AND (customer_key_id IS NULL) = (customer_id IS NULL)
    ELSE ciphertext IS NULL AND iv IS NULL AND auth_tag IS NULL AND fingerprint IS NULL
      AND data_key_id IS NULL AND customer_key_id IS NULL AND customer_id IS NULL
      AND holder_name IS NULL AND billing_details = '{}'::jsonb
  END);
CREATE INDEX payment_methods_customer ON payment_methods (customer_id, id) WHERE customer_id IS NOT NULL;

ALTER TABLE payment_intents
  ADD COLUMN customer_id text REFERENCES customers (id),
  ADD COLUMN setup_future_usage text CHECK (setup_future_usage IN ('on_session', 'off_session'));
CREATE INDEX payment_intents_customer ON payment_intents (customer_id) WHERE customer_id IS NOT NULL;

-- SetupIntents: saving a card without charging it, through a verification at a connector
-- (an authorization that is voided at once). `verification_count` numbers the verifications
-- sent, so that a retried confirm resends the same one (same PSP idempotency key).
CREATE TABLE setup_intents (
  id text PRIMARY KEY CHECK (id ~ '^seti_[A-Za-z0-9]{8,64}$'),
  merchant_id text NOT NULL REFERENCES merchants (id),
  customer_id text REFERENCES customers (id),
  payment_method_id text CHECK (payment_method_id IS NULL OR length(payment_method_id) <= 100),
  status text NOT NULL CHECK (status IN ('requires_payment_method', 'requires_confirmation',
    'requires_action', 'processing', 'canceled', 'succeeded')),
  usage text NOT NULL CHECK (usage IN ('on_session', 'off_session')),
  client_secret text NOT NULL CHECK (length(client_secret) <= 200),
  description text CHECK (description IS NULL OR length(description) <= 1000),
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
  connector text,
  verification_count integer NOT NULL DEFAULT 0 CHECK (verification_count >= 0),
  psp_reference text,
  last_setup_error jsonb,
  cancellation_reason text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX setup_intents_merchant ON setup_intents (merchant_id, id);
CREATE INDEX setup_intents_customer ON setup_intents (customer_id) WHERE customer_id IS NOT NULL;
