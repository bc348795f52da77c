-- Publishable keys (pk_test_ / pk_live_) beside secret keys (issue 13, "keys"; the payment intent
-- side is 033_keys_intent_parameters.sql, apart so that a test of merchants alone needs no payments).
--
-- A publishable key is stored like a secret key (only its SHA-256; shown once, rolled by asking
-- for a new one), in the same table, with its kind. What it may do is decided by the route (only
-- a payment intent's retrieve and confirm, with that intent's client secret; src/http/auth.ts).
ALTER TABLE api_keys ADD COLUMN kind text NOT NULL DEFAULT 'secret'
  CHECK (kind IN ('secret', 'publishable'));
ALTER TABLE api_keys DROP CONSTRAINT api_keys_hint_mode;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_hint_mode CHECK (
  key_hint LIKE (CASE WHEN kind = 'secret' THEN 'sk' ELSE 'pk' END)
    || (CASE WHEN livemode THEN '\_live\_%' ELSE '\_test\_%' END)
);
