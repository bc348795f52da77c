-- Payouts (architecture §12), beyond 019.

-- A removed bank account stays (payouts reference it) but is no longer listed or used; the same
-- account may be added again once removed.
ALTER TABLE merchant_bank_accounts ADD COLUMN deleted_at timestamptz;
ALTER TABLE merchant_bank_accounts
  DROP CONSTRAINT merchant_bank_accounts_merchant_id_fingerprint_currency_key;
CREATE UNIQUE INDEX merchant_bank_accounts_fingerprint
  ON merchant_bank_accounts (merchant_id, fingerprint, currency) WHERE deleted_at IS NULL;
CREATE INDEX merchant_bank_accounts_list ON merchant_bank_accounts (merchant_id, created_at DESC, id DESC);

-- At most one automatic payout per merchant, currency and (the merchant's) day: the schedule's
-- step may run any number of times, in any number of processes.
ALTER TABLE payouts ADD COLUMN payout_day date;
ALTER TABLE payouts ADD CONSTRAINT payouts_day_automatic CHECK ((method = 'automatic') = (payout_day IS NOT NULL));
CREATE UNIQUE INDEX payouts_automatic_day ON payouts (merchant_id, currency, payout_day) WHERE method = 'automatic';
CREATE INDEX payouts_bank_account_open ON payouts (bank_account_id) WHERE status IN ('pending', 'in_transit');

-- The items of one merchant and currency that payouts allocate, in FIFO order.
CREATE INDEX balance_transactions_payable
  ON balance_transactions (merchant_id, currency, available_on, created_at, id)
  WHERE availability_id IS NOT NULL AND type <> 'payout';
