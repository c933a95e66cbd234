-- Premises (房屋): buildings and their units, shared by the generalist grid, wicked-problem
-- initiatives and urban regeneration. Floor areas in hundredths of a square metre (exact).

CREATE TABLE buildings (
    city       TEXT NOT NULL,
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    community  TEXT NOT NULL,
    grid       TEXT,
    address    TEXT,
    lng        DOUBLE PRECISION,
    lat        DOUBLE PRECISION,
    floors     INTEGER,
    PRIMARY KEY (city, code)
);
CREATE INDEX buildings_community ON buildings (city, community, code);
CREATE INDEX buildings_grid ON buildings (city, grid, code);

CREATE TABLE units (
    city       TEXT NOT NULL,
    code       TEXT NOT NULL,
    building   TEXT NOT NULL,
    label      TEXT NOT NULL,
    floor      INTEGER NOT NULL,
    area       BIGINT NOT NULL,
    unit_use   TEXT NOT NULL,
    PRIMARY KEY (city, code)
);
CREATE INDEX units_building ON units (city, building, floor, code);
