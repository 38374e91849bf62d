-- Per-campaign switches for open and click tracking (design §6). The unsubscribe link and
-- List-Unsubscribe headers are always present.
ALTER TABLE campaigns ADD COLUMN track_opens INTEGER NOT NULL DEFAULT 1;
ALTER TABLE campaigns ADD COLUMN track_clicks INTEGER NOT NULL DEFAULT 1;
