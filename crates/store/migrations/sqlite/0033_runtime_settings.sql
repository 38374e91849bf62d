-- Settings changed while Herald runs (the Settings page, `herald settings set`, the API): each
-- overrides herald.toml's value of a setting that is safe to change at run time, on every node
-- (they read this table every few seconds). Removing a row goes back to the file's value.
CREATE TABLE runtime_settings (
    name          TEXT PRIMARY KEY,
    value         TEXT NOT NULL,
    changed_by    TEXT NOT NULL,
    changed_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
