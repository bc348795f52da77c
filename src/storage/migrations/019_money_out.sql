-- Money out (architecture §12): settlement with the acquirer, availability, reserves, payouts.
-- The ledger stays the one truth. These tables itemize it: every row points at the ledger
-- transaction that moved its money (aggregated per merchant, currency and day), and `payrail
-- verify` checks that the items add up to the ledger's postings.

-- Business days after a time: N weekdays after its UTC date (Saturday and Sunday skipped), at
-- 00:00 UTC. 0 days is the date itself, moved to the next Monday when it falls on a weekend.
CREATE FUNCTION payrail_business_days_after(t timestamptz, days integer) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  d date := (t AT TIME ZONE 'UTC')::date;
  left_days integer := days;
BEGIN
  IF days < 0 THEN
    RAISE EXCEPTION 'business days must not be negative (%)', days USING ERRCODE = '22023';
  END IF;
  WHILE extract(isodow FROM d) > 5 LOOP d := d + 1; END LOOP;
  WHILE left_days > 0 LOOP
    d := d + 1;
    IF extract(isodow FROM d) <= 5 THEN left_days := left_days - 1; END IF;
  END LOOP;
  RETURN d::timestamp AT TIME ZONE 'UTC';
END $$;

-- A merchant's money-out settings (defaults when no row: T+2, daily, no reserve).
CREATE TABLE merchant_payout_settings (
  merchant_id text PRIMARY KEY REFERENCES merchants (id),
  -- Business days from a capture or refund to its availability.
  delay_days smallint NOT NULL DEFAULT 2 CHECK (delay_days BETWEEN 0 AND 30),
  schedule text NOT NULL DEFAULT 'daily' CHECK (schedule IN ('daily', 'weekly', 'manual')),
  -- ISO day of the week of weekly payouts (1 = Monday).
  weekly_anchor smallint NOT NULL DEFAULT 1 CHECK (weekly_anchor BETWEEN 1 AND 7),
  -- Rolling reserve: this share of each day's positive net is held for reserve_days calendar days.
  reserve_percent_bps integer NOT NULL DEFAULT 0 CHECK (reserve_percent_bps BETWEEN 0 AND 10000),
  reserve_days smallint NOT NULL DEFAULT 0 CHECK (reserve_days BETWEEN 0 AND 365),
  updated_at timestamptz NOT NULL
);

-- What a payout always leaves in the available balance, per currency.
CREATE TABLE merchant_minimum_balances (
  merchant_id text NOT NULL REFERENCES merchants (id),
  currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  amount bigint NOT NULL CHECK (amount >= 0),
  PRIMARY KEY (merchant_id, currency)
);

-- Where a merchant's payouts go. The account number is sealed (vault secret box); only its last
-- four digits are kept in clear.
CREATE TABLE merchant_bank_accounts (
  id text PRIMARY KEY CHECK (id ~ '^ba_[A-Za-z0-9]{8,64}$'),
  merchant_id text NOT NULL REFERENCES merchants (id),
  currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  country text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
  account_holder_name text NOT NULL CHECK (length(account_holder_name) BETWEEN 1 AND 200),
  routing_number text CHECK (routing_number IS NULL OR length(routing_number) <= 34),
  sealed_account_number bytea NOT NULL,
  last4 text NOT NULL CHECK (last4 ~ '^[A-Za-z0-9]{4}$'),
  -- HMAC of the account number: the same account added twice is found without unsealing.
  fingerprint text NOT NULL,
  default_for_currency boolean NOT NULL DEFAULT false,
  status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'verified', 'errored')),
  created_at timestamptz NOT NULL,
  UNIQUE (merchant_id, fingerprint, currency)
);
CREATE UNIQUE INDEX merchant_bank_accounts_default
  ON merchant_bank_accounts (merchant_id, currency) WHERE default_for_currency;

-- When each connector's clearing day closes, in its own time zone, and how long an authorization
-- may wait for its capture to be presented.
CREATE TABLE settlement_cutoffs (
  connector text PRIMARY KEY,
  cutoff_time time NOT NULL DEFAULT '18:00',
  timezone text NOT NULL DEFAULT 'UTC',
  capture_window_days smallint NOT NULL DEFAULT 7 CHECK (capture_window_days BETWEEN 1 AND 30),
  updated_at timestamptz NOT NULL
);

-- A clearing batch: the captures and refunds of one connector and currency up to one cutoff.
--   open → closed → submitted → acknowledged | partially_acknowledged → funded
CREATE TABLE settlement_batches (
  id text PRIMARY KEY CHECK (id ~ '^sb_[A-Za-z0-9]{8,64}$'),
  connector text NOT NULL,
  currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  cutoff_at timestamptz NOT NULL,
  status text NOT NULL CHECK (status IN
    ('open', 'closed', 'submitted', 'acknowledged', 'partially_acknowledged', 'funded')),
  item_count integer NOT NULL DEFAULT 0,
  -- Captures minus refunds, as submitted and as accepted.
  net_amount bigint NOT NULL DEFAULT 0,
  accepted_count integer NOT NULL DEFAULT 0,
  rejected_count integer NOT NULL DEFAULT 0,
  accepted_amount bigint NOT NULL DEFAULT 0,
  -- The acquirer's reference for the batch, and what the PSP's report and the bank say of it.
  acquirer_reference text,
  psp_fee bigint,
  settlement_reference text,
  funded_amount bigint NOT NULL DEFAULT 0,
  closed_at timestamptz,
  submitted_at timestamptz,
  acknowledged_at timestamptz,
  funded_at timestamptz,
  created_at timestamptz NOT NULL,
  UNIQUE (connector, currency, cutoff_at)
);
CREATE INDEX settlement_batches_status ON settlement_batches (status, cutoff_at);

