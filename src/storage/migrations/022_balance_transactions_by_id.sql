-- Balance transactions are listed per merchant newest first by their sortable id (keysetPage
-- orders by one unique key): this index makes each page one index range scan, however many items
-- the merchant has, instead of sorting all of them (019's list index is by created_at, id).
CREATE INDEX balance_transactions_merchant_id ON balance_transactions (merchant_id, id);
