-- Availability and payouts over clearing groups (architecture §12.1, §12.4): neither writes one row
-- per settlement item any more. Availability names its ledger transfer on the clearing groups of
-- migration 025 (an item is available when its group is); a payout allocates over UNITS — an
-- available clearing group, or an available balance transaction that is no settlement item of a
-- group (payout failures and cancels, reserve holds and releases, items made available one by one
-- before migration 025) — and each unit keeps what is left to pay out of it, so that the next
-- payout reads only the merchant's units not yet fully paid out instead of its whole history.

-- What payouts have not yet taken of each unit (signed like its net, never 0): set when the unit
-- becomes available (a clearing group by availability, a balance transaction available at once
-- when it is inserted), lowered by each payout that takes of it, NULL once it is paid out in full
-- (and for what is no unit: a pending group, a payout's own row, a settlement item of a group). A
-- NULL is what the planner estimates well (a column's null fraction), unlike a comparison of two
-- columns: the partial indexes below stay the plan however long a merchant's history.
ALTER TABLE clearing_groups
  ADD COLUMN unpaid bigint,
  ADD CONSTRAINT clearing_groups_unpaid_check CHECK (unpaid IS NULL
    OR CASE WHEN net > 0 THEN unpaid BETWEEN 1 AND net ELSE unpaid BETWEEN net AND -1 END);
ALTER TABLE balance_transactions ADD COLUMN unpaid bigint;
UPDATE balance_transactions bt SET unpaid = nullif(bt.net - coalesce(taken.amount, 0), 0)
  FROM balance_transactions unit
  LEFT JOIN (SELECT balance_transaction_id, sum(amount)::bigint AS amount FROM payout_allocations
              GROUP BY balance_transaction_id) AS taken ON taken.balance_transaction_id = unit.id
 WHERE bt.id = unit.id AND unit.availability_id IS NOT NULL AND unit.type <> 'payout'
   AND unit.net <> coalesce(taken.amount, 0);
-- Not validated against the rows before it (payrail verify reports an over-allocation); every new
-- write is held to it.
ALTER TABLE balance_transactions ADD CONSTRAINT balance_transactions_unpaid_check CHECK (unpaid IS NULL
    OR CASE WHEN net > 0 THEN unpaid BETWEEN 1 AND net ELSE unpaid BETWEEN net AND -1 END)
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
CREATE INDEX clearing_groups_unpaid ON clearing_groups (merchant_id, currency) WHERE unpaid IS NOT NULL;
DROP INDEX balance_transactions_payable;
CREATE INDEX balance_transactions_unpaid ON balance_transactions (merchant_id, currency)
  WHERE unpaid IS NOT NULL;

-- Availability reads clearing_groups_due (025), no longer the items: every item the ledger poster
-- inserted entered this index (availability_id NULL) for nothing.
DROP INDEX balance_transactions_due;