-- Every movement of a merchant's balance, Stripe's balance transaction: charges and refunds
-- (which are also the settlement items the acquirer clears), payouts and their failures, reserve
-- holds and releases. `available_on` comes from the merchant's schedule; the item is available
-- once `availability_id` names the (aggregate) ledger transaction that made it so.
CREATE TABLE balance_transactions (
  id text PRIMARY KEY CHECK (id ~ '^txn_[A-Za-z0-9]{8,64}$'),
  merchant_id text NOT NULL REFERENCES merchants (id),
  currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  type text NOT NULL CHECK (type IN
    ('charge', 'refund', 'payout', 'payout_failure', 'payout_cancel', 'reserve_hold', 'reserve_release')),
  -- The object that caused it: a payment intent, refund or payout id.
  source text NOT NULL,
  amount bigint NOT NULL,
  fee bigint NOT NULL DEFAULT 0 CHECK (fee >= 0),
  net bigint NOT NULL,
  description text,
  -- The ledger transaction that recorded this item (capture:…, refund:…, payout:…, reserve:…).
  ledger_transaction_id text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  available_on timestamptz NOT NULL,
  availability_id text,
  -- Clearing (charges and refunds only).
  connector text,
  attempt_id text,
  clearing_status text CHECK (clearing_status IN ('unbatched', 'batched', 'accepted', 'rejected', 'exception')),
  batch_id text REFERENCES settlement_batches (id),
  submissions smallint NOT NULL DEFAULT 0,
  reject_reason text,
  psp_fee bigint,
  CHECK (net = amount - fee),
  CHECK ((type IN ('charge', 'refund')) = (clearing_status IS NOT NULL)),
  CHECK ((type IN ('charge', 'refund')) = (connector IS NOT NULL))
);
CREATE INDEX balance_transactions_list ON balance_transactions (merchant_id, created_at DESC, id DESC);
CREATE INDEX balance_transactions_source ON balance_transactions (source);
CREATE INDEX balance_transactions_unbatched ON balance_transactions (connector, currency, created_at)
  WHERE clearing_status = 'unbatched';
CREATE INDEX balance_transactions_batch ON balance_transactions (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX balance_transactions_due ON balance_transactions (available_on, merchant_id, currency)
  WHERE availability_id IS NULL;

CREATE TABLE payouts (
  id text PRIMARY KEY CHECK (id ~ '^po_[A-Za-z0-9]{8,64}$'),
  merchant_id text NOT NULL REFERENCES merchants (id),
  currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  amount bigint NOT NULL CHECK (amount > 0),
  method text NOT NULL CHECK (method IN ('automatic', 'manual')),
  status text NOT NULL CHECK (status IN ('pending', 'in_transit', 'paid', 'failed', 'canceled')),
  bank_account_id text NOT NULL REFERENCES merchant_bank_accounts (id),
  description text,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- The bank's reference once it took the instruction, and why it failed or came back.
  trace_id text UNIQUE,
  failure_code text,
  failure_message text,
  -- Sending: a payout is sent at most once (the bank is also idempotent by our id).
  send_attempts smallint NOT NULL DEFAULT 0,
  arrival_date timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX payouts_list ON payouts (merchant_id, created_at DESC, id DESC);
CREATE INDEX payouts_open ON payouts (status, created_at) WHERE status IN ('pending', 'in_transit');

-- Which balance transactions a payout paid out, and how much of each (a manual payout of part of
-- the balance pays the last one in part; the rest goes with the next payout).
CREATE TABLE payout_allocations (
  payout_id text NOT NULL REFERENCES payouts (id),
  balance_transaction_id text NOT NULL REFERENCES balance_transactions (id),
  amount bigint NOT NULL CHECK (amount <> 0),
  PRIMARY KEY (balance_transaction_id, payout_id)
);
CREATE INDEX payout_allocations_payout ON payout_allocations (payout_id);

-- A rolling-reserve hold (a ledger hold on the merchant's available balance) and when it ends.
CREATE TABLE reserve_holds (
  ledger_transaction_id text PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants (id),
  currency text NOT NULL,
  amount bigint NOT NULL CHECK (amount > 0),
  release_on timestamptz NOT NULL,
  released_by text,
  created_at timestamptz NOT NULL
);
CREATE INDEX reserve_holds_due ON reserve_holds (release_on) WHERE released_by IS NULL;
