-- Double-entry ledger (architecture §7). Money rules enforced here as well as in code:
--  * every ledger transaction balances per currency and layer (deferred constraint trigger);
--  * entries and transactions are append-only (UPDATE, DELETE and TRUNCATE are refused);
--  * account limits are CHECK constraints on the materialized balances.

CREATE TABLE ledger_accounts (
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_:.\-]{1,200}$'),
  type text NOT NULL CHECK (type IN ('asset', 'liability', 'equity', 'revenue', 'expense')),
  currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
  owner text NOT NULL CHECK (length(owner) BETWEEN 1 AND 200),
  limit_rule text NOT NULL CHECK (limit_rule IN ('none', 'debits_must_not_exceed_credits', 'credits_must_not_exceed_debits')),
  posted_debits bigint NOT NULL DEFAULT 0 CHECK (posted_debits >= 0),
  posted_credits bigint NOT NULL DEFAULT 0 CHECK (posted_credits >= 0),
  pending_debits bigint NOT NULL DEFAULT 0 CHECK (pending_debits >= 0),
  pending_credits bigint NOT NULL DEFAULT 0 CHECK (pending_credits >= 0),
  entry_count bigint NOT NULL DEFAULT 0,
  last_hash bytea NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ledger_accounts_debit_limit CHECK (
    limit_rule <> 'debits_must_not_exceed_credits' OR posted_debits + pending_debits <= posted_credits),
  CONSTRAINT ledger_accounts_credit_limit CHECK (
    limit_rule <> 'credits_must_not_exceed_debits' OR posted_credits + pending_credits <= posted_debits)
) WITH (fillfactor = 50);  -- room for in-place (HOT) updates of the balance columns
CREATE INDEX ledger_accounts_owner ON ledger_accounts (owner, id);

CREATE TABLE ledger_transactions (
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_:.\-]{1,200}$'),
  kind text NOT NULL CHECK (kind IN ('posted', 'pending', 'post_pending', 'void_pending', 'expire_pending')),
  pending_id text REFERENCES ledger_transactions (id),
  -- The request as the caller sent it (canonical JSON): a replay with the same id is compared to it.
  request jsonb NOT NULL,
  description text,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- The database transaction that wrote this row; entries may only be added by that one.
  created_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  CHECK ((kind IN ('post_pending', 'void_pending', 'expire_pending')) = (pending_id IS NOT NULL))
);
CREATE INDEX ledger_transactions_pending ON ledger_transactions (pending_id) WHERE pending_id IS NOT NULL;

-- The state of a two-phase transfer. The only mutable ledger table: a hold moves once from
-- 'pending' to a final state, and a trigger refuses anything else.
CREATE TABLE ledger_holds (
  transaction_id text PRIMARY KEY REFERENCES ledger_transactions (id),
  status text NOT NULL CHECK (status IN ('pending', 'posted', 'voided', 'expired')),
  expires_at timestamptz,
  resolved_by text REFERENCES ledger_transactions (id),
  CHECK ((status = 'pending') = (resolved_by IS NULL))
);
CREATE INDEX ledger_holds_expiry ON ledger_holds (expires_at) WHERE status = 'pending' AND expires_at IS NOT NULL;

-- References to ledger_transactions and ledger_accounts (with a matching currency) are checked
-- once per INSERT statement by ledger_check_entry_references below: set-based, much cheaper
-- than a foreign-key lookup per row on 10,000-entry batches. Entries are never updated or
-- deleted, and neither are transactions or accounts (triggers below refuse it).
CREATE TABLE ledger_entries (
  transaction_id text NOT NULL,
  leg smallint NOT NULL CHECK (leg >= 0),
  account_id text NOT NULL,
  currency text NOT NULL,
  layer text NOT NULL CHECK (layer IN ('posted', 'pending')),
  direction text NOT NULL CHECK (direction IN ('debit', 'credit')),
  -- Negative only on the pending layer, where posting or voiding a hold releases it.
  amount bigint NOT NULL CHECK (amount <> 0 AND (amount > 0 OR layer = 'pending')),
  account_sequence bigint NOT NULL CHECK (account_sequence > 0),
  -- The account's balances after this entry: 'balance as of' is a single row lookup.
  posted_debits_after bigint NOT NULL,
  posted_credits_after bigint NOT NULL,
  pending_debits_after bigint NOT NULL,
  pending_credits_after bigint NOT NULL,
  -- SHA-256 over the previous entry's hash of the same account and this entry's content.
  hash bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (transaction_id, leg),
  UNIQUE (account_id, account_sequence)
);
CREATE INDEX ledger_entries_account_time ON ledger_entries (account_id, created_at);

CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger table % is append-only: % is refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'P0001', HINT = 'post a reversing transaction instead';
END $$;

CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

-- Accounts keep their balances up to date (UPDATE), but are never removed: entries point at them.
CREATE TRIGGER ledger_accounts_no_delete BEFORE DELETE ON ledger_accounts
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_accounts_no_truncate BEFORE TRUNCATE ON ledger_accounts
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE FUNCTION ledger_hold_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' OR OLD.status <> 'pending' OR NEW.transaction_id <> OLD.transaction_id THEN
    RAISE EXCEPTION 'ledger hold % can only move once from pending to a final state', OLD.transaction_id
      USING ERRCODE = 'P0001';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER ledger_holds_transition BEFORE UPDATE OR DELETE ON ledger_holds
  FOR EACH ROW EXECUTE FUNCTION ledger_hold_transition();
CREATE TRIGGER ledger_holds_no_truncate BEFORE TRUNCATE ON ledger_holds
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

-- Checked at COMMIT, once per ledger transaction (fired by its ledger_transactions row, which
-- every entry references), so that the legs of one transaction may be inserted by several
-- statements. Entries can only be added in the database transaction that created their ledger
-- transaction (checked below), so this check at commit covers every leg there will ever be.
CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  legs bigint;
  unbalanced text;
BEGIN
  SELECT sum(n), min(CASE WHEN net <> 0 THEN currency || ' (' || layer || ' layer)' END) INTO legs, unbalanced
  FROM (
    SELECT currency, layer, count(*) AS n, sum(CASE WHEN direction = 'debit' THEN amount ELSE -amount END) AS net
    FROM ledger_entries WHERE transaction_id = NEW.id GROUP BY currency, layer
  ) per_currency;
  IF coalesce(legs, 0) < 2 THEN
    RAISE EXCEPTION 'ledger transaction % has % entries; at least 2 are needed', NEW.id, coalesce(legs, 0)
      USING ERRCODE = '23514';
  END IF;
  IF unbalanced IS NOT NULL THEN
    RAISE EXCEPTION 'ledger transaction % does not balance in %', NEW.id, unbalanced USING ERRCODE = '23514';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_transactions_balanced AFTER INSERT ON ledger_transactions
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  EXECUTE FUNCTION ledger_check_balanced();

-- Once per INSERT statement on entries: every entry names an existing ledger transaction that
-- this database transaction created (pg_current_xact_id() is the top-level id, also inside
-- savepoints), and an existing account holding the entry's currency.
CREATE FUNCTION ledger_check_entry_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  SELECT e.transaction_id, e.account_id, t.id IS NULL AS no_transaction, t.created_xid <> pg_current_xact_id() AS earlier,
         a.id IS NULL AS no_account
    INTO bad
    FROM new_entries e
    LEFT JOIN ledger_transactions t ON t.id = e.transaction_id
    LEFT JOIN ledger_accounts a ON a.id = e.account_id
   WHERE t.id IS NULL OR t.created_xid <> pg_current_xact_id() OR a.id IS NULL OR a.currency <> e.currency
   LIMIT 1;
  IF NOT FOUND THEN
    RETURN NULL;
  ELSIF bad.no_transaction THEN
    RAISE EXCEPTION 'entry refers to ledger transaction %, which does not exist', bad.transaction_id USING ERRCODE = '23503';
  ELSIF bad.earlier THEN
    RAISE EXCEPTION 'entries can only be added in the database transaction that created their ledger transaction (%)', bad.transaction_id
      USING ERRCODE = '23514';
  ELSIF bad.no_account THEN
    RAISE EXCEPTION 'entry refers to ledger account %, which does not exist', bad.account_id USING ERRCODE = '23503';
  ELSE
    RAISE EXCEPTION 'entry currency differs from the currency of ledger account %', bad.account_id USING ERRCODE = '23514';
  END IF;
END $$;
CREATE TRIGGER ledger_entries_references AFTER INSERT ON ledger_entries
  REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT
  EXECUTE FUNCTION ledger_check_entry_references();
