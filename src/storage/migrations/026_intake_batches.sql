-- Intake batches (architecture §12): each connector and currency has one open batch that takes the
-- items as the ledger poster writes them ('batched' at insert, under a FOR SHARE lock of the batch
-- row), until a cutoff closes its intake (FOR UPDATE: waits for the postings in flight). Closing a
-- batch no longer rewrites every item: only items that must leave it (posted after the cutoff,
-- authorization past its capture window) and items that came without an intake batch are written.
ALTER TABLE settlement_batches ADD COLUMN intake_open boolean NOT NULL DEFAULT false;
ALTER TABLE settlement_batches
  ADD CONSTRAINT settlement_batches_intake_is_open CHECK (NOT intake_open OR status = 'open');
CREATE UNIQUE INDEX settlement_batches_intake ON settlement_batches (connector, currency)
  WHERE intake_open;

-- An accepted item is no longer rewritten at acknowledgement: what an item counts is how many
-- times the acquirer rejected it (retries are bounded by it).
ALTER TABLE balance_transactions RENAME COLUMN submissions TO rejections;
