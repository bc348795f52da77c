-- Hosted checkout (src/checkout): Stripe's Checkout Sessions and Payment Links.
--  * A session is one buyer's visit to the hosted page /pay/<id>: its line items (at most 100,
--    kept in the row: they are read and written with it, never alone), where the browser goes
--    after (success_url, cancel_url), and at most one PaymentIntent, created when the buyer first
--    submits a card and attached here in the same transaction (payment_intent_id is set once:
--    a second submit confirms that same intent, so a session can never charge twice).
--  * status open → complete (its intent authorized) or open → expired (at expires_at, by the
--    merchant's clock, or by POST …/expire), each once, with its event in the same transaction.
--  * A payment link is reusable: each visit creates a new session from it.
CREATE TABLE payment_links (
  id text PRIMARY KEY CHECK (id ~ '^plink_[A-Za-z0-9]{8,64}$'),
  merchant_id text NOT NULL REFERENCES merchants (id),
  active boolean NOT NULL,
  currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  amount_total bigint NOT NULL CHECK (amount_total > 0),
  line_items jsonb NOT NULL CHECK (jsonb_typeof(line_items) = 'array'
    AND jsonb_array_length(line_items) BETWEEN 1 AND 100),
  after_completion jsonb NOT NULL CHECK (jsonb_typeof(after_completion) = 'object'),
  payment_intent_data jsonb NOT NULL CHECK (jsonb_typeof(payment_intent_data) = 'object'),
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
  inactive_message text CHECK (inactive_message IS NULL OR length(inactive_message) <= 500),
  url text NOT NULL CHECK (length(url) <= 2200),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX payment_links_merchant ON payment_links (merchant_id, id);

CREATE TABLE checkout_sessions (
  id text PRIMARY KEY CHECK (id ~ '^cs_[A-Za-z0-9]{8,64}$'),
  merchant_id text NOT NULL REFERENCES merchants (id),
  mode text NOT NULL CHECK (mode = 'payment'),
  status text NOT NULL CHECK (status IN ('open', 'complete', 'expired')),
  payment_status text NOT NULL CHECK (payment_status IN ('unpaid', 'paid')),
  currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  amount_subtotal bigint NOT NULL CHECK (amount_subtotal > 0),
  amount_total bigint NOT NULL CHECK (amount_total > 0),
  line_items jsonb NOT NULL CHECK (jsonb_typeof(line_items) = 'array'
    AND jsonb_array_length(line_items) BETWEEN 1 AND 100),
  success_url text CHECK (success_url IS NULL OR length(success_url) <= 2048),
  cancel_url text CHECK (cancel_url IS NULL OR length(cancel_url) <= 2048),
  url text NOT NULL CHECK (length(url) <= 2200),
  expires_at timestamptz NOT NULL,
  customer_id text REFERENCES customers (id),
  customer_email text CHECK (customer_email IS NULL OR length(customer_email) <= 800),
  customer_details jsonb CHECK (customer_details IS NULL OR jsonb_typeof(customer_details) = 'object'),
  client_reference_id text CHECK (client_reference_id IS NULL OR length(client_reference_id) <= 200),
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
  payment_intent_data jsonb NOT NULL CHECK (jsonb_typeof(payment_intent_data) = 'object'),
  payment_intent_id text UNIQUE REFERENCES payment_intents (id),
  payment_link_id text REFERENCES payment_links (id),
  -- The hosted form's per-session token (a hidden field; the session id is the capability).
  form_token text NOT NULL CHECK (length(form_token) BETWEEN 16 AND 100),
  completed_at timestamptz,
  expired_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT checkout_sessions_ended CHECK (
    (status = 'complete') = (completed_at IS NOT NULL)
    AND (status = 'expired') = (expired_at IS NOT NULL)
    AND (status <> 'complete' OR payment_intent_id IS NOT NULL))
);
CREATE INDEX checkout_sessions_merchant ON checkout_sessions (merchant_id, id);
-- The expiry step reads the open sessions that are due, oldest deadline first.
CREATE INDEX checkout_sessions_open_expiry ON checkout_sessions (expires_at) WHERE status = 'open';
CREATE INDEX checkout_sessions_link ON checkout_sessions (payment_link_id) WHERE payment_link_id IS NOT NULL;
