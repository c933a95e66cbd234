-- Wicked-problem initiatives (棘手问题专项): the row holds what lists and access need; the
-- initiative itself is the fold of its events (stream initiative:ID in the one event log).
CREATE TABLE initiatives (
    id          INTEGER PRIMARY KEY,
    city        TEXT NOT NULL,
    name        TEXT NOT NULL,
    problem     TEXT NOT NULL,
    community   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL
);
CREATE INDEX initiatives_city ON initiatives (city, community, id);

CREATE TABLE initiative_members (
    city        TEXT NOT NULL,
    initiative  BIGINT NOT NULL,
    person      BIGINT NOT NULL,
    side        TEXT NOT NULL,
    PRIMARY KEY (city, initiative, person)
);
CREATE INDEX initiative_members_person ON initiative_members (city, person);
