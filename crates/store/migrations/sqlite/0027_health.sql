-- Deliverability health (`herald health`, `/health`, `/api/v1/health`): outcomes per UTC day,
-- campaign and receiving provider, kept by triggers (as campaign_timeline is), so the dashboard
-- reads a few hundred rows whatever the number of recipients and events.
--   provider: gmail | microsoft | yahoo | apple | other | relay | sandbox — from the MX host the attempt reached
--             (Google Workspace and Microsoft 365 domains are grouped with Gmail and Outlook by
--             their MX), or the recipient's domain when no host was reached; relay when sent
--             through a relay (the recipient's side is then the provider's to report); sandbox when
--             captured by `serve --sandbox`. For seed
--             placements: the seed mailbox's provider as given to `seeds add`.
--   kind: an attempt's outcome (delivered | relayed | deferred | bounced | failed), throttled (a
--         deferral the receiver gave because of our pace: speeding, too many connections),
--         async_bounce | complaint (events), seed:inbox | seed:junk | seed:missing | seed:other
--         (seed copies' placement).
-- Seed copies are left out of the attempts' counts, as on the performance page. The provider
-- rules are written the same in both dialects' migrations; the store test checks each case on
-- both backends.
CREATE TABLE health_daily (
    day         BIGINT NOT NULL,   -- ms / 86400000
    campaign_id BIGINT NOT NULL,
    provider    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (day, campaign_id, provider, kind)
) WITHOUT ROWID;

CREATE TRIGGER health_attempt AFTER INSERT ON attempts
    WHEN (SELECT seed_id FROM deliveries WHERE id = NEW.delivery_id) IS NULL
BEGIN
    INSERT INTO health_daily (day, campaign_id, provider, kind, n)
        SELECT NEW.ended_at / 86400000, NEW.campaign_id, CASE
            WHEN p.r LIKE 'relay%' THEN 'relay'
            WHEN p.r = 'sandbox' THEN 'sandbox'
            WHEN p.h LIKE '%.google.com' OR p.h LIKE '%.googlemail.com'
                 OR (p.h IS NULL AND p.d IN ('gmail.com', 'googlemail.com')) THEN 'gmail'
            WHEN p.h LIKE '%.outlook.com' OR p.h LIKE '%.hotmail.com'
                 OR (p.h IS NULL AND (p.d IN ('outlook.com', 'hotmail.com', 'live.com', 'msn.com')
                                      OR p.d LIKE 'hotmail.%' OR p.d LIKE 'live.%' OR p.d LIKE 'outlook.%')) THEN 'microsoft'
            WHEN p.h LIKE '%.yahoodns.net' OR p.h LIKE '%.yahoo.com'
                 OR (p.h IS NULL AND (p.d LIKE 'yahoo.%' OR p.d IN ('ymail.com', 'rocketmail.com', 'aol.com'))) THEN 'yahoo'
            WHEN p.h LIKE '%.icloud.com' OR p.h LIKE '%.me.com'
                 OR (p.h IS NULL AND p.d IN ('icloud.com', 'me.com', 'mac.com')) THEN 'apple'
            ELSE 'other' END, k.kind, 1
        FROM (SELECT lower(rtrim(json_extract(NEW.evidence, '$.mx'), '.')) AS h,
                     json_extract(NEW.evidence, '$.route') AS r,
                     (SELECT lower(domain) FROM deliveries WHERE id = NEW.delivery_id) AS d) AS p,
             (SELECT NEW.outcome AS kind
              UNION ALL SELECT 'throttled'
                  WHERE NEW.outcome = 'deferred' AND NEW.reason IN ('speeding', 'toomanyconn')) AS k
        WHERE true
        ON CONFLICT (day, campaign_id, provider, kind) DO UPDATE SET n = n + 1;
END;

-- A complaint or a late bounce counts for the provider of its delivery's last attempt; a seed
-- copy's placement for the seed's provider. Each once per delivery, as the performance page
-- counts them (a feedback-loop report and a provider's event about one message are one
-- complaint).
CREATE TRIGGER health_event AFTER INSERT ON events
    WHEN NEW.kind IN ('complaint', 'async_bounce', 'placement')
         AND NOT EXISTS (SELECT 1 FROM events x WHERE x.delivery_id = NEW.delivery_id
                                                  AND x.kind = NEW.kind AND x.id < NEW.id)
BEGIN
    INSERT INTO health_daily (day, campaign_id, provider, kind, n)
        SELECT NEW.at / 86400000, NEW.campaign_id,
               CASE WHEN NEW.kind = 'placement' THEN COALESCE(lower(s.provider), 'other') ELSE CASE
            WHEN p.r LIKE 'relay%' THEN 'relay'
            WHEN p.r = 'sandbox' THEN 'sandbox'
            WHEN p.h LIKE '%.google.com' OR p.h LIKE '%.googlemail.com'
                 OR (p.h IS NULL AND p.d IN ('gmail.com', 'googlemail.com')) THEN 'gmail'
            WHEN p.h LIKE '%.outlook.com' OR p.h LIKE '%.hotmail.com'
                 OR (p.h IS NULL AND (p.d IN ('outlook.com', 'hotmail.com', 'live.com', 'msn.com')
                                      OR p.d LIKE 'hotmail.%' OR p.d LIKE 'live.%' OR p.d LIKE 'outlook.%')) THEN 'microsoft'
            WHEN p.h LIKE '%.yahoodns.net' OR p.h LIKE '%.yahoo.com'
                 OR (p.h IS NULL AND (p.d LIKE 'yahoo.%' OR p.d IN ('ymail.com', 'rocketmail.com', 'aol.com'))) THEN 'yahoo'
            WHEN p.h LIKE '%.icloud.com' OR p.h LIKE '%.me.com'
                 OR (p.h IS NULL AND p.d IN ('icloud.com', 'me.com', 'mac.com')) THEN 'apple'
            ELSE 'other' END END,
               CASE WHEN NEW.kind = 'placement'
                    THEN 'seed:' || CASE WHEN json_extract(NEW.detail, '$.placement') IN ('inbox', 'junk', 'missing') THEN json_extract(NEW.detail, '$.placement') ELSE 'other' END
                    ELSE NEW.kind END,
               1
        FROM (SELECT lower(rtrim(json_extract(a.evidence, '$.mx'), '.')) AS h,
                     json_extract(a.evidence, '$.route') AS r, lower(d.domain) AS d, d.seed_id AS seed
              FROM deliveries d
              LEFT JOIN attempts a ON a.id = (SELECT MAX(id) FROM attempts WHERE delivery_id = d.id)
              WHERE d.id = NEW.delivery_id) AS p
        LEFT JOIN seeds s ON s.id = p.seed
        WHERE (NEW.kind = 'placement') = (p.seed IS NOT NULL)
        ON CONFLICT (day, campaign_id, provider, kind) DO UPDATE SET n = n + 1;
END;

-- What was recorded before this migration.
INSERT INTO health_daily (day, campaign_id, provider, kind, n)
    SELECT day, campaign_id, provider, kind, COUNT(*) FROM (
        SELECT p.day, p.campaign_id, CASE
            WHEN p.r LIKE 'relay%' THEN 'relay'
            WHEN p.r = 'sandbox' THEN 'sandbox'
            WHEN p.h LIKE '%.google.com' OR p.h LIKE '%.googlemail.com'
                 OR (p.h IS NULL AND p.d IN ('gmail.com', 'googlemail.com')) THEN 'gmail'
            WHEN p.h LIKE '%.outlook.com' OR p.h LIKE '%.hotmail.com'
                 OR (p.h IS NULL AND (p.d IN ('outlook.com', 'hotmail.com', 'live.com', 'msn.com')
                                      OR p.d LIKE 'hotmail.%' OR p.d LIKE 'live.%' OR p.d LIKE 'outlook.%')) THEN 'microsoft'
            WHEN p.h LIKE '%.yahoodns.net' OR p.h LIKE '%.yahoo.com'
                 OR (p.h IS NULL AND (p.d LIKE 'yahoo.%' OR p.d IN ('ymail.com', 'rocketmail.com', 'aol.com'))) THEN 'yahoo'
            WHEN p.h LIKE '%.icloud.com' OR p.h LIKE '%.me.com'
                 OR (p.h IS NULL AND p.d IN ('icloud.com', 'me.com', 'mac.com')) THEN 'apple'
            ELSE 'other' END AS provider, k.kind
        FROM (SELECT a.ended_at / 86400000 AS day, a.campaign_id, a.outcome, a.reason,
                     lower(rtrim(json_extract(a.evidence, '$.mx'), '.')) AS h,
                     json_extract(a.evidence, '$.route') AS r, lower(d.domain) AS d
              FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.seed_id IS NULL) AS p
        JOIN (SELECT 'delivered' AS kind UNION ALL SELECT 'relayed' UNION ALL SELECT 'deferred'
              UNION ALL SELECT 'bounced' UNION ALL SELECT 'failed' UNION ALL SELECT 'throttled') AS k
          ON k.kind = p.outcome
             OR (k.kind = 'throttled' AND p.outcome = 'deferred' AND p.reason IN ('speeding', 'toomanyconn'))
    ) GROUP BY 1, 2, 3, 4;
INSERT INTO health_daily (day, campaign_id, provider, kind, n)
    SELECT day, campaign_id, provider, kind, COUNT(*) FROM (
        SELECT p.day, p.campaign_id,
               CASE WHEN p.kind = 'placement' THEN COALESCE(lower(s.provider), 'other') ELSE CASE
            WHEN p.r LIKE 'relay%' THEN 'relay'
            WHEN p.r = 'sandbox' THEN 'sandbox'
            WHEN p.h LIKE '%.google.com' OR p.h LIKE '%.googlemail.com'
                 OR (p.h IS NULL AND p.d IN ('gmail.com', 'googlemail.com')) THEN 'gmail'
            WHEN p.h LIKE '%.outlook.com' OR p.h LIKE '%.hotmail.com'
                 OR (p.h IS NULL AND (p.d IN ('outlook.com', 'hotmail.com', 'live.com', 'msn.com')
                                      OR p.d LIKE 'hotmail.%' OR p.d LIKE 'live.%' OR p.d LIKE 'outlook.%')) THEN 'microsoft'
            WHEN p.h LIKE '%.yahoodns.net' OR p.h LIKE '%.yahoo.com'
                 OR (p.h IS NULL AND (p.d LIKE 'yahoo.%' OR p.d IN ('ymail.com', 'rocketmail.com', 'aol.com'))) THEN 'yahoo'
            WHEN p.h LIKE '%.icloud.com' OR p.h LIKE '%.me.com'
                 OR (p.h IS NULL AND p.d IN ('icloud.com', 'me.com', 'mac.com')) THEN 'apple'
            ELSE 'other' END END AS provider,
               CASE WHEN p.kind = 'placement' THEN 'seed:' || CASE WHEN p.placement IN ('inbox', 'junk', 'missing') THEN p.placement ELSE 'other' END ELSE p.kind END AS kind
        FROM (SELECT e.at / 86400000 AS day, e.campaign_id, e.kind, json_extract(e.detail, '$.placement') AS placement,
                     lower(rtrim(json_extract(a.evidence, '$.mx'), '.')) AS h,
                     json_extract(a.evidence, '$.route') AS r, lower(d.domain) AS d, d.seed_id AS seed
              FROM events e JOIN deliveries d ON d.id = e.delivery_id
              LEFT JOIN attempts a ON a.id = (SELECT MAX(id) FROM attempts WHERE delivery_id = d.id)
              WHERE e.kind IN ('complaint', 'async_bounce', 'placement')
                AND (e.kind = 'placement') = (d.seed_id IS NOT NULL)
                AND NOT EXISTS (SELECT 1 FROM events x WHERE x.delivery_id = e.delivery_id
                                                         AND x.kind = e.kind AND x.id < e.id)) AS p
        LEFT JOIN seeds s ON s.id = p.seed
    ) GROUP BY 1, 2, 3, 4
    ON CONFLICT (day, campaign_id, provider, kind) DO UPDATE SET n = n + excluded.n;
