//! Erasure and right of access (GDPR): the queries of both backends, written once.
//! `sqlite/privacy.rs` and `postgres/privacy.rs` expand this macro.

/// What replaces an erased address (and an erased personalised subject) in stored text.
pub(crate) const ERASED: &str = "[erased]";

/// Event-detail and evidence keys that hold a person's own data outright: dropped on erasure.
const PERSONAL_KEYS: &[&str] = &["ip", "user_agent", "confirm_ip", "fields", "url"];

/// Characters that can be part of an address: a match next to one of them is part of another
/// address (`genevieve@x` is not `eve@x`), not this one.
fn address_char(c: char) -> bool {
    c.is_alphanumeric() || "._%+-!#$&'*/=?^`{|}~@".contains(c)
}

/// Where `needle` (lower case) occurs in `lower` (the text, ASCII lower-cased) as a whole
/// address: start and end offsets, not overlapping.
fn whole_matches(lower: &str, needle: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find(needle) {
        let (start, end) = (at + i, at + i + needle.len());
        let before = lower[..start].chars().next_back();
        let mut rest = lower[end..].chars();
        // A dot or dash after the address ends it unless a letter or digit follows (`eve@x.org.`
        // ends a sentence; `eve@x.org.uk` is another address).
        let after = match rest.next() {
            Some('.' | '-') => rest.next().filter(|c| c.is_alphanumeric()),
            other => other,
        };
        if !before.is_some_and(address_char) && !after.is_some_and(address_char) {
            out.push((start, end));
            at = end;
        } else {
            // Step one character on (needles start with an ASCII or other whole character).
            at = start + lower[start..].chars().next().map_or(1, char::len_utf8);
        }
    }
    out
}

/// Whether `text` mentions any of `needles` as a whole address (ASCII case ignored).
pub(crate) fn mentions(text: &str, needles: &[String]) -> bool {
    let lower = text.to_ascii_lowercase();
    needles
        .iter()
        .filter(|n| !n.is_empty())
        .any(|n| !whole_matches(&lower, &n.to_ascii_lowercase()).is_empty())
}

/// `text` with every whole occurrence of any of `needles` replaced by `[erased]`, comparing
/// ASCII letters without case (addresses are matched however a server spelled them).
pub(crate) fn scrub_text(text: &str, needles: &[String]) -> String {
    let mut out = text.to_string();
    for n in needles {
        if n.is_empty() {
            continue;
        }
        // ASCII lower-casing keeps every byte offset, so positions found in `lower` cut `out`
        // on the same character boundaries.
        let lower = out.to_ascii_lowercase();
        let found = whole_matches(&lower, &n.to_ascii_lowercase());
        if found.is_empty() {
            continue;
        }
        let mut result = String::with_capacity(out.len());
        let mut at = 0;
        for (start, end) in found {
            result.push_str(&out[at..start]);
            result.push_str(ERASED);
            at = end;
        }
        result.push_str(&out[at..]);
        out = result;
    }
    out
}

