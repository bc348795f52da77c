-- SetupIntent verifications that may have reached the PSP, and their reversal (decision 212).
-- `verification_sends` counts the calls of verification `verification_count` that may have been
-- sent: a call refused by the breaker or bulkhead takes its own back, and only when none is left
-- may the verification be released (a new number, a new PSP key). `reversal_pending` says that
-- verification's authorization still awaits its void (or, if it was captured, its refund), retried
-- on the next confirm, retrieve or cancel; no new verification starts while it is set.
ALTER TABLE setup_intents
  ADD COLUMN verification_sends integer NOT NULL DEFAULT 0 CHECK (verification_sends >= 0),
  ADD COLUMN reversal_pending text CHECK (reversal_pending IN ('void', 'refund'));
-- A SetupIntent already processing may have sent its verification: it is never released.
UPDATE setup_intents SET verification_sends = 1 WHERE status = 'processing';
