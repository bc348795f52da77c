-- The payment intent side of issue 13 ("keys"); the keys themselves are 033_keys_publishable.sql.
-- Each intent's client secret (`<id>_secret_<random>`): what lets a browser holding the
-- publishable key retrieve and confirm that one intent. Intents made before this migration get one.
ALTER TABLE payment_intents ADD COLUMN client_secret text;
UPDATE payment_intents
  SET client_secret = id || '_secret_' || replace(gen_random_uuid()::text, '-', '');
ALTER TABLE payment_intents ALTER COLUMN client_secret SET NOT NULL;
ALTER TABLE payment_intents ADD CONSTRAINT payment_intents_client_secret
  CHECK (client_secret LIKE id || '\_secret\_%' AND length(client_secret) <= 200);

-- Stripe's parameters (src/payments/intent-parameters.ts has the rules): payment method types (card
-- only), automatic payment methods ({"enabled": bool, "allow_redirects": "always" | "never"}),
-- the receipt email, the card statement descriptor suffix, and the return URL given with confirm.
ALTER TABLE payment_intents ADD COLUMN payment_method_types jsonb NOT NULL DEFAULT '["card"]'::jsonb;
ALTER TABLE payment_intents ADD COLUMN automatic_payment_methods jsonb;
ALTER TABLE payment_intents ADD COLUMN receipt_email text CHECK (length(receipt_email) <= 800);
ALTER TABLE payment_intents ADD COLUMN statement_descriptor_suffix text
  CHECK (length(statement_descriptor_suffix) <= 22);
ALTER TABLE payment_intents ADD COLUMN return_url text CHECK (length(return_url) <= 2048);
