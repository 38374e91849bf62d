-- Events of providers' webhooks already applied (see the SQLite migration 0019).
CREATE TABLE webhook_events (
    provider    TEXT NOT NULL,
    key         TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (provider, key)
);
CREATE INDEX webhook_events_received ON webhook_events (received_at);
