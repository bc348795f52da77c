-- Failover (routing to the next connector): an attempt whose outcome was unknown when Payrail
-- moved on is `abandoned`. If it later turns out authorized it is voided, if captured it is
-- refunded in full ('refunded'), so a failover never charges twice.
ALTER TABLE payment_attempts ADD COLUMN abandoned boolean NOT NULL DEFAULT false;
ALTER TABLE payment_attempts DROP CONSTRAINT payment_attempts_status_check;
ALTER TABLE payment_attempts ADD CONSTRAINT payment_attempts_status_check
  CHECK (status IN ('pending', 'authorized', 'captured', 'voided', 'failed', 'unknown', 'refunded'));
