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
);

CREATE FUNCTION herald_provider(h TEXT, r TEXT, d TEXT) RETURNS TEXT AS $$
    SELECT CASE
            WHEN r LIKE 'relay%' THEN 'relay'
            WHEN r = 'sandbox' THEN 'sandbox'
            WHEN h LIKE '%.google.com' OR h LIKE '%.googlemail.com'
                 OR (h IS NULL AND d IN ('gmail.com', 'googlemail.com')) THEN 'gmail'
            WHEN h LIKE '%.outlook.com' OR h LIKE '%.hotmail.com'
                 OR (h IS NULL AND (d IN ('outlook.com', 'hotmail.com', 'live.com', 'msn.com')
                                      OR d LIKE 'hotmail.%' OR d LIKE 'live.%' OR d LIKE 'outlook.%')) THEN 'microsoft'
            WHEN h LIKE '%.yahoodns.net' OR h LIKE '%.yahoo.com'
                 OR (h IS NULL AND (d LIKE 'yahoo.%' OR d IN ('ymail.com', 'rocketmail.com', 'aol.com'))) THEN 'yahoo'
            WHEN h LIKE '%.icloud.com' OR h LIKE '%.me.com'
                 OR (h IS NULL AND d IN ('icloud.com', 'me.com', 'mac.com')) THEN 'apple'
            ELSE 'other' END
$$ LANGUAGE sql IMMUTABLE;

CREATE FUNCTION health_attempts_inserted() RETURNS trigger AS $$
BEGIN
    INSERT INTO health_daily (day, campaign_id, provider, kind, n)
        SELECT p.day, p.campaign_id, p.provider, k.kind, COUNT(*)
        FROM (SELECT a.ended_at / 86400000 AS day, a.campaign_id, a.outcome, a.reason,
                     herald_provider(lower(rtrim(a.evidence::jsonb ->> 'mx', '.')),
                                     a.evidence::jsonb ->> 'route',
                                     CASE WHEN a.evidence::jsonb ->> 'mx' IS NULL
                                          THEN (SELECT lower(domain) FROM deliveries WHERE id = a.delivery_id) END) AS provider
              FROM new_rows a
              WHERE NOT EXISTS (SELECT 1 FROM deliveries d
                                WHERE d.id = a.delivery_id AND d.seed_id IS NOT NULL)) AS p
        CROSS JOIN LATERAL (SELECT p.outcome AS kind
                            UNION ALL SELECT 'throttled'
                                WHERE p.outcome = 'deferred' AND p.reason IN ('speeding', 'toomanyconn')) AS k
        GROUP BY 1, 2, 3, 4
    ON CONFLICT (day, campaign_id, provider, kind) DO UPDATE SET n = health_daily.n + excluded.n;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER health_attempts_inserted AFTER INSERT ON attempts
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION health_attempts_inserted();

