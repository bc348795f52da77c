-- Webhooks received from PSPs (the inbox of architecture §1 rule 4): one row per PSP event id, written
-- once the signature is verified, so a duplicate or a resend of the event changes nothing.
-- processed_at stays NULL while the payment's state could not be learned from the PSP (the PSP
-- is then answered 500 and retries; the retry finds the row unprocessed and tries again).
CREATE TABLE psp_webhook_events (
  connector text NOT NULL CHECK (connector ~ '^[a-z0-9_]{1,40}$'),
  event_id text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 255),
  merchant_id text NOT NULL REFERENCES merchants (id),
  payment_intent_id text NOT NULL REFERENCES payment_intents (id),
  type text NOT NULL CHECK (length(type) BETWEEN 1 AND 100),
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  PRIMARY KEY (connector, event_id)
);
CREATE INDEX psp_webhook_events_intent ON psp_webhook_events (payment_intent_id);
CREATE INDEX psp_webhook_events_unprocessed ON psp_webhook_events (received_at) WHERE processed_at IS NULL;

-- A webhook that names only the PSP's payment id is matched to its attempt by it. (Adding this
-- index costs no HOT updates: payment_attempts_unresolved already indexes updated_at.)
CREATE INDEX payment_attempts_psp_reference ON payment_attempts (connector, psp_reference) WHERE psp_reference IS NOT NULL;
