-- Segments (design §6b): saved, named rules over contacts (`herald_domain::segment`), and a
-- campaign's audience narrowed by one segment and/or minus another. A campaign keeps the rule
-- text as it was when set, so a later change to the segment does not change what it meant.
CREATE TABLE segments (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    rule        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
ALTER TABLE campaigns ADD COLUMN segment_name TEXT;
ALTER TABLE campaigns ADD COLUMN segment_rule TEXT;
ALTER TABLE campaigns ADD COLUMN exclude_name TEXT;
ALTER TABLE campaigns ADD COLUMN exclude_rule TEXT;
