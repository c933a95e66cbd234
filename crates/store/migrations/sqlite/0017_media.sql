-- One media store (issue 17, item 3): every stored file — case photos, need photos, survey
-- photos and other attachments, milestone photos, proposal attachments — is a row here, served
-- at /media/{id}. `owner` says what it belongs to ('case:12', 'need:4', 'initiative:5:unit:A-1',
-- 'milestone:3:7', 'proposal:9'); who may read it is decided by the owner's module, except that a
-- `public` file is anyone's. `legacy` keeps where a moved row came from ('photos:17',
-- 'renewal_need_photos:4', 'attachments:8', 'documents:renewal_photo:3:7:1') so that old URLs
-- and past events resolve. Rows moved here have sha256 NULL until the store's first start
-- re-reads them (type from the bytes, metadata stripped, hash); documents kept as base64 text are
-- decoded and moved then too (SQL cannot decode base64 on SQLite).

CREATE TABLE media (
    id INTEGER PRIMARY KEY,
    city         TEXT NOT NULL,
    kind         TEXT NOT NULL,      -- photo | document
    content_type TEXT NOT NULL,      -- decided from the bytes
    size         BIGINT NOT NULL,
    sha256       TEXT,
    data         BLOB NOT NULL,
    owner        TEXT NOT NULL,
    public       BIGINT NOT NULL DEFAULT 0,
    legacy       TEXT,
    created_at   BIGINT NOT NULL,
    created_by   BIGINT
);
CREATE INDEX media_owner ON media (city, owner);
CREATE INDEX media_legacy ON media (city, legacy);

INSERT INTO media (city, kind, content_type, size, data, owner, public, legacy, created_at, created_by)
SELECT p.city, 'photo', p.content_type, p.size, p.data, 'case:' || p.case_id,
       CASE WHEN EXISTS (SELECT 1 FROM open311_requests r WHERE r.city = p.city AND r.photo_id = p.id) THEN 1 ELSE 0 END,
       'photos:' || p.id, p.created_at, NULL
  FROM photos p ORDER BY p.id;

INSERT INTO media (city, kind, content_type, size, data, owner, public, legacy, created_at, created_by)
SELECT city, 'photo', content_type, size, data, 'need:' || need_id, 0, 'renewal_need_photos:' || id, created_at, NULL
  FROM renewal_need_photos ORDER BY id;

INSERT INTO media (city, kind, content_type, size, data, owner, public, legacy, created_at, created_by)
SELECT city, CASE WHEN content_type LIKE 'image/%' THEN 'photo' ELSE 'document' END, content_type, size, data,
       owner, 0, 'attachments:' || id, created_at, person_id
  FROM attachments ORDER BY id;

UPDATE open311_requests SET photo_id = (
    SELECT m.id FROM media m WHERE m.city = open311_requests.city AND m.legacy = 'photos:' || open311_requests.photo_id
) WHERE photo_id IS NOT NULL;

DROP TABLE photos;
DROP TABLE renewal_need_photos;
DROP TABLE attachments;
