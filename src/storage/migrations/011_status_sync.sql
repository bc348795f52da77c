-- What the status sync worker looks for. The indexes name columns that the busy path never
-- updates (id, payment_intent_id), so the updates of a payment's status stay HOT where they were.
CREATE INDEX payment_intents_in_flight ON payment_intents (id) WHERE pending_operation IS NOT NULL;
CREATE INDEX refunds_pending ON refunds (id) WHERE status = 'pending';
CREATE INDEX payment_attempts_authorized ON payment_attempts (payment_intent_id) WHERE status = 'authorized';
