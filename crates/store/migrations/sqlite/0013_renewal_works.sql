-- Co-produced micro-renewal, part 3 (issue 11 items 6 and 7): department works, accepted bundles
-- of works and delivery projects (项目整合), delivery projects (共建项目) with milestones, spending,
-- contributions, upkeep commitments with check-ins and the residents' acceptance answers (验收).
-- Dates are ISO days (TEXT), money integer cents, geometries GeoJSON (WGS-84). Every change also
-- appends an event (streams renewal_work:ID, renewal_delivery:ID, renewal_bundle:ID).

CREATE TABLE renewal_works (
    id           INTEGER PRIMARY KEY,
    city         TEXT NOT NULL,
    community    TEXT NOT NULL,
    department   BIGINT NOT NULL,
    reference    TEXT NOT NULL,
    title        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    geometry     TEXT NOT NULL,
    date_from    TEXT NOT NULL,
    date_to      TEXT NOT NULL,
    budget_cents BIGINT NOT NULL,
    bundle       BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX renewal_works_ref ON renewal_works (city, department, reference);
CREATE INDEX renewal_works_community ON renewal_works (city, community);

CREATE TABLE renewal_deliveries (
    id           INTEGER PRIMARY KEY,
    city         TEXT NOT NULL,
    community    TEXT NOT NULL,
    proposal     BIGINT,
    title        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    geometry     TEXT NOT NULL,
    date_from    TEXT NOT NULL,
    date_to      TEXT NOT NULL,
    budget_cents BIGINT NOT NULL,
    bundle       BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX renewal_deliveries_community ON renewal_deliveries (city, community);

CREATE TABLE renewal_bundles (
    id           INTEGER PRIMARY KEY,
    city         TEXT NOT NULL,
    community       TEXT NOT NULL,
    lead            TEXT NOT NULL,
    lead_department BIGINT,
    body            TEXT NOT NULL,
    params          TEXT NOT NULL,
    accepted_at     BIGINT NOT NULL
);
CREATE INDEX renewal_bundles_community ON renewal_bundles (city, community);

CREATE TABLE renewal_milestones (
    id           INTEGER PRIMARY KEY,
    city         TEXT NOT NULL,
    delivery     BIGINT NOT NULL,
    title        TEXT NOT NULL,
    due          TEXT NOT NULL,
    done         TEXT,
    photos       TEXT NOT NULL,
    supervision  BIGINT NOT NULL
);
CREATE INDEX renewal_milestones_delivery ON renewal_milestones (city, delivery);

CREATE TABLE renewal_spending (
    id           INTEGER PRIMARY KEY,
    city         TEXT NOT NULL,
    delivery     BIGINT NOT NULL,
    amount_cents BIGINT NOT NULL,
    note         TEXT NOT NULL,
    day          TEXT NOT NULL
);
CREATE INDEX renewal_spending_delivery ON renewal_spending (city, delivery);

CREATE TABLE renewal_contributions (
    id           INTEGER PRIMARY KEY,
    city         TEXT NOT NULL,
    delivery     BIGINT NOT NULL,
    contributor  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    person       BIGINT,
    organisation BIGINT,
    hours_tenths BIGINT NOT NULL,
    money_cents  BIGINT NOT NULL,
    materials    TEXT NOT NULL,
    day          TEXT NOT NULL
);
CREATE INDEX renewal_contributions_delivery ON renewal_contributions (city, delivery);

CREATE TABLE renewal_upkeep (
    id           INTEGER PRIMARY KEY,
    city         TEXT NOT NULL,
    delivery     BIGINT NOT NULL,
    who          TEXT NOT NULL,
    what         TEXT NOT NULL,
    every_days   BIGINT NOT NULL,
    date_from    TEXT NOT NULL
);
CREATE INDEX renewal_upkeep_delivery ON renewal_upkeep (city, delivery);

CREATE TABLE renewal_checkins (
    id           INTEGER PRIMARY KEY,
    city         TEXT NOT NULL,
    upkeep       BIGINT NOT NULL,
    day          TEXT NOT NULL,
    ok           BIGINT NOT NULL,
    note         TEXT NOT NULL
);
CREATE INDEX renewal_checkins_upkeep ON renewal_checkins (city, upkeep);

CREATE TABLE renewal_acceptance (
    city         TEXT NOT NULL,
    delivery     BIGINT NOT NULL,
    person       BIGINT NOT NULL,
    satisfaction TEXT NOT NULL,
    solved       BIGINT NOT NULL,
    comment      TEXT NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (city, delivery, person)
);
