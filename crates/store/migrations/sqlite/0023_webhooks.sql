-- Outbound webhooks: endpoints other systems registered, and the outbox of events waiting to be
-- posted to them (one row per endpoint and event, written in the transaction of the change it
-- reports; claimed with leases like deliveries; kept as the endpoint's log until pruned).
CREATE TABLE webhook_endpoints (
    id              INTEGER PRIMARY KEY,
    url             TEXT NOT NULL,
    events          TEXT NOT NULL,            -- '*' or ',delivered,bounced,'
    secret          TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    created_by      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    last_attempt_at INTEGER,
    last_status     INTEGER,
    last_error      TEXT
);
CREATE TABLE webhook_outbox (
    id              INTEGER PRIMARY KEY,
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event           TEXT NOT NULL,
    delivery_id     INTEGER NOT NULL,
    at              INTEGER NOT NULL,         -- when it happened
    detail          TEXT NOT NULL,
    state           TEXT NOT NULL,            -- pending | delivered | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    retry_from      INTEGER NOT NULL,         -- the give-up clock starts here (event or replay)
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_attempt_at INTEGER,
    last_status     INTEGER,
    last_error      TEXT,
    delivered_at    INTEGER
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX webhook_outbox_endpoint ON webhook_outbox (endpoint_id, state, id);
CREATE INDEX webhook_outbox_log ON webhook_outbox (endpoint_id, id);
CREATE INDEX webhook_outbox_delivery ON webhook_outbox (delivery_id);
CREATE INDEX webhook_outbox_at ON webhook_outbox (at);
