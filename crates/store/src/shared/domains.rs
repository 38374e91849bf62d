//! Re-verification results of connected domains (drift), and the nodes registry: the queries of both backends, written once. `sqlite/domains.rs` and `postgres/domains.rs`
//! expand this macro with their store, row and database types; what differs between the SQL
//! dialects comes from each backend's `dialect` module.

macro_rules! domains {
    ($store:ident, $row:ty, $db:ty) => {
        #[allow(unused_imports)]
        use crate::areas::*;
        use sqlx::Row;

        use crate::{DomainCheck, DomainEvent, Result};

        impl DomainStore for $store {
            async fn record_domain_check(&self, c: &DomainCheck) -> Result<bool> {
                let mut w = self.write().await?;
                let before: Option<(i64, String)> =
                    sqlx::query("SELECT ok, problems FROM domain_checks WHERE domain = $1")
                        .bind(&c.domain)
                        .fetch_optional(&mut *w.tx)
                        .await?
                        .map(|r| Ok::<_, crate::StoreError>((r.try_get("ok")?, r.try_get("problems")?)))
                        .transpose()?;
                let changed = before.is_none_or(|(ok, p)| (ok != 0) != c.ok || p != c.problems);
                sqlx::query(
                    "INSERT INTO domain_checks (domain, checked_at, ok, problems, changed_at) \
                     VALUES ($1, $2, $3, $4, $2) \
                     ON CONFLICT (domain) DO UPDATE SET checked_at = excluded.checked_at, ok = excluded.ok, \
                       problems = excluded.problems, \
                       changed_at = CASE WHEN $5 THEN excluded.checked_at ELSE domain_checks.changed_at END",
                )
                .bind(&c.domain)
                .bind(c.checked_at_ms)
                .bind(c.ok as i64)
                .bind(&c.problems)
                .bind(changed)
                .execute(&mut *w.tx)
                .await?;
                if changed {
                    sqlx::query(
                        "INSERT INTO domain_events (domain, at, ok, problems) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&c.domain)
                    .bind(c.checked_at_ms)
                    .bind(c.ok as i64)
                    .bind(&c.problems)
                    .execute(&mut *w.tx)
                    .await?;
                }
                w.tx.commit().await?;
                Ok(changed)
            }

            async fn domain_checks(&self) -> Result<Vec<DomainCheck>> {
                let rows = sqlx::query(
                    "SELECT domain, checked_at, ok, problems, changed_at FROM domain_checks ORDER BY domain",
                )
                .fetch_all(&self.pool)
                .await?;
                rows
                    .iter()
                    .map(|r| {
                        Ok(DomainCheck {
                        domain: r.try_get("domain")?,
                        checked_at_ms: r.try_get("checked_at")?,
                        ok: r.try_get::<i64, _>("ok")? != 0,
                        problems: r.try_get("problems")?,
                        changed_at_ms: r.try_get("changed_at")?,
                    })
                    })
                    .collect::<Result<_>>()
            }

            async fn domain_events(
                &self,
                domain: &str,
                limit: u32,
            ) -> Result<Vec<DomainEvent>> {
                let rows = sqlx::query(
                    "SELECT at, ok, problems FROM domain_events WHERE domain = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(domain)
                .bind(limit as i64)
                .fetch_all(&self.pool)
                .await?;
                rows
                    .iter()
                    .map(|r| {
                        Ok(DomainEvent {
                        at_ms: r.try_get("at")?,
                        ok: r.try_get::<i64, _>("ok")? != 0,
                        problems: r.try_get("problems")?,
                    })
                    })
                    .collect::<Result<_>>()
            }

            async fn register_node(
                &self,
                n: &crate::NodeRecord,
                stale_before_ms: i64,
            ) -> Result<Option<crate::NodeRecord>> {
                let mut w = self.write().await?;
                let live = sqlx::query(
                    "SELECT name, owner, helo_name, source_ips, started_at, heartbeat_at, sandbox FROM nodes \
                     WHERE name = $1 AND owner <> $2 AND heartbeat_at >= $3",
                )
                .bind(&n.name)
                .bind(&n.owner)
                .bind(stale_before_ms)
                .fetch_optional(&mut *w.tx)
                .await?
                .map(|r| node(&r))
                .transpose()?;
                if live.is_some() {
                    return Ok(live);
                }
                sqlx::query(
                    "INSERT INTO nodes (name, owner, helo_name, source_ips, started_at, heartbeat_at, sandbox) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, helo_name = excluded.helo_name, \
                       source_ips = excluded.source_ips, started_at = excluded.started_at, \
                       heartbeat_at = excluded.heartbeat_at, sandbox = excluded.sandbox",
                )
                .bind(&n.name)
                .bind(&n.owner)
                .bind(&n.helo_name)
                .bind(&n.source_ips)
                .bind(n.started_at_ms)
                .bind(n.heartbeat_at_ms)
                .bind(n.sandbox as i64)
                .execute(&mut *w.tx)
                .await?;
                w.tx.commit().await?;
                Ok(None)
            }

            async fn node_heartbeat(
                &self,
                name: &str,
                owner: &str,
                at_ms: i64,
            ) -> Result<bool> {
                let mut w = self.write().await?;
                let n = sqlx::query("UPDATE nodes SET heartbeat_at = $3 WHERE name = $1 AND owner = $2")
                    .bind(name)
                    .bind(owner)
                    .bind(at_ms)
                    .execute(&mut *w.tx)
                    .await?
                    .rows_affected();
                w.tx.commit().await?;
                Ok(n > 0)
            }

            async fn nodes(&self) -> Result<Vec<crate::NodeRecord>> {
                sqlx::query(
                    "SELECT name, owner, helo_name, source_ips, started_at, heartbeat_at, sandbox FROM nodes ORDER BY name",
                )
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(node)
                .collect::<Result<_>>()
            }
        }

        fn node(r: &$row) -> Result<crate::NodeRecord> {
            Ok(crate::NodeRecord {
                name: r.try_get("name")?,
                owner: r.try_get("owner")?,
                helo_name: r.try_get("helo_name")?,
                source_ips: r.try_get("source_ips")?,
                started_at_ms: r.try_get("started_at")?,
                heartbeat_at_ms: r.try_get("heartbeat_at")?,
                sandbox: r.try_get::<i64, _>("sandbox")? != 0,
            })
        }
    };
}
pub(crate) use domains;