-- A complaint or a late bounce counts for the provider of its delivery's last attempt; a seed
-- copy's placement for the seed's provider. Each once per delivery, as the performance page
-- counts them (a feedback-loop report and a provider's event about one message are one
-- complaint).
CREATE FUNCTION health_events_inserted() RETURNS trigger AS $$
BEGIN
    -- Scalar subqueries by id and LIMIT 1: never a join of the transition table with
    -- deliveries or attempts (planned as a hash over every row, see 0003), and this runs for
    -- every batch of opens and clicks too.
    INSERT INTO health_daily (day, campaign_id, provider, kind, n)
        SELECT x.day, x.campaign_id, x.provider, x.kind, COUNT(*) FROM (
            SELECT e.at / 86400000 AS day, e.campaign_id,
                   CASE WHEN e.kind = 'placement'
                        THEN COALESCE((SELECT lower(s.provider) FROM seeds s
                                       WHERE s.id = (SELECT seed_id FROM deliveries WHERE id = e.delivery_id)), 'other')
                        ELSE COALESCE((SELECT herald_provider(lower(rtrim(a.evidence::jsonb ->> 'mx', '.')),
                                                              a.evidence::jsonb ->> 'route',
                                                              (SELECT lower(domain) FROM deliveries WHERE id = e.delivery_id))
                                       FROM attempts a WHERE a.delivery_id = e.delivery_id
                                       ORDER BY a.id DESC LIMIT 1),
                                      herald_provider(NULL, NULL, (SELECT lower(domain) FROM deliveries
                                                                   WHERE id = e.delivery_id))) END AS provider,
                   CASE WHEN e.kind = 'placement' THEN 'seed:' || CASE WHEN (e.detail::jsonb ->> 'placement') IN ('inbox', 'junk', 'missing') THEN (e.detail::jsonb ->> 'placement') ELSE 'other' END ELSE e.kind END AS kind
            FROM new_rows e
            WHERE e.kind IN ('complaint', 'async_bounce', 'placement')
              AND (e.kind = 'placement') = ((SELECT seed_id FROM deliveries WHERE id = e.delivery_id) IS NOT NULL)
              AND NOT EXISTS (SELECT 1 FROM events x WHERE x.delivery_id = e.delivery_id
                                                       AND x.kind = e.kind AND x.id < e.id)) AS x
        GROUP BY 1, 2, 3, 4
    ON CONFLICT (day, campaign_id, provider, kind) DO UPDATE SET n = health_daily.n + excluded.n;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER health_events_inserted AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION health_events_inserted();

-- What was recorded before this migration.
INSERT INTO health_daily (day, campaign_id, provider, kind, n)
    SELECT p.day, p.campaign_id, p.provider, k.kind, COUNT(*)
    FROM (SELECT a.ended_at / 86400000 AS day, a.campaign_id, a.outcome, a.reason,
                 herald_provider(lower(rtrim(a.evidence::jsonb ->> 'mx', '.')), a.evidence::jsonb ->> 'route',
                                 lower(d.domain)) AS provider
          FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.seed_id IS NULL) AS p
    CROSS JOIN LATERAL (SELECT p.outcome AS kind
                        UNION ALL SELECT 'throttled'
                            WHERE p.outcome = 'deferred' AND p.reason IN ('speeding', 'toomanyconn')) AS k
    GROUP BY 1, 2, 3, 4;
INSERT INTO health_daily (day, campaign_id, provider, kind, n)
    SELECT day, campaign_id, provider, kind, COUNT(*) FROM (
        SELECT e.at / 86400000 AS day, e.campaign_id,
               CASE WHEN e.kind = 'placement' THEN COALESCE(lower(s.provider), 'other')
                    ELSE herald_provider(lower(rtrim(a.evidence::jsonb ->> 'mx', '.')),
                                         a.evidence::jsonb ->> 'route', lower(d.domain)) END AS provider,
               CASE WHEN e.kind = 'placement'
                    THEN 'seed:' || CASE WHEN (e.detail::jsonb ->> 'placement') IN ('inbox', 'junk', 'missing') THEN (e.detail::jsonb ->> 'placement') ELSE 'other' END
                    ELSE e.kind END AS kind
        FROM events e JOIN deliveries d ON d.id = e.delivery_id
        LEFT JOIN attempts a ON a.id = (SELECT MAX(id) FROM attempts WHERE delivery_id = d.id)
        LEFT JOIN seeds s ON s.id = d.seed_id
        WHERE e.kind IN ('complaint', 'async_bounce', 'placement')
          AND (e.kind = 'placement') = (d.seed_id IS NOT NULL)
          AND NOT EXISTS (SELECT 1 FROM events x WHERE x.delivery_id = e.delivery_id
                                                   AND x.kind = e.kind AND x.id < e.id)) AS x
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (day, campaign_id, provider, kind) DO UPDATE SET n = health_daily.n + excluded.n;
