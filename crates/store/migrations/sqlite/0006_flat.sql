-- Flat governance (issue 7). The responsibility lists (权责清单) are an editable document
-- ("responsibilities" in `documents`); the hierarchy mode is the setting "hierarchy".

-- Forms and reports demanded from grassroots units by higher ones (填表报数), with the hours
-- they took: part of the grassroots workload.
CREATE TABLE flat_demands (
    id          INTEGER PRIMARY KEY,
    city        TEXT NOT NULL,
    unit_area   TEXT NOT NULL,    -- the street or community the form was demanded from
    demanded_by TEXT NOT NULL,
    title       TEXT NOT NULL,
    due_at      BIGINT NOT NULL,
    hours_spent DOUBLE PRECISION NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX flat_demands_area ON flat_demands (city, unit_area, due_at);

-- Workers of a community from a day on (staff over time, for staff-to-matter ratios and the
-- early warning). Without a record, the people of the community committee are counted.
CREATE TABLE flat_staffing (
    city      TEXT NOT NULL,
    community TEXT NOT NULL,
    from_day  TEXT NOT NULL,      -- YYYY-MM-DD (Beijing)
    workers   BIGINT NOT NULL,
    PRIMARY KEY (city, community, from_day)
);

-- Steps taken per worker in a period (workload per worker): events by kind and time.
CREATE INDEX events_kind_at ON events (city, kind, at);
