-- Charges (issue 13): a charge is the view of one payment attempt (`ch_…` derived from the
-- attempt's id), so no table of its own. A merchant's charges are listed newest first by attempt id.
CREATE INDEX payment_attempts_merchant ON payment_attempts (merchant_id, id);

-- A refund may be canceled while it has not been sent to the PSP (Stripe's status `canceled`).
-- sent_at: when the refund was claimed for sending; from then on it may have reached the PSP and
-- can no longer be canceled (a cancel would otherwise release money the PSP may refund).
ALTER TABLE refunds DROP CONSTRAINT refunds_status_check;
ALTER TABLE refunds
  ADD CONSTRAINT refunds_status_check CHECK (status IN ('pending', 'succeeded', 'failed', 'canceled')),
  ADD COLUMN sent_at timestamptz;

-- A refund of an uncaptured payment (Stripe: refunding a requires_capture PaymentIntent cancels
-- it): nothing was captured, so nothing is reserved or posted; the authorization is released by
-- canceling the intent, and the refund records it for the charge (amount_refunded, refunds).
ALTER TABLE refunds ADD COLUMN releases_authorization boolean NOT NULL DEFAULT false;
