-- A campaign's audience over several lists (issue 18): besides its own list (campaigns.list_id:
-- its List-Id, the list its unsubscribe leaves first), the lists it also goes to
-- (excluded = 0; each person once) and the lists whose subscribed members it keeps out
-- (excluded = 1: recorded `not_sent: excluded`). By id, so a renamed list stays in.
CREATE TABLE campaign_lists (
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    list_id     BIGINT NOT NULL REFERENCES lists(id),
    excluded    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, list_id)
);
CREATE INDEX campaign_lists_list ON campaign_lists (list_id);

-- The segment condition `placement junk|inbox|missing` finds a campaign's seed copies from a
-- recipient's delivery: a handful per campaign, among its million deliveries.
CREATE INDEX deliveries_seed_copies ON deliveries (campaign_id) WHERE seed_id IS NOT NULL;
