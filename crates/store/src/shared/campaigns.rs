//! Campaigns and the audience snapshot (deliveries): the queries of both backends, written once. `sqlite/campaigns.rs` and `postgres/campaigns.rs`
//! expand this macro with their store, row and database types; what differs between the SQL
//! dialects comes from each backend's `dialect` module.

macro_rules! campaigns {
    ($store:ident, $row:ty, $db:ty) => {
        #[allow(unused_imports)]
        use crate::areas::*;
        use sqlx::{QueryBuilder, Row};

        use crate::{
            Campaign, CampaignId, CampaignStatus, ListId, NewCampaign, NewDelivery, Result, StoreError,
        };

        const CHUNK: usize = 1000;

        /// The waiting deliveries of cancelled campaign `$2` that no live lease holds become
        /// `not_sent: cancelled` (`$1`: now). A leased one is settled by its holder when it
        /// gives it back, or by [`SETTLE_ALL_CANCELLED`] once the lease has run out — flagged
        /// `possible_duplicate` then, as a claim flags it: its holder died, maybe after a 250.
        const SETTLE_CANCELLED: &str =
            "UPDATE deliveries SET state = 'not_sent', reason = 'cancelled', next_attempt_at = NULL, \
                 possible_duplicate = CASE WHEN lease_owner IS NOT NULL THEN 1 ELSE possible_duplicate END, \
                 lease_owner = NULL, lease_until = NULL, updated_at = $1 \
             WHERE campaign_id = $2 AND state IN ('queued', 'deferred') \
               AND (lease_until IS NULL OR lease_until < $1)";
        /// The same for every cancelled campaign.
        static SETTLE_ALL_CANCELLED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            SETTLE_CANCELLED.replace(
                "campaign_id = $2",
                "campaign_id IN (SELECT id FROM campaigns WHERE status = 'cancelled')",
            )
        });

        impl CampaignStore for $store {
            async fn create_campaign(&self, c: &NewCampaign) -> Result<CampaignId> {
                let mut w = self.write().await?;
                let id: i64 = sqlx::query(
                    "INSERT INTO campaigns (name, list_id, from_name, from_address, subject, html, text, status, created_at, gate_override, track_opens, track_clicks, send_to_seeds, reply_to) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', $8, $9, $10, $11, $12, $13) RETURNING id",
                )
                .bind(&c.name)
                .bind(c.list.0)
                .bind(&c.from_name)
                .bind(&c.from_address)
                .bind(&c.subject)
                .bind(&c.html)
                .bind(&c.text)
                .bind(c.created_at_ms)
                .bind(&c.gate_override)
                .bind(c.track_opens as i64)
                .bind(c.track_clicks as i64)
                .bind(c.send_to_seeds as i64)
                .bind(&c.reply_to)
                .fetch_one(&mut *w.tx)
                .await?
                .try_get("id")?;
                w.tx.commit().await?;
                Ok(CampaignId(id))
            }

            /// The newest campaigns first.
            async fn campaigns(
                &self,
                before: Option<CampaignId>,
                status: Option<CampaignStatus>,
                limit: u32,
            ) -> Result<Vec<Campaign>> {
                let ids: Vec<i64> = sqlx::query(
                    "SELECT id FROM campaigns WHERE kind = 'campaign' AND id < $1 \
                     AND ($2 = '' OR status = $2) ORDER BY id DESC LIMIT $3",
                )
                    .bind(before.map_or(i64::MAX, |c| c.0))
                    .bind(status.map_or("", CampaignStatus::as_str))
                    .bind(limit as i64)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|r| r.try_get("id"))
                    .collect::<std::result::Result<_, _>>()?;
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    if let Some(c) = self.campaign(crate::CampaignId(id)).await? {
                        out.push(c);
                    }
                }
                Ok(out)
            }

            async fn update_draft(
                &self,
                id: CampaignId,
                c: &NewCampaign,
                now_ms: i64,
            ) -> Result<bool> {
                let mut w = self.write().await?;
                let changed = sqlx::query(
                    "UPDATE campaigns SET name = $1, list_id = $2, from_name = $3, from_address = $4, \
                        subject = $5, html = $6, text = $7, gate_override = $8, track_opens = $9, \
                        track_clicks = $10, send_to_seeds = $11, reply_to = $13 \
                     WHERE id = $12 AND status IN ('draft', 'scheduled') \
                     AND (schedule_lease_until IS NULL OR schedule_lease_until < $14) \
                     AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = $12)",
                )
                .bind(&c.name)
                .bind(c.list.0)
                .bind(&c.from_name)
                .bind(&c.from_address)
                .bind(&c.subject)
                .bind(&c.html)
                .bind(&c.text)
                .bind(&c.gate_override)
                .bind(c.track_opens as i64)
                .bind(c.track_clicks as i64)
                .bind(c.send_to_seeds as i64)
                .bind(id.0)
                .bind(&c.reply_to)
                .bind(now_ms)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                w.tx.commit().await?;
                Ok(changed == 1)
            }

            async fn delete_draft(&self, id: CampaignId, now_ms: i64) -> Result<bool> {
                let mut w = self.write().await?;
                // A draft has no deliveries; the condition keeps it so even if one is starting.
                let deleted = sqlx::query(
                    "DELETE FROM campaigns WHERE id = $1 AND status IN ('draft', 'scheduled') \
                     AND (schedule_lease_until IS NULL OR schedule_lease_until < $2) \
                     AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = $1)",
                )
                .bind(id.0)
                .bind(now_ms)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                w.tx.commit().await?;
                Ok(deleted == 1)
            }

            async fn campaign(&self, id: CampaignId) -> Result<Option<Campaign>> {
                let row = sqlx::query(
                    "SELECT c.id, c.name, c.list_id, l.name AS list_name, c.from_name, c.from_address, c.subject, c.html, c.text, \
                            c.status, c.created_at, c.started_at, c.finished_at, c.gate_override, \
                            c.track_opens, c.track_clicks, c.send_to_seeds, \
                            c.scheduled_at, c.schedule_tz, c.schedule_error, c.reply_to, c.presend_check, c.local_time, c.kind, \
                            c.segment_name, c.segment_rule, c.exclude_name, c.exclude_rule, c.complaint_override, \
                            c.ab, c.ab_decide_at, c.ab_winner, c.ab_result, c.archive \
                     FROM campaigns c JOIN lists l ON l.id = c.list_id WHERE c.id = $1",
                )
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
                let Some(r) = row else { return Ok(None) };
                let status: String = r.try_get("status")?;
                let (mut also_lists, mut exclude_lists) = (Vec::new(), Vec::new());
                for l in sqlx::query(
                    "SELECT cl.list_id, l.name, cl.excluded FROM campaign_lists cl \
                     JOIN lists l ON l.id = cl.list_id WHERE cl.campaign_id = $1 ORDER BY l.name",
                )
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?
                {
                    let entry = (ListId(l.try_get("list_id")?), l.try_get("name")?);
                    if l.try_get::<i64, _>("excluded")? != 0 {
                        exclude_lists.push(entry);
                    } else {
                        also_lists.push(entry);
                    }
                }
                Ok(Some(Campaign {
                    id: CampaignId(r.try_get("id")?),
                    name: r.try_get("name")?,
                    list: ListId(r.try_get("list_id")?),
                    list_name: r.try_get("list_name")?,
                    from_name: r.try_get("from_name")?,
                    from_address: r.try_get("from_address")?,
                    subject: r.try_get("subject")?,
                    html: r.try_get("html")?,
                    text: r.try_get("text")?,
                    status: CampaignStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("campaign status {status:?}")))?,
                    created_at_ms: r.try_get("created_at")?,
                    started_at_ms: r.try_get("started_at")?,
                    finished_at_ms: r.try_get("finished_at")?,
                    gate_override: r.try_get("gate_override")?,
                    track_opens: r.try_get::<i64, _>("track_opens")? != 0,
                    track_clicks: r.try_get::<i64, _>("track_clicks")? != 0,
                    send_to_seeds: r.try_get::<i64, _>("send_to_seeds")? != 0,
                    scheduled_at_ms: r.try_get("scheduled_at")?,
                    schedule_tz: r.try_get("schedule_tz")?,
                    schedule_error: r.try_get("schedule_error")?,
                    reply_to: r.try_get("reply_to")?,
                    presend_check: r.try_get("presend_check")?,
                    local_time: r.try_get("local_time")?,
                    kind: r
                        .try_get::<String, _>("kind")?
                        .parse()
                        .map_err(|e| StoreError::Corrupt(format!("campaign kind: {e}")))?,
                    segment: r.try_get::<Option<String>, _>("segment_name")?.zip(r.try_get::<Option<String>, _>("segment_rule")?),
                    exclude: r.try_get::<Option<String>, _>("exclude_name")?.zip(r.try_get::<Option<String>, _>("exclude_rule")?),
                    also_lists,
                    exclude_lists,
                    complaint_override: r.try_get("complaint_override")?,
                    ab: r.try_get("ab")?,
                    ab_decide_at_ms: r.try_get("ab_decide_at")?,
                    ab_winner: r.try_get::<Option<i64>, _>("ab_winner")?.map(|v| v.max(0) as u32),
                    ab_result: r.try_get("ab_result")?,
                    archive: r.try_get::<i64, _>("archive")? != 0,
                }))
            }

            async fn set_campaign_archive(&self, id: CampaignId, on: bool) -> Result<bool> {
                let mut w = self.write().await?;
                let n = sqlx::query(
                    "UPDATE campaigns SET archive = $2 WHERE id = $1 AND kind = 'campaign'",
                )
                .bind(id.0)
                .bind(i64::from(on))
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                w.tx.commit().await?;
                Ok(n == 1)
            }

            async fn set_campaign_ab(&self, id: CampaignId, ab: Option<&str>) -> Result<bool> {
                let mut w = self.write().await?;
                let n = sqlx::query(
                    "UPDATE campaigns SET ab = $2 WHERE id = $1 AND status IN ('draft', 'scheduled') \
                     AND NOT EXISTS (SELECT 1 FROM deliveries WHERE campaign_id = $1)",
                )
                .bind(id.0)
                .bind(ab)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                w.tx.commit().await?;
                Ok(n == 1)
            }

            async fn start_ab(
                &self,
                id: CampaignId,
                share_pct: u32,
                variants: u32,
                decide_at_ms: i64,
                waiting: &str,
                now_ms: i64,
            ) -> Result<Option<(u64, u64)>> {
                let mut w = self.write().await?;
                let first = sqlx::query(
                    "UPDATE campaigns SET ab_decide_at = $2 WHERE id = $1 AND ab_decide_at IS NULL",
                )
                .bind(id.0)
                .bind(decide_at_ms)
                .execute(&mut *w.tx)
                .await?
                .rows_affected()
                    == 1;
                if !first {
                    w.tx.commit().await?;
                    return Ok(None);
                }
                let waiting_now: i64 = sqlx::query(
                    "SELECT COUNT(*) AS n FROM deliveries WHERE campaign_id = $1 AND state = 'queued' \
                     AND seed_id IS NULL AND next_attempt_at IS NULL",
                )
                .bind(id.0)
                .fetch_one(&mut *w.tx)
                .await?
                .try_get("n")?;
                // Rounded down (at least one each while there are enough people): the variants
                // never take more than the audience.
                let waiting_now = waiting_now.max(0) as u64;
                let per_variant = (waiting_now * u64::from(share_pct.min(100)) / 100)
                    .max(u64::from(waiting_now >= u64::from(variants)));
                // The test group: ranked by a multiplicative hash of the id (an order no one
                // chose), `per_variant` to each variant in turn.
                let tested = sqlx::query(
                    "UPDATE deliveries SET variant = r.v, next_attempt_at = $4 \
                     FROM (SELECT id, (ROW_NUMBER() OVER (ORDER BY (id * 2654435761) % 4294967291, id) - 1) / $2 AS v \
                           FROM deliveries WHERE campaign_id = $1 AND state = 'queued' \
                             AND seed_id IS NULL AND next_attempt_at IS NULL) r \
                     WHERE deliveries.id = r.id AND r.v < $3",
                )
                .bind(id.0)
                .bind(per_variant.max(1) as i64)
                .bind(i64::from(variants))
                .bind(now_ms)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                let rest = sqlx::query(
                    "UPDATE deliveries SET reason = $2 WHERE campaign_id = $1 AND state = 'queued' \
                     AND seed_id IS NULL AND next_attempt_at IS NULL",
                )
                .bind(id.0)
                .bind(waiting)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                w.tx.commit().await?;
                Ok(Some((tested, rest)))
            }

            async fn ab_due(&self, now_ms: i64) -> Result<Vec<CampaignId>> {
                sqlx::query(
                    "SELECT id FROM campaigns WHERE ab_decide_at IS NOT NULL AND ab_winner IS NULL \
                     AND ab_decide_at <= $1 AND status IN ('sending', 'sent') ORDER BY id",
                )
                .bind(now_ms)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|r| Ok(CampaignId(r.try_get("id")?)))
                .collect()
            }

            async fn ab_figures(&self, id: CampaignId) -> Result<Vec<crate::AbFigures>> {
                let rows = sqlx::query(
                    "SELECT d.variant, COUNT(*) AS recipients, \
                            SUM(CASE WHEN d.state IN ('delivered', 'relayed') THEN 1 ELSE 0 END) AS delivered, \
                            SUM(CASE WHEN EXISTS (SELECT 1 FROM delivery_flags f WHERE f.delivery_id = d.id AND f.key = 'open') THEN 1 ELSE 0 END) AS opened, \
                            SUM(CASE WHEN EXISTS (SELECT 1 FROM delivery_flags f WHERE f.delivery_id = d.id AND f.key = 'click') THEN 1 ELSE 0 END) AS clicked \
                     FROM deliveries d WHERE d.campaign_id = $1 AND d.seed_id IS NULL AND d.variant IS NOT NULL \
                     GROUP BY d.variant ORDER BY d.variant",
                )
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        let n = |c: &str| -> Result<u64> {
                            Ok(r.try_get::<Option<i64>, _>(c)?.unwrap_or(0).max(0) as u64)
                        };
                        Ok(crate::AbFigures {
                            variant: r.try_get::<i64, _>("variant")?.max(0) as u32,
                            recipients: n("recipients")?,
                            delivered: n("delivered")?,
                            opened: n("opened")?,
                            clicked: n("clicked")?,
                        })
                    })
                    .collect()
            }

            async fn decide_ab(
                &self,
                id: CampaignId,
                winner: u32,
                result: &str,
                now_ms: i64,
            ) -> Result<bool> {
                let mut w = self.write().await?;
                let won = sqlx::query(
                    "UPDATE campaigns SET ab_winner = $2, ab_result = $3 WHERE id = $1 AND ab_winner IS NULL",
                )
                .bind(id.0)
                .bind(i64::from(winner))
                .bind(result)
                .execute(&mut *w.tx)
                .await?
                .rows_affected()
                    == 1;
                if won {
                    sqlx::query(
                        "UPDATE deliveries SET next_attempt_at = $2, reason = NULL \
                         WHERE campaign_id = $1 AND state = 'queued' AND seed_id IS NULL \
                           AND variant IS NULL AND next_attempt_at IS NULL",
                    )
                    .bind(id.0)
                    .bind(now_ms)
                    .execute(&mut *w.tx)
                    .await?;
                }
                w.tx.commit().await?;
                Ok(won)
            }

            async fn set_complaint_override(&self, id: CampaignId, why: &str) -> Result<bool> {
                let mut w = self.write().await?;
                let n = sqlx::query(
                    "UPDATE campaigns SET complaint_override = $2 WHERE id = $1",
                )
                .bind(id.0)
                .bind(why)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                w.tx.commit().await?;
                Ok(n == 1)
            }

            /// Narrow a draft's audience (see the trait).
            async fn set_campaign_audience(
                &self,
                id: CampaignId,
                setting: &crate::AudienceSetting<'_>,
                now_ms: i64,
            ) -> Result<bool> {
                let (segment, exclude) = (setting.segment, setting.exclude);
                let mut w = self.write().await?;
                let n = sqlx::query(
                    "UPDATE campaigns SET segment_name = $2, segment_rule = $3, exclude_name = $4, exclude_rule = $5 \
                     WHERE id = $1 AND status IN ('draft', 'scheduled') AND kind = 'campaign' \
                     AND (schedule_lease_until IS NULL OR schedule_lease_until < $6) \
                     AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = $1)",
                )
                .bind(id.0)
                .bind(segment.map(|s| s.0))
                .bind(segment.map(|s| s.1))
                .bind(exclude.map(|s| s.0))
                .bind(exclude.map(|s| s.1))
                .bind(now_ms)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                if n != 1 {
                    return Ok(false);
                }
                // The campaign's own list is its list already; a list both in and out is out.
                sqlx::query("DELETE FROM campaign_lists WHERE campaign_id = $1")
                    .bind(id.0)
                    .execute(&mut *w.tx)
                    .await?;
                let own = sqlx::query("SELECT list_id FROM campaigns WHERE id = $1")
                    .bind(id.0)
                    .fetch_one(&mut *w.tx)
                    .await?
                    .try_get::<i64, _>("list_id")?;
                let lists = setting
                    .exclude_lists
                    .iter()
                    .map(|l| (l.0, 1_i64))
                    .chain(setting.also_lists.iter().map(|l| (l.0, 0)))
                    .filter(|(l, excluded)| *l != own || *excluded == 1);
                for (list, excluded) in lists {
                    sqlx::query(
                        "INSERT INTO campaign_lists (campaign_id, list_id, excluded) VALUES ($1, $2, $3) \
                         ON CONFLICT (campaign_id, list_id) DO NOTHING",
                    )
                    .bind(id.0)
                    .bind(list)
                    .bind(excluded)
                    .execute(&mut *w.tx)
                    .await?;
                }
                w.tx.commit().await?;
                Ok(true)
            }

            async fn set_campaign_status(
                &self,
                id: CampaignId,
                status: CampaignStatus,
                at_ms: i64,
            ) -> Result<()> {
                let mut w = self.write().await?;
                let q = match status {
                    CampaignStatus::Draft => sqlx::query("UPDATE campaigns SET status = 'draft' WHERE id = $1").bind(id.0),
                    CampaignStatus::Scheduled => sqlx::query("UPDATE campaigns SET status = 'scheduled' WHERE id = $1").bind(id.0),
                    CampaignStatus::Sending => sqlx::query(
                        "UPDATE campaigns SET status = 'sending', started_at = COALESCE(started_at, $2), finished_at = NULL, \
                         schedule_lease_until = NULL WHERE id = $1 AND status IN ('draft', 'scheduled')",
                    )
                    .bind(id.0)
                    .bind(at_ms),
                    CampaignStatus::Paused => sqlx::query("UPDATE campaigns SET status = 'paused' WHERE id = $1").bind(id.0),
                    CampaignStatus::Sent | CampaignStatus::Cancelled => sqlx::query(
                        "UPDATE campaigns SET status = $3, finished_at = $2 WHERE id = $1",
                    )
                    .bind(id.0)
                    .bind(at_ms)
                    .bind(status.as_str()),
                };
                q.execute(&mut *w.tx).await?;
                w.tx.commit().await?;
                Ok(())
            }

            async fn finish_campaigns(&self, at_ms: i64) -> Result<u64> {
                let mut w = self.write().await?;
                let n = sqlx::query(
                    "UPDATE campaigns SET status = 'sent', finished_at = $1 WHERE status = 'sending' \
                     AND kind = 'campaign' AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = campaigns.id \
                                     AND d.state IN ('queued', 'deferred'))",
                )
                .bind(at_ms)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                w.tx.commit().await?;
                Ok(n)
            }

            async fn schedule_campaign(
                &self,
                id: CampaignId,
                at_ms: i64,
                tz: Option<&str>,
                local_time: Option<&str>,
                now_ms: i64,
            ) -> Result<bool> {
                let mut w = self.write().await?;
                let n = sqlx::query(
                    "UPDATE campaigns SET status = 'scheduled', scheduled_at = $2, schedule_tz = $3, \
                         schedule_error = NULL, schedule_lease_until = NULL, local_time = $4 \
                     WHERE id = $1 AND status IN ('draft', 'scheduled') \
                     AND (schedule_lease_until IS NULL OR schedule_lease_until < $5) \
                     AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = $1)",
                )
                .bind(id.0)
                .bind(at_ms)
                .bind(tz)
                .bind(local_time)
                .bind(now_ms)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                w.tx.commit().await?;
                Ok(n == 1)
            }

            async fn unschedule_campaign(&self, id: CampaignId, now_ms: i64) -> Result<bool> {
                let mut w = self.write().await?;
                let n = sqlx::query(
                    "UPDATE campaigns SET status = 'draft', scheduled_at = NULL, schedule_tz = NULL, \
                         schedule_lease_until = NULL, local_time = NULL \
                     WHERE id = $1 AND status = 'scheduled' \
                     AND (schedule_lease_until IS NULL OR schedule_lease_until < $2) \
                     AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = $1)",
                )
                .bind(id.0)
                .bind(now_ms)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                w.tx.commit().await?;
                Ok(n == 1)
            }

            async fn take_due_schedules(
                &self,
                now_ms: i64,
                lease_until_ms: i64,
            ) -> Result<Vec<CampaignId>> {
                let mut w = self.write().await?;
                // Row by row, the lease decides: a node that comes second finds it taken.
                let ids = sqlx::query(
                    "UPDATE campaigns SET schedule_lease_until = $2 \
                     WHERE status = 'scheduled' AND scheduled_at <= $1 \
                       AND (schedule_lease_until IS NULL OR schedule_lease_until < $1) \
                     RETURNING id",
                )
                .bind(now_ms)
                .bind(lease_until_ms)
                .fetch_all(&mut *w.tx)
                .await?
                .into_iter()
                .map(|r| r.try_get("id").map(CampaignId))
                .collect::<std::result::Result<_, _>>()?;
                w.tx.commit().await?;
                Ok(ids)
            }

            async fn schedule_failed(&self, id: CampaignId, error: &str) -> Result<()> {
                let mut w = self.write().await?;
                sqlx::query(
                    "UPDATE campaigns SET status = 'draft', schedule_error = $2, schedule_lease_until = NULL, \
                         local_time = NULL \
                     WHERE id = $1 AND status = 'scheduled' \
                     AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = $1)",
                )
                .bind(id.0)
                .bind(error)
                .execute(&mut *w.tx)
                .await?;
                w.tx.commit().await?;
                Ok(())
            }

            async fn save_check(&self, id: CampaignId, check: &str) -> Result<()> {
                let mut w = self.write().await?;
                sqlx::query("UPDATE campaigns SET presend_check = $2 WHERE id = $1")
                    .bind(id.0)
                    .bind(check)
                    .execute(&mut *w.tx)
                    .await?;
                w.tx.commit().await?;
                Ok(())
            }

            async fn pause_campaign(&self, id: CampaignId, now_ms: i64) -> Result<bool> {
                // The status first, in its own transaction: claims stop at once (they skip
                // paused campaigns) and nodes see it at their next look.
                // A block: the writer is released before it is taken again (SQLite has one).
                let paused = {
                    let mut w = self.write().await?;
                    let paused = sqlx::query(
                        "UPDATE campaigns SET status = 'paused', paused_at = $2 WHERE id = $1 AND status = 'sending' AND kind = 'campaign'",
                    )
                    .bind(id.0)
                    .bind(now_ms)
                    .execute(&mut *w.tx)
                    .await?
                    .rows_affected()
                        == 1;
                    w.tx.commit().await?;
                    paused
                };
                if !paused {
                    return Ok(false);
                }
                // Then move its waiting deliveries out of the due range (PAUSE_SHIFT_MS), if it
                // is still paused: the no-op UPDATE locks the campaign's row, so a resume racing
                // this waits for it (and then takes the shift back off) or came first (and then
                // nothing is shifted). SQLite's one writer orders them the same way.
                let mut w = self.write().await?;
                let still = sqlx::query(
                    "UPDATE campaigns SET status = status WHERE id = $1 AND status = 'paused'",
                )
                .bind(id.0)
                .execute(&mut *w.tx)
                .await?
                .rows_affected()
                    == 1;
                if !still {
                    w.tx.commit().await?;
                    return Ok(true);
                }
                sqlx::query(
                    "UPDATE deliveries SET next_attempt_at = next_attempt_at + $2 \
                     WHERE campaign_id = $1 AND state IN ('queued', 'deferred') AND next_attempt_at < $2",
                )
                .bind(id.0)
                .bind(crate::PAUSE_SHIFT_MS)
                .execute(&mut *w.tx)
                .await?;
                w.tx.commit().await?;
                Ok(true)
            }

            async fn wake_held(&self, domain: &str, now_ms: i64) -> Result<u64> {
                let pattern = format!(
                    "held: {} no longer verifies:%",
                    domain.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
                );
                let mut w = self.write().await?;
                let n = sqlx::query(
                    "UPDATE deliveries SET next_attempt_at = $2 \
                     WHERE campaign_id IN (SELECT id FROM campaigns WHERE status = 'sending') \
                     AND state IN ('queued', 'deferred') AND next_attempt_at > $2 \
                     AND reason LIKE $1 ESCAPE '\\'",
                )
                .bind(&pattern)
                .bind(now_ms)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                w.tx.commit().await?;
                Ok(n)
            }

            async fn resume_campaign(&self, id: CampaignId, now_ms: i64) -> Result<bool> {
                let mut w = self.write().await?;
                // An A/B test not decided yet keeps the time it had left: its decision moves on
                // by the time paused (its test copies were not sent meanwhile).
                sqlx::query(
                    "UPDATE campaigns SET ab_decide_at = ab_decide_at + ($2 - paused_at) \
                     WHERE id = $1 AND status = 'paused' AND ab_winner IS NULL \
                       AND ab_decide_at IS NOT NULL AND paused_at IS NOT NULL AND paused_at < $2",
                )
                .bind(id.0)
                .bind(now_ms)
                .execute(&mut *w.tx)
                .await?;
                let resumed = sqlx::query(
                    "UPDATE campaigns SET status = 'sending' WHERE id = $1 AND status = 'paused'",
                )
                .bind(id.0)
                .execute(&mut *w.tx)
                .await?
                .rows_affected()
                    == 1;
                if resumed {
                    sqlx::query(
                        "UPDATE deliveries SET next_attempt_at = next_attempt_at - $2 \
                         WHERE campaign_id = $1 AND state IN ('queued', 'deferred') AND next_attempt_at >= $2",
                    )
                    .bind(id.0)
                    .bind(crate::PAUSE_SHIFT_MS)
                    .execute(&mut *w.tx)
                    .await?;
                }
                w.tx.commit().await?;
                Ok(resumed)
            }

            async fn cancel_campaign(
                &self,
                id: CampaignId,
                at_ms: i64,
            ) -> Result<Option<u64>> {
                let mut w = self.write().await?;
                let cancelled = sqlx::query(
                    "UPDATE campaigns SET status = 'cancelled', finished_at = $2 \
                     WHERE id = $1 AND status IN ('sending', 'paused') AND kind = 'campaign'",
                )
                .bind(id.0)
                .bind(at_ms)
                .execute(&mut *w.tx)
                .await?
                .rows_affected()
                    == 1;
                let settled = if cancelled {
                    Some(
                        sqlx::query(SETTLE_CANCELLED)
                            .bind(at_ms)
                            .bind(id.0)
                            .execute(&mut *w.tx)
                            .await?
                            .rows_affected(),
                    )
                } else {
                    None
                };
                w.tx.commit().await?;
                Ok(settled)
            }

            async fn settle_cancelled(&self, at_ms: i64) -> Result<u64> {
                let mut w = self.write().await?;
                let n = sqlx::query(SETTLE_ALL_CANCELLED.as_str())
                    .bind(at_ms)
                    .execute(&mut *w.tx)
                    .await?
                    .rows_affected();
                w.tx.commit().await?;
                Ok(n)
            }

            async fn halted_campaigns(&self) -> Result<Vec<(CampaignId, CampaignStatus)>> {
                // Cancelled campaigns only while deliveries of theirs still wait, so the list
                // stays as short as the campaigns being paused or wound down.
                sqlx::query(
                    "SELECT c.id, c.status FROM campaigns c WHERE c.status = 'paused' \
                     OR (c.status = 'cancelled' AND EXISTS (SELECT 1 FROM deliveries d \
                         WHERE d.campaign_id = c.id AND d.state IN ('queued', 'deferred')))",
                )
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|r| {
                    let status: String = r.try_get("status")?;
                    let id = CampaignId(r.try_get("id")?);
                    CampaignStatus::parse(&status)
                        .map(|s| (id, s))
                        .ok_or_else(|| StoreError::Corrupt(format!("campaign status {status:?}")))
                })
                .collect()
            }

            async fn insert_deliveries(&self, batch: &[NewDelivery]) -> Result<u64> {
                let mut w = self.write().await?;
                let mut n = 0;
                for chunk in batch.chunks(CHUNK) {
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO deliveries (campaign_id, contact_id, email, email_key, domain, state, reason, \
                         message_id, next_attempt_at, updated_at, seed_id) ",
                    );
                    q.push_values(chunk, |mut b, d| {
                        b.push_bind(d.campaign.0)
                            .push_bind(d.contact_id)
                            .push_bind(&d.email)
                            .push_bind(&d.email_key)
                            .push_bind(&d.domain)
                            .push_bind(d.state.as_str())
                            .push_bind(&d.reason)
                            .push_bind(&d.message_id)
                            .push_bind(d.next_attempt_at_ms)
                            .push_bind(d.updated_at_ms)
                            .push_bind(d.seed_id);
                    });
                    q.push(" ON CONFLICT(campaign_id, email_key) DO NOTHING");
                    n += q.build().execute(&mut *w.tx).await?.rows_affected();
                }
                w.tx.commit().await?;
                Ok(n)
            }
        }
    };
}
pub(crate) use campaigns;
