-- API key management (src/merchants/api-keys.ts, the dashboard's developers page): a key may have
-- a name, and a rolled key an expiry (Stripe's "roll key": the new key works at once, the old one
-- until expires_at, at most 7 days on). Authentication refuses a key whose expires_at is not after
-- its merchant's time by the clock (src/clock.ts), so test clocks move expiries too.
ALTER TABLE api_keys ADD COLUMN name text CHECK (name IS NULL OR length(name) BETWEEN 1 AND 100);
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;
