-- Three-way reconciliation (architecture §13): the ledger's expectations against what the PSPs
-- report and what the bank statement shows. External lines arrive as files (uploaded by the
-- operator, or the pipeline's own fetched reports and statements imported by a run) and become
-- RECORDS; Payrail's own settlement items, batches and payouts become EXPECTATIONS; a run matches
-- the two in passes and turns every difference into an EXCEPTION with a reason code, resolved by an
-- operator's explicit action (a ledger transaction to recon:adjustments when money is involved).
-- Dates of the outside world are text YYYY-MM-DD (a bank's booking date is a calendar day).

-- A file, once per content (sha256): ingesting the same bytes again changes nothing.
CREATE TABLE recon_files (
  id text PRIMARY KEY CHECK (id ~ '^rcf_[A-Za-z0-9]{8,64}$'),
  sha256 text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  -- 'unknown': a failed file whose format could not be told.
  format text NOT NULL CHECK (format IN ('stripe_balance_transactions', 'adyen_settlement_csv',
    'razorpay_recon', 'acquirer_ack', 'camt053', 'unknown')),
  -- The PSP of a report file (a statement or an acknowledgement names none).
  connector text,
  status text NOT NULL CHECK (status IN ('ingesting', 'ingested', 'failed')),
  byte_count bigint NOT NULL CHECK (byte_count >= 0),
  record_count integer NOT NULL DEFAULT 0 CHECK (record_count >= 0),
  -- Rows already known by their (source, row_key): a re-delivered line changes nothing.
  duplicate_count integer NOT NULL DEFAULT 0 CHECK (duplicate_count >= 0),
  quarantined_count integer NOT NULL DEFAULT 0 CHECK (quarantined_count >= 0),
  -- A file that cannot be read at all (truncated, wrong encoding, wrong columns): its message
  -- names the file and the line; none of its records are kept.
  error text,
  created_at timestamptz NOT NULL,
  completed_at timestamptz
);

-- A row that could not be taken (a float amount, an unknown currency, a missing field): kept with
-- its line number and reason; the rest of its file is processed.
CREATE TABLE recon_quarantine (
  file_id text NOT NULL REFERENCES recon_files (id),
  line integer NOT NULL CHECK (line > 0),
  reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  excerpt text NOT NULL CHECK (length(excerpt) <= 200),
  PRIMARY KEY (file_id, line)
);

-- One external line. Its identity is (source, row_key), derived from the line's own content, so
-- that the same line seen again (the same file re-sent, the pipeline's fetched copy of an uploaded
-- report) is one record:
--   psp_report      <connector>:<settlement reference>:<line in the report>
--   acquirer_ack    <batch id>:<item id>
--   bank_statement  <entry reference>:<credit|debit>
-- No foreign key to recon_files: records imported from the pipeline's own tables have no file.
CREATE TABLE recon_records (
  source text NOT NULL CHECK (source IN ('psp_report', 'acquirer_ack', 'bank_statement')),
  row_key text NOT NULL CHECK (length(row_key) BETWEEN 1 AND 400),
  file_id text,
  line integer NOT NULL CHECK (line > 0),
  -- psp_report: charge | refund; acquirer_ack: accepted | rejected;
  -- bank_statement: credit | debit | return (a returned payout, credited back).
  kind text NOT NULL CHECK (kind IN ('charge', 'refund', 'accepted', 'rejected', 'credit', 'debit',
    'return')),
  connector text,
  -- Identifiers as strings, never numbers: ours (item, payout or batch id), the PSP's, the
  -- settlement's (batch number, settlement id, payout id of the PSP), the bank's trace (UTR,
  -- end-to-end id).
  our_reference text,
  psp_reference text,
  batch_reference text,
  trace_id text,
  currency text NOT NULL CHECK (char_length(currency) = 3),
  -- Minor units. PSP lines are signed like balance transactions (+gross charge, −gross refund);
  -- bank lines are positive, their direction is their kind.
  amount bigint NOT NULL,
  fee bigint,
  -- The day the line is about (a booking date, a report's settlement day), and the day it was
  -- first seen (a line for Monday seen on Tuesday's statement is late).
  value_date text NOT NULL CHECK (value_date ~ '^\d{4}-\d{2}-\d{2}$'),
  seen_on text NOT NULL CHECK (seen_on ~ '^\d{4}-\d{2}-\d{2}$'),
  -- The match group it belongs to (NULL while unmatched).
  group_id text,
  PRIMARY KEY (source, row_key)
) WITH (fillfactor = 85);
-- A run stamps group_id on every record it matches (and its expectation). The lookups by PSP
-- reference and by our reference are for what is still unmatched, so those indexes are partial on
-- it: a matched row's new version is added to the primary key only (a partial index whose
-- predicate the new version fails gets no entry), which halves the cost of stamping a million
-- rows. The free space the fillfactor leaves keeps the new version on its page.
CREATE INDEX recon_records_unmatched ON recon_records (source, kind) WHERE group_id IS NULL;
CREATE INDEX recon_records_psp_reference ON recon_records (psp_reference)
  WHERE psp_reference IS NOT NULL AND group_id IS NULL;

-- What the ledger expects to see outside, one row per thing that moved money:
--   item:<txn>      a capture or refund → its PSP report line (gross, and a fee by the schedule)
--   batch:<batch>   a settlement batch → the bank credit of its net (or debit, when negative)
--   payout:<po>     a payout → the bank debit of its amount
CREATE TABLE recon_expectations (
  key text PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 400),
  -- ack_accepted | ack_rejected: Payrail's view of an item in a batch whose acquirer answer was
  -- ingested as a file (key ack:<batch>:<item>, engine/acks.ts), matched by the answer's line.
  kind text NOT NULL CHECK (kind IN ('psp_line', 'bank_credit', 'bank_debit', 'ack_accepted',
    'ack_rejected')),
  connector text,
  currency text NOT NULL CHECK (char_length(currency) = 3),
  -- Signed like the record it expects (psp_line: +charge −refund; bank lines positive).
  amount bigint NOT NULL,
  -- What the connector's fee schedule says the PSP keeps (psp_line only).
  expected_fee bigint,
  our_reference text,
  psp_reference text,
  batch_reference text,
  trace_id text,
  -- The day it is expected on, and the last day it may arrive before it is missing.
  due_on text NOT NULL CHECK (due_on ~ '^\d{4}-\d{2}-\d{2}$'),
  deadline_on text NOT NULL CHECK (deadline_on ~ '^\d{4}-\d{2}-\d{2}$'),
  group_id text,
  created_at timestamptz NOT NULL
) WITH (fillfactor = 85);
CREATE INDEX recon_expectations_unmatched ON recon_expectations (kind) WHERE group_id IS NULL;

-- The connector's fee schedule as the contract with the PSP says (what Payrail expects the PSP to
-- keep): components in basis points rounded half up each, as the PSPs compute them.
CREATE TABLE recon_fee_schedules (
  connector text PRIMARY KEY,
  commission_bps integer NOT NULL DEFAULT 0 CHECK (commission_bps BETWEEN 0 AND 10000),
  commission_fixed bigint NOT NULL DEFAULT 0 CHECK (commission_fixed >= 0),
  markup_bps integer NOT NULL DEFAULT 0 CHECK (markup_bps BETWEEN 0 AND 10000),
  scheme_fee_bps integer NOT NULL DEFAULT 0 CHECK (scheme_fee_bps BETWEEN 0 AND 10000),
  interchange_bps integer NOT NULL DEFAULT 0 CHECK (interchange_bps BETWEEN 0 AND 10000),
  tax_bps integer NOT NULL DEFAULT 0 CHECK (tax_bps BETWEEN 0 AND 10000),
  refund_fixed bigint NOT NULL DEFAULT 0 CHECK (refund_fixed >= 0),
  updated_at timestamptz NOT NULL
);

-- A run: one pass of matching over everything unmatched, as of a cutoff. Deterministic: the same
-- records, expectations and rules give the same groups, exceptions and result_hash. A dry run is
-- computed the same way and rolled back; its row is kept (dry_run) with its figures.
CREATE TABLE recon_runs (
  id text PRIMARY KEY CHECK (id ~ '^rcr_[A-Za-z0-9]{8,64}$'),
  dry_run boolean NOT NULL,
  status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  -- The day the run reconciles through (deadlines are judged against it).
  as_of text NOT NULL CHECK (as_of ~ '^\d{4}-\d{2}-\d{2}$'),
  rules_hash text NOT NULL,
  result_hash text,
  -- Counts: expectations and records seen, matched by pass, exceptions by reason.
  summary jsonb NOT NULL DEFAULT '{}'::jsonb,
  error text,
  started_at timestamptz NOT NULL,
  finished_at timestamptz
);
CREATE INDEX recon_runs_started ON recon_runs (started_at DESC, id);

-- A match group: expectations and records that account for each other.
CREATE TABLE recon_groups (
  id text PRIMARY KEY,
  run_id text NOT NULL,
  pass text NOT NULL CHECK (pass IN ('exact', 'tolerance', 'aggregate', 'manual')),
  created_at timestamptz NOT NULL
);

-- A difference, with a reason code. `key` is deterministic (reason and subject), so a run that
-- finds it again records it once.
CREATE TABLE recon_exceptions (
  id text PRIMARY KEY CHECK (id ~ '^rex_[A-Za-z0-9]{8,64}$'),
  key text NOT NULL UNIQUE,
  run_id text NOT NULL,
  reason text NOT NULL CHECK (reason IN ('missing', 'unexpected', 'amount_mismatch',
    'currency_mismatch', 'duplicate', 'fee_variance', 'late', 'returned', 'balance_drift')),
  source text NOT NULL CHECK (source IN ('psp_report', 'acquirer_ack', 'bank_statement', 'ledger')),
  connector text,
  currency text,
  -- The money in question: the difference for a mismatch or variance, the line's amount otherwise.
  amount bigint,
  expectation_key text,
  record_source text,
  record_key text,
  group_id text,
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  status text NOT NULL CHECK (status IN ('open', 'resolved')),
  assignee text CHECK (assignee IS NULL OR length(assignee) BETWEEN 1 AND 200),
  resolution text CHECK (resolution IN ('matched', 'written_off', 'adjusted', 'psp_error')),
  resolution_reason text CHECK (resolution_reason IS NULL OR length(resolution_reason) <= 1000),
  ledger_transaction_id text,
  created_at timestamptz NOT NULL,
  resolved_at timestamptz,
  CHECK ((status = 'resolved') = (resolution IS NOT NULL AND resolved_at IS NOT NULL))
);
CREATE INDEX recon_exceptions_list ON recon_exceptions (created_at DESC, id DESC);
CREATE INDEX recon_exceptions_open ON recon_exceptions (reason, created_at) WHERE status = 'open';

-- Each exception's history: raised, assigned, noted, resolved; by whom and why.
CREATE TABLE recon_exception_history (
  exception_id text NOT NULL REFERENCES recon_exceptions (id),
  seq integer NOT NULL CHECK (seq > 0),
  action text NOT NULL CHECK (action IN ('raised', 'assigned', 'noted', 'resolved')),
  actor text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  at timestamptz NOT NULL,
  PRIMARY KEY (exception_id, seq)
);

-- The platform's own account: operator events (reconciliation exceptions) are written for it, so
-- the operator subscribes to them with webhook endpoints through /v1/admin/webhook_endpoints and
-- reads them at /v1/admin/events, delivered by the same outbox, bus and signed webhooks as a
-- merchant's. It has no API key: only the admin key reaches it.
INSERT INTO merchants (id, name, livemode, created_at)
VALUES ('mch_platform', 'Payrail platform (operator)', false, now())
ON CONFLICT (id) DO NOTHING;

-- Added by the matching engine (src/reconciliation/engine). What a run already took from the
-- pipeline's own tables, per settlement batch: its report lines imported as records, its accepted
-- items made expectations, its bank movement expected. A run only looks at batches not yet marked,
-- so a run with nothing new is cheap.
CREATE TABLE recon_batch_progress (
  batch_id text PRIMARY KEY,
  lines_imported_at timestamptz,
  items_expected_at timestamptz,
  credit_expected_at timestamptz,
  -- Its acquirer answer was ingested as a file and its items made ack_ expectations.
  acks_expected_at timestamptz
);

-- The bank statement's closing balance (camt.053 Bal with Tp CLBD) per currency and booking date:
-- written by whoever reads a statement (file ingestion; the pipeline's statement reader), read by
-- the balance-drift check (the ledger's bank account against the latest closing balance).
CREATE TABLE recon_statement_balances (
  currency text NOT NULL CHECK (char_length(currency) = 3),
  booking_date text NOT NULL CHECK (booking_date ~ '^\d{4}-\d{2}-\d{2}$'),
  -- Signed minor units (a CLBD with CdtDbtInd DBIT is negative).
  closing_balance bigint NOT NULL,
  file_id text,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (currency, booking_date)
);

-- A batch's report lines and bank movements by settlement reference (expectations of bank
-- movements sum a batch's lines), and the exceptions about one record.
CREATE INDEX recon_records_batch_reference ON recon_records (batch_reference)
  WHERE batch_reference IS NOT NULL;
CREATE INDEX recon_records_our_reference ON recon_records (our_reference)
  WHERE our_reference IS NOT NULL AND group_id IS NULL;
CREATE INDEX recon_exceptions_record ON recon_exceptions (record_source, record_key)
  WHERE record_key IS NOT NULL;
CREATE INDEX recon_exceptions_expectation ON recon_exceptions (expectation_key)
  WHERE expectation_key IS NOT NULL;

-- Settlement movements the statement reader could not match yet (their batch's settlement
-- reference unknown when the bank booked them): each statement step retries them, reading only
-- these (src/banking/statements.ts rematchUnmatched).
CREATE INDEX bank_statement_entries_unmatched ON bank_statement_entries (booking_date)
  WHERE kind = 'unmatched';

-- A statement entry the ledger never posted (unmatched) that an operator wrote off through
-- reconciliation: the resolution posted it, so the statement reader never posts it again (a
-- fetched statement claims its entries by reference, and only unmatched ones are retried).
ALTER TABLE bank_statement_entries DROP CONSTRAINT bank_statement_entries_kind_check;
ALTER TABLE bank_statement_entries ADD CONSTRAINT bank_statement_entries_kind_check CHECK (kind IN
  ('settlement_credit', 'settlement_debit', 'payout_debit', 'payout_return', 'unmatched',
   'written_off'));
