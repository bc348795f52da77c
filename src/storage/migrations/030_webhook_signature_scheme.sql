-- A merchant's webhook endpoint may be signed the way Stripe signs (`Stripe-Signature:
-- t=<seconds>,v1=<hex HMAC-SHA256 of "t.body">`), so that an integration written for Stripe
-- verifies Payrail's webhooks with `stripe.webhooks.constructEvent` unchanged; Standard Webhooks
-- stays the default (issue 13). The API version a Stripe integration names is kept as given.
ALTER TABLE webhook_endpoints
  ADD COLUMN signature_scheme text NOT NULL DEFAULT 'standard_webhooks'
    CHECK (signature_scheme IN ('standard_webhooks', 'stripe')),
  ADD COLUMN api_version text
    CHECK (api_version IS NULL OR api_version ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}(\.[a-z]{1,20})?$');
