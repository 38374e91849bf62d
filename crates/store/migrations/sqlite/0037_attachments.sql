-- A campaign's attachments (issue 19; `[attachments] enabled`, off by default): files sent with
-- every copy, editable while the campaign is a draft, gone with a deleted draft.
CREATE TABLE campaign_attachments (
    id           INTEGER PRIMARY KEY,
    campaign_id  INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content      BLOB NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (campaign_id, name)
);
