//! Lists and contacts: streaming upserts, audience pages, search: the queries of both backends, written once. `sqlite/contacts.rs` and `postgres/contacts.rs`
//! expand this macro with their store, row and database types; what differs between the SQL
//! dialects comes from each backend's `dialect` module.

macro_rules! contacts {
    ($store:ident, $row:ty, $db:ty) => {
        #[allow(unused_imports)]
        use crate::areas::*;
        use std::collections::HashMap;

        use sqlx::{QueryBuilder, Row};

        use crate::{AudienceMember, ImportedConsent, ListId, NewContact, Result, UpsertCounts};

        /// Rows per multi-row statement (5 binds each, below SQLite's 32766-variable limit).
        const CHUNK: usize = 5000;

        /// Merge two JSON objects of fields; `newer` wins.
        fn merge_fields(older: &str, newer: &str) -> String {
            let mut a: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(older).unwrap_or_default();
            let b: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(newer).unwrap_or_default();
            a.extend(b);
            serde_json::Value::Object(a).to_string()
        }

        impl ContactStore for $store {
            async fn ensure_list(&self, name: &str, now_ms: i64) -> Result<ListId> {
                if let Some(id) = self.find_list(name).await? {
                    return Ok(id);
                }
                let mut w = self.write().await?;
                sqlx::query(
                    "INSERT INTO lists (name, created_at) VALUES ($1, $2) ON CONFLICT(name) DO NOTHING",
                )
                .bind(name)
                .bind(now_ms)
                .execute(&mut *w.tx)
                .await?;
                let id: i64 = sqlx::query("SELECT id FROM lists WHERE name = $1")
                    .bind(name)
                    .fetch_one(&mut *w.tx)
                    .await?
                    .try_get("id")?;
                w.tx.commit().await?;
                Ok(ListId(id))
            }

            async fn find_list(&self, name: &str) -> Result<Option<ListId>> {
                Ok(sqlx::query("SELECT id FROM lists WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|r| r.try_get("id").map(ListId))
                    .transpose()?)
            }

            async fn import_consents(&self, list: ListId, batch: &[ImportedConsent]) -> Result<u64> {
                if batch.is_empty() {
                    return Ok(0);
                }
                let mut w = self.write().await?;
                let mut kept = 0;
                for c in batch {
                    kept += sqlx::query(
                        // The same record imported again (a re-import, a repeated row) is one.
                        "INSERT INTO consents (contact_id, list_id, source, ip, form_text, created_at, confirmed_at, confirm_ip) \
                         SELECT c.id, $2, $3, $4, $5, $6, $7, $8 FROM contacts c WHERE c.email_key = $1 \
                           AND NOT EXISTS (SELECT 1 FROM consents x WHERE x.contact_id = c.id AND x.list_id = $2 \
                                             AND x.source = $3 AND x.created_at = $6)",
                    )
                    .bind(&c.email_key)
                    .bind(list.0)
                    .bind(&c.source)
                    .bind(&c.ip)
                    .bind(&c.form_text)
                    .bind(c.at_ms)
                    .bind(c.confirmed_at_ms)
                    .bind(&c.confirm_ip)
                    .execute(&mut *w.tx)
                    .await?
                    .rows_affected();
                }
                w.tx.commit().await?;
                Ok(kept)
            }

            async fn upsert_contacts(
                &self,
                list: ListId,
                batch: &[NewContact],
                now_ms: i64,
            ) -> Result<UpsertCounts> {
                let mut counts = UpsertCounts::default();
                if batch.is_empty() {
                    return Ok(counts);
                }
                // Merge duplicates within the batch first (later fields win), so each key appears once
                // and the database can tell inserts from updates by the stamp alone.
                let mut index: HashMap<&str, usize> = HashMap::with_capacity(batch.len());
                let mut unique: Vec<NewContact> = Vec::with_capacity(batch.len());
                for c in batch {
                    match index.get(c.email_key.as_str()) {
                        Some(&i) => {
                            counts.updated += 1;
                            unique[i].fields = merge_fields(&unique[i].fields, &c.fields);
                        }
                        None => {
                            index.insert(&c.email_key, unique.len());
                            unique.push(c.clone());
                        }
                    }
                }
                // A stamp no earlier batch used: rows whose created_at is this stamp were inserted now.
                let stamp = {
                    let now = now_ms;
                    let prev = self
                        .last_stamp
                        .fetch_max(now, std::sync::atomic::Ordering::AcqRel);
                    if prev >= now {
                        self.last_stamp
                            .fetch_add(1, std::sync::atomic::Ordering::AcqRel)
                            + 1
                    } else {
                        now
                    }
                };
                let mut w = self.write().await?;
                // Erased people stay out: checked in this transaction, so an erasure committed
                // a moment ago is seen.
                let tokens: Vec<&str> = unique.iter().filter_map(|c| c.erased_token.as_deref()).collect();
                if !tokens.is_empty() {
                    sqlx::query(super::dialect::ADD_LOCK).execute(&mut *w.tx).await?;
                }
                let erased = Self::erased_among(&mut w.tx, &tokens).await?;
                if !erased.is_empty() {
                    unique.retain(|c| {
                        let gone = c.erased_token.as_ref().is_some_and(|t| erased.contains(t));
                        if gone {
                            counts.refused.push(c.email_key.clone());
                        }
                        !gone
                    });
                }
                for chunk in unique.chunks(CHUNK) {
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO contacts (email, email_key, fields, created_at, updated_at) ",
                    );
                    q.push_values(chunk, |mut b, c| {
                        b.push_bind(&c.email)
                            .push_bind(&c.email_key)
                            .push_bind(&c.fields)
                            .push_bind(stamp)
                            .push_bind(stamp);
                    });
                    // The first spelling stays; fields merge, newer values win.
                    q.push(format!(
                        " ON CONFLICT(email_key) DO UPDATE SET fields = {}, \
                         updated_at = excluded.updated_at \
                         RETURNING id, CASE WHEN created_at = ",
                        super::dialect::json_merge("contacts.fields", "excluded.fields")
                    ));
                    q.push_bind(stamp);
                    q.push(" THEN CAST(1 AS BIGINT) ELSE CAST(0 AS BIGINT) END AS inserted");
                    let rows = q.build().fetch_all(&mut *w.tx).await?;
                    let mut ids = Vec::with_capacity(rows.len());
                    for r in rows {
                        ids.push(r.try_get::<i64, _>("id")?);
                        if r.try_get::<i64, _>("inserted")? != 0 {
                            counts.inserted += 1;
                        } else {
                            counts.updated += 1;
                        }
                    }

                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO list_members (list_id, contact_id, updated_at) ",
                    );
                    q.push_values(ids, |mut b, id| {
                        b.push_bind(list.0).push_bind(id).push_bind(stamp);
                    });
                    // An import vouches for consent: a pending sign-up becomes subscribed; someone
                    // who left the list stays out.
                    q.push(
                        " ON CONFLICT (list_id, contact_id) DO UPDATE SET status = 'subscribed', \
                         updated_at = excluded.updated_at WHERE list_members.status = 'pending'",
                    );
                    q.build().execute(&mut *w.tx).await?;
                }
                w.tx.commit().await?;
                Ok(counts)
            }

            async fn lists(&self) -> Result<Vec<(String, u64)>> {
                sqlx::query(
                    "SELECT l.name, (SELECT COUNT(*) FROM list_members m WHERE m.list_id = l.id) AS members \
                     FROM lists l ORDER BY l.name",
                )
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|r| Ok((r.try_get("name")?, r.try_get::<i64, _>("members")? as u64)))
                .collect()
            }

            async fn list_names(&self) -> Result<Vec<String>> {
                sqlx::query("SELECT name FROM lists ORDER BY name")
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(|r| Ok(r.try_get("name")?))
                    .collect()
            }

            async fn audience_page(&self, list: ListId, after: i64, limit: u32) -> Result<Vec<AudienceMember>> {
                self.audience_page_filtered(list, after, limit, None).await
            }

            async fn audience_page_for(
                &self,
                list: ListId,
                after: i64,
                limit: u32,
                filter: &crate::AudienceFilter,
            ) -> Result<Vec<AudienceMember>> {
                self.audience_page_filtered(list, after, limit, Some(filter)).await
            }

            async fn search_contacts(
                &self,
                query: &str,
                after_key: &str,
                limit: u32,
            ) -> Result<Vec<crate::ContactRow>> {
                if !crate::shared::matchable(query) || !crate::shared::matchable(after_key) {
                    return Ok(Vec::new());
                }
                // LIKE with the wildcards of the query escaped: a search for "a_b" means "a_b".
                let pattern = format!(
                    "%{}%",
                    query
                        .to_lowercase()
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_")
                );
                let names = super::dialect::lines_agg("l.name || '\t' || m.status");
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT c.email, c.email_key, c.fields, c.created_at, \
                            (SELECT {names} FROM list_members m JOIN lists l ON l.id = m.list_id \
                             WHERE m.contact_id = c.id) AS lists \
                     FROM contacts c WHERE c.email_key LIKE $1 ESCAPE '\\' AND c.email_key > $2 \
                     ORDER BY c.email_key LIMIT $3"
                )))
                .bind(pattern)
                .bind(after_key)
                .bind(limit as i64)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(contact_row).collect()
            }

            async fn contact(
                &self,
                email_key: &str,
            ) -> Result<Option<crate::ContactRow>> {
                if !crate::shared::matchable(email_key) {
                    return Ok(None);
                }
                let names = super::dialect::lines_agg("l.name || '\t' || m.status");
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT c.email, c.email_key, c.fields, c.created_at, \
                            (SELECT {names} FROM list_members m JOIN lists l ON l.id = m.list_id \
                             WHERE m.contact_id = c.id) AS lists \
                     FROM contacts c WHERE c.email_key = $1"
                )))
                .bind(email_key)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(contact_row).transpose()
            }

            async fn contact_deliveries(
                &self,
                email_key: &str,
            ) -> Result<Vec<crate::ContactDelivery>> {
                let rows = sqlx::query(
                    "SELECT d.id, d.campaign_id, c.name AS campaign_name, c.subject, d.state, d.reason, d.attempts, d.updated_at, \
                            (SELECT a.evidence FROM attempts a WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1) AS evidence \
                     FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id \
                     WHERE d.email_key = $1 AND d.seed_id IS NULL ORDER BY d.campaign_id DESC LIMIT 1000",
                )
                .bind(email_key)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(crate::ContactDelivery {
                            delivery: crate::DeliveryId(r.try_get("id")?),
                            campaign: crate::CampaignId(r.try_get("campaign_id")?),
                            campaign_name: r.try_get("campaign_name")?,
                            subject: r.try_get("subject")?,
                            state: super::parse_state(r.try_get::<&str, _>("state")?)?,
                            reason: r.try_get("reason")?,
                            attempts: r.try_get::<i64, _>("attempts")? as u32,
                            updated_at_ms: r.try_get("updated_at")?,
                            // An unreadable record costs this one field, not the page.
                            sent_subject: r
                                .try_get::<Option<String>, _>("evidence")?
                                .and_then(|e| {
                                    serde_json::from_str::<herald_domain::Evidence>(&e).ok()
                                })
                                .and_then(|e| e.sent)
                                .map(|s| s.subject),
                        })
                    })
                    .collect()
            }
        }
        impl $store {
            /// `audience_page(_for)`: the members `filter` selects (all without one): of `list`
            /// alone, or of `list` and `filter.lists`, each person once with their best standing
            /// (subscribed on one of them, else pending on one, else unsubscribed).
            async fn audience_page_filtered(
                &self,
                list: ListId,
                after: i64,
                limit: u32,
                filter: Option<&crate::AudienceFilter>,
            ) -> Result<Vec<AudienceMember>> {
                use super::segments::{push_on_lists, push_rule};
                let now_ms = filter.map_or(0, |f| f.now_ms);
                let mut lists = vec![list];
                lists.extend(filter.map(|f| f.lists.as_slice()).unwrap_or_default());
                let several = lists.len() > 1;
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT c.id, c.email, c.email_key, c.fields, s.reason, \
                            CASE WHEN EXISTS (SELECT 1 FROM deliveries d WHERE d.email_key = c.email_key \
                                    AND d.state = 'bounced' AND d.hard = 1) \
                                 THEN CAST(1 AS BIGINT) ELSE CAST(0 AS BIGINT) END AS hard_bounced, ",
                );
                if several {
                    // The best standing on the lists, in one look at the person's memberships.
                    q.push(
                        "CASE (SELECT MIN(CASE lm.status WHEN 'subscribed' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END) \
                         FROM list_members lm WHERE lm.contact_id = c.id AND lm.list_id IN (",
                    );
                    let mut ids = q.separated(", ");
                    for l in &lists {
                        ids.push_bind(l.0);
                    }
                    q.push(")) WHEN 0 THEN 'subscribed' WHEN 1 THEN 'pending' ELSE 'unsubscribed' END AS status, ");
                } else {
                    q.push("m.status, ");
                }
                // A segment narrows the members; an exclusion marks them (`not_sent: excluded`).
                let exclude = filter.and_then(|f| f.exclude.as_ref());
                let exclude_lists = filter.map(|f| f.exclude_lists.as_slice()).unwrap_or_default();
                if exclude.is_some() || !exclude_lists.is_empty() {
                    q.push("CASE WHEN ");
                    if let Some(rule) = exclude {
                        push_rule(&mut q, rule, now_ms);
                        if !exclude_lists.is_empty() {
                            q.push(" OR ");
                        }
                    }
                    if !exclude_lists.is_empty() {
                        push_on_lists(&mut q, exclude_lists, "subscribed");
                    }
                    q.push(" THEN CAST(1 AS BIGINT) ELSE CAST(0 AS BIGINT) END AS excluded");
                } else {
                    q.push("CAST(0 AS BIGINT) AS excluded");
                }
                if several {
                    // Contacts in id order, each kept when on one of the lists: one pass over
                    // the contacts for the whole snapshot, whatever the lists' overlap.
                    q.push(
                        " FROM contacts c LEFT JOIN suppressions s ON s.email_key = c.email_key \
                         WHERE c.id > ",
                    );
                    q.push_bind(after);
                    q.push(
                        " AND EXISTS (SELECT 1 FROM list_members lm WHERE lm.contact_id = c.id AND lm.list_id IN (",
                    );
                    let mut ids = q.separated(", ");
                    for l in &lists {
                        ids.push_bind(l.0);
                    }
                    q.push("))");
                } else {
                    q.push(
                        " FROM list_members m JOIN contacts c ON c.id = m.contact_id \
                         LEFT JOIN suppressions s ON s.email_key = c.email_key WHERE m.list_id = ",
                    );
                    q.push_bind(list.0);
                    q.push(" AND m.contact_id > ");
                    q.push_bind(after);
                }
                if let Some(rule) = filter.and_then(|f| f.include.as_ref()) {
                    q.push(" AND ");
                    push_rule(&mut q, rule, now_ms);
                }
                q.push(if several { " ORDER BY c.id LIMIT " } else { " ORDER BY m.contact_id LIMIT " });
                q.push_bind(limit as i64);
                let rows = q.build().fetch_all(&self.pool).await?;
                rows.into_iter()
                    .map(|r| {
                        let status: String = r.try_get("status")?;
                        Ok(AudienceMember {
                            contact_id: r.try_get("id")?,
                            email: r.try_get("email")?,
                            email_key: r.try_get("email_key")?,
                            fields: r.try_get("fields")?,
                            suppression: r.try_get::<Option<String>, _>("reason")?
                            .map(|s| crate::shared::parse_name("suppressions.reason", &s))
                            .transpose()?,
                            hard_bounced_before: r.try_get::<i64, _>("hard_bounced")? != 0,
                            status: status.parse().map_err(|e: String| {
                                crate::StoreError::Corrupt(format!("list member status: {e}"))
                            })?,
                            excluded: r.try_get::<i64, _>("excluded")? != 0,
                        })
                    })
                    .collect()
            }
        }

        fn contact_row(r: &$row) -> Result<crate::ContactRow> {
            // "name<TAB>status" per line; an unknown status reads as subscribed (the default).
            let (lists, statuses) = r
                .try_get::<Option<String>, _>("lists")?
                .map(|l| {
                    l.split('\n')
                        .map(|line| {
                            let (name, status) = line.rsplit_once('\t').unwrap_or((line, "subscribed"));
                            (
                                name.to_string(),
                                status.parse().unwrap_or(herald_domain::MemberStatus::Subscribed),
                            )
                        })
                        .unzip()
                })
                .unwrap_or_default();
            Ok(crate::ContactRow {
                email: r.try_get("email")?,
                email_key: r.try_get("email_key")?,
                fields: r.try_get("fields")?,
                created_at_ms: r.try_get("created_at")?,
                lists,
                statuses,
            })
        }
    };
}
pub(crate) use contacts;
