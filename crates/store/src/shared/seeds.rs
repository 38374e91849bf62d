//! Seed mailboxes and placement reads: the queries of both backends, written once. `sqlite/seeds.rs` and `postgres/seeds.rs`
//! expand this macro with their store, row and database types; what differs between the SQL
//! dialects comes from each backend's `dialect` module.

macro_rules! seeds {
    ($store:ident, $row:ty, $db:ty) => {
        #[allow(unused_imports)]
        use crate::areas::*;
        use sqlx::Row;

        use super::parse_state;
        use crate::{CampaignId, DeliveryId, NewSeed, PendingPlacement, Result, Seed, SeedPlacement};

        const SEED_COLUMNS: &str = "s.id, s.provider, s.address, s.imap_host, s.imap_port, s.username, \
                                    s.security, s.enabled, s.last_poll_at, s.last_error";

        /// A seed from the row's `SEED_COLUMNS`.
        fn seed(r: &$row) -> Result<Seed> {
            Ok(Seed {
                id: r.try_get("id")?,
                provider: r.try_get("provider")?,
                address: r.try_get("address")?,
                imap_host: r.try_get("imap_host")?,
                imap_port: r.try_get::<i64, _>("imap_port")? as u16,
                username: r.try_get("username")?,
                security: r.try_get("security")?,
                enabled: r.try_get::<i64, _>("enabled")? != 0,
                last_poll_at_ms: r.try_get("last_poll_at")?,
                last_error: r.try_get("last_error")?,
            })
        }

        impl SeedStore for $store {
            async fn add_seed(&self, s: &NewSeed) -> Result<i64> {
                let mut w = self.write().await?;
                let id: i64 = sqlx::query(
                    "INSERT INTO seeds (provider, address, imap_host, imap_port, username, security, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (address) DO UPDATE SET provider = excluded.provider, imap_host = excluded.imap_host, \
                       imap_port = excluded.imap_port, username = excluded.username, security = excluded.security, enabled = 1 \
                     RETURNING id",
                )
                .bind(&s.provider)
                .bind(&s.address)
                .bind(&s.imap_host)
                .bind(s.imap_port as i64)
                .bind(&s.username)
                .bind(&s.security)
                .bind(s.created_at_ms)
                .fetch_one(&mut *w.tx)
                .await?
                .try_get("id")?;
                w.tx.commit().await?;
                Ok(id)
            }

            async fn seeds(&self) -> Result<Vec<Seed>> {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {SEED_COLUMNS} FROM seeds s WHERE s.enabled = 1 ORDER BY s.provider, s.address"
                )))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(seed).collect()
            }

            async fn remove_seed(&self, address: &str) -> Result<bool> {
                let mut w = self.write().await?;
                let n = sqlx::query("UPDATE seeds SET enabled = 0 WHERE address = $1 AND enabled = 1")
                    .bind(address)
                    .execute(&mut *w.tx)
                    .await?
                    .rows_affected();
                w.tx.commit().await?;
                Ok(n > 0)
            }

            async fn seed_polled(
                &self,
                id: i64,
                at_ms: i64,
                error: Option<&str>,
            ) -> Result<()> {
                let mut w = self.write().await?;
                sqlx::query("UPDATE seeds SET last_poll_at = $2, last_error = $3 WHERE id = $1")
                    .bind(id)
                    .bind(at_ms)
                    .bind(error)
                    .execute(&mut *w.tx)
                    .await?;
                w.tx.commit().await?;
                Ok(())
            }

            async fn pending_placements(&self) -> Result<Vec<PendingPlacement>> {
                let route = super::dialect::json_text("a.evidence", "route");
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT d.id AS delivery_id, d.campaign_id, d.message_id, \
                            (SELECT MAX(a.ended_at) FROM attempts a WHERE a.delivery_id = d.id AND a.outcome IN ('delivered', 'relayed')) AS delivered_at, \
                            (SELECT {route} FROM attempts a WHERE a.delivery_id = d.id AND a.outcome IN ('delivered', 'relayed') ORDER BY a.id DESC LIMIT 1) AS route, \
                            {SEED_COLUMNS} \
                     FROM deliveries d JOIN seeds s ON s.id = d.seed_id \
                     WHERE d.state IN ('delivered', 'relayed') AND s.enabled = 1 \
                       AND NOT EXISTS (SELECT 1 FROM events e WHERE e.delivery_id = d.id AND e.kind = 'placement') \
                     ORDER BY s.id, d.id"
                )))
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(PendingPlacement {
                            delivery: DeliveryId(r.try_get("delivery_id")?),
                            campaign: CampaignId(r.try_get("campaign_id")?),
                            message_id: r.try_get("message_id")?,
                            delivered_at_ms: r.try_get::<Option<i64>, _>("delivered_at")?.unwrap_or(0),
                            sandboxed: r.try_get::<Option<String>, _>("route")?.as_deref() == Some("sandbox"),
                            seed: seed(r)?,
                        })
                    })
                    .collect()
            }

            async fn placements(&self, campaign: CampaignId) -> Result<Vec<SeedPlacement>> {
                let placement = super::dialect::json_text("e.detail", "placement");
                let folder = super::dialect::json_text("e.detail", "folder");
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT d.state, \
                            (SELECT {placement} FROM events e WHERE e.delivery_id = d.id AND e.kind = 'placement' ORDER BY e.id DESC LIMIT 1) AS placement, \
                            (SELECT {folder} FROM events e WHERE e.delivery_id = d.id AND e.kind = 'placement' ORDER BY e.id DESC LIMIT 1) AS folder, \
                            (SELECT e.at FROM events e WHERE e.delivery_id = d.id AND e.kind = 'placement' ORDER BY e.id DESC LIMIT 1) AS placed_at, \
                            {SEED_COLUMNS} \
                     FROM deliveries d JOIN seeds s ON s.id = d.seed_id \
                     WHERE d.campaign_id = $1 ORDER BY s.provider, s.address"
                )))
                .bind(campaign.0)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(SeedPlacement {
                            state: parse_state(&r.try_get::<String, _>("state")?)?,
                            placement: r
                                .try_get::<Option<String>, _>("placement")?
                                .map(|p| crate::shared::parse_name("events.detail placement", &p))
                                .transpose()?,
                            folder: r.try_get("folder")?,
                            at_ms: r.try_get("placed_at")?,
                            seed: seed(r)?,
                        })
                    })
                    .collect()
            }
        }
    };
}
pub(crate) use seeds;
