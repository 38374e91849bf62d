-- The audience (design §6b): lists with a public slug, an opt-in mode, the fields their sign-up
-- form asks for and the sender of their confirmation messages; a standing per member; a consent
-- record per sign-up or import; system campaigns that carry confirmation messages.
ALTER TABLE lists ADD COLUMN slug TEXT;                      -- NULL: no public sign-up form
ALTER TABLE lists ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE lists ADD COLUMN opt_in TEXT NOT NULL DEFAULT 'single';   -- single | double
ALTER TABLE lists ADD COLUMN form_fields TEXT NOT NULL DEFAULT '[]';  -- JSON array of field names
ALTER TABLE lists ADD COLUMN from_name TEXT;
ALTER TABLE lists ADD COLUMN from_address TEXT;              -- sender of confirmation messages
CREATE UNIQUE INDEX lists_slug ON lists (slug);

ALTER TABLE list_members ADD COLUMN status TEXT NOT NULL DEFAULT 'subscribed'; -- a MemberStatus
ALTER TABLE list_members ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
-- 1: an operator took them off (`contacts remove`): not offered back in their preference centre.
ALTER TABLE list_members ADD COLUMN removed_by_operator INTEGER NOT NULL DEFAULT 0;
CREATE INDEX list_members_pending ON list_members (updated_at) WHERE status = 'pending';

-- How each membership came about: append-only, one row per sign-up or consent given.
CREATE TABLE consents (
    id           INTEGER PRIMARY KEY,
    contact_id   INTEGER NOT NULL REFERENCES contacts(id),
    list_id      INTEGER NOT NULL REFERENCES lists(id),
    source       TEXT NOT NULL,          -- form:<slug> | api | cli | import
    ip           TEXT,                   -- as [tracking] ip keeps it
    user_agent   TEXT,
    form_text    TEXT NOT NULL DEFAULT '', -- what the person agreed to, as shown
    fields       TEXT NOT NULL DEFAULT '{}', -- fields given; applied once confirmed
    created_at   INTEGER NOT NULL,
    confirmed_at INTEGER,
    confirm_ip   TEXT,
    delivery_id  INTEGER                -- the confirmation message whose link confirms it
);
CREATE INDEX consents_member ON consents (list_id, contact_id);

-- `campaign` (what users write) or `confirmation` (a list's double opt-in messages: one such
-- campaign per list at a time, always `sending`, never listed among campaigns).
ALTER TABLE campaigns ADD COLUMN kind TEXT NOT NULL DEFAULT 'campaign';
CREATE INDEX campaigns_kind ON campaigns (kind, list_id);
