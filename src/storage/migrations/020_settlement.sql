-- Settlement with the acquirer (architecture §12): what a batch's submission needs beyond 019.

-- Submission: the batch id is the acquirer's idempotency key. A worker takes a batch by a lease
-- (never a database transaction held across the call); a lease that ran out (the worker died)
-- lets another worker submit the same batch id again, and the acquirer answers with its first
-- answer. `acquirer_header` is the first line of that answer, kept while its item lines are
-- staged, until the whole answer is applied in one transaction.
ALTER TABLE settlement_batches
  ADD COLUMN submission_attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN submission_lease_until timestamptz,
  ADD COLUMN last_error text,
  ADD COLUMN acquirer_header jsonb;

-- The item lines of an acquirer's answer, staged (idempotently, in chunks) as they stream in, then
-- applied set-based and deleted in the transaction that acknowledges the batch.
CREATE TABLE settlement_answer_lines (
  batch_id text NOT NULL REFERENCES settlement_batches (id),
  item_id text NOT NULL,
  result text NOT NULL CHECK (result IN ('accepted', 'rejected')),
  reason_code text,
  PRIMARY KEY (batch_id, item_id)
);

-- A batch's items are read in id order (keyset pages of the streamed request): the index of 019 on
-- batch_id alone would sort every page anew.
DROP INDEX balance_transactions_batch;
CREATE INDEX balance_transactions_batch ON balance_transactions (batch_id, id) WHERE batch_id IS NOT NULL;