/// A stored JSON document (an attempt's evidence, an event's detail, an inbound summary) with
/// the person's data gone: addresses blanked everywhere, personal keys dropped, the
/// personalised subject replaced. Text that is not JSON is scrubbed as text.
pub(crate) fn scrub_json(doc: &str, needles: &[String]) -> String {
    fn walk(v: &mut serde_json::Value, needles: &[String]) {
        match v {
            serde_json::Value::String(s) => *s = scrub_text(s, needles),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| walk(x, needles)),
            serde_json::Value::Object(m) => {
                m.retain(|k, _| !PERSONAL_KEYS.contains(&k.as_str()));
                // The subject as this person received it may carry their name.
                if let Some(serde_json::Value::String(s)) = m.get_mut("subject") {
                    *s = ERASED.to_string();
                }
                m.values_mut().for_each(|x| walk(x, needles));
            }
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(doc) {
        Ok(mut v) => {
            walk(&mut v, needles);
            v.to_string()
        }
        Err(_) => scrub_text(doc, needles),
    }
}

macro_rules! privacy {
    ($store:ident, $row:ty, $db:ty) => {
        #[allow(unused_imports)]
        use crate::areas::*;
        use sqlx::Row;

        use crate::shared::privacy::{mentions, scrub_json, scrub_text};
        use crate::{DeliveryId, EraseOutcome, Erased, Erasure, InboundCopy, PersonRecord, Result};

        /// Scrub the JSON `column` of every row of `table` about the deliveries `ids` (a JSON
        /// array); how many rows.
        async fn scrub_rows(
            c: &mut <$db as sqlx::Database>::Connection,
            table: &str,
            column: &str,
            ids: &str,
            needles: &[String],
        ) -> Result<u64> {
            let in_ids = super::dialect::id_list("$1");
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id, {column} AS doc FROM {table} WHERE delivery_id IN ({in_ids})"
            )))
            .bind(ids)
            .fetch_all(&mut *c)
            .await?;
            for r in &rows {
                let id: i64 = r.try_get("id")?;
                let doc: String = r.try_get("doc")?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE {table} SET {column} = $2 WHERE id = $1"
                )))
                .bind(id)
                .bind(scrub_json(&doc, needles))
                .execute(&mut *c)
                .await?;
            }
            Ok(rows.len() as u64)
        }

        /// Inbound messages about the deliveries in `ids` (a JSON array), and any other whose
        /// raw text, summary or sender names one of `needles` as a whole address.
        async fn inbound_of(
            c: &mut <$db as sqlx::Database>::Connection,
            ids: &str,
            needles: &[String],
        ) -> Result<Vec<i64>> {
            let mut found: Vec<i64> = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id FROM inbound_messages WHERE delivery_id IN ({})",
                super::dialect::id_list("$1")
            )))
            .bind(ids)
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<std::result::Result<_, _>>()?;
            for n in needles.iter().filter(|n| !n.is_empty()) {
                let lower = n.to_ascii_lowercase();
                // Candidates by substring in SQL, then whole-address matches only.
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT id, raw, summary, mail_from FROM inbound_messages WHERE {} OR {} OR {}",
                    super::dialect::bytes_contain_ci("raw", "$1"),
                    super::dialect::contains("lower(summary)", "$1"),
                    super::dialect::contains("lower(mail_from)", "$1"),
                )))
                .bind(&lower)
                .fetch_all(&mut *c)
                .await?;
                for r in &rows {
                    let raw: Vec<u8> = r.try_get("raw")?;
                    let summary: String = r.try_get("summary")?;
                    let from: String = r.try_get("mail_from")?;
                    let one = std::slice::from_ref(n);
                    if mentions(&String::from_utf8_lossy(&raw), one)
                        || mentions(&summary, one)
                        || mentions(&from, one)
                    {
                        found.push(r.try_get("id")?);
                    }
                }
            }
            found.sort_unstable();
            found.dedup();
            Ok(found)
        }

        /// Empty inbound messages `ids` and scrub their summary and sender of `needles`.
        async fn scrub_inbound(
            c: &mut <$db as sqlx::Database>::Connection,
            ids: &[i64],
            needles: &[String],
        ) -> Result<u64> {
            let mut n = 0;
            for id in ids {
                let r = sqlx::query("SELECT summary, mail_from FROM inbound_messages WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *c)
                    .await?;
                let summary: String = r.try_get("summary")?;
                let mail_from: String = r.try_get("mail_from")?;
                sqlx::query(
                    "UPDATE inbound_messages SET raw = $2, summary = $3, mail_from = $4 WHERE id = $1",
                )
                .bind(id)
                .bind(Vec::<u8>::new())
                .bind(scrub_json(&summary, needles))
                .bind(scrub_text(&mail_from, needles))
                .execute(&mut *c)
                .await?;
                n += 1;
            }
            Ok(n)
        }

        /// Delete a contact with its consents and memberships.
        async fn remove_contact(
            tx: &mut <$db as sqlx::Database>::Connection,
            contact: i64,
            done: &mut Erased,
        ) -> Result<()> {
            done.consents = sqlx::query("DELETE FROM consents WHERE contact_id = $1")
                .bind(contact)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            done.memberships = sqlx::query("DELETE FROM list_members WHERE contact_id = $1")
                .bind(contact)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            // Deliveries of other addresses never point at this contact; seeds none.
            sqlx::query("UPDATE deliveries SET contact_id = NULL WHERE contact_id = $1")
                .bind(contact)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM contacts WHERE id = $1")
                .bind(contact)
                .execute(&mut *tx)
                .await?;
            done.contact = true;
            Ok(())
        }

        /// The person's suppression and its log, moved to the erasure token; how many log lines
        /// moved.
        async fn suppress_by_token(
            tx: &mut <$db as sqlx::Database>::Connection,
            e: &Erasure,
        ) -> Result<u64> {
            sqlx::query("DELETE FROM suppressions WHERE email_key = $1")
                .bind(&e.email_key)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO suppressions (email_key, reason, source, created_at) VALUES ($1, 'erased', $2, $3) \
                 ON CONFLICT(email_key) DO NOTHING",
            )
            .bind(&e.token)
            .bind(&e.source)
            .bind(e.at_ms)
            .execute(&mut *tx)
            .await?;
            let moved = sqlx::query(
                "UPDATE suppression_log SET email_key = $2 WHERE email_key = $1",
            )
            .bind(&e.email_key)
            .bind(&e.token)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(
                "INSERT INTO suppression_log (email_key, action, reason, source, at) VALUES ($1, 'add', 'erased', $2, $3)",
            )
            .bind(&e.token)
            .bind(&e.source)
            .bind(e.at_ms)
            .execute(&mut *tx)
            .await?;
                Ok(moved)
        }

        impl PrivacyStore for $store {
            async fn erase_person(&self, e: &Erasure) -> Result<EraseOutcome> {
                if !crate::shared::matchable(&e.email_key) {
                    return Ok(EraseOutcome::Unknown);
                }
                let outcome = self.erase_in_tx(e).await?;
                // The writer is released: the files can be cleaned now.
                if matches!(outcome, EraseOutcome::Erased(_)) {
                    self.after_erase().await;
                }
                Ok(outcome)
            }

            async fn delete_contact(&self, email_key: &str) -> Result<bool> {
                if !crate::shared::matchable(email_key) {
                    return Ok(false);
                }
                let mut w = self.write().await?;
                let Some(id) = sqlx::query("SELECT id FROM contacts WHERE email_key = $1")
                    .bind(email_key)
                    .fetch_optional(&mut *w.tx)
                    .await?
                    .map(|r| r.try_get::<i64, _>("id"))
                    .transpose()?
                else {
                    return Ok(false);
                };
                for sql in [
                    "DELETE FROM consents WHERE contact_id = $1",
                    "DELETE FROM list_members WHERE contact_id = $1",
                    // The history stays, under the address it was sent to.
                    "UPDATE deliveries SET contact_id = NULL WHERE contact_id = $1",
                    "DELETE FROM contacts WHERE id = $1",
                ] {
                    sqlx::query(sql).bind(id).execute(&mut *w.tx).await?;
                }
                w.tx.commit().await?;
                Ok(true)
            }

            async fn claim_key_check(&self, name: &str, check: &str, at_ms: i64) -> Result<String> {
                let mut w = self.write().await?;
                sqlx::query(
                    "INSERT INTO herald_keys (name, check_value, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT(name) DO NOTHING",
                )
                .bind(name)
                .bind(check)
                .bind(at_ms)
                .execute(&mut *w.tx)
                .await?;
                let kept: String = sqlx::query("SELECT check_value FROM herald_keys WHERE name = $1")
                    .bind(name)
                    .fetch_one(&mut *w.tx)
                    .await?
                    .try_get("check_value")?;
                w.tx.commit().await?;
                Ok(kept)
            }

            async fn key_check(&self, name: &str) -> Result<Option<String>> {
                Ok(sqlx::query("SELECT check_value FROM herald_keys WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|r| r.try_get("check_value"))
                    .transpose()?)
            }

            async fn person_record(&self, email_key: &str, needles: &[String]) -> Result<PersonRecord> {
                let mut p = PersonRecord::default();
                if !crate::shared::matchable(email_key) {
                    return Ok(p);
                }
                let rows = sqlx::query(
                    "SELECT a.delivery_id, a.outcome, a.reason, a.started_at, a.ended_at, a.evidence \
                     FROM attempts a JOIN deliveries d ON d.id = a.delivery_id \
                     WHERE d.email_key = $1 AND d.seed_id IS NULL ORDER BY a.id",
                )
                .bind(email_key)
                .fetch_all(&self.pool)
                .await?;
                for r in &rows {
                    p.attempts.push((
                        DeliveryId(r.try_get("delivery_id")?),
                        r.try_get("outcome")?,
                        r.try_get("reason")?,
                        r.try_get("started_at")?,
                        r.try_get("ended_at")?,
                        r.try_get("evidence")?,
                    ));
                }
                let ids: Vec<i64> = sqlx::query(
                    "SELECT id FROM deliveries WHERE email_key = $1 AND seed_id IS NULL",
                )
                .bind(email_key)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<std::result::Result<_, _>>()?;
                let ids = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
                // The same messages an erasure would empty.
                let inbound = {
                    let mut c = self.pool.acquire().await?;
                    inbound_of(&mut c, &ids, needles).await?
                };
                let inbound = serde_json::to_string(&inbound).unwrap_or_else(|_| "[]".into());
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT id, delivery_id, received_at, kind, mail_from, summary, raw \
                     FROM inbound_messages WHERE id IN ({}) ORDER BY id",
                    super::dialect::id_list("$1")
                )))
                .bind(&inbound)
                .fetch_all(&self.pool)
                .await?;
                for r in &rows {
                    p.inbound.push(InboundCopy {
                        id: r.try_get("id")?,
                        delivery: r.try_get::<Option<i64>, _>("delivery_id")?.map(DeliveryId),
                        received_at_ms: r.try_get("received_at")?,
                        kind: r.try_get("kind")?,
                        mail_from: r.try_get("mail_from")?,
                        summary: r.try_get("summary")?,
                        raw: r.try_get("raw")?,
                    });
                }
                p.suppression = sqlx::query(
                    "SELECT reason, source, created_at FROM suppressions WHERE email_key = $1",
                )
                .bind(email_key)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| -> Result<_> { Ok((r.try_get("reason")?, r.try_get("source")?, r.try_get("created_at")?)) })
                .transpose()?;
                let rows = sqlx::query(
                    "SELECT action, reason, source, at FROM suppression_log WHERE email_key = $1 ORDER BY id",
                )
                .bind(email_key)
                .fetch_all(&self.pool)
                .await?;
                for r in &rows {
                    p.suppression_log.push((r.try_get("action")?, r.try_get("reason")?, r.try_get("source")?, r.try_get("at")?));
                }
                Ok(p)
            }
        }

        impl $store {
            async fn erase_in_tx(&self, e: &Erasure) -> Result<EraseOutcome> {
                let mut w = self.write().await?;
                let mut done = Erased::default();
                // No import or sign-up checks the erased tokens while this runs (PostgreSQL;
                // SQLite has one writer).
                sqlx::query(super::dialect::ERASE_LOCK).execute(&mut *w.tx).await?;
                // The person's deliveries, locked: a claim skips them from now on. One held by a
                // node (even past its lease: its session may still be running) is in flight.
                let held = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT id, lease_owner FROM deliveries WHERE email_key = $1 AND seed_id IS NULL{}",
                    super::dialect::FOR_UPDATE
                )))
                .bind(&e.email_key)
                .fetch_all(&mut *w.tx)
                .await?;
                for r in &held {
                    if r.try_get::<Option<String>, _>("lease_owner")?.is_some() {
                        return Ok(EraseOutcome::InFlight);
                    }
                }
                let contact: Option<i64> = sqlx::query("SELECT id FROM contacts WHERE email_key = $1")
                    .bind(&e.email_key)
                    .fetch_optional(&mut *w.tx)
                    .await?
                    .map(|r| r.try_get("id"))
                    .transpose()?;
                let deliveries: Vec<i64> = held
                    .iter()
                    .map(|r| r.try_get("id"))
                    .collect::<std::result::Result<_, _>>()?;
                let suppression: Option<String> =
                    sqlx::query("SELECT reason FROM suppressions WHERE email_key = $1")
                        .bind(&e.email_key)
                        .fetch_optional(&mut *w.tx)
                        .await?
                        .map(|r| r.try_get("reason"))
                        .transpose()?;
                let logged: i64 =
                    sqlx::query("SELECT COUNT(*) AS n FROM suppression_log WHERE email_key = $1")
                        .bind(&e.email_key)
                        .fetch_one(&mut *w.tx)
                        .await?
                        .try_get("n")?;
                let ids = serde_json::to_string(&deliveries).unwrap_or_else(|_| "[]".into());
                let inbound = inbound_of(&mut w.tx, &ids, &e.needles).await?;
                if contact.is_none()
                    && deliveries.is_empty()
                    && suppression.is_none()
                    && logged == 0
                    && inbound.is_empty()
                {
                    return Ok(EraseOutcome::Unknown);
                }

                // Messages not yet sent are never sent: the address is about to go.
                done.cancelled = sqlx::query(
                    "UPDATE deliveries SET state = 'not_sent', reason = 'suppressed', next_attempt_at = NULL, \
                     updated_at = $2 WHERE email_key = $1 AND seed_id IS NULL AND state IN ('queued', 'deferred')",
                )
                .bind(&e.email_key)
                .bind(e.at_ms)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();

                // Evidence: the reply that quoted the address, the personalised subject.
                done.attempts = scrub_rows(&mut w.tx, "attempts", "evidence", &ids, &e.needles).await?;
                // Events: the IP and user agent of opens, clicks and unsubscribes.
                done.events = scrub_rows(&mut w.tx, "events", "detail", &ids, &e.needles).await?;
                // Webhook events not yet posted (or kept in an endpoint's log): the same.
                scrub_rows(&mut w.tx, "webhook_outbox", "detail", &ids, &e.needles).await?;
                // API answers kept for idempotency keys (24 hours) that name the person.
                for needle in &e.needles {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DELETE FROM idempotency_keys WHERE {}$1{}",
                        super::dialect::contains_open("lower(body)"),
                        super::dialect::CONTAINS_CLOSE
                    )))
                    .bind(needle.to_lowercase())
                    .execute(&mut *w.tx)
                    .await?;
                }
                // Inbound messages: those about the person's deliveries, and any other still
                // naming the address (kept for `[inbound] retention`).
                done.inbound = scrub_inbound(&mut w.tx, &inbound, &e.needles).await?;

                // The delivery records stay (a campaign's figures do not change), without the
                // address or the contact.
                done.deliveries = sqlx::query(
                    "UPDATE deliveries SET email = $2, email_key = $3, contact_id = NULL \
                     WHERE email_key = $1 AND seed_id IS NULL",
                )
                .bind(&e.email_key)
                .bind(&e.placeholder)
                .bind(&e.token)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();

                if let Some(c) = contact {
                    remove_contact(&mut w.tx, c, &mut done).await?;
                }

                // The suppression list keeps the person out by the token alone.
                done.suppression_log = suppress_by_token(&mut w.tx, e).await?;
                w.tx.commit().await?;
                Ok(EraseOutcome::Erased(done))
            }

            /// Which of `tokens` (erasure tokens) are on the suppression list.
            pub(super) async fn erased_among(
                tx: &mut sqlx::Transaction<'static, $db>,
                tokens: &[&str],
            ) -> Result<std::collections::HashSet<String>> {
                if tokens.is_empty() {
                    return Ok(Default::default());
                }
                let list = serde_json::to_string(tokens).unwrap_or_else(|_| "[]".into());
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT s.email_key FROM {} JOIN suppressions s ON s.email_key = t.value",
                    super::dialect::json_text_rows("$1", "t")
                )))
                .bind(list)
                .fetch_all(&mut **tx)
                .await?;
                rows.iter().map(|r| Ok(r.try_get("email_key")?)).collect()
            }
        }
    };
}
pub(crate) use privacy;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_blanked_in_any_case_and_personal_keys_dropped() {
        let needles = vec![
            "Eve@Example.org".to_string(),
            "eve%40example.org".to_string(),
        ];
        assert_eq!(
            scrub_text("550 5.1.1 <EVE@example.ORG>: no such user", &needles),
            "550 5.1.1 <[erased]>: no such user"
        );
        assert_eq!(scrub_text("nothing here", &needles), "nothing here");
        // Only whole addresses: another address containing this one is not it.
        assert_eq!(
            scrub_text(
                "genevieve@example.org, steve@example.org; eve@example.org.",
                &["eve@example.org".to_string()]
            ),
            "genevieve@example.org, steve@example.org; [erased]."
        );
        assert!(!mentions(
            "to: genevieve@example.org",
            &["eve@example.org".to_string()]
        ));
        assert!(mentions(
            "To: <EVE@example.org>",
            &["eve@example.org".to_string()]
        ));
        assert_eq!(scrub_text("é eve@example.org é", &needles), "é [erased] é");
        let doc = r#"{"ip":"198.51.100.7","user_agent":"Mozilla","url":"https://x.test/?e=eve%40example.org","sent":{"subject":"Hi Eve","from":"News <n@s.test>"},"reply":{"text":["eve@example.org unknown"]}}"#;
        let out = scrub_json(doc, &needles);
        assert!(!out.to_ascii_lowercase().contains("eve"), "{out}");
        assert!(
            !out.contains("198.51.100.7") && !out.contains("Mozilla"),
            "{out}"
        );
        assert!(out.contains("News <n@s.test>"), "{out}");
        assert_eq!(
            scrub_json("not json eve@example.org", &needles),
            "not json [erased]"
        );
    }
}
