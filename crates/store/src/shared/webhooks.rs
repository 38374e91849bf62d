//! Outbound webhooks (`crate::webhooks`): the queries of both backends, written once and
//! implementing [`crate::WebhookStore`] directly. `sqlite/webhooks.rs` and
//! `postgres/webhooks.rs` expand this macro; the dialect differences come from each backend's
//! `dialect` module. [`enqueue`] is what the other write paths call, in their transactions.

macro_rules! webhooks {
    ($store:ident, $row:ty, $db:ty) => {
        #[allow(unused_imports)]
        use crate::areas::*;
        use sqlx::Row;

        use crate::{
            DeliveryId, Endpoint, NewEndpoint, OutboxClaim, OutboxEntry, OutboxResult, Replay,
            Result, StoreError, WebhookStore,
        };

        type Tx = sqlx::Transaction<'static, $db>;

        fn json<T: serde::Serialize>(v: &T) -> Result<String> {
            serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
        }

        /// Add events to the outbox, one row per endpoint subscribed to each at this moment,
        /// inside the caller's transaction (so an event exists exactly when its change does).
        /// `rows` gives them (delivery id, event name, when, detail JSON), called only when an
        /// endpoint wants some: with no endpoint this costs one read of a tiny table. The
        /// detail of an erased person's event keeps no IP, agent or URL.
        pub(super) async fn enqueue(
            tx: &mut Tx,
            rows: impl FnOnce() -> Vec<crate::shared::HookRow>,
        ) -> Result<()> {
            let wanted: Vec<String> = sqlx::query("SELECT DISTINCT events FROM webhook_endpoints")
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(|r| r.try_get("events"))
                .collect::<std::result::Result<_, _>>()?;
            if wanted.is_empty() {
                return Ok(());
            }
            let all = wanted.iter().any(|w| w == "*");
            let mut rows = rows();
            if !all {
                rows.retain(|r| wanted.iter().any(|w| w.contains(&format!(",{},", r.1))));
            }
            if rows.is_empty() {
                return Ok(());
            }
            let (rows_j, id, at) = (
                super::dialect::json_rows("$1", "j"),
                super::dialect::json_int("j.value ->> 0"),
                super::dialect::json_int("j.value ->> 2"),
            );
            let scrubbed = super::dialect::json_without_personal("(j.value ->> 3)");
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO webhook_outbox (endpoint_id, event, delivery_id, at, detail, state, \
                                             attempts, next_attempt_at, retry_from) \
                 SELECT w.id, j.value ->> 1, d.id, {at}, \
                        CASE WHEN d.email_key LIKE 'erased:%' THEN {scrubbed} ELSE j.value ->> 3 END, \
                        'pending', 0, {at}, {at} \
                 FROM {rows_j} JOIN deliveries d ON d.id = {id} \
                 JOIN webhook_endpoints w \
                   ON w.events = '*' OR w.events LIKE '%,' || (j.value ->> 1) || ',%'{}",
                super::dialect::KEY_SHARE_ENDPOINTS
            )))
            .bind(json(&rows)?)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        fn endpoint_row(r: &$row) -> Result<Endpoint> {
            Ok(Endpoint {
                id: r.try_get("id")?,
                url: r.try_get("url")?,
                events: r.try_get("events")?,
                secret: r.try_get("secret")?,
                description: r.try_get("description")?,
                created_by: r.try_get("created_by")?,
                created_at_ms: r.try_get("created_at")?,
                pending: r.try_get::<i64, _>("pending")? as u64,
                delivered: r.try_get::<i64, _>("delivered")? as u64,
                failed: r.try_get::<i64, _>("failed")? as u64,
                last_attempt_at_ms: r.try_get("last_attempt_at")?,
                last_status: r.try_get("last_status")?,
                last_error: r.try_get("last_error")?,
            })
        }

        const ENDPOINTS: &str = "SELECT w.id, w.url, w.events, w.secret, w.description, w.created_by, w.created_at, \
             (SELECT COUNT(*) FROM webhook_outbox o WHERE o.endpoint_id = w.id AND o.state = 'pending') AS pending, \
             (SELECT COUNT(*) FROM webhook_outbox o WHERE o.endpoint_id = w.id AND o.state = 'delivered') AS delivered, \
             (SELECT COUNT(*) FROM webhook_outbox o WHERE o.endpoint_id = w.id AND o.state = 'failed') AS failed, \
             w.last_attempt_at, w.last_status, w.last_error FROM webhook_endpoints w";

        impl WebhookStore for $store {
            async fn add_endpoint(&self, e: &NewEndpoint) -> Result<i64> {
                let mut w = self.write().await?;
                let id: i64 = sqlx::query(
                    "INSERT INTO webhook_endpoints (url, events, secret, description, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(&e.url)
                .bind(&e.events)
                .bind(&e.secret)
                .bind(&e.description)
                .bind(&e.created_by)
                .bind(e.created_at_ms)
                .fetch_one(&mut *w.tx)
                .await?
                .try_get("id")?;
                w.tx.commit().await?;
                Ok(id)
            }

            async fn endpoints(&self) -> Result<Vec<Endpoint>> {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{ENDPOINTS} ORDER BY w.id")))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(endpoint_row).collect()
            }

            async fn endpoint(&self, id: i64) -> Result<Option<Endpoint>> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("{ENDPOINTS} WHERE w.id = $1")))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(endpoint_row).transpose()
            }

            async fn remove_endpoint(&self, id: i64) -> Result<bool> {
                let mut w = self.write().await?;
                sqlx::query("DELETE FROM webhook_outbox WHERE endpoint_id = $1")
                    .bind(id)
                    .execute(&mut *w.tx)
                    .await?;
                let n = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
                    .bind(id)
                    .execute(&mut *w.tx)
                    .await?
                    .rows_affected();
                w.tx.commit().await?;
                Ok(n > 0)
            }

            async fn claim_webhooks(
                &self,
                owner: &str,
                now_ms: i64,
                lease_until_ms: i64,
                limit: u32,
            ) -> Result<Vec<OutboxClaim>> {
                let mut w = self.write().await?;
                let due = super::dialect::claim_ids(
                    "SELECT id FROM webhook_outbox WHERE state = 'pending' AND next_attempt_at <= $3 \
                     AND (lease_until IS NULL OR lease_until < $3) ORDER BY next_attempt_at, id LIMIT $4",
                );
                let ids: Vec<i64> = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE webhook_outbox SET lease_owner = $1, lease_until = $2 WHERE id {due} RETURNING id"
                )))
                .bind(owner)
                .bind(lease_until_ms)
                .bind(now_ms)
                .bind(limit as i64)
                .fetch_all(&mut *w.tx)
                .await?
                .into_iter()
                .map(|r| r.try_get("id"))
                .collect::<std::result::Result<_, _>>()?;
                if ids.is_empty() {
                    w.tx.commit().await?;
                    return Ok(Vec::new());
                }
                let ids_in = super::dialect::id_list("$1");
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT o.id, o.endpoint_id, w.url, w.secret, o.event, o.at, o.attempts, o.retry_from, \
                            o.delivery_id, d.campaign_id, c.name AS campaign_name, d.email, d.message_id, o.detail \
                     FROM webhook_outbox o JOIN webhook_endpoints w ON w.id = o.endpoint_id \
                     LEFT JOIN deliveries d ON d.id = o.delivery_id \
                     LEFT JOIN campaigns c ON c.id = d.campaign_id \
                     WHERE o.id IN ({ids_in}) ORDER BY o.id"
                )))
                .bind(json(&ids)?)
                .fetch_all(&mut *w.tx)
                .await?;
                w.tx.commit().await?;
                rows
                    .iter()
                    .map(|r| Ok(OutboxClaim {
                        id: r.try_get("id")?,
                        endpoint: r.try_get("endpoint_id")?,
                        url: r.try_get("url")?,
                        secret: r.try_get("secret")?,
                        event: r.try_get("event")?,
                        at_ms: r.try_get("at")?,
                        attempts: r.try_get::<i64, _>("attempts")? as u32,
                        retry_from_ms: r.try_get("retry_from")?,
                        delivery: DeliveryId(r.try_get("delivery_id")?),
                        campaign: r.try_get("campaign_id")?,
                        campaign_name: r.try_get("campaign_name")?,
                        email: r.try_get("email")?,
                        message_id: r.try_get("message_id")?,
                        detail: r.try_get("detail")?,
                    }))
                    .collect::<Result<_>>()
            }

            async fn finish_webhooks(&self, owner: &str, results: &[OutboxResult]) -> Result<u64> {
                if results.is_empty() {
                    return Ok(0);
                }
                let rows: Vec<_> = results
                    .iter()
                    .map(|r| {
                        let state = match (r.ok, r.next_attempt_at_ms) {
                            (true, _) => "delivered",
                            (false, Some(_)) => "pending",
                            (false, None) => "failed",
                        };
                        (r.id, state, r.status.map(i64::from), r.error.as_deref(), r.next_attempt_at_ms, r.at_ms)
                    })
                    .collect();
                let (rows_j, id, status, next, at) = (
                    super::dialect::json_rows("$1", "j"),
                    super::dialect::json_int("j.value ->> 0"),
                    super::dialect::json_int("j.value ->> 2"),
                    super::dialect::json_int("j.value ->> 4"),
                    super::dialect::json_int("j.value ->> 5"),
                );
                let mut w = self.write().await?;
                let recorded: std::collections::HashSet<i64> = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE webhook_outbox SET state = v.state, attempts = attempts + 1, \
                         next_attempt_at = v.next_at, last_attempt_at = v.at, last_status = v.status, \
                         last_error = v.error, \
                         delivered_at = CASE WHEN v.state = 'delivered' THEN v.at ELSE delivered_at END, \
                         lease_owner = NULL, lease_until = NULL \
                     FROM (SELECT {id} AS id, j.value ->> 1 AS state, {status} AS status, \
                                  j.value ->> 3 AS error, {next} AS next_at, {at} AS at FROM {rows_j}) AS v \
                     WHERE webhook_outbox.id = v.id AND webhook_outbox.lease_owner = $2 \
                     RETURNING webhook_outbox.id"
                )))
                .bind(json(&rows)?)
                .bind(owner)
                .fetch_all(&mut *w.tx)
                .await?
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<std::result::Result<_, _>>()?;
                // Each endpoint's last post, for its list line (only the posts recorded: a
                // lease lost to another node is that node's to report; and never older).
                let mut last: std::collections::BTreeMap<i64, &OutboxResult> = Default::default();
                for r in results.iter().filter(|r| recorded.contains(&r.id)) {
                    last.entry(r.endpoint)
                        .and_modify(|l| if r.at_ms >= l.at_ms { *l = r })
                        .or_insert(r);
                }
                for (endpoint, r) in last {
                    sqlx::query(
                        "UPDATE webhook_endpoints SET last_attempt_at = $2, last_status = $3, last_error = $4 \
                         WHERE id = $1 AND (last_attempt_at IS NULL OR last_attempt_at <= $2)",
                    )
                    .bind(endpoint)
                    .bind(r.at_ms)
                    .bind(r.status.map(i64::from))
                    .bind(r.error.as_deref())
                    .execute(&mut *w.tx)
                    .await?;
                }
                w.tx.commit().await?;
                Ok(recorded.len() as u64)
            }

            async fn webhook_log(&self, endpoint: i64, before: Option<i64>, limit: u32) -> Result<Vec<OutboxEntry>> {
                let rows = sqlx::query(
                    "SELECT o.id, o.event, o.delivery_id, d.email, o.at, o.state, o.attempts, o.next_attempt_at, \
                            o.last_attempt_at, o.last_status, o.last_error, o.delivered_at \
                     FROM webhook_outbox o LEFT JOIN deliveries d ON d.id = o.delivery_id \
                     WHERE o.endpoint_id = $1 AND o.id < $2 ORDER BY o.id DESC LIMIT $3",
                )
                .bind(endpoint)
                .bind(before.unwrap_or(i64::MAX))
                .bind(limit as i64)
                .fetch_all(&self.pool)
                .await?;
                rows
                    .iter()
                    .map(|r| Ok(OutboxEntry {
                        id: r.try_get("id")?,
                        event: r.try_get("event")?,
                        delivery: DeliveryId(r.try_get("delivery_id")?),
                        email: r.try_get("email")?,
                        at_ms: r.try_get("at")?,
                        state: r.try_get("state")?,
                        attempts: r.try_get::<i64, _>("attempts")? as u32,
                        next_attempt_at_ms: r.try_get("next_attempt_at")?,
                        last_attempt_at_ms: r.try_get("last_attempt_at")?,
                        last_status: r.try_get("last_status")?,
                        last_error: r.try_get("last_error")?,
                        delivered_at_ms: r.try_get("delivered_at")?,
                    }))
                    .collect::<Result<_>>()
            }

            async fn replay_webhooks(&self, endpoint: i64, which: Replay, now_ms: i64) -> Result<u64> {
                // Replayed events start their retries over (attempts and the give-up clock).
                let (cond, arg) = match which {
                    Replay::Failed => ("state = 'failed' AND $3 = 0", 0),
                    Replay::Since(t) => ("at >= $3", t),
                    Replay::One(id) => ("id = $3", id),
                };
                let mut w = self.write().await?;
                let n = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE webhook_outbox SET state = 'pending', attempts = 0, next_attempt_at = $2, \
                         retry_from = $2, delivered_at = NULL, lease_owner = NULL, lease_until = NULL \
                     WHERE endpoint_id = $1 AND {cond} AND (lease_until IS NULL OR lease_until < $2)"
                )))
                .bind(endpoint)
                .bind(now_ms)
                .bind(arg)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                w.tx.commit().await?;
                Ok(n)
            }

            async fn next_webhook_due(&self) -> Result<Option<i64>> {
                // An event leased by a node is due again only when its lease ends.
                Ok(sqlx::query(
                    "SELECT MIN(CASE WHEN lease_until > next_attempt_at THEN lease_until ELSE next_attempt_at END) AS due \
                     FROM webhook_outbox WHERE state = 'pending'",
                )
                    .fetch_one(&self.pool)
                    .await?
                    .try_get("due")?)
            }

            async fn prune_webhooks(&self, before_ms: i64) -> Result<u64> {
                let mut w = self.write().await?;
                let n = sqlx::query(
                    "DELETE FROM webhook_outbox WHERE state IN ('delivered', 'failed') AND at < $1",
                )
                .bind(before_ms)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                w.tx.commit().await?;
                Ok(n)
            }
        }
    };
}
pub(crate) use webhooks;
