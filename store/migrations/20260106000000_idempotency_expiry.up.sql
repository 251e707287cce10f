-- Idempotency keys expire (store.DefaultIdempotencyTTL): lookups ignore
-- the old ones and a periodic job deletes them by age.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
