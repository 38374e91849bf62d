-- Events of providers' webhooks (delivered, bounce, complaint, …) already applied: a repeated
-- post (the provider retrying, or a replay) changes nothing. Keys are the provider's event id
-- or a digest of the event; pruned with inbound retention.
CREATE TABLE webhook_events (
    provider    TEXT NOT NULL,
    key         TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (provider, key)
) WITHOUT ROWID;
CREATE INDEX webhook_events_received ON webhook_events (received_at);
