-- Stripe's `event.request` and `event.pending_webhooks` (src/events/request.ts, src/webhooks/pending.ts).
-- The request that caused an event: its request id and the Idempotency-Key it was accepted under;
-- both NULL for an event Payrail caused itself (a worker, status sync, settlement). A key is only
-- ever stored with its request.
ALTER TABLE events
  ADD COLUMN request_id text CHECK (request_id IS NULL OR length(request_id) BETWEEN 1 AND 100),
  ADD COLUMN idempotency_key text CHECK (
    idempotency_key IS NULL OR (length(idempotency_key) BETWEEN 1 AND 255 AND request_id IS NOT NULL)
  );

-- pending_webhooks counts an event's deliveries that have not succeeded: found by event, and only
-- those (most deliveries succeed, and then leave this index).
CREATE INDEX webhook_deliveries_event_unfinished ON webhook_deliveries (event_id) WHERE status <> 'succeeded';
