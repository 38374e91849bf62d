//! Read models for reports: the queries of both backends, written once. `sqlite/reports.rs` and `postgres/reports.rs`
//! expand this macro with their store, row and database types; what differs between the SQL
//! dialects comes from each backend's `dialect` module.

macro_rules! reports {
    ($store:ident, $row:ty, $db:ty) => {
        #[allow(unused_imports)]
        use crate::areas::*;
        use sqlx::Row;

        use super::parse_state;
        use crate::{
            AttemptRow, CampaignId, DeliveryDetail, DeliveryId, RecipientFilter, RecipientRow, Result,
            StateCounts, StoreError, WaitingGroup,
        };

        impl ReportStore for $store {
            /// The report counts: read from `campaign_counts`, which triggers keep in step with every
            /// delivery and event (migration 0007), so this is one indexed range read at any size.
            async fn counts(&self, campaign: CampaignId) -> Result<StateCounts> {
                let rows = sqlx::query(
                    "SELECT key, n FROM campaign_counts WHERE campaign_id = $1 AND n > 0 ORDER BY key",
                )
                .bind(campaign.0)
                .fetch_all(&self.pool)
                .await?;
                let mut c = StateCounts {
                    by_state: Vec::new(),
                    events: Vec::new(),
                    not_sent_reasons: Vec::new(),
                };
                for r in rows {
                    let key: String = r.try_get("key")?;
                    let n = r.try_get::<i64, _>("n")? as u64;
                    if let Some(state) = key.strip_prefix("state:") {
                        c.by_state.push((parse_state(state)?, n));
                    } else if let Some(reason) = key.strip_prefix("reason:") {
                        c.not_sent_reasons.push((reason.to_string(), n));
                    } else if let Some(kind) = key.strip_prefix("event:") {
                        c.events.push((kind.to_string(), n));
                    }
                }
                Ok(c)
            }

            async fn waiting(&self, now_ms: i64) -> Result<Vec<WaitingGroup>> {
                // The condition of the `deliveries_due` partial index: only what waits is read.
                let rows = sqlx::query(
                    "SELECT d.domain, d.state, d.reason, c.status, COUNT(*) AS n, MIN(d.next_attempt_at) AS next_at, \
                            SUM(CASE WHEN d.lease_until > $1 THEN 1 ELSE 0 END) AS in_flight \
                     FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id \
                     WHERE d.state IN ('queued', 'deferred') \
                     GROUP BY d.domain, d.state, d.reason, c.status \
                     ORDER BY COUNT(*) DESC, d.domain",
                )
                .bind(now_ms)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(WaitingGroup {
                            domain: r.try_get("domain")?,
                            state: parse_state(&r.try_get::<String, _>("state")?)?,
                            reason: r.try_get("reason")?,
                            campaign_status: r.try_get("status")?,
                            count: r.try_get::<i64, _>("n")? as u64,
                            next_attempt_at_ms: r.try_get("next_at")?,
                            in_flight: r.try_get::<Option<i64>, _>("in_flight")?.unwrap_or(0) as u64,
                        })
                    })
                    .collect()
            }

            async fn recipients_filtered(
                &self,
                campaign: CampaignId,
                filter: &RecipientFilter,
                search: Option<&str>,
                after: i64,
                limit: u32,
            ) -> Result<Vec<RecipientRow>> {
                if search.is_some_and(|q| !crate::shared::matchable(q)) {
                    return Ok(Vec::new());
                }
                // Only fixed SQL fragments are chosen here; every value is bound. Event tabs are driven
                // from `delivery_flags` (indexed by key), state tabs from (campaign, state, id).
                let (from, condition, order) = match filter {
                    RecipientFilter::All => ("deliveries d", super::dialect::TRUE, "d.id"),
                    RecipientFilter::Sent => ("deliveries d", "d.state <> 'not_sent'", "d.id"),
                    RecipientFilter::State(_) => ("deliveries d", "d.state = $5", "d.id"),
                    RecipientFilter::Event(_) => (
                        "delivery_flags f JOIN deliveries d ON d.id = f.delivery_id",
                        "f.key = $5",
                        "f.delivery_id",
                    ),
                };
                let param = match filter {
                    RecipientFilter::State(s) => s.as_str().to_string(),
                    RecipientFilter::Event(k) => k.clone(),
                    _ => String::new(),
                };
                let contains = super::dialect::contains("d.email_key", "lower($4)");
                let sql = format!(
                    "SELECT d.id, d.email, d.state, d.reason, d.hard, d.attempts, d.possible_duplicate, d.message_id, \
                            d.next_attempt_at, \
                            (SELECT a.evidence FROM attempts a WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1) AS evidence \
                     FROM {from} WHERE d.campaign_id = $1 AND {order} > $2 AND d.seed_id IS NULL \
                       AND ($4 = '' OR {contains}) AND {condition} \
                     ORDER BY {order} LIMIT $3"
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(campaign.0)
                    .bind(after)
                    .bind(limit as i64)
                    .bind(search.unwrap_or(""))
                    .bind(param)
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(|r| recipient_row(&r)).collect()
            }

            async fn recipients(
                &self,
                campaign: CampaignId,
                after: i64,
                limit: u32,
            ) -> Result<Vec<RecipientRow>> {
                let rows = sqlx::query(
                    "SELECT d.id, d.email, d.state, d.reason, d.hard, d.attempts, d.possible_duplicate, d.message_id, \
                            d.next_attempt_at, \
                            (SELECT a.evidence FROM attempts a WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1) AS evidence \
                     FROM deliveries d WHERE d.campaign_id = $1 AND d.id > $2 AND d.seed_id IS NULL \
                     ORDER BY d.id LIMIT $3",
                )
                .bind(campaign.0)
                .bind(after)
                .bind(limit as i64)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(recipient_row).collect()
            }

            async fn delivery_detail(
                &self,
                campaign: CampaignId,
                email_key: &str,
            ) -> Result<Option<DeliveryDetail>> {
                let Some(r) = sqlx::query(
                    "SELECT d.id, d.email, d.state, d.reason, d.hard, d.attempts, d.possible_duplicate, \
                            d.message_id, d.next_attempt_at, c.fields, d.email_key \
                     FROM deliveries d LEFT JOIN contacts c ON c.id = d.contact_id \
                     WHERE d.campaign_id = $1 AND d.email_key = $2",
                )
                .bind(campaign.0)
                .bind(email_key)
                .fetch_optional(&self.pool)
                .await?
                else {
                    return Ok(None);
                };
                let id = DeliveryId(r.try_get("id")?);
                let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
                let attempts = sqlx::query(
                    "SELECT outcome, reason, started_at, ended_at, evidence FROM attempts \
                     WHERE delivery_id = $1 ORDER BY id",
                )
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|a| {
                    Ok(AttemptRow {
                        outcome: crate::shared::parse_name("attempts.outcome", &a.try_get::<String, _>("outcome")?)?,
                        reason: a.try_get("reason")?,
                        started_at_ms: a.try_get("started_at")?,
                        ended_at_ms: a.try_get("ended_at")?,
                        evidence: serde_json::from_str(&a.try_get::<String, _>("evidence")?).map_err(corrupt)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
                let last = attempts.last().map(|a| a.evidence.clone());
                let events = self
                    .events(&[id])
                    .await?
                    .into_iter()
                    .map(|(_, e)| e)
                    .collect();
                let suppression =
                    sqlx::query("SELECT reason, source, created_at FROM suppressions WHERE email_key = $1")
                        .bind(email_key)
                        .fetch_optional(&self.pool)
                        .await?
                        .map(|s| Ok::<_, StoreError>((s.try_get("reason")?, s.try_get("source")?, s.try_get("created_at")?)))
                        .transpose()?;
                Ok(Some(DeliveryDetail {
                    row: recipient_row_with(&r, last)?,
                    campaign,
                    email_key: r.try_get("email_key")?,
                    fields: r.try_get("fields")?,
                    attempts,
                    events,
                    suppression,
                }))
            }

            async fn timeline(
                &self,
                campaign: CampaignId,
            ) -> Result<Vec<crate::TimelinePoint>> {
                let rows = sqlx::query(
                    "SELECT minute, kind, n FROM campaign_timeline WHERE campaign_id = $1 ORDER BY minute, kind",
                )
                .bind(campaign.0)
                .fetch_all(&self.pool)
                .await?;
                rows
                    .iter()
                    .map(|r| Ok(crate::TimelinePoint {
                        minute: r.try_get("minute")?,
                        kind: r.try_get("kind")?,
                        n: r.try_get::<i64, _>("n")? as u64,
                    }))
                    .collect::<Result<_>>()
            }

            async fn health_rows(&self, since_day: i64) -> Result<Vec<crate::HealthRow>> {
                let rows = sqlx::query(
                    "SELECT h.day, h.campaign_id, c.name, c.from_address, h.provider, h.kind, h.n \
                     FROM health_daily h JOIN campaigns c ON c.id = h.campaign_id \
                     WHERE h.day >= $1 ORDER BY h.day, h.campaign_id, h.provider, h.kind",
                )
                .bind(since_day)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(crate::HealthRow {
                            day: r.try_get("day")?,
                            campaign: CampaignId(r.try_get("campaign_id")?),
                            campaign_name: r.try_get("name")?,
                            from_address: r.try_get("from_address")?,
                            provider: r.try_get("provider")?,
                            kind: r.try_get("kind")?,
                            n: r.try_get::<i64, _>("n")?.max(0) as u64,
                        })
                    })
                    .collect()
            }
        }

        /// A recipient row (columns id … next_attempt_at) with its last attempt's `evidence` JSON.
        fn recipient_row(r: &$row) -> Result<RecipientRow> {
            let evidence: Option<String> = r.try_get("evidence")?;
            let evidence = evidence
                .map(|e| serde_json::from_str(&e).map_err(|e| StoreError::Corrupt(e.to_string())))
                .transpose()?;
            recipient_row_with(r, evidence)
        }

        /// A recipient row (columns id … next_attempt_at) with the evidence found elsewhere.
        fn recipient_row_with(
            r: &$row,
            evidence: Option<herald_domain::Evidence>,
        ) -> Result<RecipientRow> {
            Ok(RecipientRow {
                id: DeliveryId(r.try_get("id")?),
                email: r.try_get("email")?,
                state: parse_state(&r.try_get::<String, _>("state")?)?,
                reason: r.try_get("reason")?,
                hard: r.try_get::<i64, _>("hard")? != 0,
                attempts: r.try_get::<i64, _>("attempts")? as u32,
                possible_duplicate: r.try_get::<i64, _>("possible_duplicate")? != 0,
                message_id: r.try_get("message_id")?,
                next_attempt_at_ms: r.try_get("next_attempt_at")?,
                evidence,
            })
        }
    };
}
pub(crate) use reports;
