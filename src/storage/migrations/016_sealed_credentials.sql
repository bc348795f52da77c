-- PSP credentials (API keys, secrets, webhook secrets) sealed at rest: AES-256-GCM under a key
-- derived from the vault master key, bound to (merchant_id, connector) (src/vault/secret-box.ts).
-- SQL has no key, so rows written before this migration keep their plaintext `credentials` until
-- Payrail seals them, at start-up and on first read (src/payments/merchant-settings.ts). A row
-- holds its credentials in exactly one of the two forms.
ALTER TABLE merchant_connectors ADD COLUMN credentials_sealed text CHECK (length(credentials_sealed) <= 8000);
ALTER TABLE merchant_connectors ALTER COLUMN credentials DROP NOT NULL;
ALTER TABLE merchant_connectors ADD CONSTRAINT merchant_connectors_one_credentials_form
  CHECK ((credentials IS NULL) <> (credentials_sealed IS NULL));
