-- Foundation: settings, territory, organisations, people, accounts, the event log.
-- Every table carries the tenant key `city` (a 6-digit city code such as 510100) so that a
-- large deployment can shard by city. Times are Unix milliseconds (UTC).

CREATE TABLE settings (
    city  TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (city, key)
);

-- GB/T 2260 divisions: city, district, street/town, community/village.
CREATE TABLE divisions (
    city     TEXT NOT NULL,
    code     TEXT NOT NULL,
    name     TEXT NOT NULL,
    level    TEXT NOT NULL,
    parent   TEXT,
    boundary TEXT,            -- GeoJSON geometry (WGS-84), when known
    PRIMARY KEY (city, code)
);
CREATE INDEX divisions_parent ON divisions (city, parent, code);

-- Unit grids and micro-grids.
CREATE TABLE grids (
    city       TEXT NOT NULL,
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    community  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    households BIGINT NOT NULL,
    population BIGINT NOT NULL,
    geometry   TEXT NOT NULL,  -- GeoJSON geometry (WGS-84)
    min_lng    DOUBLE PRECISION NOT NULL,
    min_lat    DOUBLE PRECISION NOT NULL,
    max_lng    DOUBLE PRECISION NOT NULL,
    max_lat    DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (city, code)
);
CREATE INDEX grids_community ON grids (city, community, code);

CREATE TABLE organisations (
    id           INTEGER PRIMARY KEY,
    city         TEXT NOT NULL,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    parent_id    BIGINT,
    jurisdiction TEXT NOT NULL  -- division codes joined by ';'
);
CREATE INDEX organisations_city ON organisations (city, kind);

CREATE TABLE people (
    id     INTEGER PRIMARY KEY,
    city   TEXT NOT NULL,
    name   TEXT NOT NULL,
    phone  TEXT,                -- private: never in public responses
    org_id BIGINT
);
CREATE INDEX people_city ON people (city, org_id);

-- Role grants: a role held within a scope (see gongzhi_core::access::Scope::encode).
CREATE TABLE grants (
    city      TEXT NOT NULL,
    person_id BIGINT NOT NULL,
    role      TEXT NOT NULL,
    scope     TEXT NOT NULL,
    PRIMARY KEY (city, person_id, role, scope)
);

CREATE TABLE accounts (
    city          TEXT NOT NULL,
    username      TEXT NOT NULL,
    person_id     BIGINT NOT NULL,
    password_hash TEXT NOT NULL,  -- argon2id PHC string
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (city, username)
);
CREATE INDEX accounts_username ON accounts (username);

-- Login sessions (web) and API tokens; only a SHA-256 of the token is kept.
CREATE TABLE tokens (
    city       TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    person_id  BIGINT NOT NULL,
    kind       TEXT NOT NULL,   -- session | api
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (city, token_hash)
);

-- The one event log: every change to a record is an immutable event in the same transaction.
CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    city    TEXT NOT NULL,
    stream  TEXT NOT NULL,      -- e.g. grid:510104001001001, case:42
    kind    TEXT NOT NULL,
    actor   BIGINT,
    role    TEXT,
    at      BIGINT NOT NULL,
    reason  TEXT,
    payload TEXT NOT NULL       -- JSON
);
CREATE INDEX events_stream ON events (city, stream, id);
