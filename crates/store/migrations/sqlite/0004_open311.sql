-- Open311 GeoReport v2: API keys of client applications, tokens of requests, and the private
-- part of each request taken through Open311. Every table carries the tenant key `city`.

-- A key lets a client application report as its own "API client" person (role resident).
-- Only a SHA-256 of the key is kept; the key is shown once, by `gongzhi open311 key`.
CREATE TABLE open311_keys (
    city       TEXT NOT NULL,
    key_hash   TEXT NOT NULL,
    person_id  BIGINT NOT NULL,
    label      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (city, key_hash)
);
CREATE INDEX open311_keys_hash ON open311_keys (key_hash);

-- The token returned by POST requests, for GET tokens/{token}.
CREATE TABLE open311_tokens (
    city    TEXT NOT NULL,
    token   TEXT NOT NULL,
    case_id BIGINT NOT NULL,
    PRIMARY KEY (city, token)
);
CREATE INDEX open311_tokens_case ON open311_tokens (city, case_id);

-- What a request brought besides the case: the attribute answers, the reporter's e-mail,
-- device and account ids (private: never in public responses; name and phone go to
-- case_contacts), the media_url the client sent and the photo uploaded as `media` (public).
CREATE TABLE open311_requests (
    city         TEXT NOT NULL,
    case_id      BIGINT NOT NULL,
    service_code TEXT NOT NULL,
    attributes   TEXT NOT NULL,   -- JSON: code → value, or array for multivaluelist
    email        TEXT,
    device_id    TEXT,
    account_id   TEXT,
    media_url    TEXT,
    photo_id     BIGINT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (city, case_id)
);
CREATE INDEX open311_requests_photo ON open311_requests (city, photo_id);

-- GET requests searches by requested_datetime.
CREATE INDEX cases_created ON cases (city, created_at);
