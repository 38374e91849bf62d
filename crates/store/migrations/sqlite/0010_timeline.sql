-- The performance page's chart: deliveries, bounces, opens and clicks per minute, kept by
-- triggers like campaign_counts (design §8), so drawing it never scans attempts or events.
--   kind: delivered | deferred | bounced | failed (attempt outcomes, seed copies excluded),
--         async_bounce | complaint | unsubscribe | open | click (events; `:machine` appended
--         for machine opens and clicks)
CREATE TABLE campaign_timeline (
    campaign_id INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    minute      INTEGER NOT NULL,   -- ms / 60000
    n           INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, kind, minute)
) WITHOUT ROWID;

INSERT INTO campaign_timeline (campaign_id, kind, minute, n)
    SELECT a.campaign_id, a.outcome, a.ended_at / 60000, COUNT(*) FROM attempts a
    JOIN deliveries d ON d.id = a.delivery_id WHERE d.seed_id IS NULL
    GROUP BY 1, 2, 3;
INSERT INTO campaign_timeline (campaign_id, kind, minute, n)
    SELECT campaign_id,
           kind || CASE WHEN json_extract(detail, '$.verdict') = 'machine' THEN ':machine' ELSE '' END,
           at / 60000, COUNT(*)
    FROM events WHERE kind IN ('async_bounce', 'complaint', 'unsubscribe', 'open', 'click')
    GROUP BY 1, 2, 3;

CREATE TRIGGER timeline_attempt AFTER INSERT ON attempts
    WHEN (SELECT seed_id FROM deliveries WHERE id = NEW.delivery_id) IS NULL
BEGIN
    INSERT INTO campaign_timeline (campaign_id, kind, minute, n)
        VALUES (NEW.campaign_id, NEW.outcome, NEW.ended_at / 60000, 1)
        ON CONFLICT (campaign_id, kind, minute) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER timeline_event AFTER INSERT ON events
    WHEN NEW.kind IN ('async_bounce', 'complaint', 'unsubscribe', 'open', 'click')
BEGIN
    INSERT INTO campaign_timeline (campaign_id, kind, minute, n)
        VALUES (NEW.campaign_id,
                NEW.kind || CASE WHEN json_extract(NEW.detail, '$.verdict') = 'machine' THEN ':machine' ELSE '' END,
                NEW.at / 60000, 1)
        ON CONFLICT (campaign_id, kind, minute) DO UPDATE SET n = n + 1;
END;
