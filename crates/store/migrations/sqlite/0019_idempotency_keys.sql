-- A create sent again with the same Idempotency-Key by the same person returns the record the
-- first one made (a client retrying after a cut connection creates nothing twice). The key is
-- stored in the transaction that creates the record. Not a record itself (no event).
CREATE TABLE idempotency_keys (
    city TEXT NOT NULL,
    person_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    record TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (city, person_id, key)
);
