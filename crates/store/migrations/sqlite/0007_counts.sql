-- Report counts maintained as deliveries and events change (design §8: "a report at 1M
-- recipients is instant"): one row per (campaign, key), kept by triggers in the same transaction
-- as the change, so they can never drift from the rows they count.
--   state:<state>      deliveries in that state (seed copies excluded)
--   reason:<reason>    not_sent deliveries per reason
--   event:<kind>       deliveries with at least one human <kind> event
--   event:<kind>:machine   … with at least one machine <kind> event
CREATE TABLE campaign_counts (
    campaign_id INTEGER NOT NULL,
    key         TEXT NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, key)
) WITHOUT ROWID;

-- Which (delivery, event key) pairs were counted already.
CREATE TABLE delivery_flags (
    delivery_id INTEGER NOT NULL,
    key         TEXT NOT NULL,
    PRIMARY KEY (delivery_id, key)
) WITHOUT ROWID;

INSERT INTO campaign_counts (campaign_id, key, n)
    SELECT campaign_id, 'state:' || state, COUNT(*) FROM deliveries WHERE seed_id IS NULL
    GROUP BY campaign_id, state;
INSERT INTO campaign_counts (campaign_id, key, n)
    SELECT campaign_id, 'reason:' || COALESCE(reason, 'unknown'), COUNT(*) FROM deliveries
    WHERE seed_id IS NULL AND state = 'not_sent' GROUP BY 1, 2;
INSERT OR IGNORE INTO delivery_flags (delivery_id, key)
    SELECT delivery_id, kind || CASE WHEN json_extract(detail, '$.verdict') = 'machine' THEN ':machine' ELSE '' END
    FROM events;
INSERT INTO campaign_counts (campaign_id, key, n)
    SELECT d.campaign_id, 'event:' || f.key, COUNT(*) FROM delivery_flags f
    JOIN deliveries d ON d.id = f.delivery_id GROUP BY 1, 2;

CREATE TRIGGER counts_delivery_insert AFTER INSERT ON deliveries WHEN NEW.seed_id IS NULL
BEGIN
    INSERT INTO campaign_counts (campaign_id, key, n) VALUES (NEW.campaign_id, 'state:' || NEW.state, 1)
        ON CONFLICT (campaign_id, key) DO UPDATE SET n = n + 1;
    INSERT INTO campaign_counts (campaign_id, key, n)
        SELECT NEW.campaign_id, 'reason:' || COALESCE(NEW.reason, 'unknown'), 1 WHERE NEW.state = 'not_sent'
        ON CONFLICT (campaign_id, key) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER counts_delivery_state AFTER UPDATE OF state ON deliveries
    WHEN NEW.seed_id IS NULL AND OLD.state IS NOT NEW.state
BEGIN
    UPDATE campaign_counts SET n = n - 1
        WHERE campaign_id = OLD.campaign_id AND key = 'state:' || OLD.state;
    INSERT INTO campaign_counts (campaign_id, key, n) VALUES (NEW.campaign_id, 'state:' || NEW.state, 1)
        ON CONFLICT (campaign_id, key) DO UPDATE SET n = n + 1;
    UPDATE campaign_counts SET n = n - 1
        WHERE OLD.state = 'not_sent' AND campaign_id = OLD.campaign_id
          AND key = 'reason:' || COALESCE(OLD.reason, 'unknown');
    INSERT INTO campaign_counts (campaign_id, key, n)
        SELECT NEW.campaign_id, 'reason:' || COALESCE(NEW.reason, 'unknown'), 1 WHERE NEW.state = 'not_sent'
        ON CONFLICT (campaign_id, key) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER counts_event_insert AFTER INSERT ON events
BEGIN
    INSERT OR IGNORE INTO delivery_flags (delivery_id, key) VALUES (NEW.delivery_id,
        NEW.kind || CASE WHEN json_extract(NEW.detail, '$.verdict') = 'machine' THEN ':machine' ELSE '' END);
END;

CREATE TRIGGER counts_flag_insert AFTER INSERT ON delivery_flags
BEGIN
    INSERT INTO campaign_counts (campaign_id, key, n)
        SELECT d.campaign_id, 'event:' || NEW.key, 1 FROM deliveries d WHERE d.id = NEW.delivery_id
        ON CONFLICT (campaign_id, key) DO UPDATE SET n = n + 1;
END;

-- The performance page's tabs: keyset pages per state, and per event kind.
CREATE INDEX deliveries_campaign_state_id ON deliveries (campaign_id, state, id);
CREATE INDEX delivery_flags_key ON delivery_flags (key, delivery_id);
