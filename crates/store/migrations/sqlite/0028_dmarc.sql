-- DMARC aggregate reports (RFC 7489 §7.2) as receivers mail them to dmarc@ (or as
-- `herald dmarc import` reads them): one row per report, one per <record> in it.
CREATE TABLE dmarc_reports (
    id               INTEGER PRIMARY KEY,
    org              TEXT NOT NULL,
    email            TEXT NOT NULL,
    report_id        TEXT NOT NULL,
    domain           TEXT NOT NULL,            -- the policy domain, lower-case
    policy           TEXT NOT NULL,            -- none | quarantine | reject | unspecified
    subdomain_policy TEXT NOT NULL,
    begin_at         INTEGER NOT NULL,         -- the period covered, UNIX ms
    end_at           INTEGER NOT NULL,
    received_at      INTEGER NOT NULL,
    source           TEXT NOT NULL,            -- 'mail' or 'file:<name>'
    -- A report mailed twice, or mailed and imported, is kept once.
    UNIQUE (org, report_id, domain)
);
CREATE INDEX dmarc_reports_domain_end ON dmarc_reports (domain, end_at);
CREATE INDEX dmarc_reports_end ON dmarc_reports (end_at);

CREATE TABLE dmarc_rows (
    report_id     INTEGER NOT NULL REFERENCES dmarc_reports(id) ON DELETE CASCADE,
    source_ip     TEXT NOT NULL,
    messages      INTEGER NOT NULL,
    disposition   TEXT NOT NULL,               -- none | quarantine | reject | pass | unspecified
    dkim          TEXT NOT NULL,               -- DMARC's (aligned) DKIM result: pass | fail | none
    spf           TEXT NOT NULL,
    header_from   TEXT NOT NULL,
    envelope_from TEXT NOT NULL,
    dkim_results  TEXT NOT NULL,               -- JSON [{domain, selector, result}]
    spf_results   TEXT NOT NULL                -- JSON [{domain, result}]
);
CREATE INDEX dmarc_rows_report ON dmarc_rows (report_id);
