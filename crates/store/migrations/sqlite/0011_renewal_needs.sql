-- Co-produced micro-renewal (社区微更新), items 1-2 of issue 11: needs and their integration.
-- Needs themselves are rows of grid_needs (the one needs list, with the renewal categories and
-- the evidence cases in their body); this adds their photos and their clusters (需求整合).

-- Photos of a need, stored as case photos are (event stream grid_needs:ID:photos).
CREATE TABLE renewal_need_photos (
    id INTEGER PRIMARY KEY,
    city         TEXT NOT NULL,
    need_id      BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    data         BLOB NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX renewal_need_photos_need ON renewal_need_photos (city, need_id);

-- Clusters of near-duplicate needs of a community. The row is the state folded from the events
-- of stream renewal_cluster:ID (created, needs added, renamed, absorbed, merged into, split),
-- rewritten in the transaction that appends each event.
CREATE TABLE renewal_clusters (
    id INTEGER PRIMARY KEY,
    city        TEXT NOT NULL,
    community   TEXT NOT NULL,     -- the community's division code
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,     -- active | merged
    merged_into BIGINT,            -- the cluster it was merged into
    needs       TEXT NOT NULL,     -- JSON array of need ids (grid_needs), sorted
    version     BIGINT NOT NULL,   -- the number of events of its stream
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX renewal_clusters_community ON renewal_clusters (city, community, status);

-- Current membership, one row per need in an active cluster: a need is in one cluster at most.
CREATE TABLE renewal_cluster_needs (
    city       TEXT NOT NULL,
    need_id    BIGINT NOT NULL,
    cluster_id BIGINT NOT NULL,
    community  TEXT NOT NULL,
    PRIMARY KEY (city, need_id)
);
CREATE INDEX renewal_cluster_needs_cluster ON renewal_cluster_needs (city, cluster_id);
CREATE INDEX renewal_cluster_needs_community ON renewal_cluster_needs (city, community);
