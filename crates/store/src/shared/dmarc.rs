//! DMARC aggregate reports: the queries of both backends, written once. `sqlite/dmarc.rs` and
//! `postgres/dmarc.rs` expand this macro with their store, row and database types.

macro_rules! dmarc {
    ($store:ident, $row:ty, $db:ty) => {
        #[allow(unused_imports)]
        use crate::areas::*;
        use sqlx::{QueryBuilder, Row};

        use crate::{DmarcReporterRow, DmarcSource, NewDmarcReport, Result};

        /// Rows per INSERT (10 binds each, far below either backend's limit).
        const ROWS_PER_INSERT: usize = 500;

        /// A SUM or COUNT column as a count.
        fn count(r: &$row, column: &str) -> Result<u64> {
            Ok(r.try_get::<i64, _>(column)?.max(0) as u64)
        }

        impl DmarcStore for $store {
            async fn record_dmarc(&self, r: &NewDmarcReport) -> Result<bool> {
                let mut w = self.write().await?;
                let id: Option<i64> = sqlx::query(
                    "INSERT INTO dmarc_reports (org, email, report_id, domain, policy, subdomain_policy, \
                       begin_at, end_at, received_at, source) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     ON CONFLICT (org, report_id, domain) DO NOTHING RETURNING id",
                )
                .bind(&r.org)
                .bind(&r.email)
                .bind(&r.report_id)
                .bind(&r.domain)
                .bind(&r.policy)
                .bind(&r.subdomain_policy)
                .bind(r.begin_ms)
                .bind(r.end_ms)
                .bind(r.received_ms)
                .bind(&r.source)
                .fetch_optional(&mut *w.tx)
                .await?
                .map(|row| row.try_get("id"))
                .transpose()?;
                let Some(id) = id else {
                    return Ok(false);
                };
                for chunk in r.rows.chunks(ROWS_PER_INSERT) {
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO dmarc_rows (report_id, source_ip, messages, disposition, dkim, spf, \
                           header_from, envelope_from, dkim_results, spf_results) ",
                    );
                    q.push_values(chunk, |mut b, row| {
                        b.push_bind(id)
                            .push_bind(&row.source_ip)
                            .push_bind(row.messages)
                            .push_bind(&row.disposition)
                            .push_bind(&row.dkim)
                            .push_bind(&row.spf)
                            .push_bind(&row.header_from)
                            .push_bind(&row.envelope_from)
                            .push_bind(&row.dkim_results)
                            .push_bind(&row.spf_results);
                    });
                    q.build().execute(&mut *w.tx).await?;
                }
                w.tx.commit().await?;
                Ok(true)
            }

            async fn dmarc_sources(&self, domain: &str, since_ms: i64) -> Result<Vec<DmarcSource>> {
                let rows = sqlx::query(
                    "SELECT r.domain, w.source_ip, \
                       CAST(SUM(w.messages) AS BIGINT) AS messages, \
                       CAST(SUM(CASE WHEN w.dkim = 'pass' OR w.spf = 'pass' THEN w.messages ELSE 0 END) AS BIGINT) AS dmarc_pass, \
                       CAST(SUM(CASE WHEN w.dkim = 'pass' THEN w.messages ELSE 0 END) AS BIGINT) AS dkim_pass, \
                       CAST(SUM(CASE WHEN w.spf = 'pass' THEN w.messages ELSE 0 END) AS BIGINT) AS spf_pass, \
                       CAST(SUM(CASE WHEN w.disposition = 'quarantine' THEN w.messages ELSE 0 END) AS BIGINT) AS quarantined, \
                       CAST(SUM(CASE WHEN w.disposition = 'reject' THEN w.messages ELSE 0 END) AS BIGINT) AS rejected, \
                       CAST(COUNT(DISTINCT r.org) AS BIGINT) AS reporters, \
                       COALESCE(MAX(CASE WHEN w.dkim <> 'pass' AND w.spf <> 'pass' THEN w.header_from END), MAX(w.header_from)) AS header_from, \
                       COALESCE(MAX(CASE WHEN w.dkim <> 'pass' AND w.spf <> 'pass' THEN w.dkim_results END), MAX(w.dkim_results)) AS dkim_results, \
                       COALESCE(MAX(CASE WHEN w.dkim <> 'pass' AND w.spf <> 'pass' THEN w.spf_results END), MAX(w.spf_results)) AS spf_results, \
                       MIN(r.begin_at) AS first_at, MAX(r.end_at) AS last_at \
                     FROM dmarc_rows w JOIN dmarc_reports r ON r.id = w.report_id \
                     WHERE r.end_at >= $1 AND ($2 = '' OR r.domain = $2) \
                     GROUP BY r.domain, w.source_ip \
                     ORDER BY r.domain, messages DESC, w.source_ip",
                )
                .bind(since_ms)
                .bind(domain)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(DmarcSource {
                            domain: r.try_get("domain")?,
                            source_ip: r.try_get("source_ip")?,
                            messages: count(r, "messages")?,
                            dmarc_pass: count(r, "dmarc_pass")?,
                            dkim_pass: count(r, "dkim_pass")?,
                            spf_pass: count(r, "spf_pass")?,
                            quarantined: count(r, "quarantined")?,
                            rejected: count(r, "rejected")?,
                            reporters: count(r, "reporters")?,
                            header_from: r.try_get("header_from")?,
                            dkim_results: r.try_get("dkim_results")?,
                            spf_results: r.try_get("spf_results")?,
                            first_ms: r.try_get("first_at")?,
                            last_ms: r.try_get("last_at")?,
                        })
                    })
                    .collect()
            }

            async fn dmarc_reporters(
                &self,
                domain: &str,
                since_ms: i64,
            ) -> Result<Vec<DmarcReporterRow>> {
                let rows = sqlx::query(
                    "SELECT r.domain, r.org, MAX(r.email) AS email, \
                       CAST(COUNT(DISTINCT r.id) AS BIGINT) AS reports, \
                       CAST(COALESCE(SUM(w.messages), 0) AS BIGINT) AS messages, \
                       MIN(r.begin_at) AS first_at, MAX(r.end_at) AS last_at, \
                       (SELECT n.policy FROM dmarc_reports n WHERE n.domain = r.domain AND n.org = r.org \
                         ORDER BY n.end_at DESC, n.id DESC LIMIT 1) AS policy \
                     FROM dmarc_reports r LEFT JOIN dmarc_rows w ON w.report_id = r.id \
                     WHERE r.end_at >= $1 AND ($2 = '' OR r.domain = $2) \
                     GROUP BY r.domain, r.org \
                     ORDER BY r.domain, messages DESC, r.org",
                )
                .bind(since_ms)
                .bind(domain)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(DmarcReporterRow {
                            domain: r.try_get("domain")?,
                            org: r.try_get("org")?,
                            email: r.try_get("email")?,
                            reports: count(r, "reports")?,
                            messages: count(r, "messages")?,
                            first_ms: r.try_get("first_at")?,
                            last_ms: r.try_get("last_at")?,
                            policy: r.try_get("policy")?,
                        })
                    })
                    .collect()
            }

            async fn prune_dmarc(&self, before_ms: i64) -> Result<u64> {
                let mut w = self.write().await?;
                // Rows first: the SQLite connection may not enforce ON DELETE CASCADE.
                sqlx::query(
                    "DELETE FROM dmarc_rows WHERE report_id IN \
                       (SELECT id FROM dmarc_reports WHERE end_at < $1)",
                )
                .bind(before_ms)
                .execute(&mut *w.tx)
                .await?;
                let n = sqlx::query("DELETE FROM dmarc_reports WHERE end_at < $1")
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

pub(crate) use dmarc;
