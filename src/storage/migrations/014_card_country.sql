-- The issuing country of a vaulted card (src/vault/issuers.ts), so that routing rules on card
-- country can match. ISO 3166-1 alpha-2 in capitals, derived from the BIN alone (never more than
-- the first 8 digits); null when unknown, and for cards stored before this migration.
ALTER TABLE payment_methods ADD COLUMN country text CHECK (country IS NULL OR country ~ '^[A-Z]{2}$');
