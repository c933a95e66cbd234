-- The log of reads of personal data (个人信息保护法): every time someone other than the person
-- themselves is shown a reporter's contact details or a grid's household register, who, when,
-- which record and where (the route or page). Append-only; read by data-protection officers.
-- Not a change to a record, so no event.
CREATE TABLE personal_data_reads (
    id BIGSERIAL PRIMARY KEY,
    city TEXT NOT NULL,
    at BIGINT NOT NULL,
    reader BIGINT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    purpose TEXT NOT NULL
);
CREATE INDEX personal_data_reads_at ON personal_data_reads (city, at);
CREATE INDEX personal_data_reads_subject ON personal_data_reads (city, subject);
