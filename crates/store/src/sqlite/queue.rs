//! Claims with leases, lease renewal, and outcome recording.

use sqlx::{QueryBuilder, Row, Sqlite};

use super::SqliteStore;
use crate::{
    CampaignId, ClaimRequest, ClaimedDelivery, DeliveryId, OutcomeRecord, Result, StoreError,
};

const CHUNK: usize = 500;

impl SqliteStore {
    pub(super) async fn claim_impl(&self, c: &ClaimRequest<'_>) -> Result<Vec<ClaimedDelivery>> {
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
        .map(|r| r.get(0))
        .collect();
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "SELECT d.id, d.campaign_id, d.email, d.domain, d.message_id, d.attempts, d.first_attempt_at, \
                        d.possible_duplicate, COALESCE(c.fields, '{}') \
                 FROM deliveries d LEFT JOIN contacts c ON c.id = d.contact_id WHERE d.id IN (",
            );
            let mut sep = q.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            q.push(") ORDER BY d.domain, d.id");
            for r in q.build().fetch_all(&mut *w.tx).await? {
                out.push(ClaimedDelivery {
                    id: DeliveryId(r.get(0)),
                    campaign: CampaignId(r.get(1)),
                    email: r.get(2),
                    domain: r.get(3),
                    message_id: r.get(4),
                    attempts: r.get::<i64, _>(5) as u32,
                    first_attempt_at_ms: r.get(6),
                    possible_duplicate: r.get::<i64, _>(7) != 0,
                    fields: r.get(8),
                });
            }
        }
        w.tx.commit().await?;
        Ok(out)
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
        let mut w = self.write().await?;
        for chunk in batch.chunks(CHUNK) {
            let with_attempt: Vec<_> = chunk.iter().filter(|o| o.attempt.is_some()).collect();
            if !with_attempt.is_empty() {
                let mut rows = Vec::with_capacity(with_attempt.len());
                for o in &with_attempt {
                    if let Some((outcome, ev)) = &o.attempt {
                        let json = serde_json::to_string(ev)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                        rows.push((o, outcome, ms(ev.started_at), ms(ev.ended_at), json));
                    }
                }
                let mut q = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO attempts (delivery_id, campaign_id, outcome, reason, started_at, ended_at, evidence) ",
                );
                q.push_values(&rows, |mut b, (o, outcome, start, end, json)| {
                    b.push_bind(o.delivery.0)
                        .push_bind(o.campaign.0)
                        .push_bind(outcome.as_str())
                        .push_bind(&o.reason)
                        .push_bind(*start)
                        .push_bind(*end)
                        .push_bind(json.as_str());
                });
                q.build().execute(&mut *w.tx).await?;
            }
            // One UPDATE … FROM (VALUES …) for the whole chunk; it also releases the leases.
            let mut q = QueryBuilder::<Sqlite>::new(
                "WITH v(id, state, reason, hard, inc, next_at, first_at, at) AS (",
            );
            q.push_values(chunk, |mut b, o| {
                b.push_bind(o.delivery.0)
                    .push_bind(o.state.as_str())
                    .push_bind(&o.reason)
                    .push_bind(o.hard as i64)
                    .push_bind(o.attempt.is_some() as i64)
                    .push_bind(o.next_attempt_at_ms)
                    .push_bind(o.first_attempt_at_ms)
                    .push_bind(o.at_ms);
            });
            q.push(
                ") UPDATE deliveries SET state = v.state, reason = v.reason, hard = v.hard, \
                   attempts = deliveries.attempts + v.inc, next_attempt_at = v.next_at, \
                   first_attempt_at = COALESCE(deliveries.first_attempt_at, v.first_at), \
                   lease_owner = NULL, lease_until = NULL, updated_at = v.at \
                 FROM v WHERE deliveries.id = v.id",
            );
            q.build().execute(&mut *w.tx).await?;
        }
        w.tx.commit().await?;
        Ok(())
    }

    pub(super) async fn next_due_impl(&self, campaign: Option<CampaignId>) -> Result<Option<i64>> {
        Ok(sqlx::query(
            "SELECT MIN(next_attempt_at) FROM deliveries WHERE state IN ('queued', 'deferred') \
             AND ($1 IS NULL OR campaign_id = $1)",
        )
        .bind(campaign.map(|c| c.0))
        .fetch_one(&self.pool)
        .await?
        .get(0))
    }
}

fn ms(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}
