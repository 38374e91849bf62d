//! Lists as users manage them, sign-ups, confirmations and consent (design §6b): the queries of
//! both backends, written once. `sqlite/audience.rs` and `postgres/audience.rs` expand this
//! macro; what differs between the dialects comes from each backend's `dialect` module.

macro_rules! audience {
    ($store:ident, $row:ty, $db:ty) => {
        #[allow(unused_imports)]
        use crate::areas::*;
        use herald_domain::{MemberStatus, OptIn};
        use sqlx::Row;

        use crate::{
            Confirmed, DeliveryId, ListId, ListMessage, ListRecord, NewListMessage,
            NewList, Result, SignUp, SignedUp, StoreError,
        };

        pub(super) type Tx = sqlx::Transaction<'static, $db>;

        /// Lift a global `unsubscribed` suppression because the person (re)joined `list`
        /// themselves: they stay out of every other list, as the suppression kept them.
        pub(super) async fn lift_unsubscribe(tx: &mut Tx, email_key: &str, contact: i64, list: i64, at_ms: i64) -> Result<()> {
            let lifted = sqlx::query(
                "DELETE FROM suppressions WHERE email_key = $1 AND reason = 'unsubscribed'",
            )
            .bind(email_key)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if lifted > 0 {
                // The suppression list's audit trail, as `suppressions remove` keeps it.
                sqlx::query(
                    "INSERT INTO suppression_log (email_key, action, reason, source, at) VALUES ($1, 'remove', 'unsubscribed', $2, $3)",
                )
                .bind(email_key)
                .bind(format!("rejoined:list {list}"))
                .bind(at_ms)
                .execute(&mut **tx)
                .await?;
                sqlx::query(
                    "UPDATE list_members SET status = 'unsubscribed', updated_at = $3 \
                     WHERE contact_id = $1 AND list_id <> $2 AND status = 'subscribed'",
                )
                .bind(contact)
                .bind(list)
                .bind(at_ms)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        /// A member's standing on a list, its row locked until the transaction ends (`None`: not
        /// a member).
        pub(super) async fn locked_status(tx: &mut Tx, list: i64, contact: i64) -> Result<Option<MemberStatus>> {
            member_status(
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT status FROM list_members WHERE list_id = $1 AND contact_id = $2{}",
                    super::dialect::FOR_UPDATE
                )))
                .bind(list)
                .bind(contact)
                .fetch_optional(&mut **tx)
                .await?
                .map(|r| r.try_get::<String, _>("status"))
                .transpose()?,
            )
        }

        /// The contact a delivery went to: (id, email, email_key).
        pub(super) async fn delivery_contact(tx: &mut Tx, delivery: DeliveryId) -> Result<Option<(i64, String, String)>> {
            sqlx::query(
                "SELECT c.id, c.email, c.email_key FROM deliveries d JOIN contacts c ON c.id = d.contact_id WHERE d.id = $1",
            )
            .bind(delivery.0)
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| Ok::<_, StoreError>((r.try_get("id")?, r.try_get("email")?, r.try_get("email_key")?)))
            .transpose()
        }

        const LIST_COLUMNS: &str = "l.id, l.name, l.slug, l.description, l.opt_in, l.form_fields, \
             l.from_name, l.from_address, l.created_at, l.confirmation, l.welcome, \
             (SELECT COUNT(*) FROM list_members m WHERE m.list_id = l.id AND m.status = 'subscribed') AS subscribed, \
             (SELECT COUNT(*) FROM list_members m WHERE m.list_id = l.id AND m.status = 'pending') AS pending, \
             (SELECT COUNT(*) FROM list_members m WHERE m.list_id = l.id AND m.status = 'unsubscribed') AS unsubscribed";

        /// [`LIST_COLUMNS`] without the counts (read as 0).
        const LIST_SETTINGS: &str = "l.id, l.name, l.slug, l.description, l.opt_in, l.form_fields, \
             l.from_name, l.from_address, l.created_at, l.confirmation, l.welcome, CAST(0 AS BIGINT) AS subscribed, CAST(0 AS BIGINT) AS pending, \
             CAST(0 AS BIGINT) AS unsubscribed";

        /// One of a list's own messages as stored (JSON), if it has it.
        fn message_json(m: Option<&ListMessage>) -> Result<Option<String>> {
            m.map(|c| serde_json::to_string(c).map_err(|e| StoreError::Corrupt(e.to_string())))
                .transpose()
        }

        fn message_of(r: &$row, column: &str) -> Result<Option<ListMessage>> {
            r.try_get::<Option<String>, _>(column)?
                .map(|c| {
                    serde_json::from_str(&c)
                        .map_err(|e| StoreError::Corrupt(format!("list {column}: {e}")))
                })
                .transpose()
        }

        fn list_record(r: &$row) -> Result<ListRecord> {
            let opt_in: String = r.try_get("opt_in")?;
            let fields: String = r.try_get("form_fields")?;
            Ok(ListRecord {
                id: ListId(r.try_get("id")?),
                list: NewList {
                    name: r.try_get("name")?,
                    slug: r.try_get("slug")?,
                    description: r.try_get("description")?,
                    opt_in: opt_in
                        .parse::<OptIn>()
                        .map_err(|e| StoreError::Corrupt(format!("list opt_in: {e}")))?,
                    form_fields: serde_json::from_str(&fields)
                        .map_err(|e| StoreError::Corrupt(format!("list form_fields: {e}")))?,
                    from_name: r.try_get("from_name")?,
                    from_address: r.try_get("from_address")?,
                    confirmation: message_of(r, "confirmation")?,
                    welcome: message_of(r, "welcome")?,
                },
                created_at_ms: r.try_get("created_at")?,
                subscribed: r.try_get::<i64, _>("subscribed")? as u64,
                pending: r.try_get::<i64, _>("pending")? as u64,
                unsubscribed: r.try_get::<i64, _>("unsubscribed")? as u64,
            })
        }

        pub(super) fn member_status(s: Option<String>) -> Result<Option<MemberStatus>> {
            s.map(|s| {
                s.parse::<MemberStatus>()
                    .map_err(|e| StoreError::Corrupt(format!("list member status: {e}")))
            })
            .transpose()
        }

        impl AudienceStore for $store {
            async fn create_list(&self, l: &NewList, at_ms: i64) -> Result<ListId> {
                let fields = serde_json::to_string(&l.form_fields)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let confirmation = message_json(l.confirmation.as_ref())?;
                let welcome = message_json(l.welcome.as_ref())?;
                let mut w = self.write().await?;
                let id: i64 = sqlx::query(
                    "INSERT INTO lists (name, slug, description, opt_in, form_fields, from_name, from_address, created_at, \
                                        confirmation, welcome) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                )
                .bind(&l.name)
                .bind(&l.slug)
                .bind(&l.description)
                .bind(l.opt_in.as_str())
                .bind(fields)
                .bind(&l.from_name)
                .bind(&l.from_address)
                .bind(at_ms)
                .bind(confirmation)
                .bind(welcome)
                .fetch_one(&mut *w.tx)
                .await?
                .try_get("id")?;
                w.tx.commit().await?;
                Ok(ListId(id))
            }

            async fn update_list(&self, id: ListId, l: &NewList) -> Result<bool> {
                let fields = serde_json::to_string(&l.form_fields)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let confirmation = message_json(l.confirmation.as_ref())?;
                let welcome = message_json(l.welcome.as_ref())?;
                let mut w = self.write().await?;
                let n = sqlx::query(
                    "UPDATE lists SET name = $1, slug = $2, description = $3, opt_in = $4, form_fields = $5, \
                     from_name = $6, from_address = $7, confirmation = $9, welcome = $10 WHERE id = $8",
                )
                .bind(&l.name)
                .bind(&l.slug)
                .bind(&l.description)
                .bind(l.opt_in.as_str())
                .bind(fields)
                .bind(&l.from_name)
                .bind(&l.from_address)
                .bind(id.0)
                .bind(confirmation)
                .bind(welcome)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                w.tx.commit().await?;
                Ok(n == 1)
            }

            async fn list_records(&self) -> Result<Vec<ListRecord>> {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {LIST_COLUMNS} FROM lists l ORDER BY l.name"
                )))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(list_record).collect()
            }

            async fn list_settings(&self, id: ListId) -> Result<Option<ListRecord>> {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {LIST_SETTINGS} FROM lists l WHERE l.id = $1"
                )))
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?
                .as_ref()
                .map(list_record)
                .transpose()
            }

            async fn list_record(
                &self,
                key: &str,
                by_slug: bool,
            ) -> Result<Option<ListRecord>> {
                if !crate::shared::matchable(key) {
                    return Ok(None);
                }
                // By slug it serves the public form on every sign-up: the settings only (the
                // counts read every member of the list).
                let (column, columns) = if by_slug {
                    ("l.slug", LIST_SETTINGS)
                } else {
                    ("l.name", LIST_COLUMNS)
                };
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {columns} FROM lists l WHERE {column} = $1"
                )))
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(list_record).transpose()
            }

            async fn delete_list(&self, id: ListId) -> Result<bool> {
                let mut w = self.write().await?;
                let used: i64 = sqlx::query(
                    "SELECT (SELECT COUNT(*) FROM campaigns WHERE list_id = $1) \
                          + (SELECT COUNT(*) FROM campaign_lists WHERE list_id = $1) AS n",
                )
                    .bind(id.0)
                    .fetch_one(&mut *w.tx)
                    .await?
                    .try_get("n")?;
                if used > 0 {
                    return Ok(false);
                }
                for sql in [
                    "DELETE FROM consents WHERE list_id = $1",
                    "DELETE FROM list_members WHERE list_id = $1",
                    "DELETE FROM lists WHERE id = $1",
                ] {
                    sqlx::query(sql).bind(id.0).execute(&mut *w.tx).await?;
                }
                w.tx.commit().await?;
                Ok(true)
            }

            async fn sign_up(&self, s: &SignUp) -> Result<SignedUp> {
                let mut w = self.write().await?;
                if let Some(t) = &s.erased_token {
                    sqlx::query(super::dialect::ADD_LOCK).execute(&mut *w.tx).await?;
                    if !Self::erased_among(&mut w.tx, &[t.as_str()]).await?.is_empty() {
                        return Err(crate::StoreError::Erased);
                    }
                }
                // Fields typed into a double opt-in form wait in the consent record until the
                // person confirms (an unconfirmed sign-up leaves nobody's name behind).
                let fields = if s.status == MemberStatus::Pending { "{}" } else { s.fields.as_str() };
                sqlx::query(
                    "INSERT INTO contacts (email, email_key, fields, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $4) ON CONFLICT(email_key) DO NOTHING",
                )
                .bind(&s.email)
                .bind(&s.email_key)
                .bind(fields)
                .bind(s.at_ms)
                .execute(&mut *w.tx)
                .await?;
                let contact_id: i64 = sqlx::query("SELECT id FROM contacts WHERE email_key = $1")
                    .bind(&s.email_key)
                    .fetch_one(&mut *w.tx)
                    .await?
                    .try_get("id")?;
                let before = locked_status(&mut w.tx, s.list.0, contact_id).await?;
                let now = match before {
                    Some(MemberStatus::Subscribed) => MemberStatus::Subscribed,
                    // Someone who left is brought back only by a confirmed request (double
                    // opt-in, or their own preference centre), never by a form anyone can post.
                    Some(MemberStatus::Unsubscribed) if s.status == MemberStatus::Subscribed => {
                        MemberStatus::Unsubscribed
                    }
                    _ => s.status,
                };
                let mut consent = None;
                if before != Some(now) || now == MemberStatus::Pending {
                    sqlx::query(
                        "INSERT INTO list_members (list_id, contact_id, status, updated_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT(list_id, contact_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
                    )
                    .bind(s.list.0)
                    .bind(contact_id)
                    .bind(now.as_str())
                    .bind(s.at_ms)
                    .execute(&mut *w.tx)
                    .await?;
                    let confirmed = (now == MemberStatus::Subscribed).then_some(s.at_ms);
                    consent = Some(sqlx::query(
                        "INSERT INTO consents (contact_id, list_id, source, ip, user_agent, form_text, fields, created_at, confirmed_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                    )
                    .bind(contact_id)
                    .bind(s.list.0)
                    .bind(&s.source)
                    .bind(&s.ip)
                    .bind(&s.user_agent)
                    .bind(&s.form_text)
                    .bind(&s.fields)
                    .bind(s.at_ms)
                    .bind(confirmed)
                    .fetch_one(&mut *w.tx)
                    .await?
                    .try_get::<i64, _>("id")?);
                }
                w.tx.commit().await?;
                Ok(SignedUp {
                    contact_id,
                    before,
                    now,
                    consent,
                })
            }

            async fn queue_list_message(
                &self,
                c: &NewListMessage,
            ) -> Result<Option<DeliveryId>> {
                let kind = c.kind.as_str();
                let mut w = self.write().await?;
                // One sign-up at a time per list decides which campaign carries its message.
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT id FROM lists WHERE id = $1{}",
                    super::dialect::FOR_UPDATE
                )))
                .bind(c.list.0)
                .fetch_optional(&mut *w.tx)
                .await?;
                // This kind of message to this address for this list: since the resend pause, and
                // in the window.
                let sent = sqlx::query(
                    "SELECT COALESCE(SUM(CASE WHEN COALESCE(d.first_attempt_at, d.updated_at) > $3 THEN 1 ELSE 0 END), 0) AS recent, \
                            COALESCE(SUM(CASE WHEN COALESCE(d.first_attempt_at, d.updated_at) > $4 THEN 1 ELSE 0 END), 0) AS in_window \
                     FROM deliveries d JOIN campaigns k ON k.id = d.campaign_id \
                     WHERE k.kind = $5 AND k.list_id = $1 AND d.email_key = $2",
                )
                .bind(c.list.0)
                .bind(&c.email_key)
                .bind(c.not_since_ms)
                .bind(c.window_since_ms)
                .bind(kind)
                .fetch_one(&mut *w.tx)
                .await?;
                let (recent, in_window): (i64, i64) = (sent.try_get("recent")?, sent.try_get("in_window")?);
                if recent > 0 || in_window >= i64::from(c.max_in_window) {
                    return Ok(None);
                }
                // An address that bounced hard is not mailed again, a list's own message included.
                let bounced: bool = sqlx::query(
                    "SELECT 1 FROM deliveries WHERE email_key = $1 AND state = 'bounced' AND hard = 1 LIMIT 1",
                )
                .bind(&c.email_key)
                .fetch_optional(&mut *w.tx)
                .await?
                .is_some();
                // The list's current campaign of this kind, unless its content is not what the
                // list says now, or it already holds a message to this address (one per address
                // and campaign): then a new one.
                let current = sqlx::query(
                    "SELECT k.id FROM campaigns k WHERE k.kind = $8 AND k.list_id = $1 \
                       AND k.from_address = $2 AND COALESCE(k.from_name, '') = COALESCE($3, '') \
                       AND k.subject = $4 AND k.html = $5 AND COALESCE(k.text, '') = COALESCE($6, '') \
                       AND k.status = 'sending' \
                       AND k.id = (SELECT MAX(id) FROM campaigns WHERE kind = $8 AND list_id = $1) \
                       AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = k.id AND d.email_key = $7)",
                )
                .bind(c.list.0)
                .bind(&c.campaign.from_address)
                .bind(&c.campaign.from_name)
                .bind(&c.campaign.subject)
                .bind(&c.campaign.html)
                .bind(&c.campaign.text)
                .bind(&c.email_key)
                .bind(kind)
                .fetch_optional(&mut *w.tx)
                .await?
                .map(|r| r.try_get::<i64, _>("id"))
                .transpose()?;
                let campaign = match current {
                    Some(id) => id,
                    None => {
                        let k = &c.campaign;
                        sqlx::query(
                            "INSERT INTO campaigns (name, list_id, from_name, from_address, subject, html, text, status, \
                                created_at, started_at, track_opens, track_clicks, send_to_seeds, kind) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, 'sending', $8, $8, $9, $10, 0, $11) RETURNING id",
                        )
                        .bind(&k.name)
                        .bind(c.list.0)
                        .bind(&k.from_name)
                        .bind(&k.from_address)
                        .bind(&k.subject)
                        .bind(&k.html)
                        .bind(&k.text)
                        .bind(c.at_ms)
                        .bind(i64::from(k.track_opens))
                        .bind(i64::from(k.track_clicks))
                        .bind(kind)
                        .fetch_one(&mut *w.tx)
                        .await?
                        .try_get("id")?
                    }
                };
                let (state, reason, due) = if bounced {
                    ("not_sent", Some("previously_bounced"), None)
                } else {
                    ("queued", None, Some(c.at_ms))
                };
                let id: i64 = sqlx::query(
                    "INSERT INTO deliveries (campaign_id, contact_id, email, email_key, domain, state, reason, \
                        message_id, next_attempt_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $8, $9, $6, $10, $7) RETURNING id",
                )
                .bind(campaign)
                .bind(c.contact_id)
                .bind(&c.email)
                .bind(&c.email_key)
                .bind(&c.domain)
                .bind(&c.message_id)
                .bind(c.at_ms)
                .bind(state)
                .bind(reason)
                .bind(due)
                .fetch_one(&mut *w.tx)
                .await?
                .try_get("id")?;
                if let Some(consent) = c.consent {
                    sqlx::query("UPDATE consents SET delivery_id = $1 WHERE id = $2")
                        .bind(id)
                        .bind(consent)
                        .execute(&mut *w.tx)
                        .await?;
                }
                w.tx.commit().await?;
                Ok(Some(DeliveryId(id)))
            }

            async fn confirm_member(
                &self,
                delivery: DeliveryId,
                at_ms: i64,
                ip: Option<&str>,
            ) -> Result<Option<Confirmed>> {
                let mut w = self.write().await?;
                let Some(row) = sqlx::query(
                    "SELECT k.list_id, d.contact_id, d.email, d.email_key, l.name \
                     FROM deliveries d JOIN campaigns k ON k.id = d.campaign_id JOIN lists l ON l.id = k.list_id \
                     WHERE d.id = $1 AND k.kind = 'confirmation' AND d.contact_id IS NOT NULL",
                )
                .bind(delivery.0)
                .fetch_optional(&mut *w.tx)
                .await?
                else {
                    return Ok(None);
                };
                let list: i64 = row.try_get("list_id")?;
                let contact: i64 = row.try_get("contact_id")?;
                let email: String = row.try_get("email")?;
                let email_key: String = row.try_get("email_key")?;
                let before = locked_status(&mut w.tx, list, contact).await?;
                // The sign-up this message was sent for: its link confirms that one only.
                let consent = sqlx::query(
                    "SELECT id, fields FROM consents WHERE delivery_id = $1 AND confirmed_at IS NULL",
                )
                .bind(delivery.0)
                .fetch_optional(&mut *w.tx)
                .await?;
                let newly = match (before, consent) {
                    (Some(MemberStatus::Subscribed), _) => false,
                    (Some(MemberStatus::Pending), Some(consent)) => {
                        // A global unsubscribe is lifted by this confirmed request, for this
                        // list only: the person stays out of every other list they were on.
                        lift_unsubscribe(&mut w.tx, &email_key, contact, list, at_ms).await?;
                        sqlx::query(
                            "UPDATE list_members SET status = 'subscribed', updated_at = $3, removed_by_operator = 0 \
                             WHERE list_id = $1 AND contact_id = $2",
                        )
                        .bind(list)
                        .bind(contact)
                        .bind(at_ms)
                        .execute(&mut *w.tx)
                        .await?;
                        let id: i64 = consent.try_get("id")?;
                        let fields: String = consent.try_get("fields")?;
                        sqlx::query(
                            "UPDATE consents SET confirmed_at = $1, confirm_ip = $2 WHERE id = $3",
                        )
                        .bind(at_ms)
                        .bind(ip)
                        .bind(id)
                        .execute(&mut *w.tx)
                        .await?;
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            "UPDATE contacts SET fields = {}, updated_at = $2 WHERE id = $3",
                            super::dialect::json_merge("fields", "$1")
                        )))
                        .bind(fields)
                        .bind(at_ms)
                        .bind(contact)
                        .execute(&mut *w.tx)
                        .await?;
                        true
                    }
                    // Removed after the window, left the list since, or a sign-up handled
                    // already: an old link changes nothing.
                    _ => return Ok(None),
                };
                w.tx.commit().await?;
                Ok(Some(Confirmed {
                    list: ListId(list),
                    contact_id: contact,
                    list_name: row.try_get("name")?,
                    email,
                    newly,
                }))
            }

            async fn purge_pending(&self, before_ms: i64) -> Result<u64> {
                let mut w = self.write().await?;
                sqlx::query(
                    "DELETE FROM consents WHERE confirmed_at IS NULL AND EXISTS (SELECT 1 FROM list_members m \
                     WHERE m.list_id = consents.list_id AND m.contact_id = consents.contact_id \
                       AND m.status = 'pending' AND m.updated_at < $1)",
                )
                .bind(before_ms)
                .execute(&mut *w.tx)
                .await?;
                let n = sqlx::query(
                    "DELETE FROM list_members WHERE status = 'pending' AND updated_at < $1",
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
pub(crate) use audience;
