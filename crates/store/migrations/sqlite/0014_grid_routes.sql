-- The generalist grid's patrol routes (巡查路线): a list of its own, planned per grid with a path,
-- a frequency and the worker who walks it; patrol logs name the route they followed. Same shape
-- as the other grid lists (body as JSON, events on stream grid_routes:ID).

CREATE TABLE grid_routes (
    id INTEGER PRIMARY KEY,
    city       TEXT NOT NULL,
    area       TEXT NOT NULL,     -- the grid's code
    status     TEXT NOT NULL,     -- active or retired
    person_id  BIGINT,            -- the grid worker who walks it
    created_at BIGINT NOT NULL,
    body       TEXT NOT NULL      -- JSON: name, path (GeoJSON LineString), per_week
);
CREATE INDEX grid_routes_area ON grid_routes (city, area, status);
CREATE INDEX grid_routes_person ON grid_routes (city, person_id);
