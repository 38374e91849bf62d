-- Herald schema v1 (SQLite). Times are integer milliseconds since the Unix epoch (UTC).
CREATE TABLE lists (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE contacts (
    id          INTEGER PRIMARY KEY,
    email       TEXT NOT NULL,            -- as first spelled; what is sent to
    email_key   TEXT NOT NULL UNIQUE,     -- lower-case comparison key
    fields      TEXT NOT NULL DEFAULT '{}', -- JSON object of personalisation fields
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE list_members (
    list_id     INTEGER NOT NULL REFERENCES lists(id),
    contact_id  INTEGER NOT NULL REFERENCES contacts(id),
    PRIMARY KEY (list_id, contact_id)
) WITHOUT ROWID;

CREATE TABLE suppressions (
    email_key   TEXT PRIMARY KEY,
    reason      TEXT NOT NULL,            -- a NotSentReason
    source      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE campaigns (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    list_id       INTEGER NOT NULL REFERENCES lists(id),
    from_name     TEXT,
    from_address  TEXT NOT NULL,
    subject       TEXT NOT NULL,
    html          TEXT NOT NULL,
    text          TEXT,
    status        TEXT NOT NULL,          -- draft | sending | sent
    created_at    INTEGER NOT NULL,
    started_at    INTEGER,
    finished_at   INTEGER
);

CREATE TABLE deliveries (
    id                 INTEGER PRIMARY KEY,
    campaign_id        INTEGER NOT NULL REFERENCES campaigns(id),
    contact_id         INTEGER REFERENCES contacts(id),
    email              TEXT NOT NULL,
    email_key          TEXT NOT NULL,
    domain             TEXT NOT NULL,
    state              TEXT NOT NULL,
    reason             TEXT,
    hard               INTEGER NOT NULL DEFAULT 0,
    attempts           INTEGER NOT NULL DEFAULT 0,
    message_id         TEXT NOT NULL,
    next_attempt_at    INTEGER,
    first_attempt_at   INTEGER,
    lease_owner        TEXT,
    lease_until        INTEGER,
    possible_duplicate INTEGER NOT NULL DEFAULT 0,
    last_attempt_id    INTEGER,
    updated_at         INTEGER NOT NULL,
    UNIQUE (campaign_id, email_key)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('queued', 'deferred');
CREATE INDEX deliveries_campaign_state ON deliveries (campaign_id, state);
CREATE INDEX deliveries_lease ON deliveries (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE INDEX deliveries_email_key ON deliveries (email_key, state);

-- Append-only evidence of every SMTP attempt.
CREATE TABLE attempts (
    id               INTEGER PRIMARY KEY,
    delivery_id      INTEGER NOT NULL REFERENCES deliveries(id),
    campaign_id      INTEGER NOT NULL,
    outcome          TEXT NOT NULL,        -- delivered | deferred | bounced | failed
    reason           TEXT,
    started_at       INTEGER NOT NULL,
    ended_at         INTEGER NOT NULL,
    evidence         TEXT NOT NULL         -- JSON of herald_domain::Evidence
);
CREATE INDEX attempts_delivery ON attempts (delivery_id);
