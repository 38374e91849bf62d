-- Seed mailboxes: addresses the sender controls at real providers; every campaign sends them a
-- copy, and a poller looks over IMAP for the folder it landed in (design §6 Placement).
-- Passwords are not here: they live in <data dir>/secrets/seeds/ (0600).
CREATE TABLE seeds (
    id          INTEGER PRIMARY KEY,
    provider    TEXT NOT NULL,
    address     TEXT NOT NULL UNIQUE,   -- lower-case; receives the copies
    imap_host   TEXT NOT NULL,
    imap_port   INTEGER NOT NULL,
    username    TEXT NOT NULL,
    security    TEXT NOT NULL,          -- tls | starttls | plain
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    last_poll_at INTEGER,
    last_error  TEXT
);

-- A delivery to a seed rather than to a contact (excluded from the campaign's counts).
ALTER TABLE deliveries ADD COLUMN seed_id INTEGER REFERENCES seeds(id);
ALTER TABLE campaigns ADD COLUMN send_to_seeds INTEGER NOT NULL DEFAULT 1;
