-- Attachments (photos, documents) of records other than cases: each belongs to an owner key such
-- as 'initiative:5:unit:A-1-101'. Who may read one is decided by the owner's module; adding one
-- appends an event on the stream '<owner>:attachments' in the same transaction.

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    city         TEXT NOT NULL,
    owner        TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    data         BLOB NOT NULL,
    person_id    BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX attachments_owner ON attachments (city, owner);
