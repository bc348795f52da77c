-- The event bus (architecture §1 rule 4, §2): what each consumer has handled, what it gave up on, and,
-- for the embedded dispatcher, how often it has failed so far.

-- The inbox: one row per (consumer, event) handled, written in the same transaction as the
-- handler's effects. A redelivered event finds its row and changes nothing. A dead-lettered event
-- has no row (its failed handler's transaction was rolled back), so a replay can still handle it.
CREATE TABLE event_inbox (
  consumer text NOT NULL CHECK (consumer ~ '^[a-z_]{1,40}$'),
  event_id text NOT NULL,
  handled_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

-- Poison events: a consumer failed to handle the event `attempts` times and stopped trying. One
-- row per (event, consumer); an operator replays it once the cause is fixed. `replayed_at` is set
-- by the replay that succeeded; `replay_count` counts every replay, failed ones included.
CREATE TABLE event_dead_letters (
  id text PRIMARY KEY,
  consumer text NOT NULL CHECK (consumer ~ '^[a-z_]{1,40}$'),
  event_id text NOT NULL REFERENCES events (id),
  attempts integer NOT NULL CHECK (attempts > 0),
  last_error text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  replayed_at timestamptz,
  replay_count integer NOT NULL DEFAULT 0 CHECK (replay_count >= 0),
  UNIQUE (event_id, consumer)
);
CREATE INDEX event_dead_letters_consumer ON event_dead_letters (consumer, id);

-- Embedded dispatcher only: a consumer's failures on an event still in the outbox. The row goes
-- once the consumer handles the event or dead-letters it; until `next_attempt_at` the dispatcher
-- leaves the (consumer, event) alone.
CREATE TABLE event_consumer_failures (
  event_id text NOT NULL,
  consumer text NOT NULL,
  attempts integer NOT NULL CHECK (attempts > 0),
  last_error text NOT NULL,
  next_attempt_at timestamptz NOT NULL,
  PRIMARY KEY (event_id, consumer)
);

-- JetStream relay only: a relay claims a batch of outbox rows for a short lease in one statement,
-- publishes them outside any transaction (architecture §1 rule 5), then deletes them. Several relays
-- split the outbox this way; a relay that dies leaves its claim to expire, and the rows are
-- published again (JetStream drops the copies by message id).
ALTER TABLE event_outbox ADD COLUMN claimed_until timestamptz;
