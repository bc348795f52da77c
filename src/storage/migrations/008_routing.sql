-- Per-merchant routing configuration (src/routing/config.ts): ordered rules with conditions and
-- an action. Stored as the JSON the API accepts; the code validates it on every write and read,
-- so the database only checks its outline. No row = no rules (the merchant's priority order).
CREATE TABLE merchant_routing (
  merchant_id text PRIMARY KEY REFERENCES merchants (id),
  config jsonb NOT NULL CHECK (jsonb_typeof(config) = 'object' AND coalesce(jsonb_typeof(config -> 'rules'), 'missing') = 'array'),
  updated_at timestamptz NOT NULL DEFAULT now()
);
