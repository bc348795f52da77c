-- The dashboard's payments pages (issue 15, src/dashboard/queries): a filterable list paged by
-- keyset on (created_at, id) newest first, a search box, and one payment's timeline, each an
-- index range scan or a handful of index look-ups at 1,000,000 payments (bench/dashboard.ts).
--
-- How long the PSP took to answer an attempt's authorization (real time, measured around the
-- connector call in src/payments/service.ts); null for attempts made before this migration and
-- for attempts no PSP answered.
ALTER TABLE payment_attempts ADD COLUMN psp_latency_ms integer
  CHECK (psp_latency_ms IS NULL OR psp_latency_ms >= 0);

-- The list, newest first: every merchant's (operator) and one merchant's, with or without a
-- status. Several statuses are read as one ordered range per status, merged (queries/payments.ts).
-- The status indexes cost the status updates of a payment their HOT-ness (015_fillfactor.sql):
-- the price of a status filter that stays an index range at any table size.
CREATE INDEX payment_intents_created ON payment_intents (created_at, id);
CREATE INDEX payment_intents_merchant_created ON payment_intents (merchant_id, created_at, id);
CREATE INDEX payment_intents_status_created ON payment_intents (status, created_at, id);
CREATE INDEX payment_intents_merchant_status_created ON payment_intents (merchant_id, status, created_at, id);
-- An exact amount or a narrow range ("the customer paid 42.50"): found by amount, then sorted.
CREATE INDEX payment_intents_amount ON payment_intents (amount);
-- A connector or currency is usually common, and read as a filter on the ranges above; these two
-- serve the rare one (a connector just added, a currency nobody pays in), which the ranges would
-- scan to their end to find empty.
CREATE INDEX payment_intents_connector ON payment_intents (connector);
CREATE INDEX payment_intents_currency ON payment_intents (currency);

-- The search box: a card's last4 (its payment methods, then their payments), an email exactly
-- (case-insensitive: the receipt email, or the customer's).
CREATE INDEX payment_methods_last4 ON payment_methods (last4, merchant_id);
CREATE INDEX payment_intents_payment_method ON payment_intents (payment_method_id)
  WHERE payment_method_id IS NOT NULL;
CREATE INDEX payment_intents_receipt_email ON payment_intents (lower(receipt_email))
  WHERE receipt_email IS NOT NULL;
CREATE INDEX customers_email_lower ON customers (lower(email)) WHERE email IS NOT NULL;

-- The timeline: every delivery of a payment's events (webhook_deliveries_event_unfinished has
-- only the unfinished ones).
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
