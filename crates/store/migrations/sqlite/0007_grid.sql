-- The generalist grid (全科网格): grid teams, alliances, households, the three lists (needs,
-- resources, projects), patrols, visits, activities, volunteer service and the points ledger.
-- Each record keeps the columns it is found by and its full body as JSON; every change appends
-- its event (stream grid_<table>:ID) in the same transaction.

CREATE TABLE grid_members (
    id INTEGER PRIMARY KEY,
    city       TEXT NOT NULL,
    area       TEXT NOT NULL,     -- the grid's code (or a community's, for community-wide records)
    status     TEXT NOT NULL,
    person_id  BIGINT,            -- the person it concerns (member, raiser, worker), if any
    created_at BIGINT NOT NULL,
    body       TEXT NOT NULL      -- JSON of the record
);
CREATE INDEX grid_members_area ON grid_members (city, area, status);
CREATE INDEX grid_members_person ON grid_members (city, person_id);

CREATE TABLE grid_alliances (
    id INTEGER PRIMARY KEY,
    city       TEXT NOT NULL,
    area       TEXT NOT NULL,     -- the grid's code (or a community's, for community-wide records)
    status     TEXT NOT NULL,
    person_id  BIGINT,            -- the person it concerns (member, raiser, worker), if any
    created_at BIGINT NOT NULL,
    body       TEXT NOT NULL      -- JSON of the record
);
CREATE INDEX grid_alliances_area ON grid_alliances (city, area, status);
CREATE INDEX grid_alliances_person ON grid_alliances (city, person_id);

CREATE TABLE grid_households (
    id INTEGER PRIMARY KEY,
    city       TEXT NOT NULL,
    area       TEXT NOT NULL,     -- the grid's code (or a community's, for community-wide records)
    status     TEXT NOT NULL,
    person_id  BIGINT,            -- the person it concerns (member, raiser, worker), if any
    created_at BIGINT NOT NULL,
    body       TEXT NOT NULL      -- JSON of the record
);
CREATE INDEX grid_households_area ON grid_households (city, area, status);
CREATE INDEX grid_households_person ON grid_households (city, person_id);

CREATE TABLE grid_needs (
    id INTEGER PRIMARY KEY,
    city       TEXT NOT NULL,
    area       TEXT NOT NULL,     -- the grid's code (or a community's, for community-wide records)
    status     TEXT NOT NULL,
    person_id  BIGINT,            -- the person it concerns (member, raiser, worker), if any
    created_at BIGINT NOT NULL,
    body       TEXT NOT NULL      -- JSON of the record
);
CREATE INDEX grid_needs_area ON grid_needs (city, area, status);
CREATE INDEX grid_needs_person ON grid_needs (city, person_id);

CREATE TABLE grid_resources (
    id INTEGER PRIMARY KEY,
    city       TEXT NOT NULL,
    area       TEXT NOT NULL,     -- the grid's code (or a community's, for community-wide records)
    status     TEXT NOT NULL,
    person_id  BIGINT,            -- the person it concerns (member, raiser, worker), if any
    created_at BIGINT NOT NULL,
    body       TEXT NOT NULL      -- JSON of the record
);
CREATE INDEX grid_resources_area ON grid_resources (city, area, status);
CREATE INDEX grid_resources_person ON grid_resources (city, person_id);

CREATE TABLE grid_projects (
    id INTEGER PRIMARY KEY,
    city       TEXT NOT NULL,
    area       TEXT NOT NULL,     -- the grid's code (or a community's, for community-wide records)
    status     TEXT NOT NULL,
    person_id  BIGINT,            -- the person it concerns (member, raiser, worker), if any
    created_at BIGINT NOT NULL,
    body       TEXT NOT NULL      -- JSON of the record
);
CREATE INDEX grid_projects_area ON grid_projects (city, area, status);
CREATE INDEX grid_projects_person ON grid_projects (city, person_id);

CREATE TABLE grid_patrols (
    id INTEGER PRIMARY KEY,
    city       TEXT NOT NULL,
    area       TEXT NOT NULL,     -- the grid's code (or a community's, for community-wide records)
    status     TEXT NOT NULL,
    person_id  BIGINT,            -- the person it concerns (member, raiser, worker), if any
    created_at BIGINT NOT NULL,
    body       TEXT NOT NULL      -- JSON of the record
);
CREATE INDEX grid_patrols_area ON grid_patrols (city, area, status);
CREATE INDEX grid_patrols_person ON grid_patrols (city, person_id);

CREATE TABLE grid_visits (
    id INTEGER PRIMARY KEY,
    city       TEXT NOT NULL,
    area       TEXT NOT NULL,     -- the grid's code (or a community's, for community-wide records)
    status     TEXT NOT NULL,
    person_id  BIGINT,            -- the person it concerns (member, raiser, worker), if any
    created_at BIGINT NOT NULL,
    body       TEXT NOT NULL      -- JSON of the record
);
CREATE INDEX grid_visits_area ON grid_visits (city, area, status);
CREATE INDEX grid_visits_person ON grid_visits (city, person_id);

CREATE TABLE grid_activities (
    id INTEGER PRIMARY KEY,
    city       TEXT NOT NULL,
    area       TEXT NOT NULL,     -- the grid's code (or a community's, for community-wide records)
    status     TEXT NOT NULL,
    person_id  BIGINT,            -- the person it concerns (member, raiser, worker), if any
    created_at BIGINT NOT NULL,
    body       TEXT NOT NULL      -- JSON of the record
);
CREATE INDEX grid_activities_area ON grid_activities (city, area, status);
CREATE INDEX grid_activities_person ON grid_activities (city, person_id);

CREATE TABLE grid_volunteering (
    id INTEGER PRIMARY KEY,
    city       TEXT NOT NULL,
    area       TEXT NOT NULL,     -- the grid's code (or a community's, for community-wide records)
    status     TEXT NOT NULL,
    person_id  BIGINT,            -- the person it concerns (member, raiser, worker), if any
    created_at BIGINT NOT NULL,
    body       TEXT NOT NULL      -- JSON of the record
);
CREATE INDEX grid_volunteering_area ON grid_volunteering (city, area, status);
CREATE INDEX grid_volunteering_person ON grid_volunteering (city, person_id);

-- The points ledger (积分): append-only; redemptions are negative lines.
CREATE TABLE points_ledger (
    id INTEGER PRIMARY KEY,
    city       TEXT NOT NULL,
    person_id  BIGINT NOT NULL,
    delta      BIGINT NOT NULL,
    action     TEXT NOT NULL,
    reference  TEXT NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX points_ledger_person ON points_ledger (city, person_id, id);
