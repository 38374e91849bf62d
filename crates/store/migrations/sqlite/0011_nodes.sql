-- The nodes that run `herald serve` on this database (design §8): each with its name, the lease
-- owner of its running process, its sending IPs and a heartbeat. A second process under a name
-- whose heartbeat is fresh is refused; `herald ips` lists every node's IPs (for allowlisting).
CREATE TABLE nodes (
    name        TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    helo_name   TEXT NOT NULL,
    source_ips  TEXT NOT NULL,     -- JSON array
    started_at  INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);
