-- Availability and payouts over clearing groups (architecture §12.1, §12.4): neither writes one row
-- per settlement item any more. Availability names its ledger transfer on the clearing groups of
-- migration 025 (an item is available when its group is); a payout allocates over UNITS — an
-- available clearing group, or an available balance transaction that is no settlement item of a
-- group (payout failures and cancels, reserve holds and releases, items made available one by one
-- before migration 025) — and keeps what it took of each unit, so that the next payout reads only
-- the merchant's units not yet fully paid out instead of its whole history.

-- What payouts took of each unit so far (signed like its net, never beyond it).
ALTER TABLE clearing_groups
  ADD COLUMN paid_out bigint NOT NULL DEFAULT 0,
  ADD CONSTRAINT clearing_groups_paid_out
    CHECK (CASE WHEN net >= 0 THEN paid_out BETWEEN 0 AND net ELSE paid_out BETWEEN net AND 0 END);
ALTER TABLE balance_transactions ADD COLUMN paid_out bigint NOT NULL DEFAULT 0;
UPDATE balance_transactions bt SET paid_out = taken.amount
  FROM (SELECT balance_transaction_id, sum(amount)::bigint AS amount FROM payout_allocations
         GROUP BY balance_transaction_id) AS taken
 WHERE bt.id = taken.balance_transaction_id;
-- Not validated against the rows before it (payrail verify reports an over-allocation); every new
-- write is held to it.
ALTER TABLE balance_transactions ADD CONSTRAINT balance_transactions_paid_out
  CHECK (CASE WHEN net >= 0 THEN paid_out BETWEEN 0 AND net ELSE paid_out BETWEEN net AND 0 END)
  NOT VALID;

-- Which clearing groups a payout paid out, and how much of each (a manual payout of part of the
-- balance, or one that leaves a minimum balance, takes its last unit in part; the next payout
-- takes the rest). payout_allocations keeps the balance transactions a payout took.
CREATE TABLE payout_group_allocations (
  payout_id text NOT NULL REFERENCES payouts (id),
  batch_id text NOT NULL,
  merchant_id text NOT NULL,
  available_on timestamptz NOT NULL,
  amount bigint NOT NULL CHECK (amount <> 0),
  PRIMARY KEY (batch_id, merchant_id, available_on, payout_id),
  FOREIGN KEY (batch_id, merchant_id, available_on)
    REFERENCES clearing_groups (batch_id, merchant_id, available_on)
);
CREATE INDEX payout_group_allocations_payout ON payout_group_allocations (payout_id);

-- The units a payout reads: only those not fully paid out (a few per merchant), never its history.
CREATE INDEX clearing_groups_unpaid ON clearing_groups (merchant_id, currency)
  WHERE availability_id IS NOT NULL AND paid_out <> net;
DROP INDEX balance_transactions_payable;
CREATE INDEX balance_transactions_unpaid ON balance_transactions (merchant_id, currency)
  WHERE availability_id IS NOT NULL AND type <> 'payout' AND paid_out <> net;

-- Availability reads clearing_groups_due (025), no longer the items: every item the ledger poster
-- inserted entered this index (availability_id NULL) for nothing.
DROP INDEX balance_transactions_due;
