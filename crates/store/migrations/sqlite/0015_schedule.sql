-- Scheduled sends (issue 19): when a `scheduled` campaign starts (ms), the zone it was given
-- in (display only), the lease of the node starting it (exactly one node starts it; another
-- takes over if that one dies), and why a scheduled start was refused, if it was.
ALTER TABLE campaigns ADD COLUMN scheduled_at INTEGER;
ALTER TABLE campaigns ADD COLUMN schedule_tz TEXT;
ALTER TABLE campaigns ADD COLUMN schedule_lease_until INTEGER;
ALTER TABLE campaigns ADD COLUMN schedule_error TEXT;
