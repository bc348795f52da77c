-- Settlement items written once (architecture §12): a charge or refund row of balance_transactions
-- is inserted by the ledger poster and, in the normal path, never rewritten. What the acquirer,
-- the PSP's report and availability say of it lives in aggregates (the batch, the clearing group)
-- instead of a rewrite of every row at every step: each rewrite of a wide row added an entry to
-- every index of the table (benchmark: npm run bench:settlement, docs/benchmarks.md).

-- What clearing presents of each item, taken from its attempt or refund when the item is written,
-- so a batch's request and its report matching read the items alone: the PSP's payment id (charge)
-- or refund id (refund), and when the charge's authorization was made (its capture window).
ALTER TABLE balance_transactions
  ADD COLUMN psp_reference text,
  ADD COLUMN authorized_at timestamptz;
UPDATE balance_transactions bt SET psp_reference = a.psp_reference, authorized_at = a.created_at
  FROM payment_attempts a WHERE bt.type = 'charge' AND a.id = bt.attempt_id;
UPDATE balance_transactions bt SET psp_reference = r.psp_reference
  FROM refunds r WHERE bt.type = 'refund' AND r.id = bt.source;
-- An item the acquirer accepted stays 'batched' in its (acknowledged) batch; 'accepted' is no
-- longer written.
UPDATE balance_transactions SET clearing_status = 'batched' WHERE clearing_status = 'accepted';

-- A clearing group: the accepted items of one batch for one merchant and one available_on day,
-- aggregated when the batch is acknowledged (in the transaction that records the acquirer's
-- answer; a batch's accepted items never change afterwards). Availability makes the groups of a
-- merchant, currency and day available in ONE ledger transfer (availability_id), and an item is
-- available exactly when its group is: (batch_id, merchant_id, available_on) of a 'batched' item.
CREATE TABLE clearing_groups (
  batch_id text NOT NULL REFERENCES settlement_batches (id),
  merchant_id text NOT NULL REFERENCES merchants (id),
  currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  available_on timestamptz NOT NULL,
  item_count integer NOT NULL CHECK (item_count > 0),
  net bigint NOT NULL,
  availability_id text,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (batch_id, merchant_id, available_on)
);
CREATE INDEX clearing_groups_due ON clearing_groups (available_on, merchant_id)
  WHERE availability_id IS NULL;
-- Items made available before this migration keep their availability_id; groups of batches
-- acknowledged before it are made from their items that are not available yet.
INSERT INTO clearing_groups (batch_id, merchant_id, currency, available_on, item_count, net, created_at)
SELECT bt.batch_id, bt.merchant_id, bt.currency, bt.available_on, count(*), sum(bt.net), now()
  FROM balance_transactions bt JOIN settlement_batches b ON b.id = bt.batch_id
 WHERE bt.clearing_status = 'batched' AND bt.availability_id IS NULL
   AND b.status IN ('acknowledged', 'partially_acknowledged', 'funded')
 GROUP BY 1, 2, 3, 4;
