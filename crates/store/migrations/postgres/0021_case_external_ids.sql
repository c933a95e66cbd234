-- Imported cases by their natural key (issue 20): the case's external id (the 12345 hotline's or
-- 数字城管's case number, column `external_id` of `cases import`), or for a row without one its
-- content. A re-import finds the case it created and adds it no second time. Written in the
-- transaction that creates the case; the creation is the case's own events, and each key is
-- recorded by a `case_imported` event.
CREATE TABLE case_external_ids (
    city TEXT NOT NULL,
    external_id TEXT NOT NULL,
    case_id BIGINT NOT NULL,
    PRIMARY KEY (city, external_id)
);
