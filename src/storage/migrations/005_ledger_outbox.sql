-- Ledger postings of payments, written in the same transaction as the payment's state change and
-- posted right after the commit by a group-committing poster (many payments' postings share one
-- ledger transaction). A row is deleted in the transaction that posts it; a row left behind by a
-- crash is posted by the sweeper. Transfer ids are idempotent, so posting twice changes nothing.
CREATE TABLE ledger_outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  merchant_id text NOT NULL,
  connector text NOT NULL,
  currency text NOT NULL,
  transfers jsonb NOT NULL CHECK (jsonb_typeof(transfers) = 'array'),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_outbox_created ON ledger_outbox (created_at);
