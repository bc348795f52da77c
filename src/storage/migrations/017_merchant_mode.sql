-- Test and live mode per merchant (docs/decisions.md): a test merchant has only sk_test_ keys and
-- may use the PSP simulator; a live merchant has only sk_live_ keys and real PSPs. Every object
-- already belongs to one merchant, so the merchant scoping that every query has keeps the two
-- modes apart. Merchants created before this migration are test merchants, as their keys are.
ALTER TABLE merchants ADD COLUMN livemode boolean NOT NULL DEFAULT false;
ALTER TABLE merchants ADD CONSTRAINT merchants_id_mode UNIQUE (id, livemode);
-- A key has its merchant's mode, and the database refuses any other (a live key on a test merchant
-- would make test objects reachable as live ones). The prefix shows the mode to whoever holds it.
ALTER TABLE api_keys ADD CONSTRAINT api_keys_merchant_mode
  FOREIGN KEY (merchant_id, livemode) REFERENCES merchants (id, livemode);
ALTER TABLE api_keys ADD CONSTRAINT api_keys_hint_mode
  CHECK (key_hint LIKE CASE WHEN livemode THEN 'sk\_live\_%' ELSE 'sk\_test\_%' END);
