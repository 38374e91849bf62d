//! Warm-up: each From domain's daily allowance under `[delivery] warmup`, taken atomically by
//! the nodes' claim loops. The queries of both backends, written once; `sqlite/warmup.rs` and
//! `postgres/warmup.rs` expand this macro.

macro_rules! warmup {
    ($store:ident, $row:ty, $db:ty) => {
        #[allow(unused_imports)]
        use crate::areas::*;
        use sqlx::Row;

        use crate::Result;

        impl WarmupStore for $store {
            async fn warmup_day(&self, domain: &str, today: i64) -> Result<u64> {
                // Earlier days this domain sent under warm-up, and before its first such day, the
                // days it sent campaigns at all (to real receivers, not the sandbox; a list's
                // confirmations, never capped, do not count): a domain that has been sending for
                // weeks is not new.
                let pattern = format!(
                    "%@{}",
                    domain.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
                );
                let r = sqlx::query(
                    "SELECT (SELECT COUNT(*) FROM warmup_usage WHERE domain = $1 AND day < $2 AND used > 0) AS warm, \
                            (SELECT COUNT(DISTINCT h.day) FROM health_daily h JOIN campaigns c ON c.id = h.campaign_id \
                             WHERE lower(c.from_address) LIKE $3 ESCAPE '\\' AND c.kind = 'campaign' AND h.provider <> 'sandbox' \
                               AND h.kind IN ('delivered', 'relayed', 'bounced', 'deferred', 'failed') \
                               AND h.day < COALESCE((SELECT MIN(day) FROM warmup_usage WHERE domain = $1), $2)) AS before",
                )
                .bind(domain)
                .bind(today)
                .bind(&pattern)
                .fetch_one(&self.pool)
                .await?;
                Ok((r.try_get::<i64, _>("warm")? + r.try_get::<i64, _>("before")?).max(0) as u64)
            }

            async fn take_warmup(
                &self,
                domain: &str,
                today: i64,
                want: u64,
                cap: u64,
            ) -> Result<u64> {
                let mut w = self.write().await?;
                sqlx::query(
                    "INSERT INTO warmup_usage (domain, day, used) VALUES ($1, $2, 0) \
                     ON CONFLICT (domain, day) DO NOTHING",
                )
                .bind(domain)
                .bind(today)
                .execute(&mut *w.tx)
                .await?;
                // Lock the row (PostgreSQL; SQLite's writer is exclusive already), then read it.
                sqlx::query("UPDATE warmup_usage SET used = used WHERE domain = $1 AND day = $2")
                    .bind(domain)
                    .bind(today)
                    .execute(&mut *w.tx)
                    .await?;
                let used = sqlx::query("SELECT used FROM warmup_usage WHERE domain = $1 AND day = $2")
                    .bind(domain)
                    .bind(today)
                    .fetch_one(&mut *w.tx)
                    .await?
                    .try_get::<i64, _>("used")?
                    .max(0) as u64;
                let granted = want.min(cap.saturating_sub(used));
                if granted > 0 {
                    sqlx::query("UPDATE warmup_usage SET used = used + $3 WHERE domain = $1 AND day = $2")
                        .bind(domain)
                        .bind(today)
                        .bind(granted as i64)
                        .execute(&mut *w.tx)
                        .await?;
                }
                w.tx.commit().await?;
                Ok(granted)
            }
        }
    };
}
pub(crate) use warmup;
