-- Micro-renewal proposals, council and participatory-budget votes (issue 11, items 3–5).
-- Every change also appends an event (streams renewal-proposal:ID, renewal-meeting:ID,
-- renewal-vote:ID, renewal-council:COMMUNITY).

-- A proposal (方案): the row holds what lists need; each version's full content is kept.
CREATE TABLE renewal_proposals (
    id            INTEGER PRIMARY KEY,
    city          TEXT NOT NULL,
    community     TEXT NOT NULL,
    cluster       BIGINT,
    author        BIGINT NOT NULL,
    status        TEXT NOT NULL,
    version       BIGINT NOT NULL,
    title         TEXT NOT NULL,
    budget_cents  BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX renewal_proposals_community ON renewal_proposals (city, community, id);

CREATE TABLE renewal_proposal_versions (
    city        TEXT NOT NULL,
    proposal    BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    content     TEXT NOT NULL,
    author      BIGINT,
    amendment   BIGINT,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (city, proposal, version)
);

-- Residents' amendments (修改建议) and the author's answers.
CREATE TABLE renewal_amendments (
    id            INTEGER PRIMARY KEY,
    city          TEXT NOT NULL,
    proposal      BIGINT NOT NULL,
    base_version  BIGINT NOT NULL,
    author        BIGINT NOT NULL,
    patch         TEXT NOT NULL,
    reason        TEXT NOT NULL,
    status        TEXT NOT NULL,
    answer        TEXT,
    answered_by   BIGINT,
    new_version   BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX renewal_amendments_proposal ON renewal_amendments (city, proposal, id);

-- The deliberation council (议事会) of a community, its meetings, positions and decisions.
CREATE TABLE renewal_council_members (
    id          INTEGER PRIMARY KEY,
    city        TEXT NOT NULL,
    community   TEXT NOT NULL,
    person      BIGINT,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL
);
CREATE INDEX renewal_council_members_community ON renewal_council_members (city, community, id);

CREATE TABLE renewal_meetings (
    id          INTEGER PRIMARY KEY,
    city        TEXT NOT NULL,
    community   TEXT NOT NULL,
    title       TEXT NOT NULL,
    held_at     BIGINT NOT NULL,
    quorum_num  BIGINT NOT NULL,
    quorum_den  BIGINT NOT NULL,
    agenda      TEXT NOT NULL,
    attendance  TEXT NOT NULL,
    minutes     TEXT NOT NULL,
    created_by  BIGINT NOT NULL
);
CREATE INDEX renewal_meetings_community ON renewal_meetings (city, community, id);

CREATE TABLE renewal_positions (
    city      TEXT NOT NULL,
    meeting   BIGINT NOT NULL,
    member    BIGINT NOT NULL,
    proposal  BIGINT NOT NULL,
    stance    TEXT NOT NULL,
    reason    TEXT NOT NULL,
    PRIMARY KEY (city, meeting, member, proposal)
);

CREATE TABLE renewal_decisions (
    city      TEXT NOT NULL,
    meeting   BIGINT NOT NULL,
    proposal  BIGINT NOT NULL,
    decision  TEXT NOT NULL,
    reason    TEXT NOT NULL,
    PRIMARY KEY (city, meeting, proposal)
);

-- Participatory-budget votes. Secrecy: renewal_voted records who voted (no ballot), and
-- renewal_ballots holds anonymous ballots under a random receipt (no voter, no time, no
-- sequence number), so nothing links the two.
CREATE TABLE renewal_votes (
    id          INTEGER PRIMARY KEY,
    city        TEXT NOT NULL,
    community   TEXT NOT NULL,
    setup       TEXT NOT NULL,
    opens_at    BIGINT NOT NULL,
    closes_at   BIGINT NOT NULL,
    finalised   BIGINT NOT NULL,
    created_by  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX renewal_votes_community ON renewal_votes (city, community, id);

CREATE TABLE renewal_voted (
    city     TEXT NOT NULL,
    vote     BIGINT NOT NULL,
    person   BIGINT NOT NULL,
    channel  TEXT NOT NULL,
    PRIMARY KEY (city, vote, person)
);

CREATE TABLE renewal_ballots (
    city          TEXT NOT NULL,
    vote          BIGINT NOT NULL,
    receipt       TEXT NOT NULL,
    ballot        TEXT NOT NULL,
    channel       TEXT NOT NULL,
    status        TEXT NOT NULL,
    entered_by    BIGINT,
    confirmed_by  BIGINT,
    PRIMARY KEY (city, vote, receipt)
);
