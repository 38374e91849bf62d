//! Feedback: inbound messages and their effects, events, suppressions: the queries of both backends, written once. `sqlite/feedback.rs` and `postgres/feedback.rs`
//! expand this macro with their store, row and database types; what differs between the SQL
//! dialects comes from each backend's `dialect` module.

macro_rules! feedback {
    ($store:ident, $row:ty, $db:ty) => {
        #[allow(unused_imports)]
        use crate::areas::*;
        use sqlx::Row;

        use super::parse_state;
        use crate::{
            CampaignId, DeliveryId, DeliveryRef, EngagementRecord, EventRow, FeedbackEffect, InboundRecord,
            Result, Suppression, WebhookIngest, WebhookPost,
        };

        impl FeedbackStore for $store {
            async fn delivery_ref(&self, id: DeliveryId) -> Result<Option<DeliveryRef>> {
                self.find_delivery_ref(Some(id), None).await
            }

            async fn delivery_by_message_id(&self, message_id: &str) -> Result<Option<DeliveryRef>> {
                self.find_delivery_ref(None, Some(message_id)).await
            }

            async fn delivery_refs(&self, ids: &[DeliveryId]) -> Result<Vec<DeliveryRef>> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let list = serde_json::to_string(&ids.iter().map(|d| d.0).collect::<Vec<_>>())
                    .map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
                let ids_in = super::dialect::id_list("$1");
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT id, campaign_id, email, email_key, state, seed_id, variant FROM deliveries WHERE id IN ({ids_in})"
                )))
                .bind(list)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(DeliveryRef {
                            id: DeliveryId(r.try_get("id")?),
                            campaign: CampaignId(r.try_get("campaign_id")?),
                            email: r.try_get("email")?,
                            email_key: r.try_get("email_key")?,
                            state: parse_state(&r.try_get::<String, _>("state")?)?,
                            seed: r.try_get::<Option<i64>, _>("seed_id")?.is_some(),
                            variant: r.try_get::<Option<i64>, _>("variant")?.map(|v| v.max(0) as u32),
                        })
                    })
                    .collect()
            }

            async fn record_webhook(&self, post: &WebhookPost) -> Result<WebhookIngest> {
                let mut w = self.write().await?;
                let mut out = WebhookIngest::default();
                // Every key in one statement (sorted: concurrent posts wait on each other's
                // keys in one order); those it inserted are the events not seen before. (`WHERE`
                // tells SQLite's parser the ON CONFLICT is the INSERT's.)
                let mut sorted: Vec<&str> = post.events.iter().map(|e| e.key.as_str()).collect();
                sorted.sort_unstable();
                sorted.dedup();
                let keys = serde_json::to_string(&sorted.iter().map(|k| [k]).collect::<Vec<_>>())
                    .map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
                let (rows, t) = (super::dialect::json_rows("$1", "j"), super::dialect::TRUE);
                let mut fresh: std::collections::HashSet<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO webhook_events (provider, key, received_at) \
                     SELECT $2, j.value ->> 0, $3 FROM {rows} WHERE {t} \
                     ON CONFLICT (provider, key) DO NOTHING RETURNING key"
                )))
                .bind(&keys)
                .bind(&post.provider)
                .bind(post.received_at_ms)
                .fetch_all(&mut *w.tx)
                .await?
                .into_iter()
                .map(|r| r.try_get("key"))
                .collect::<std::result::Result<_, _>>()?;
                if fresh.is_empty() {
                    // All seen before (a retry or a replay): nothing kept, nothing changed.
                    out.duplicates = post.events.len() as u64;
                    w.tx.commit().await?;
                    return Ok(out);
                }
                let id: i64 = sqlx::query(
                    "INSERT INTO inbound_messages (received_at, mail_from, rcpt_to, delivery_id, kind, summary, raw) \
                     VALUES ($1, '', $2, NULL, 'webhook', $3, $4) RETURNING id",
                )
                .bind(post.received_at_ms)
                .bind(format!("webhook:{}", post.provider))
                .bind(&post.summary)
                .bind(&post.raw)
                .fetch_one(&mut *w.tx)
                .await?
                .try_get("id")?;
                // Events only (delivered, delayed) are written in bulk, three statements for
                // the whole post; bounces, complaints and unsubscribes one by one.
                let mut plain: Vec<&FeedbackEffect> = Vec::new();
                for e in &post.events {
                    // A key repeated within the post counts once too.
                    if !fresh.remove(&e.key) {
                        out.duplicates += 1;
                        continue;
                    }
                    for effect in &e.effects {
                        if effect.bounce.is_none()
                            && effect.suppress.is_none()
                            && effect.soft_bounce_limit.is_none()
                        {
                            plain.push(effect);
                        } else {
                            apply_effect(&mut w.tx, effect, id).await?;
                        }
                    }
                    out.applied += 1;
                }
                apply_plain_effects(&mut w.tx, &plain, id).await?;
                w.tx.commit().await?;
                Ok(out)
            }

            async fn record_inbound(&self, m: &InboundRecord) -> Result<i64> {
                let mut w = self.write().await?;
                let id: i64 = sqlx::query(
                    "INSERT INTO inbound_messages (received_at, mail_from, rcpt_to, delivery_id, kind, summary, raw) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(m.received_at_ms)
                .bind(&m.mail_from)
                .bind(&m.rcpt_to)
                .bind(m.delivery.map(|d| d.0))
                .bind(&m.kind)
                .bind(&m.summary)
                .bind(&m.raw)
                .fetch_one(&mut *w.tx)
                .await?
                .try_get("id")?;
                // About a person erased at their request: the effect counts, the text is not kept.
                sqlx::query(
                    "UPDATE inbound_messages SET raw = $2, summary = '{}', mail_from = '' WHERE id = $1 \
                     AND EXISTS (SELECT 1 FROM deliveries d WHERE d.id = inbound_messages.delivery_id \
                                 AND d.email_key LIKE 'erased:%')",
                )
                .bind(id)
                .bind(Vec::<u8>::new())
                .execute(&mut *w.tx)
                .await?;
                for e in &m.effects {
                    apply_effect(&mut w.tx, e, id).await?;
                }
                w.tx.commit().await?;
                Ok(id)
            }

            async fn prune_inbound_raw(&self, before_ms: i64) -> Result<u64> {
                let mut w = self.write().await?;
                // Webhook event keys are kept as long as the raw posts, and a day at least (well
                // past the 15 minutes a signed timestamp is accepted).
                sqlx::query("DELETE FROM webhook_events WHERE received_at < $1 - 86400000")
                    .bind(before_ms)
                    .execute(&mut *w.tx)
                    .await?;
                let n = sqlx::query(
                    "UPDATE inbound_messages SET raw = $1 WHERE received_at < $2 AND length(raw) > 0",
                )
                .bind(Vec::<u8>::new())
                .bind(before_ms)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                w.tx.commit().await?;
                Ok(n)
            }

            async fn suppressions(
                &self,
                after_key: &str,
                limit: u32,
            ) -> Result<Vec<Suppression>> {
                if !crate::shared::matchable(after_key) {
                    return Ok(Vec::new());
                }
                let rows = sqlx::query(
                    "SELECT email_key, reason, source, created_at FROM suppressions \
                     WHERE email_key > $1 ORDER BY email_key LIMIT $2",
                )
                .bind(after_key)
                .bind(limit as i64)
                .fetch_all(&self.pool)
                .await?;
                rows
                    .into_iter()
                    .map(|r| Ok(Suppression {
                        email_key: r.try_get("email_key")?,
                        reason: crate::shared::parse_name("suppressions.reason", &r.try_get::<String, _>("reason")?)?,
                        source: r.try_get("source")?,
                        created_at_ms: r.try_get("created_at")?,
                    }))
                    .collect::<Result<_>>()
            }

            async fn add_suppression(&self, s: &Suppression) -> Result<bool> {
                let mut w = self.write().await?;
                let added = suppress(&mut w.tx, s).await?;
                w.tx.commit().await?;
                Ok(added)
            }

            async fn remove_suppression(
                &self,
                email_key: &str,
                source: &str,
                at_ms: i64,
            ) -> Result<bool> {
                let mut w = self.write().await?;
                let removed: Option<String> =
                    sqlx::query("DELETE FROM suppressions WHERE email_key = $1 RETURNING reason")
                        .bind(email_key)
                        .fetch_optional(&mut *w.tx)
                        .await?
                        .map(|r| r.try_get("reason"))
                        .transpose()?;
                if let Some(reason) = &removed {
                    log(&mut w.tx, email_key, "remove", reason, source, at_ms).await?;
                }
                w.tx.commit().await?;
                Ok(removed.is_some())
            }

            async fn events(
                &self,
                deliveries: &[DeliveryId],
            ) -> Result<Vec<(DeliveryId, EventRow)>> {
                if deliveries.is_empty() {
                    return Ok(Vec::new());
                }
                let ids = serde_json::to_string(&deliveries.iter().map(|d| d.0).collect::<Vec<_>>())
                    .map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
                let ids_in = super::dialect::id_list("$1");
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT delivery_id, kind, at, detail FROM events \
                     WHERE delivery_id IN ({ids_in}) ORDER BY delivery_id, id"
                )))
                .bind(ids)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|r| {
                        Ok((
                            DeliveryId(r.try_get("delivery_id")?),
                            EventRow {
                                kind: crate::shared::parse_name("events.kind", &r.try_get::<String, _>("kind")?)?,
                                at_ms: r.try_get("at")?,
                                detail: r.try_get("detail")?,
                            },
                        ))
                    })
                    .collect()
            }

            async fn record_engagement(&self, batch: &[EngagementRecord]) -> Result<u64> {
                if batch.is_empty() {
                    return Ok(0);
                }
                let rows: Vec<serde_json::Value> = batch
                    .iter()
                    .map(|e| serde_json::json!([e.delivery.0, e.kind, e.at_ms, e.detail]))
                    .collect();
                let json = serde_json::Value::Array(rows).to_string();
                let mut w = self.write().await?;
                let (rows_j, at, id) = (
                    super::dialect::json_rows("$1", "j"),
                    super::dialect::json_int("j.value ->> 2"),
                    super::dialect::json_int("j.value ->> 0"),
                );
                let n = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO events (delivery_id, campaign_id, kind, at, detail) \
                     SELECT d.id, d.campaign_id, j.value ->> 1, {at}, j.value ->> 3 \
                     FROM {rows_j} JOIN deliveries d ON d.id = {id}"
                )))
                .bind(&json)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                // An erased person's opens and clicks count, without their IP, agent or URL.
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE events SET detail = {} WHERE delivery_id IN ( \
                       SELECT d.id FROM {rows_j} JOIN deliveries d ON d.id = {id} \
                       WHERE d.email_key LIKE 'erased:%')",
                    super::dialect::json_without_personal("detail")
                )))
                .bind(&json)
                .execute(&mut *w.tx)
                .await?;
                super::webhooks::enqueue(&mut w.tx, || {
                    batch
                        .iter()
                        .filter_map(|e| {
                            let event = herald_domain::webhook::WebhookEvent::of_event_kind(e.kind)?;
                            Some(crate::shared::event_hook(e.delivery.0, event, e.at_ms, &e.detail, e.kind.as_str()))
                        })
                        .collect()
                })
                .await?;
                for e in batch.iter().filter(|e| e.kind == herald_domain::EventKind::Unsubscribe) {
                    let key: Option<String> = sqlx::query("SELECT email_key FROM deliveries WHERE id = $1")
                        .bind(e.delivery.0)
                        .fetch_optional(&mut *w.tx)
                        .await?
                        .map(|r| r.try_get("email_key"))
                        .transpose()?;
                    if let Some(email_key) = key {
                        suppress(
                            &mut w.tx,
                            &Suppression {
                                email_key,
                                reason: herald_domain::SuppressionReason::Unsubscribed,
                                source: format!("unsubscribe:{}", e.delivery.0),
                                created_at_ms: e.at_ms,
                            },
                        )
                        .await?;
                    }
                }
                w.tx.commit().await?;
                Ok(n)
            }
        }

        impl $store {
            /// The delivery of this id, or else of this Message-ID.
            async fn find_delivery_ref(
                &self,
                id: Option<DeliveryId>,
                message_id: Option<&str>,
            ) -> Result<Option<DeliveryRef>> {
                if message_id.is_some_and(|m| !crate::shared::matchable(m)) {
                    return Ok(None);
                }
                let row =
                    match (id, message_id) {
                        (Some(id), _) => sqlx::query(
                            "SELECT id, campaign_id, email, email_key, state, seed_id, variant FROM deliveries WHERE id = $1",
                        )
                        .bind(id.0)
                        .fetch_optional(&self.pool)
                        .await?,
                        (None, Some(mid)) => {
                            let bare = mid.trim().trim_matches(['<', '>']);
                            sqlx::query(
                                "SELECT id, campaign_id, email, email_key, state, seed_id, variant FROM deliveries \
                             WHERE message_id = $1 OR message_id = $2",
                            )
                            .bind(bare)
                            .bind(format!("<{bare}>"))
                            .fetch_optional(&self.pool)
                            .await?
                        }
                        (None, None) => None,
                    };
                row.map(|r| {
                    Ok(DeliveryRef {
                        id: DeliveryId(r.try_get("id")?),
                        campaign: CampaignId(r.try_get("campaign_id")?),
                        email: r.try_get("email")?,
                        email_key: r.try_get("email_key")?,
                        state: parse_state(&r.try_get::<String, _>("state")?)?,
                        seed: r.try_get::<Option<i64>, _>("seed_id")?.is_some(),
                        variant: r.try_get::<Option<i64>, _>("variant")?.map(|v| v.max(0) as u32),
                    })
                })
                .transpose()
            }
        }

        type Tx = sqlx::Transaction<'static, $db>;

        /// [`apply_effect`] for many effects that only add an event (and perhaps confirm a
        /// relayed delivery), in three statements.
        async fn apply_plain_effects(tx: &mut Tx, effects: &[&FeedbackEffect], inbound_id: i64) -> Result<()> {
            if effects.is_empty() {
                return Ok(());
            }
            let mut ids: Vec<i64> = effects.iter().map(|e| e.delivery.0).collect();
            ids.sort_unstable();
            ids.dedup();
            let ids_json = serde_json::to_string(&ids).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
            let ids_in = super::dialect::id_list("$1");
            if !super::dialect::FOR_UPDATE.is_empty() {
                // As in `apply_effect`, in id order.
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT id FROM deliveries WHERE id IN ({ids_in}) ORDER BY id{}",
                    super::dialect::FOR_UPDATE
                )))
                .bind(&ids_json)
                .fetch_all(&mut **tx)
                .await?;
            }
            let rows: Vec<serde_json::Value> = effects
                .iter()
                .map(|e| serde_json::json!([e.delivery.0, e.campaign.0, e.kind, e.at_ms, e.detail]))
                .collect();
            let (rows_j, at, id, campaign) = (
                super::dialect::json_rows("$1", "j"),
                super::dialect::json_int("j.value ->> 3"),
                super::dialect::json_int("j.value ->> 0"),
                super::dialect::json_int("j.value ->> 1"),
            );
            let detail = super::dialect::json_set_int("(j.value ->> 4)", "inbound_message", "$2");
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO events (delivery_id, campaign_id, kind, at, detail) \
                 SELECT {id}, {campaign}, j.value ->> 2, {at}, {detail} FROM {rows_j}"
            )))
            .bind(serde_json::Value::Array(rows).to_string())
            .bind(inbound_id)
            .execute(&mut **tx)
            .await?;
            let confirmed: Vec<i64> = effects.iter().filter(|e| e.delivered).map(|e| e.delivery.0).collect();
            let mut moved = std::collections::HashSet::new();
            if !confirmed.is_empty() {
                let at = effects.iter().map(|e| e.at_ms).max().unwrap_or(0);
                moved = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE deliveries SET state = 'delivered', updated_at = $2 \
                     WHERE state = 'relayed' AND id IN ({ids_in}) RETURNING id"
                )))
                .bind(serde_json::to_string(&confirmed).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?)
                .bind(at)
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(|r| r.try_get::<i64, _>("id"))
                .collect::<std::result::Result<_, _>>()?;
            }
            super::webhooks::enqueue(tx, || {
                use herald_domain::webhook::WebhookEvent;
                effects
                    .iter()
                    .filter_map(|e| {
                        let event = if e.delivered {
                            // Once: the first report that moved it.
                            moved.remove(&e.delivery.0).then_some(WebhookEvent::Delivered)?
                        } else {
                            WebhookEvent::of_event_kind(e.kind)?
                        };
                        Some(crate::shared::event_hook(e.delivery.0, event, e.at_ms, &e.detail, e.kind.as_str()))
                    })
                    .collect()
            })
            .await?;
            Ok(())
        }

        async fn apply_effect(tx: &mut Tx, e: &FeedbackEffect, inbound_id: i64) -> Result<()> {
            // The delivery's row first: an outcome write for it waits until this report is
            // committed, and then sees its event (see `record_outcomes`). (SQLite serialises
            // writers: nothing to lock.)
            if !super::dialect::FOR_UPDATE.is_empty() {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT id FROM deliveries WHERE id = $1{}",
                    super::dialect::FOR_UPDATE
                )))
                .bind(e.delivery.0)
                .fetch_optional(&mut **tx)
                .await?;
            }
            let detail = super::dialect::json_set_int("$5", "inbound_message", "$6");
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO events (delivery_id, campaign_id, kind, at, detail) VALUES ($1, $2, $3, $4, {detail})"
            )))
            .bind(e.delivery.0)
            .bind(e.campaign.0)
            .bind(e.kind.as_str())
            .bind(e.at_ms)
            .bind(&e.detail)
            .bind(inbound_id)
            .execute(&mut **tx)
            .await?;
            use herald_domain::webhook::WebhookEvent;
            let mut hooks = Vec::new();
            if let Some(event) = WebhookEvent::of_event_kind(e.kind) {
                hooks.push(event);
            }
            if let Some((reason, hard)) = &e.bounce {
                // The 250 attempt stays in `attempts`; the delivery now says where the message went.
                let moved = sqlx::query(
                    "UPDATE deliveries SET state = 'bounced', reason = $2, hard = $3, next_attempt_at = NULL, \
                     updated_at = $4 WHERE id = $1 AND state IN ('delivered', 'relayed', 'queued', 'deferred')",
                )
                .bind(e.delivery.0)
                .bind(reason)
                .bind(*hard as i64)
                .bind(e.at_ms)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if moved > 0 {
                    hooks.push(WebhookEvent::Bounced);
                }
            }
            if e.delivered {
                // The 250 of the relay stays in `attempts`; the event holds the next server's.
                let moved = sqlx::query(
                    "UPDATE deliveries SET state = 'delivered', updated_at = $2 \
                     WHERE id = $1 AND state = 'relayed'",
                )
                .bind(e.delivery.0)
                .bind(e.at_ms)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if moved > 0 {
                    hooks.push(WebhookEvent::Delivered);
                }
            }
            // Most reports (auto-replies, delays without a state change…) are no event: then
            // not even the endpoints are read.
            if !hooks.is_empty() {
                super::webhooks::enqueue(tx, || {
                    hooks
                        .iter()
                        .map(|h| crate::shared::event_hook(e.delivery.0, *h, e.at_ms, &e.detail, e.kind.as_str()))
                        .collect()
                })
                .await?;
            }
            let source = format!("{}:{}", e.kind, e.delivery.0);
            if let Some(reason) = &e.suppress {
                suppress(
                    tx,
                    &Suppression {
                        email_key: e.email_key.clone(),
                        reason: reason.clone(),
                        source: source.clone(),
                        created_at_ms: e.at_ms,
                    },
                )
                .await?;
            }
            if let Some(n) = e.soft_bounce_limit.filter(|n| *n > 0) {
                let last: Vec<(String, i64)> = sqlx::query(
                    "SELECT state, hard FROM deliveries WHERE email_key = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(&e.email_key)
                .bind(n as i64)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(|r| Ok::<_, crate::StoreError>((r.try_get("state")?, r.try_get("hard")?)))
                .collect::<Result<_>>()?;
                if last.len() as u32 == n && last.iter().all(|(s, h)| s == "bounced" && *h == 0) {
                    suppress(
                        tx,
                        &Suppression {
                            email_key: e.email_key.clone(),
                            reason: herald_domain::SuppressionReason::PreviouslyBounced,
                            source: format!("{source} ({n} soft bounces in a row)"),
                            created_at_ms: e.at_ms,
                        },
                    )
                    .await?;
                }
            }
            Ok(())
        }

        async fn suppress(tx: &mut Tx, s: &Suppression) -> Result<bool> {
            let added = sqlx::query(
                "INSERT INTO suppressions (email_key, reason, source, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (email_key) DO NOTHING",
            )
            .bind(&s.email_key)
            .bind(s.reason.as_str())
            .bind(&s.source)
            .bind(s.created_at_ms)
            .execute(&mut **tx)
            .await?
            .rows_affected()
                > 0;
            if added {
                log(
                    tx,
                    &s.email_key,
                    "add",
                    s.reason.as_str(),
                    &s.source,
                    s.created_at_ms,
                )
                .await?;
            }
            Ok(added)
        }

        async fn log(
            tx: &mut Tx,
            key: &str,
            action: &str,
            reason: &str,
            source: &str,
            at_ms: i64,
        ) -> Result<()> {
            sqlx::query(
                "INSERT INTO suppression_log (email_key, action, reason, source, at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(key)
            .bind(action)
            .bind(reason)
            .bind(source)
            .bind(at_ms)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }
    };
}
pub(crate) use feedback;
