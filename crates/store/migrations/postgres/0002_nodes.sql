-- Nodes running `herald serve` on this database (SQLite migration 0011 explains the columns).
CREATE TABLE nodes (
    name         TEXT PRIMARY KEY,
    owner        TEXT NOT NULL,
    helo_name    TEXT NOT NULL,
    source_ips   TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);
