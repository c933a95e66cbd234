-- Comments (讨论) of residents and staff on micro-renewal proposals. Each also appends the event
-- comment_added to the proposal's stream (renewal-proposal:ID).
CREATE TABLE renewal_comments (
    id          INTEGER PRIMARY KEY,
    city        TEXT NOT NULL,
    proposal    BIGINT NOT NULL,
    author      BIGINT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX renewal_comments_proposal ON renewal_comments (city, proposal, id);
