//! Claims with leases, lease renewal, and outcome recording.

use crate::areas::QueueStore;
use sqlx::Row;

use super::SqliteStore;
use crate::{
    CampaignId, ClaimRequest, ClaimedDelivery, DeliveryId, OutcomeRecord, Result, StoreError,
};

impl QueueStore for SqliteStore {
    async fn claim(&self, c: &ClaimRequest<'_>) -> Result<Vec<ClaimedDelivery>> {
        let mut w = self.write().await?;
        // A lease that is still set when it is claimed again expired without an outcome: its
        // holder died, possibly after the server said 250. Flag it.
        let ids: Vec<i64> = sqlx::query(
            "UPDATE deliveries SET lease_owner = $1, lease_until = $2, \
                 possible_duplicate = CASE WHEN lease_owner IS NOT NULL THEN 1 ELSE possible_duplicate END \
             WHERE id IN (SELECT id FROM deliveries \
                          WHERE state IN ('queued', 'deferred') AND next_attempt_at <= $3 \
                            AND (lease_until IS NULL OR lease_until < $3) \
                            AND ($5 IS NULL OR campaign_id = $5) \
                            AND campaign_id NOT IN (SELECT id FROM campaigns WHERE status IN ('paused', 'cancelled')) \
                          ORDER BY next_attempt_at, id LIMIT $4) \
             RETURNING id",
        )
        .bind(c.owner)
        .bind(c.lease_until_ms)
        .bind(c.now_ms)
        .bind(c.limit as i64)
        .bind(c.campaign.map(|x| x.0))
        .fetch_all(&mut *w.tx)
        .await?
        .into_iter()
        .map(|r| r.try_get("id"))
        .collect::<std::result::Result<_, _>>()?;
        // One constant statement whatever the batch size (a JSON array of ids), so the
        // prepared-statement cache holds one entry, not one per batch size.
        let ids_json =
            serde_json::to_string(&ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let rows = sqlx::query(
            "SELECT d.id, d.campaign_id, d.email, d.domain, d.message_id, d.attempts, d.first_attempt_at, \
                    d.possible_duplicate, d.seed_id, COALESCE(c.fields, '{}') AS fields, d.state, d.reason, d.variant, \
                    (SELECT s.reason FROM suppressions s WHERE s.email_key = d.email_key) AS suppressed \
             FROM deliveries d LEFT JOIN contacts c ON c.id = d.contact_id \
             WHERE d.id IN (SELECT value FROM json_each($1)) ORDER BY d.domain, d.id",
        )
        .bind(ids_json)
        .fetch_all(&mut *w.tx)
        .await?;
        let out = rows
            .into_iter()
            .map(|r| {
                Ok(ClaimedDelivery {
                    id: DeliveryId(r.try_get("id")?),
                    campaign: CampaignId(r.try_get("campaign_id")?),
                    email: r.try_get("email")?,
                    domain: r.try_get("domain")?,
                    message_id: r.try_get("message_id")?,
                    attempts: r.try_get::<i64, _>("attempts")? as u32,
                    first_attempt_at_ms: r.try_get("first_attempt_at")?,
                    possible_duplicate: r.try_get::<i64, _>("possible_duplicate")? != 0,
                    fields: r.try_get("fields")?,
                    seed: r.try_get::<Option<i64>, _>("seed_id")?.is_some(),
                    state: r
                        .try_get::<String, _>("state")?
                        .parse()
                        .map_err(|e: String| StoreError::Corrupt(format!("delivery state: {e}")))?,
                    reason: r.try_get("reason")?,
                    suppressed: r
                        .try_get::<Option<String>, _>("suppressed")?
                        .map(|s| crate::shared::parse_name("suppressions.reason", &s))
                        .transpose()?,
                    variant: r
                        .try_get::<Option<i64>, _>("variant")?
                        .map(|v| v.max(0) as u32),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        w.tx.commit().await?;
        Ok(out)
    }

    async fn renew_leases(
        &self,
        owner: &str,
        ids: &[DeliveryId],
        lease_until_ms: i64,
    ) -> Result<u64> {
        let ids: Vec<i64> = ids.iter().map(|d| d.0).collect();
        let ids_json =
            serde_json::to_string(&ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut w = self.write().await?;
        let n = sqlx::query(
            "UPDATE deliveries SET lease_until = $2 \
             WHERE id IN (SELECT value FROM json_each($3)) AND lease_owner = $1",
        )
        .bind(owner)
        .bind(lease_until_ms)
        .bind(ids_json)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        w.tx.commit().await?;
        Ok(n)
    }

    async fn record_outcomes(&self, batch: &[OutcomeRecord]) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let (attempts, updates) = crate::shared::outcome_json(batch)?;
        let mut w = self.write().await?;
        if attempts.len() > 2 {
            sqlx::query(
                "INSERT INTO attempts (delivery_id, campaign_id, outcome, reason, started_at, ended_at, evidence) \
                 SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6 \
                 FROM json_each($1)",
            )
            .bind(attempts)
            .execute(&mut *w.tx)
            .await?;
        }
        // One UPDATE … FROM for the whole batch; it also releases the leases.
        sqlx::query(
            // A DSN can overtake the 250's write (the receiver bounces within milliseconds):
            // a delivered (or relayed) outcome then keeps the late bounce already recorded
            // (`late`).
            "WITH v AS (SELECT value ->> 0 AS id, value ->> 1 AS state, value ->> 2 AS reason, \
                               value ->> 3 AS hard, value ->> 4 AS inc, value ->> 5 AS next_at, \
                               value ->> 6 AS first_at, value ->> 7 AS at FROM json_each($1)) \
             UPDATE deliveries SET \
                 state = CASE WHEN late THEN deliveries.state ELSE v.state END, \
                 reason = CASE WHEN late THEN deliveries.reason ELSE v.reason END, \
                 hard = CASE WHEN late THEN deliveries.hard ELSE v.hard END, \
                 attempts = deliveries.attempts + v.inc, next_attempt_at = v.next_at, \
                 first_attempt_at = COALESCE(deliveries.first_attempt_at, v.first_at), \
                 lease_owner = NULL, lease_until = NULL, updated_at = v.at \
             FROM (SELECT v.*, (v.state IN ('delivered', 'relayed') AND EXISTS (SELECT 1 FROM events e \
                       WHERE e.delivery_id = v.id AND e.kind = 'async_bounce')) AS late FROM v) AS v \
             WHERE deliveries.id = v.id",
        )
        .bind(&updates)
        .execute(&mut *w.tx)
        .await?;
        super::webhooks::enqueue(&mut w.tx, || crate::shared::outcome_hooks(batch)).await?;
        // The relay's success DSN (or its provider's delivered event) came first.
        let confirmed: Vec<i64> = sqlx::query(
            "UPDATE deliveries SET state = 'delivered' WHERE state = 'relayed' \
             AND id IN (SELECT value ->> 0 FROM json_each($1) WHERE value ->> 1 = 'relayed') \
             AND EXISTS (SELECT 1 FROM events e WHERE e.delivery_id = deliveries.id \
                         AND e.kind IN ('dsn_delivered', 'provider_delivered')) \
             RETURNING id",
        )
        .bind(&updates)
        .fetch_all(&mut *w.tx)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<std::result::Result<_, _>>()?;
        if !confirmed.is_empty() {
            let at = batch.iter().map(|o| o.at_ms).max().unwrap_or(0);
            super::webhooks::enqueue(&mut w.tx, || crate::shared::confirmed_hooks(&confirmed, at))
                .await?;
        }
        w.tx.commit().await?;
        Ok(())
    }

    async fn next_due(&self, campaign: Option<CampaignId>) -> Result<Option<i64>> {
        Ok(sqlx::query(
            "SELECT MIN(next_attempt_at) AS due FROM deliveries WHERE state IN ('queued', 'deferred') \
             AND campaign_id NOT IN (SELECT id FROM campaigns WHERE status IN ('paused', 'cancelled')) \
             AND ($1 IS NULL OR campaign_id = $1)",
        )
        .bind(campaign.map(|c| c.0))
        .fetch_one(&self.pool)
        .await?
        .try_get("due")?)
    }
}
