-- Feedback from the receiving side: events per delivery, the inbound messages they came from,
-- and the history of the suppression list.

-- What happened to a message after the SMTP transaction: async_bounce, complaint, autoreply
-- (later: open, click, unsubscribe, placement). Append-only.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    delivery_id  INTEGER NOT NULL REFERENCES deliveries(id),
    campaign_id  INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    at           INTEGER NOT NULL,
    detail       TEXT NOT NULL DEFAULT '{}'   -- JSON
);
CREATE INDEX events_delivery ON events (delivery_id);
CREATE INDEX events_campaign_kind ON events (campaign_id, kind);

-- Every message the inbound listener accepted, kept raw for inspection.
CREATE TABLE inbound_messages (
    id           INTEGER PRIMARY KEY,
    received_at  INTEGER NOT NULL,
    mail_from    TEXT NOT NULL,
    rcpt_to      TEXT NOT NULL,
    delivery_id  INTEGER,                     -- matched delivery, if any
    kind         TEXT NOT NULL,               -- dsn | arf | autoreply | not_bounce | dmarc
    summary      TEXT NOT NULL DEFAULT '{}',  -- JSON of the classification
    raw          BLOB NOT NULL
);

-- Additions to and removals from the suppression list, with who did it.
CREATE TABLE suppression_log (
    id          INTEGER PRIMARY KEY,
    email_key   TEXT NOT NULL,
    action      TEXT NOT NULL,   -- add | remove
    reason      TEXT NOT NULL,
    source      TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX suppression_log_key ON suppression_log (email_key);
