//! Claims with leases (`FOR UPDATE SKIP LOCKED`: nodes never lease the same delivery), lease
//! renewal, and outcome recording.

use crate::areas::QueueStore;
use sqlx::Row;

use super::PgStore;
use crate::shared::ms;
use crate::{
    CampaignId, ClaimRequest, ClaimedDelivery, DeliveryId, OutcomeRecord, Result, StoreError,
};

impl QueueStore for PgStore {
    async fn claim(&self, c: &ClaimRequest<'_>) -> Result<Vec<ClaimedDelivery>> {
        // One statement (atomic by itself, one round trip): lease the due deliveries no other
        // node holds (SKIP LOCKED) and return them with their contacts' fields. A lease that is
        // still set when it is claimed again expired without an outcome: its holder died,
        // possibly after the server said 250. Flag it.
        //
        // Written so its cost is the batch's, not the queue's, even before the planner has
        // statistics: `= ANY(ARRAY(…))` updates through the primary key (an `IN (…)` was planned
        // as a hash join over a scan of every delivery), and the contacts' fields are looked up
        // per claimed row (a join hashed the whole contacts table on every claim).
        let rows = sqlx::query(
            "WITH claimed AS ( \
                 UPDATE deliveries SET lease_owner = $1, lease_until = $2, \
                     possible_duplicate = CASE WHEN lease_owner IS NOT NULL THEN 1 ELSE possible_duplicate END \
                 WHERE id = ANY(ARRAY(SELECT id FROM deliveries \
                              WHERE state IN ('queued', 'deferred') AND next_attempt_at <= $3 \
                                AND (lease_until IS NULL OR lease_until < $3) \
                                AND ($5::bigint IS NULL OR campaign_id = $5) \
                                AND campaign_id NOT IN (SELECT id FROM campaigns WHERE status IN ('paused', 'cancelled')) \
                              ORDER BY next_attempt_at, id LIMIT $4 \
                              FOR UPDATE SKIP LOCKED)) \
                 RETURNING id, campaign_id, email, domain, message_id, attempts, first_attempt_at, \
                           possible_duplicate, contact_id, seed_id, state, reason, email_key, variant) \
             SELECT d.id, d.campaign_id, d.email, d.domain, d.message_id, d.attempts, d.first_attempt_at, \
                    d.possible_duplicate, d.seed_id, \
                    COALESCE((SELECT c.fields FROM contacts c WHERE c.id = d.contact_id), '{}') AS fields, \
                    d.state, d.reason, d.variant, \
                    (SELECT s.reason FROM suppressions s WHERE s.email_key = d.email_key) AS suppressed \
             FROM claimed d ORDER BY d.domain, d.id",
        )
        .bind(c.owner)
        .bind(c.lease_until_ms)
        .bind(c.now_ms)
        .bind(c.limit as i64)
        .bind(c.campaign.map(|x| x.0))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
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
            .collect()
    }

