-- Drift (design §5): while `serve` runs, connected domains are re-verified through DNS. The
-- latest result per domain decides whether new sends From it are held; every change of result
-- is appended to domain_events, so "it verified on Monday, the DKIM record vanished on
-- Wednesday" can be shown.
CREATE TABLE domain_checks (
    domain        TEXT PRIMARY KEY,
    checked_at    INTEGER NOT NULL,  -- ms
    ok            INTEGER NOT NULL,
    problems      TEXT NOT NULL,     -- the gate's sentence; '' when ok
    changed_at    INTEGER NOT NULL   -- ms; when `ok`/`problems` last changed
);

CREATE TABLE domain_events (
    id        INTEGER PRIMARY KEY,
    domain    TEXT NOT NULL,
    at        INTEGER NOT NULL,      -- ms
    ok        INTEGER NOT NULL,
    problems  TEXT NOT NULL
);
CREATE INDEX domain_events_by_domain ON domain_events (domain, id);
