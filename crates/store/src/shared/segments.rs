//! Segments: saved rules, and a rule compiled to one SQL condition over `contacts c` (counts,
//! pages, a campaign's audience). The queries of both backends, written once; `sqlite/` and
//! `postgres/segments.rs` expand this macro.

macro_rules! segments {
    ($store:ident, $row:ty, $db:ty) => {
        #[allow(unused_imports)]
        use crate::areas::*;
        use herald_domain::segment::{FieldOp, Rule};
        use sqlx::{QueryBuilder, Row};

        use crate::{AudienceFilter, Result, SegmentRecord};

        /// Append `rule` as one SQL condition over `contacts c`; `now_ms` anchors `within`.
        /// Field names are checked by the parser (letters, digits, `_`), so they are written
        /// into the JSON path; every value is a bound parameter.
        pub(crate) fn push_rule(q: &mut QueryBuilder<$db>, rule: &Rule, now_ms: i64) {
            match rule {
                Rule::And(a, b) | Rule::Or(a, b) => {
                    q.push("(");
                    push_rule(q, a, now_ms);
                    q.push(if matches!(rule, Rule::And(..)) { " AND " } else { " OR " });
                    push_rule(q, b, now_ms);
                    q.push(")");
                }
                Rule::Not(a) => {
                    q.push("(NOT ");
                    push_rule(q, a, now_ms);
                    q.push(")");
                }
                Rule::Field { name, op, value } => {
                    let v = format!(
                        "lower(COALESCE(CAST({} AS TEXT), ''))",
                        super::dialect::json_text("c.fields", name)
                    );
                    match op {
                        FieldOp::Exists => {
                            q.push(format!("({v} <> '')"));
                        }
                        FieldOp::Eq | FieldOp::Ne => {
                            // Both sides through the database's own lower() (on SQLite it
                            // folds ASCII only: `Łódź` must meet `Łódź`, not `łódź`).
                            q.push(format!("({v} {} lower(", if *op == FieldOp::Eq { "=" } else { "<>" }));
                            q.push_bind(value.clone());
                            q.push("))");
                        }
                        FieldOp::Contains => {
                            q.push(format!("({}lower(", super::dialect::contains_open(&v)));
                            q.push_bind(value.clone());
                            q.push(format!("){})", super::dialect::CONTAINS_CLOSE));
                        }
                    }
                }
                Rule::List(name) => {
                    q.push(
                        "EXISTS (SELECT 1 FROM list_members m JOIN lists l ON l.id = m.list_id \
                         WHERE m.contact_id = c.id AND m.status = 'subscribed' AND l.name = ",
                    );
                    q.push_bind(name.clone());
                    q.push(")");
                }
                Rule::ConsentConfirmed => {
                    q.push(
                        "EXISTS (SELECT 1 FROM consents s WHERE s.contact_id = c.id \
                         AND s.confirmed_at IS NOT NULL)",
                    );
                }
                Rule::Delivered { within_ms } => {
                    q.push(
                        "EXISTS (SELECT 1 FROM deliveries d WHERE d.email_key = c.email_key \
                         AND d.state = 'delivered' AND d.updated_at >= ",
                    );
                    q.push_bind(now_ms - within_ms);
                    q.push(")");
                }
                Rule::Bounced { within_ms } => {
                    q.push(
                        "EXISTS (SELECT 1 FROM deliveries d WHERE d.email_key = c.email_key \
                         AND d.state = 'bounced'",
                    );
                    if let Some(w) = within_ms {
                        q.push(" AND d.updated_at >= ");
                        q.push_bind(now_ms - w);
                    }
                    q.push(")");
                }
                Rule::Opened { within_ms } | Rule::Clicked { within_ms } => {
                    let kind = if matches!(rule, Rule::Opened { .. }) { "open" } else { "click" };
                    q.push(format!(
                        "EXISTS (SELECT 1 FROM deliveries d JOIN events e ON e.delivery_id = d.id \
                         WHERE d.email_key = c.email_key AND e.kind = '{kind}' \
                         AND COALESCE({}, '') <> 'machine' AND e.at >= ",
                        super::dialect::json_text("e.detail", "verdict")
                    ));
                    q.push_bind(now_ms - within_ms);
                    q.push(")");
                }
                Rule::Placement { folder, within_ms } => {
                    // Where `why` says a copy probably landed: the seed copy of the same campaign at
                    // the recipient's domain (a few per campaign: `deliveries_seed_copies`).
                    q.push(
                        "EXISTS (SELECT 1 FROM deliveries d WHERE d.email_key = c.email_key \
                         AND d.seed_id IS NULL AND d.state IN ('delivered', 'relayed')",
                    );
                    if let Some(w) = within_ms {
                        q.push(" AND d.updated_at >= ");
                        q.push_bind(now_ms - w);
                    }
                    q.push(format!(
                        " AND EXISTS (SELECT 1 FROM deliveries sd JOIN events e ON e.delivery_id = sd.id \
                         WHERE sd.campaign_id = d.campaign_id AND sd.seed_id IS NOT NULL \
                         AND lower(sd.domain) = lower(d.domain) AND e.kind = 'placement' AND {} = ",
                        super::dialect::json_text("e.detail", "placement")
                    ));
                    q.push_bind(folder.bucket());
                    q.push("))");
                }
                Rule::NeverEngaged => {
                    // `delivery_flags` holds `open`/`click` for people, `…:machine` otherwise.
                    q.push(
                        "NOT EXISTS (SELECT 1 FROM deliveries d JOIN delivery_flags f ON f.delivery_id = d.id \
                         WHERE d.email_key = c.email_key AND f.key IN ('open', 'click'))",
                    );
                }
            }
        }

        fn segment_record(r: &$row) -> Result<SegmentRecord> {
            Ok(SegmentRecord {
                name: r.try_get("name")?,
                rule: r.try_get("rule")?,
                created_at_ms: r.try_get("created_at")?,
                updated_at_ms: r.try_get("updated_at")?,
            })
        }

        impl SegmentStore for $store {
            async fn create_segment(&self, name: &str, rule: &str, at_ms: i64) -> Result<bool> {
                let mut w = self.write().await?;
                let n = sqlx::query(
                    "INSERT INTO segments (name, rule, created_at, updated_at) VALUES ($1, $2, $3, $3) \
                     ON CONFLICT(name) DO NOTHING",
                )
                .bind(name)
                .bind(rule)
                .bind(at_ms)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                w.tx.commit().await?;
                Ok(n == 1)
            }

            async fn segment_records(&self) -> Result<Vec<SegmentRecord>> {
                let rows = sqlx::query(
                    "SELECT name, rule, created_at, updated_at FROM segments ORDER BY name",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(segment_record).collect()
            }

            async fn update_segment(
                &self,
                name: &str,
                new_name: &str,
                rule: &str,
                at_ms: i64,
            ) -> Result<bool> {
                let mut w = self.write().await?;
                let n = sqlx::query(
                    "UPDATE segments SET name = $2, rule = $3, updated_at = $4 WHERE name = $1",
                )
                .bind(name)
                .bind(new_name)
                .bind(rule)
                .bind(at_ms)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                w.tx.commit().await?;
                Ok(n == 1)
            }

            async fn delete_segment(&self, name: &str) -> Result<bool> {
                let mut w = self.write().await?;
                let n = sqlx::query("DELETE FROM segments WHERE name = $1")
                    .bind(name)
                    .execute(&mut *w.tx)
                    .await?
                    .rows_affected();
                w.tx.commit().await?;
                Ok(n == 1)
            }

            async fn segment_count(&self, filter: &AudienceFilter) -> Result<u64> {
                let mut q = QueryBuilder::<$db>::new("SELECT COUNT(*) AS n FROM contacts c WHERE ");
                push_filter(&mut q, filter);
                let n: i64 = q.build().fetch_one(&self.pool).await?.try_get("n")?;
                Ok(n as u64)
            }

            async fn segment_page(
                &self,
                filter: &AudienceFilter,
                after: i64,
                limit: u32,
            ) -> Result<Vec<(i64, String)>> {
                let mut q = QueryBuilder::<$db>::new("SELECT c.id, c.email FROM contacts c WHERE c.id > ");
                q.push_bind(after);
                q.push(" AND ");
                push_filter(&mut q, filter);
                q.push(" ORDER BY c.id LIMIT ");
                q.push_bind(limit as i64);
                let rows = q.build().fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|r| Ok((r.try_get("id")?, r.try_get("email")?)))
                    .collect()
            }
        }

        /// The include rule (or `TRUE`), subscribed to one of the lists (when any), and neither
        /// the exclude rule nor subscribed to one of the excluded lists.
        pub(crate) fn push_filter(q: &mut QueryBuilder<$db>, f: &AudienceFilter) {
            q.push("(");
            match &f.include {
                Some(r) => push_rule(q, r, f.now_ms),
                None => {
                    q.push(super::dialect::TRUE);
                }
            }
            if !f.lists.is_empty() {
                q.push(" AND ");
                push_on_lists(q, &f.lists, "subscribed");
            }
            if let Some(r) = &f.exclude {
                q.push(" AND NOT ");
                push_rule(q, r, f.now_ms);
            }
            if !f.exclude_lists.is_empty() {
                q.push(" AND NOT ");
                push_on_lists(q, &f.exclude_lists, "subscribed");
            }
            q.push(")");
        }

        /// `c` stands `status` (a fixed word, written in) on one of `lists`.
        pub(crate) fn push_on_lists(
            q: &mut QueryBuilder<$db>,
            lists: &[crate::ListId],
            status: &'static str,
        ) {
            q.push(format!(
                "EXISTS (SELECT 1 FROM list_members lm WHERE lm.contact_id = c.id AND lm.status = '{status}' \
                 AND lm.list_id IN ("
            ));
            let mut ids = q.separated(", ");
            for l in lists {
                ids.push_bind(l.0);
            }
            q.push("))");
        }
    };
}
pub(crate) use segments;
