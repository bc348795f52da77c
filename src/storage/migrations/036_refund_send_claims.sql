-- How many requests have claimed a refund for sending (src/payments/refunds.ts #claim). A call
-- the connector refused (nothing sent) may give its claim back, so that the refund can be
-- canceled again, only while it is the refund's one claim: when two requests claimed it, the
-- other may have reached the PSP, and a cancel then could refund twice.
ALTER TABLE refunds ADD COLUMN send_claims integer NOT NULL DEFAULT 0 CHECK (send_claims >= 0);
UPDATE refunds SET send_claims = 1 WHERE sent_at IS NOT NULL;
ALTER TABLE refunds ADD CONSTRAINT refunds_sent_claimed CHECK ((sent_at IS NULL) = (send_claims = 0));
