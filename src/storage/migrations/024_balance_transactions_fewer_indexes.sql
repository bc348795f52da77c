-- Settlement items are rewritten at every state change (batched, accepted, available), and each
-- rewrite adds an entry to every index of balance_transactions (the changed columns are indexed,
-- so no update is HOT). 019's list index on (merchant_id, created_at DESC, id DESC) serves no query
-- since lists page by id (022's (merchant_id, id)): dropping it saves one index entry per write
-- (benchmark: npm run bench:settlement, docs/benchmarks.md).
DROP INDEX balance_transactions_list;
