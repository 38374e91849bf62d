//! Claims with leases (`FOR UPDATE SKIP LOCKED`: nodes never lease the same delivery), lease
//! renewal, and outcome recording.

use sqlx::Row;

use super::PgStore;
use crate::{CampaignId, ClaimRequest, ClaimedDelivery, DeliveryId, OutcomeRecord, Result};

impl PgStore {
    pub(super) async fn claim_impl(&self, c: &ClaimRequest<'_>) -> Result<Vec<ClaimedDelivery>> {
        // One statement (atomic by itself, one round trip): lease the due deliveries no other
        // node holds (SKIP LOCKED) and return them with their contacts' fields. A lease that is
        // still set when it is claimed again expired without an outcome: its holder died,
        // possibly after the server said 250. Flag it.
        let rows = sqlx::query(
            "WITH claimed AS ( \
                 UPDATE deliveries SET lease_owner = $1, lease_until = $2, \
                     possible_duplicate = CASE WHEN lease_owner IS NOT NULL THEN 1 ELSE possible_duplicate END \
                 WHERE id IN (SELECT id FROM deliveries \
                              WHERE state IN ('queued', 'deferred') AND next_attempt_at <= $3 \
                                AND (lease_until IS NULL OR lease_until < $3) \
                                AND ($5::bigint IS NULL OR campaign_id = $5) \
                              ORDER BY next_attempt_at, id LIMIT $4 \
                              FOR UPDATE SKIP LOCKED) \
                 RETURNING id, campaign_id, email, domain, message_id, attempts, first_attempt_at, \
                           possible_duplicate, contact_id) \
             SELECT d.id, d.campaign_id, d.email, d.domain, d.message_id, d.attempts, d.first_attempt_at, \
                    d.possible_duplicate, COALESCE(c.fields, '{}') \
             FROM claimed d LEFT JOIN contacts c ON c.id = d.contact_id ORDER BY d.domain, d.id",
        )
        .bind(c.owner)
        .bind(c.lease_until_ms)
        .bind(c.now_ms)
        .bind(c.limit as i64)
        .bind(c.campaign.map(|x| x.0))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ClaimedDelivery {
                id: DeliveryId(r.get(0)),
                campaign: CampaignId(r.get(1)),
                email: r.get(2),
                domain: r.get(3),
                message_id: r.get(4),
                attempts: r.get::<i64, _>(5) as u32,
                first_attempt_at_ms: r.get(6),
                possible_duplicate: r.get::<i64, _>(7) != 0,
                fields: r.get(8),
            })
            .collect())
    }

    pub(super) async fn renew_leases_impl(&self, owner: &str, lease_until_ms: i64) -> Result<u64> {
        let mut w = self.write().await?;
        let n = sqlx::query("UPDATE deliveries SET lease_until = $2 WHERE lease_owner = $1")
            .bind(owner)
            .bind(lease_until_ms)
            .execute(&mut *w.tx)
            .await?
            .rows_affected();
        w.tx.commit().await?;
        Ok(n)
    }

    pub(super) async fn record_outcomes_impl(&self, batch: &[OutcomeRecord]) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let (attempts, updates) = crate::shared::outcome_json(batch)?;
        let mut w = self.write().await?;
        if attempts.len() > 2 {
            sqlx::query(
                "INSERT INTO attempts (delivery_id, campaign_id, outcome, reason, started_at, ended_at, evidence) \
                 SELECT (value ->> 0)::bigint, (value ->> 1)::bigint, value ->> 2, value ->> 3, \
                        (value ->> 4)::bigint, (value ->> 5)::bigint, value ->> 6 \
                 FROM jsonb_array_elements($1::jsonb)",
            )
            .bind(attempts)
            .execute(&mut *w.tx)
            .await?;
        }
        // One UPDATE … FROM for the whole batch; it also releases the leases.
        sqlx::query(
            // A DSN can overtake the 250's write (the receiver bounces within milliseconds):
            // a delivered outcome then keeps the late bounce already recorded (`late`).
            "WITH v AS (SELECT (value ->> 0)::bigint AS id, value ->> 1 AS state, value ->> 2 AS reason, \
                               (value ->> 3)::bigint AS hard, (value ->> 4)::bigint AS inc, \
                               (value ->> 5)::bigint AS next_at, (value ->> 6)::bigint AS first_at, \
                               (value ->> 7)::bigint AS at FROM jsonb_array_elements($1::jsonb)) \
             UPDATE deliveries SET \
                 state = CASE WHEN late THEN deliveries.state ELSE v.state END, \
                 reason = CASE WHEN late THEN deliveries.reason ELSE v.reason END, \
                 hard = CASE WHEN late THEN deliveries.hard ELSE v.hard END, \
                 attempts = deliveries.attempts + v.inc, next_attempt_at = v.next_at, \
                 first_attempt_at = COALESCE(deliveries.first_attempt_at, v.first_at), \
                 lease_owner = NULL, lease_until = NULL, updated_at = v.at \
             FROM (SELECT v.*, (v.state = 'delivered' AND EXISTS (SELECT 1 FROM events e \
                       WHERE e.delivery_id = v.id AND e.kind = 'async_bounce')) AS late FROM v) AS v \
             WHERE deliveries.id = v.id",
        )
        .bind(updates)
        .execute(&mut *w.tx)
        .await?;
        w.tx.commit().await?;
        Ok(())
    }

    pub(super) async fn next_due_impl(&self, campaign: Option<CampaignId>) -> Result<Option<i64>> {
        Ok(sqlx::query(
            "SELECT MIN(next_attempt_at) FROM deliveries WHERE state IN ('queued', 'deferred') \
             AND ($1::bigint IS NULL OR campaign_id = $1)",
        )
        .bind(campaign.map(|c| c.0))
        .fetch_one(&self.pool)
        .await?
        .get(0))
    }
}
