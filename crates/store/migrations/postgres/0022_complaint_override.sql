-- Sending despite a spam-complaint rate past Gmail's 0.3 % (issue 19): who decided it and why,
-- kept on the campaign as the From gate's override is.
ALTER TABLE campaigns ADD COLUMN complaint_override TEXT;
