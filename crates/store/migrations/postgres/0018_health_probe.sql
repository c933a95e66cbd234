-- One row per city that /api/health rewrites to prove the database can still commit a write.
-- Not a record (no event): a probe of the storage itself.
CREATE TABLE health_probe (
    city TEXT NOT NULL PRIMARY KEY,
    checked_at BIGINT NOT NULL
);
