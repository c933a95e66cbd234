-- The answer to a request sent with an Idempotency-Key, kept after it was given, so that a retry
-- of any create is answered alike (status, media type and body). Empty while the request runs,
-- or when the server stopped between storing the record and answering.
ALTER TABLE idempotency_keys ADD COLUMN status INTEGER;
ALTER TABLE idempotency_keys ADD COLUMN content_type TEXT;
ALTER TABLE idempotency_keys ADD COLUMN response TEXT;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
