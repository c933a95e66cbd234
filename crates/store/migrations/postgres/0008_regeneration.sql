-- Urban regeneration (城市更新, 柔性协调): projects, their rights holders (协调对象) with holdings of
-- premises units, governance resources (治理资源), append-only contacts and decisions. Areas in
-- hundredths of a square metre; configuration (catalogue, scenario rule, pressure guard, consent
-- rule sets) as JSON data. Every change also appends an event (stream `regen:<project>`).

CREATE TABLE regen_projects (
    city       TEXT NOT NULL,
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    community  TEXT NOT NULL,
    config     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (city, code)
);

CREATE TABLE regen_holders (
    city            TEXT NOT NULL,
    project         TEXT NOT NULL,
    code            TEXT NOT NULL,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    members         BIGINT NOT NULL,
    contested       BIGINT NOT NULL,
    representatives TEXT NOT NULL,
    sticking        TEXT NOT NULL,
    organisation_override TEXT,
    scenario_override     TEXT,
    PRIMARY KEY (city, project, code)
);

CREATE TABLE regen_holdings (
    city         TEXT NOT NULL,
    project      TEXT NOT NULL,
    holder       TEXT NOT NULL,
    unit         TEXT NOT NULL,
    area         BIGINT NOT NULL,
    common_share BIGINT NOT NULL,
    PRIMARY KEY (city, project, unit)
);
CREATE INDEX regen_holdings_holder ON regen_holdings (city, project, holder);

CREATE TABLE regen_resources (
    city      TEXT NOT NULL,
    project   TEXT NOT NULL,
    code      TEXT NOT NULL,
    name      TEXT NOT NULL,
    kind      TEXT NOT NULL,
    category  TEXT NOT NULL,
    holder    TEXT NOT NULL,
    capacity  BIGINT,
    cost      BIGINT NOT NULL,
    addresses TEXT NOT NULL,
    scarce    BIGINT NOT NULL,
    PRIMARY KEY (city, project, code)
);

CREATE TABLE regen_contacts (
    city      TEXT NOT NULL,
    project   TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    holder    TEXT NOT NULL,
    at        TEXT NOT NULL,
    staff     TEXT NOT NULL,
    resources TEXT NOT NULL,
    stance_before TEXT NOT NULL,
    stance_after  TEXT NOT NULL,
    next_step TEXT NOT NULL,
    warnings  TEXT NOT NULL,
    recorder  BIGINT,
    PRIMARY KEY (city, project, seq)
);
CREATE INDEX regen_contacts_holder ON regen_contacts (city, project, holder, at);

CREATE TABLE regen_decisions (
    city      TEXT NOT NULL,
    project   TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    holder    TEXT NOT NULL,
    choice    TEXT,
    date      TEXT NOT NULL,
    evidence  TEXT NOT NULL,
    recorder  TEXT NOT NULL,
    PRIMARY KEY (city, project, seq)
);
CREATE INDEX regen_decisions_holder ON regen_decisions (city, project, holder, seq);