    async fn renew_leases(
        &self,
        owner: &str,
        ids: &[DeliveryId],
        lease_until_ms: i64,
    ) -> Result<u64> {
        let ids: Vec<i64> = ids.iter().map(|d| d.0).collect();
        let mut w = self.write().await?;
        // Through the primary key; lease_until is in no index, so renewals stay HOT updates.
        let n = sqlx::query(
            "UPDATE deliveries SET lease_until = $2 WHERE id = ANY($3::bigint[]) AND lease_owner = $1",
        )
        .bind(owner)
        .bind(lease_until_ms)
        .bind(ids)
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
        // Each column travels as one array parameter (UNNEST): constant SQL, a handful of binds
        // per batch, binary-encoded, and no JSON for the server to parse (the JSON form SQLite
        // needs cost PostgreSQL a third of each batch's time, measured at 1,000 outcomes).
        let c = OutcomeColumns::of(batch)?;
        let mut w = self.write().await?;
        if !c.attempt_delivery.is_empty() {
            sqlx::query(
                "INSERT INTO attempts (delivery_id, campaign_id, outcome, reason, started_at, ended_at, evidence) \
                 SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], \
                                      $5::bigint[], $6::bigint[], $7::text[])",
            )
            .bind(&c.attempt_delivery)
            .bind(&c.attempt_campaign)
            .bind(&c.attempt_outcome)
            .bind(&c.attempt_reason)
            .bind(&c.attempt_started)
            .bind(&c.attempt_ended)
            .bind(&c.attempt_evidence)
            .execute(&mut *w.tx)
            .await?;
        }
        // One UPDATE … FROM for the whole batch; it also releases the leases. The `= ANY($1)`
        // repeats the join's ids so the deliveries are found through the primary key (without
        // it the join was planned as a hash over every delivery, once per batch).
        sqlx::query(
            // A DSN can overtake the 250's write (the receiver bounces within milliseconds):
            // a delivered (or relayed) outcome then keeps the late bounce already recorded
            // (`late`).
            "WITH v AS (SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], \
                                             $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[]) \
                            AS v(id, state, reason, hard, inc, next_at, first_at, at)) \
             UPDATE deliveries SET \
                 state = CASE WHEN late THEN deliveries.state ELSE v.state END, \
                 reason = CASE WHEN late THEN deliveries.reason ELSE v.reason END, \
                 hard = CASE WHEN late THEN deliveries.hard ELSE v.hard END, \
                 attempts = deliveries.attempts + v.inc, next_attempt_at = v.next_at, \
                 first_attempt_at = COALESCE(deliveries.first_attempt_at, v.first_at), \
                 lease_owner = NULL, lease_until = NULL, updated_at = v.at \
             FROM (SELECT v.*, (v.state IN ('delivered', 'relayed') AND EXISTS (SELECT 1 FROM events e \
                       WHERE e.delivery_id = v.id AND e.kind = 'async_bounce')) AS late FROM v) AS v \
             WHERE deliveries.id = v.id AND deliveries.id = ANY($1::bigint[])",
        )
        .bind(&c.id)
        .bind(&c.state)
        .bind(&c.reason)
        .bind(&c.hard)
        .bind(&c.inc)
        .bind(&c.next_at)
        .bind(&c.first_at)
        .bind(&c.at)
        .execute(&mut *w.tx)
        .await?;
        super::webhooks::enqueue(&mut w.tx, || crate::shared::outcome_hooks(batch)).await?;
        // The relay's success DSN (or its provider's delivered event) came first. A
        // statement of its own: it sees the reports committed while the one above waited for
        // their row locks (the feedback transaction locks the delivery's row first).
        let confirmed: Vec<i64> = sqlx::query(
            "UPDATE deliveries SET state = 'delivered' \
             WHERE id = ANY($1::bigint[]) AND state = 'relayed' \
             AND EXISTS (SELECT 1 FROM events e WHERE e.delivery_id = deliveries.id \
                         AND e.kind IN ('dsn_delivered', 'provider_delivered')) \
             RETURNING id",
        )
        .bind(&c.id)
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
        // Likewise a late bounce committed while the statement above waited: `late` was read
        // before it, so its effect is applied here.
        sqlx::query(
            "UPDATE deliveries d SET state = 'bounced', reason = e.detail::jsonb ->> 'reason', \
                 hard = CASE WHEN (e.detail::jsonb ->> 'hard') = 'true' THEN 1 ELSE 0 END \
             FROM (SELECT DISTINCT ON (delivery_id) delivery_id, detail FROM events \
                   WHERE kind = 'async_bounce' AND delivery_id = ANY($1::bigint[]) AND detail LIKE '{%' \
                   ORDER BY delivery_id, at DESC) e \
             WHERE d.id = e.delivery_id AND d.state IN ('delivered', 'relayed')",
        )
        .bind(&c.id)
        .execute(&mut *w.tx)
        .await?;
        w.tx.commit().await?;
        Ok(())
    }

    async fn next_due(&self, campaign: Option<CampaignId>) -> Result<Option<i64>> {
        Ok(sqlx::query(
            "SELECT MIN(next_attempt_at) AS due FROM deliveries WHERE state IN ('queued', 'deferred') \
             AND campaign_id NOT IN (SELECT id FROM campaigns WHERE status IN ('paused', 'cancelled')) \
             AND ($1::bigint IS NULL OR campaign_id = $1)",
        )
        .bind(campaign.map(|c| c.0))
        .fetch_one(&self.pool)
        .await?
        .try_get("due")?)
    }
}

/// A batch of outcomes column by column, as `record_outcomes` binds them.
#[derive(Default)]
struct OutcomeColumns {
    attempt_delivery: Vec<i64>,
    attempt_campaign: Vec<i64>,
    attempt_outcome: Vec<String>,
    attempt_reason: Vec<Option<String>>,
    attempt_started: Vec<i64>,
    attempt_ended: Vec<i64>,
    attempt_evidence: Vec<String>,
    id: Vec<i64>,
    state: Vec<&'static str>,
    reason: Vec<Option<String>>,
    hard: Vec<i64>,
    inc: Vec<i64>,
    next_at: Vec<Option<i64>>,
    first_at: Vec<Option<i64>>,
    at: Vec<i64>,
}

impl OutcomeColumns {
    fn of(batch: &[OutcomeRecord]) -> Result<Self> {
        let mut c = OutcomeColumns::default();
        for o in batch {
            let started = o.attempt.as_ref().map(|(_, ev)| ms(ev.started_at));
            if let Some((outcome, ev)) = &o.attempt {
                c.attempt_delivery.push(o.delivery.0);
                c.attempt_campaign.push(o.campaign.0);
                c.attempt_outcome.push(outcome.as_str().to_string());
                c.attempt_reason.push(o.reason.clone());
                c.attempt_started.push(ms(ev.started_at));
                c.attempt_ended.push(ms(ev.ended_at));
                c.attempt_evidence.push(
                    serde_json::to_string(ev).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                );
            }
            c.id.push(o.delivery.0);
            c.state.push(o.state.as_str());
            c.reason.push(o.reason.clone());
            c.hard.push(i64::from(o.hard));
            c.inc.push(i64::from(o.attempt.is_some()));
            c.next_at.push(o.next_attempt_at_ms);
            c.first_at.push(started);
            c.at.push(o.at_ms);
        }
        Ok(c)
    }
}
