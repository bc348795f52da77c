-- What the outside says about money (architecture §12): the PSPs' settlement reports of each
-- acknowledged batch, the bank's statements, and every difference between them and Payrail's
-- records (for reconciliation, issue 12). Dates of the bank are text YYYY-MM-DD: a booking date
-- is a calendar day of the bank, not an instant.

-- The PSP settlement report of one batch: fetched until it parses, then ingested once (the batch's
-- psp_fee, each item's psp_fee and the psp_fee:<batch> ledger transfer commit together).
CREATE TABLE settlement_report_fetches (
  batch_id text PRIMARY KEY REFERENCES settlement_batches (id),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL,
  last_error text,
  item_count integer,
  ingested_at timestamptz
);
CREATE INDEX settlement_report_fetches_due ON settlement_report_fetches (next_attempt_at)
  WHERE ingested_at IS NULL;

-- Bank credits name the batch by its settlement reference.
CREATE INDEX settlement_batches_settlement_reference ON settlement_batches (settlement_reference)
  WHERE settlement_reference IS NOT NULL;

-- The statement days fetched so far: the cursor is the latest complete day (a day before the
-- system's today when it was fetched); later days are fetched again until they are complete.
CREATE TABLE bank_statement_days (
  booking_date text PRIMARY KEY CHECK (booking_date ~ '^\d{4}-\d{2}-\d{2}$'),
  complete boolean NOT NULL,
  entry_count integer NOT NULL CHECK (entry_count >= 0),
  fetched_at timestamptz NOT NULL
);

-- Every booked statement entry seen, keyed by the bank's entry reference and its direction (a
-- return is a credit that may carry the reference of the debit it returns): a statement fetched
-- again, or a line that arrives late, is applied once.
CREATE TABLE bank_statement_entries (
  entry_reference text NOT NULL CHECK (length(entry_reference) BETWEEN 1 AND 200),
  direction text NOT NULL CHECK (direction IN ('credit', 'debit')),
  booking_date text NOT NULL CHECK (booking_date ~ '^\d{4}-\d{2}-\d{2}$'),
  currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  amount bigint NOT NULL CHECK (amount > 0),
  -- A settlement is a debit when the PSP's batch was negative (refunds over captures).
  kind text NOT NULL CHECK (kind IN
    ('settlement_credit', 'settlement_debit', 'payout_debit', 'payout_return', 'unmatched')),
  end_to_end_id text,
  remittance text,
  return_reason text,
  -- The batch or payout it was matched to, and the ledger transaction it caused (if any).
  matched_id text,
  ledger_transaction_id text,
  seen_at timestamptz NOT NULL,
  PRIMARY KEY (entry_reference, direction)
);
CREATE INDEX bank_statement_entries_matched ON bank_statement_entries (matched_id)
  WHERE matched_id IS NOT NULL;

-- A difference between what the outside says and Payrail's records, kept for reconciliation
-- (issue 12). `key` is deterministic, so seeing the same difference again records it once.
CREATE TABLE money_in_discrepancies (
  key text PRIMARY KEY,
  source text NOT NULL CHECK (source IN ('psp_report', 'bank_statement')),
  kind text NOT NULL,
  connector text,
  batch_id text,
  reference text NOT NULL,
  currency text,
  amount bigint,
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  resolved_at timestamptz,
  created_at timestamptz NOT NULL
);
CREATE INDEX money_in_discrepancies_open ON money_in_discrepancies (created_at)
  WHERE resolved_at IS NULL;
