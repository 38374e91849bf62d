//! A contact's standing, once they are on a list: the preference centre (leave or rejoin a list,
//! edit fields), an operator's edits, the export and the consent records. The queries of both
//! backends, written once; `sqlite/members.rs` and `postgres/members.rs` expand this macro.

macro_rules! members {
    ($store:ident, $row:ty, $db:ty) => {
        #[allow(unused_imports)]
        use crate::areas::*;
        use herald_domain::MemberStatus;
        use sqlx::Row;

        use super::audience::{delivery_contact, lift_unsubscribe, locked_status, member_status};
        use crate::{
            ConsentRecord, DeliveryId, ExportRow, ListId, Membership, PreferenceChange, Preferences, Result,
            StoreError,
        };

        impl MemberStore for $store {
            async fn preferences(&self, delivery: DeliveryId) -> Result<Option<Preferences>> {
                let row = sqlx::query(
                    "SELECT c.id, c.email, c.fields, (SELECT s.reason FROM suppressions s WHERE s.email_key = c.email_key) AS suppressed \
                     FROM deliveries d JOIN contacts c ON c.id = d.contact_id WHERE d.id = $1",
                )
                .bind(delivery.0)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let contact: i64 = row.try_get("id")?;
                let rows = sqlx::query(
                    "SELECT l.id, l.name, m.status, l.form_fields FROM list_members m JOIN lists l ON l.id = m.list_id \
                     WHERE m.contact_id = $1 AND NOT (m.status = 'unsubscribed' AND m.removed_by_operator = 1) \
                     ORDER BY l.name",
                )
                .bind(contact)
                .fetch_all(&self.pool)
                .await?;
                let memberships = rows
                    .iter()
                    .map(|r| {
                        let fields: String = r.try_get("form_fields")?;
                        Ok(Membership {
                            list: ListId(r.try_get("id")?),
                            name: r.try_get("name")?,
                            status: member_status(Some(r.try_get("status")?))?.unwrap_or(MemberStatus::Subscribed),
                            form_fields: serde_json::from_str(&fields)
                                .map_err(|e| StoreError::Corrupt(format!("list form_fields: {e}")))?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(Some(Preferences {
                    contact_id: contact,
                    email: row.try_get("email")?,
                    fields: row.try_get("fields")?,
                    memberships,
                    suppressed: row.try_get("suppressed")?,
                }))
            }

            async fn set_preferences(
                &self,
                delivery: DeliveryId,
                change: &PreferenceChange,
            ) -> Result<bool> {
                let mut w = self.write().await?;
                let Some((contact, _email, email_key)) = delivery_contact(&mut w.tx, delivery).await? else {
                    return Ok(false);
                };
                let own_list: Option<i64> = sqlx::query(
                    "SELECT k.list_id FROM deliveries d JOIN campaigns k ON k.id = d.campaign_id WHERE d.id = $1",
                )
                .bind(delivery.0)
                .fetch_optional(&mut *w.tx)
                .await?
                .map(|r| r.try_get("list_id"))
                .transpose()?;
                // Unsubscribed from everything: a list ticked now is a rejoin even where its
                // membership still reads subscribed.
                let mut unsubscribed_all = sqlx::query(
                    "SELECT 1 FROM suppressions WHERE email_key = $1 AND reason = 'unsubscribed'",
                )
                .bind(&email_key)
                .fetch_optional(&mut *w.tx)
                .await?
                .is_some();
                for (list, status) in &change.lists {
                    let before = locked_status(&mut w.tx, list.0, contact).await?;
                    // Only lists they are on, and only a real change.
                    let Some(before) = before else { continue };
                    let rejoin = *status == MemberStatus::Subscribed
                        && (before != MemberStatus::Subscribed || unsubscribed_all);
                    if (before == *status && !rejoin) || *status == MemberStatus::Pending {
                        continue;
                    }
                    if rejoin {
                        lift_unsubscribe(&mut w.tx, &email_key, contact, list.0, change.at_ms).await?;
                        unsubscribed_all = false;
                        sqlx::query(
                            "INSERT INTO consents (contact_id, list_id, source, ip, user_agent, form_text, created_at, confirmed_at, confirm_ip) \
                             VALUES ($1, $2, 'preferences', $3, $4, 'rejoined in the preference centre', $5, $5, $3)",
                        )
                        .bind(contact)
                        .bind(list.0)
                        .bind(&change.ip)
                        .bind(&change.user_agent)
                        .bind(change.at_ms)
                        .execute(&mut *w.tx)
                        .await?;
                    }
                    sqlx::query(
                        "UPDATE list_members SET status = $1, updated_at = $2 WHERE list_id = $3 AND contact_id = $4",
                    )
                    .bind(status.as_str())
                    .bind(change.at_ms)
                    .bind(list.0)
                    .bind(contact)
                    .execute(&mut *w.tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO events (delivery_id, campaign_id, kind, at, detail) \
                         SELECT d.id, d.campaign_id, $2, $3, $4 FROM deliveries d WHERE d.id = $1",
                    )
                    .bind(delivery.0)
                    // Leaving the list the message came from is that message's unsubscribe (the
                    // campaign's report counts it); other lists are `list_left`.
                    .bind(if *status == MemberStatus::Subscribed {
                        "list_rejoined"
                    } else if Some(list.0) == own_list {
                        "unsubscribe"
                    } else {
                        "list_left"
                    })
                    .bind(change.at_ms)
                    .bind(serde_json::json!({ "list": list.0, "ip": change.ip, "method": "preferences", "verdict": "human" }).to_string())
                    .execute(&mut *w.tx)
                    .await?;
                    if *status != MemberStatus::Subscribed && Some(list.0) == own_list {
                        let detail = serde_json::json!({ "list": list.0, "ip": change.ip, "method": "preferences", "verdict": "human" }).to_string();
                        super::webhooks::enqueue(&mut w.tx, || {
                            vec![crate::shared::event_hook(
                                delivery.0,
                                herald_domain::webhook::WebhookEvent::Unsubscribed,
                                change.at_ms,
                                &detail,
                                "unsubscribe",
                            )]
                        })
                        .await?;
                    }
                }
                if change.fields != "{}" {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "UPDATE contacts SET fields = {}, updated_at = $2 WHERE id = $3",
                        super::dialect::json_merge("fields", "$1")
                    )))
                    .bind(&change.fields)
                    .bind(change.at_ms)
                    .bind(contact)
                    .execute(&mut *w.tx)
                    .await?;
                }
                w.tx.commit().await?;
                Ok(true)
            }

            async fn leave_list(&self, delivery: DeliveryId, at_ms: i64, detail: &str) -> Result<bool> {
                let mut w = self.write().await?;
                let n = sqlx::query(
                    "UPDATE list_members SET status = 'unsubscribed', updated_at = $2 \
                     WHERE (list_id, contact_id) IN (SELECT k.list_id, d.contact_id FROM deliveries d \
                            JOIN campaigns k ON k.id = d.campaign_id WHERE d.id = $1 \
                            UNION SELECT cl.list_id, d.contact_id FROM deliveries d \
                            JOIN campaign_lists cl ON cl.campaign_id = d.campaign_id AND cl.excluded = 0 \
                            WHERE d.id = $1) AND status <> 'unsubscribed'",
                )
                .bind(delivery.0)
                .bind(at_ms)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                let events = sqlx::query(
                    "INSERT INTO events (delivery_id, campaign_id, kind, at, detail) \
                     SELECT d.id, d.campaign_id, 'unsubscribe', $2, $3 FROM deliveries d WHERE d.id = $1",
                )
                .bind(delivery.0)
                .bind(at_ms)
                .bind(detail)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                if events > 0 {
                    super::webhooks::enqueue(&mut w.tx, || {
                        vec![crate::shared::event_hook(
                            delivery.0,
                            herald_domain::webhook::WebhookEvent::Unsubscribed,
                            at_ms,
                            detail,
                            "unsubscribe",
                        )]
                    })
                    .await?;
                }
                w.tx.commit().await?;
                Ok(n + events > 0)
            }

            async fn set_contact_fields(&self, email_key: &str, fields: &str, at_ms: i64) -> Result<bool> {
                if !crate::shared::matchable(email_key) {
                    return Ok(false);
                }
                let mut w = self.write().await?;
                let n = sqlx::query("UPDATE contacts SET fields = $1, updated_at = $2 WHERE email_key = $3")
                    .bind(fields)
                    .bind(at_ms)
                    .bind(email_key)
                    .execute(&mut *w.tx)
                    .await?
                    .rows_affected();
                w.tx.commit().await?;
                Ok(n == 1)
            }

            async fn set_member_status(
                &self,
                list: ListId,
                email_key: &str,
                status: MemberStatus,
                at_ms: i64,
            ) -> Result<bool> {
                if !crate::shared::matchable(email_key) {
                    return Ok(false);
                }
                let mut w = self.write().await?;
                let n = sqlx::query(
                    "UPDATE list_members SET status = $1, updated_at = $2, \
                        removed_by_operator = CASE WHEN $1 = 'unsubscribed' THEN 1 ELSE 0 END WHERE list_id = $3 \
                     AND contact_id = (SELECT id FROM contacts WHERE email_key = $4)",
                )
                .bind(status.as_str())
                .bind(at_ms)
                .bind(list.0)
                .bind(email_key)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                w.tx.commit().await?;
                Ok(n == 1)
            }

            async fn export_page(
                &self,
                list: Option<ListId>,
                after: i64,
                limit: u32,
            ) -> Result<Vec<ExportRow>> {
                let agg = super::dialect::lines_agg("l.name || '\t' || m.status");
                let sql = match list {
                    Some(_) => format!(
                        "SELECT c.id, c.email, c.fields, c.created_at, \
                                (SELECT {agg} FROM list_members m JOIN lists l ON l.id = m.list_id \
                                 WHERE m.contact_id = c.id AND m.list_id = $1) AS lists, \
                                (SELECT s.reason FROM suppressions s WHERE s.email_key = c.email_key) AS suppression, \
                                (SELECT k.source || '\t' || CAST(k.created_at AS TEXT) || '\t' || COALESCE(CAST(k.confirmed_at AS TEXT), '') \
                                 FROM consents k WHERE k.contact_id = c.id AND k.list_id = $1 ORDER BY k.id DESC LIMIT 1) AS consent \
                         FROM list_members lm JOIN contacts c ON c.id = lm.contact_id \
                         WHERE lm.list_id = $1 AND c.id > $2 ORDER BY c.id LIMIT $3"
                    ),
                    None => format!(
                        "SELECT c.id, c.email, c.fields, c.created_at, \
                                (SELECT {agg} FROM list_members m JOIN lists l ON l.id = m.list_id \
                                 WHERE m.contact_id = c.id) AS lists, \
                                (SELECT s.reason FROM suppressions s WHERE s.email_key = c.email_key) AS suppression, \
                                (SELECT k.source || '\t' || CAST(k.created_at AS TEXT) || '\t' || COALESCE(CAST(k.confirmed_at AS TEXT), '') \
                                 FROM consents k WHERE k.contact_id = c.id ORDER BY k.id DESC LIMIT 1) AS consent \
                         FROM contacts c WHERE c.id > $2 AND CAST($1 AS BIGINT) IS NULL ORDER BY c.id LIMIT $3"
                    ),
                };
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(list.map(|l| l.0))
                    .bind(after)
                    .bind(limit as i64)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        let memberships = r
                            .try_get::<Option<String>, _>("lists")?
                            .map(|l| {
                                l.split('\n')
                                    .map(|line| {
                                        let (name, status) = line.rsplit_once('\t').unwrap_or((line, "subscribed"));
                                        (name.to_string(), status.parse().unwrap_or(MemberStatus::Subscribed))
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                        let consent = r.try_get::<Option<String>, _>("consent")?.and_then(|c| {
                            let mut parts = c.split('\t');
                            let source = parts.next()?.to_string();
                            let at = parts.next()?.parse().ok()?;
                            let confirmed = parts.next().and_then(|v| v.parse().ok());
                            Some((source, at, confirmed))
                        });
                        Ok(ExportRow {
                            contact_id: r.try_get("id")?,
                            email: r.try_get("email")?,
                            fields: r.try_get("fields")?,
                            created_at_ms: r.try_get("created_at")?,
                            memberships,
                            suppression: r.try_get("suppression")?,
                            consent,
                        })
                    })
                    .collect()
            }

            async fn consents(&self, email_key: &str) -> Result<Vec<ConsentRecord>> {
                if !crate::shared::matchable(email_key) {
                    return Ok(Vec::new());
                }
                let rows = sqlx::query(
                    "SELECT l.name, s.source, s.ip, s.user_agent, s.form_text, s.created_at, s.confirmed_at, s.confirm_ip \
                     FROM consents s JOIN contacts c ON c.id = s.contact_id JOIN lists l ON l.id = s.list_id \
                     WHERE c.email_key = $1 ORDER BY s.id",
                )
                .bind(email_key)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(ConsentRecord {
                            list: r.try_get("name")?,
                            source: r.try_get("source")?,
                            ip: r.try_get("ip")?,
                            user_agent: r.try_get("user_agent")?,
                            form_text: r.try_get("form_text")?,
                            created_at_ms: r.try_get("created_at")?,
                            confirmed_at_ms: r.try_get("confirmed_at")?,
                            confirm_ip: r.try_get("confirm_ip")?,
                        })
                    })
                    .collect()
            }
        }
    };
}
pub(crate) use members;
