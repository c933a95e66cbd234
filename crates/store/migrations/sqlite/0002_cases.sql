-- The case closed loop. Cases are event-sourced: `events` (stream case:ID) holds every change,
-- and the row in `cases` is the state folded from those events, written in the same transaction.

-- Editable documents per city: the category/dispatch catalogue and the working calendar (CSV).
CREATE TABLE documents (
    city       TEXT NOT NULL,
    name       TEXT NOT NULL,     -- catalogue | calendar
    version    BIGINT NOT NULL,
    body       TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (city, name)
);

CREATE TABLE cases (
    id          INTEGER PRIMARY KEY,
    city        TEXT NOT NULL,
    state       TEXT NOT NULL,
    source      TEXT NOT NULL,
    category    TEXT NOT NULL,
    condition   TEXT NOT NULL,
    grid        TEXT,             -- the grid of the location (NULL: in no grid)
    area        TEXT NOT NULL,    -- the smallest division responsible for the location
    lng         DOUBLE PRECISION NOT NULL,
    lat         DOUBLE PRECISION NOT NULL,
    description TEXT NOT NULL,
    unit_id     BIGINT,           -- the unit currently responsible
    deadline_at BIGINT,
    reporter_id BIGINT,           -- the person who reported it (residents see their own)
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL,  -- optimistic concurrency: bumped by every event
    snapshot    TEXT NOT NULL     -- JSON of the folded aggregate
);
CREATE INDEX cases_state ON cases (city, state, deadline_at);
CREATE INDEX cases_unit ON cases (city, unit_id, state);
CREATE INDEX cases_area ON cases (city, area, state);
CREATE INDEX cases_grid ON cases (city, grid, state);
CREATE INDEX cases_reporter ON cases (city, reporter_id);
CREATE INDEX cases_dup ON cases (city, category, state, lng);

-- Units a case involves besides the current one (吹哨报到 co-units), for their inboxes.
CREATE TABLE case_units (
    city    TEXT NOT NULL,
    case_id BIGINT NOT NULL,
    unit_id BIGINT NOT NULL,
    role    TEXT NOT NULL,        -- lead | co
    PRIMARY KEY (city, case_id, unit_id)
);
CREATE INDEX case_units_unit ON case_units (city, unit_id);

-- The reporter's contact details: private, never in public responses.
CREATE TABLE case_contacts (
    city    TEXT NOT NULL,
    case_id BIGINT NOT NULL,
    name    TEXT,
    phone   TEXT,
    PRIMARY KEY (city, case_id)
);

CREATE TABLE photos (
    id           INTEGER PRIMARY KEY,
    city         TEXT NOT NULL,
    case_id      BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    data         BLOB NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX photos_case ON photos (city, case_id);

-- Indicator counters, kept incrementally in the transaction of each event: one row per
-- dimension value and day (dim: unit, area, category, person), so that any indicator of one
-- dimension over a period is a short range scan. Columns are gongzhi_core::indicators::Counters.
CREATE TABLE counters (
    city   TEXT NOT NULL,
    dim    TEXT NOT NULL,
    key    TEXT NOT NULL,
    day    TEXT NOT NULL,         -- YYYY-MM-DD, Beijing time
    collected            BIGINT NOT NULL DEFAULT 0,
    registered           BIGINT NOT NULL DEFAULT 0,
    voided               BIGINT NOT NULL DEFAULT 0,
    dispatched           BIGINT NOT NULL DEFAULT 0,
    due_to_close         BIGINT NOT NULL DEFAULT 0,
    closed               BIGINT NOT NULL DEFAULT 0,
    closed_on_time       BIGINT NOT NULL DEFAULT 0,
    reworked             BIGINT NOT NULL DEFAULT 0,
    returned             BIGINT NOT NULL DEFAULT 0,
    extensions           BIGINT NOT NULL DEFAULT 0,
    overdue              BIGINT NOT NULL DEFAULT 0,
    followups_valid      BIGINT NOT NULL DEFAULT 0,
    contacted            BIGINT NOT NULL DEFAULT 0,
    solved               BIGINT NOT NULL DEFAULT 0,
    satisfied            BIGINT NOT NULL DEFAULT 0,
    basically_satisfied  BIGINT NOT NULL DEFAULT 0,
    dissatisfied         BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (city, dim, key, day)
);
