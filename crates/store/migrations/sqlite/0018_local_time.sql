-- Sending in each recipient's local time (issue 19): the local date and time
-- ("2026-12-10T09:00") every recipient of a scheduled campaign gets it at, in their own zone.
ALTER TABLE campaigns ADD COLUMN local_time TEXT;
