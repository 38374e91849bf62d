-- A/B tests (issue 19): a campaign's other variants and how its winner is picked (JSON: the
-- engine's `campaign::ab::AbTest`), when the winner is picked, which won and the figures it was
-- picked on. Each delivery of the test group carries its variant (0: the campaign's own
-- content, 1: B, …); the rest wait, with no next attempt, until the winner is picked.
ALTER TABLE campaigns ADD COLUMN ab TEXT;
ALTER TABLE campaigns ADD COLUMN ab_decide_at INTEGER;
ALTER TABLE campaigns ADD COLUMN ab_winner INTEGER;
ALTER TABLE campaigns ADD COLUMN ab_result TEXT;
-- When a campaign was last paused: a resume moves its A/B decision on by the time paused.
ALTER TABLE campaigns ADD COLUMN paused_at INTEGER;
ALTER TABLE deliveries ADD COLUMN variant INTEGER;
CREATE INDEX campaigns_ab_due ON campaigns (ab_decide_at) WHERE ab_decide_at IS NOT NULL AND ab_winner IS NULL;
