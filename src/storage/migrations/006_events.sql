-- Events (architecture §2, §4): Stripe-shaped records of state changes, written in the same database
-- transaction (or the same statement) as the change that caused them. `data` holds
-- {"object": <the API object as it was right after the change>} (json, not jsonb: it is only
-- stored and shown, and keeps the API's key order).
CREATE TABLE events (
  id text PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants (id),
  type text NOT NULL CHECK (type ~ '^[a-z_]+(\.[a-z_]+)+$'),
  object_id text NOT NULL,
  data json NOT NULL CHECK (json_typeof(data -> 'object') = 'object'),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_merchant ON events (merchant_id, id);
CREATE INDEX events_object ON events (object_id);

-- The outbox: one row per event not yet handed to the event bus. A relay (or, embedded, the
-- in-process dispatcher) takes rows with FOR UPDATE SKIP LOCKED and deletes each row once the
-- event is published (JetStream) or handled by every consumer (embedded). A rolled-back
-- transaction leaves no row, so its events are never published.
CREATE TABLE event_outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id text NOT NULL REFERENCES events (id),
  created_at timestamptz NOT NULL DEFAULT now()
);
