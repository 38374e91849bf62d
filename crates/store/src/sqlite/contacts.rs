//! Lists, contacts and list membership.

use std::collections::HashSet;

use sqlx::{QueryBuilder, Row, Sqlite};

use super::{SqliteStore, now_ms};
use crate::{AudienceMember, ListId, NewContact, Result, UpsertCounts};

/// Rows per multi-row statement (3 binds each, far below SQLite's variable limit).
const CHUNK: usize = 2000;

impl SqliteStore {
    pub(super) async fn ensure_list_impl(&self, name: &str) -> Result<ListId> {
        if let Some(id) = self.find_list_impl(name).await? {
            return Ok(id);
        }
        let mut w = self.write().await?;
        sqlx::query(
            "INSERT INTO lists (name, created_at) VALUES ($1, $2) ON CONFLICT(name) DO NOTHING",
        )
        .bind(name)
        .bind(now_ms())
        .execute(&mut *w.tx)
        .await?;
        let id: i64 = sqlx::query("SELECT id FROM lists WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *w.tx)
            .await?
            .get(0);
        w.tx.commit().await?;
        Ok(ListId(id))
    }

    pub(super) async fn find_list_impl(&self, name: &str) -> Result<Option<ListId>> {
        Ok(sqlx::query("SELECT id FROM lists WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| ListId(r.get(0))))
    }

    pub(super) async fn list_size_impl(&self, list: ListId) -> Result<u64> {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM list_members WHERE list_id = $1")
            .bind(list.0)
            .fetch_one(&self.pool)
            .await?
            .get(0);
        Ok(n as u64)
    }

    pub(super) async fn upsert_contacts_impl(
        &self,
        list: ListId,
        batch: &[NewContact],
    ) -> Result<UpsertCounts> {
        let mut counts = UpsertCounts::default();
        if batch.is_empty() {
            return Ok(counts);
        }
        let now = now_ms();
        let mut w = self.write().await?;
        for chunk in batch.chunks(CHUNK) {
            let mut q =
                QueryBuilder::<Sqlite>::new("SELECT email_key FROM contacts WHERE email_key IN (");
            let mut sep = q.separated(", ");
            for c in chunk {
                sep.push_bind(&c.email_key);
            }
            q.push(")");
            let mut seen: HashSet<String> = q
                .build()
                .fetch_all(&mut *w.tx)
                .await?
                .into_iter()
                .map(|r| r.get::<String, _>(0))
                .collect();
            for c in chunk {
                if seen.insert(c.email_key.clone()) {
                    counts.inserted += 1;
                } else {
                    counts.updated += 1;
                }
            }

            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO contacts (email, email_key, fields, created_at, updated_at) ",
            );
            q.push_values(chunk, |mut b, c| {
                b.push_bind(&c.email)
                    .push_bind(&c.email_key)
                    .push_bind(&c.fields)
                    .push_bind(now)
                    .push_bind(now);
            });
            // The first spelling stays; fields merge, newer values win.
            q.push(
                " ON CONFLICT(email_key) DO UPDATE SET fields = json_patch(contacts.fields, excluded.fields), \
                 updated_at = excluded.updated_at RETURNING id",
            );
            let ids: Vec<i64> = q
                .build()
                .fetch_all(&mut *w.tx)
                .await?
                .into_iter()
                .map(|r| r.get(0))
                .collect();

            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT OR IGNORE INTO list_members (list_id, contact_id) ",
            );
            q.push_values(ids, |mut b, id| {
                b.push_bind(list.0).push_bind(id);
            });
            q.build().execute(&mut *w.tx).await?;
        }
        w.tx.commit().await?;
        Ok(counts)
    }

    pub(super) async fn audience_page_impl(
        &self,
        list: ListId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AudienceMember>> {
        let rows = sqlx::query(
            "SELECT c.id, c.email, c.email_key, c.fields, s.reason, \
                    EXISTS (SELECT 1 FROM deliveries d WHERE d.email_key = c.email_key \
                            AND d.state = 'bounced' AND d.hard = 1) \
             FROM list_members m JOIN contacts c ON c.id = m.contact_id \
             LEFT JOIN suppressions s ON s.email_key = c.email_key \
             WHERE m.list_id = $1 AND m.contact_id > $2 ORDER BY m.contact_id LIMIT $3",
        )
        .bind(list.0)
        .bind(after)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AudienceMember {
                contact_id: r.get(0),
                email: r.get(1),
                email_key: r.get(2),
                fields: r.get(3),
                suppression: r.get(4),
                hard_bounced_before: r.get::<i64, _>(5) != 0,
            })
            .collect())
    }
}
