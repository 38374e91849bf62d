-- The last pre-send check of a campaign (issue 19), as JSON: run at create, schedule and send.
ALTER TABLE campaigns ADD COLUMN presend_check TEXT;
