-- Risk on the payment path (src/risk, src/payments): what each decision saw and decided, 3-D Secure
-- authentications, and the review queue.
--  * payment_attempts.risk: the decision made before the attempt was sent (score, level, the rules
--    that matched with the values they read, and the entities velocity counts it under). Never a
--    card number: the card is known by brand, country, BIN and fingerprint.
--  * payment_attempts.three_d_secure_id: the authentication whose data the attempt was sent with.
--  * payment_intents: what the caller gave for risk (IP address and country), Stripe's
--    payment_method_options.card.request_three_d_secure, and the next action while it waits for the
--    card holder (requires_action).
--  * payment_methods.bin: the first six digits (PCI DSS allows keeping them in the clear).
ALTER TABLE payment_attempts ADD COLUMN risk jsonb CHECK (risk IS NULL OR jsonb_typeof(risk) = 'object');
ALTER TABLE payment_attempts ADD COLUMN three_d_secure_id text;

ALTER TABLE payment_intents ADD COLUMN radar_options jsonb
  CHECK (radar_options IS NULL OR jsonb_typeof(radar_options) = 'object');
ALTER TABLE payment_intents ADD COLUMN request_three_d_secure text NOT NULL DEFAULT 'automatic'
  CHECK (request_three_d_secure IN ('automatic', 'any', 'challenge'));
ALTER TABLE payment_intents ADD COLUMN next_action jsonb
  CHECK (next_action IS NULL OR jsonb_typeof(next_action) = 'object');

ALTER TABLE payment_methods ADD COLUMN bin text CHECK (bin IS NULL OR bin ~ '^[0-9]{6}$');

-- One authentication of the card holder for a payment intent (EMV 3-D Secure 2, through the
-- merchant's 3-D Secure server). Written before the server is asked (status 'pending'), then
-- with its answer; a challenge waits for the card holder to come back.
CREATE TABLE three_d_secure_authentications (
  id text PRIMARY KEY CHECK (id ~ '^tds_[A-Za-z0-9]{8,64}$'),
  merchant_id text NOT NULL REFERENCES merchants (id),
  payment_intent_id text NOT NULL REFERENCES payment_intents (id),
  status text NOT NULL CHECK (status IN ('pending', 'challenge', 'authenticated', 'attempted',
    'failed', 'rejected', 'unavailable', 'canceled')),
  -- Why it was asked for: a merchant's request_3ds rule, the issuer's demand (a soft decline),
  -- or the payment's request_three_d_secure.
  reason text NOT NULL CHECK (reason IN ('rule', 'issuer', 'requested')),
  rule_id text,
  server_transaction_id text,
  challenge_url text,
  eci text CHECK (eci IS NULL OR eci ~ '^[0-9]{2}$'),
  -- The cryptogram (CAVV/AAV) the issuer's ACS signed; one payment's, useless for another.
  authentication_value text,
  ds_transaction_id text,
  version text,
  liability_shift boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  completed_at timestamptz
);
CREATE INDEX three_d_secure_intent ON three_d_secure_authentications (payment_intent_id, created_at);

-- Stripe's review: a payment a review rule held, authorized and not captured, until the merchant
-- approves it (then it is captured) or closes it by a refund or a cancel; it closes by itself when
-- the authorization expires (the intent is canceled).
CREATE TABLE reviews (
  id text PRIMARY KEY CHECK (id ~ '^prv_[A-Za-z0-9]{8,64}$'),
  merchant_id text NOT NULL REFERENCES merchants (id),
  payment_intent_id text NOT NULL REFERENCES payment_intents (id),
  attempt_id text NOT NULL UNIQUE REFERENCES payment_attempts (id),
  open boolean NOT NULL,
  opened_reason text NOT NULL CHECK (opened_reason IN ('rule', 'manual')),
  rule_id text,
  -- Stripe's `reason`: 'rule' while open, then the closed reason.
  closed_reason text CHECK (closed_reason IS NULL OR closed_reason IN ('approved', 'refunded',
    'refunded_as_fraud', 'disputed', 'redacted', 'canceled')),
  ip_address text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  closed_at timestamptz,
  CONSTRAINT reviews_closed CHECK (open = (closed_reason IS NULL) AND open = (closed_at IS NULL))
);
CREATE INDEX reviews_merchant ON reviews (merchant_id, id);
CREATE INDEX reviews_open ON reviews (merchant_id, id) WHERE open;
CREATE INDEX reviews_intent ON reviews (payment_intent_id);
