-- PSP settlement reports staged line by line (architecture §12.3): ingestion streams a batch's
-- report page by page into this table with set-based inserts (never the whole report in memory),
-- then ONE transaction matches the lines with the batch's accepted items in SQL, records the
-- discrepancies and posts the batch's PSP fee. The lines are kept after ingestion: they are the
-- record of what the PSP said of each item (its gross, fee and net), which per-item
-- reconciliation compares with Payrail's items and the acquirer's answer; the items themselves
-- are no longer rewritten with a fee (migration 025's rule: a settlement item is written once).
--
-- `line` is where the item is in the report (a CSV line number, or the position in a paginated
-- list, skipped entries counted), so a report staged again after a crash lands on the same keys.
-- No foreign key to settlement_batches: its per-row check would cost about as much as the insert
-- of a line, and lines are written by ingestion only, for a batch it has just read. For the same
-- reason the currency is checked by its length only: the parsers take only codes of the exponent
-- table (a regular expression per line cost a fifth of the insert).
CREATE TABLE settlement_report_lines (
  batch_id text NOT NULL,
  line integer NOT NULL CHECK (line > 0),
  type text NOT NULL CHECK (type IN ('charge', 'refund')),
  psp_reference text NOT NULL,
  currency text NOT NULL CHECK (char_length(currency) = 3),
  -- Signed like balance transactions: +gross for a charge, −gross for a refund.
  amount bigint NOT NULL,
  fee bigint NOT NULL,
  net bigint NOT NULL,
  CHECK (net = amount - fee),
  PRIMARY KEY (batch_id, line)
);

-- The fee of each item lives in its report line; the batch's total stays in
-- settlement_batches.psp_fee and the psp_fee:<batch> ledger transfer. Batches ingested before this
-- migration keep their total but have no lines (their per-item fees are not kept).
ALTER TABLE balance_transactions DROP COLUMN psp_fee;
