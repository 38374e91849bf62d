//! A campaign's attachments. The queries of both backends, written once;
//! `sqlite/attachments.rs` and `postgres/attachments.rs` expand this macro.

macro_rules! attachments {
    ($store:ident, $row:ty, $db:ty) => {
        #[allow(unused_imports)]
        use crate::areas::*;
        use sqlx::Row;

        use crate::{Attached, Attachment, AttachmentMeta, CampaignId, Result};

        fn meta_of(r: &$row) -> Result<AttachmentMeta> {
            Ok(AttachmentMeta {
                name: r.try_get("name")?,
                content_type: r.try_get("content_type")?,
                size: r.try_get("size")?,
                sha256: r.try_get("sha256")?,
                created_at_ms: r.try_get("created_at")?,
            })
        }

        /// Whether `campaign` may change: a draft (or scheduled) whose send has not started,
        /// the same condition as a draft's edit. SQLite's one writer orders this and a send
        /// starting. On PostgreSQL the campaign's row is locked against a concurrent change of
        /// its status, but a send's snapshot inserting deliveries in a transaction not yet
        /// committed is not seen: the same narrow window as a draft's edit (`update_draft`).
        async fn editable(
            c: &mut <$db as sqlx::Database>::Connection,
            campaign: CampaignId,
            now_ms: i64,
        ) -> Result<bool> {
            Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT 1 AS x FROM campaigns WHERE id = $1 \
                 AND status IN ('draft', 'scheduled') \
                 AND (schedule_lease_until IS NULL OR schedule_lease_until < $2) \
                 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = $1){}",
                super::dialect::FOR_UPDATE
            )))
            .bind(campaign.0)
            .bind(now_ms)
            .fetch_optional(c)
            .await?
            .is_some())
        }

        impl AttachmentStore for $store {
            async fn attachments(&self, campaign: CampaignId) -> Result<Vec<AttachmentMeta>> {
                sqlx::query(
                    "SELECT name, content_type, size, sha256, created_at FROM campaign_attachments \
                     WHERE campaign_id = $1 ORDER BY id",
                )
                .bind(campaign.0)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(meta_of)
                .collect()
            }

            async fn attachment_contents(&self, campaign: CampaignId) -> Result<Vec<Attachment>> {
                sqlx::query(
                    "SELECT name, content_type, size, sha256, created_at, content \
                     FROM campaign_attachments WHERE campaign_id = $1 ORDER BY id",
                )
                .bind(campaign.0)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| {
                    Ok(Attachment {
                        meta: meta_of(r)?,
                        content: r.try_get("content")?,
                    })
                })
                .collect()
            }

            async fn add_attachment(
                &self,
                campaign: CampaignId,
                a: &Attachment,
                max_total: i64,
                now_ms: i64,
            ) -> Result<Attached> {
                let mut w = self.write().await?;
                let editable = editable(&mut *w.tx, campaign, now_ms).await?;
                if !editable {
                    return Ok(Attached::NotDraft);
                }
                let others: i64 = sqlx::query(
                    "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS n FROM campaign_attachments \
                     WHERE campaign_id = $1 AND name <> $2",
                )
                .bind(campaign.0)
                .bind(&a.meta.name)
                .fetch_one(&mut *w.tx)
                .await?
                .try_get("n")?;
                let total = others + a.meta.size;
                if total > max_total {
                    return Ok(Attached::OverCap { total });
                }
                let replaced = sqlx::query(
                    "DELETE FROM campaign_attachments WHERE campaign_id = $1 AND name = $2",
                )
                .bind(campaign.0)
                .bind(&a.meta.name)
                .execute(&mut *w.tx)
                .await?
                .rows_affected()
                    > 0;
                sqlx::query(
                    "INSERT INTO campaign_attachments \
                     (campaign_id, name, content_type, content, size, sha256, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(campaign.0)
                .bind(&a.meta.name)
                .bind(&a.meta.content_type)
                .bind(&a.content)
                .bind(a.meta.size)
                .bind(&a.meta.sha256)
                .bind(now_ms)
                .execute(&mut *w.tx)
                .await?;
                w.tx.commit().await?;
                Ok(if replaced {
                    Attached::Replaced
                } else {
                    Attached::Added
                })
            }

            async fn remove_attachment(
                &self,
                campaign: CampaignId,
                name: &str,
                now_ms: i64,
            ) -> Result<Option<bool>> {
                let mut w = self.write().await?;
                let editable = editable(&mut *w.tx, campaign, now_ms).await?;
                if !editable {
                    return Ok(None);
                }
                let n = sqlx::query(
                    "DELETE FROM campaign_attachments WHERE campaign_id = $1 AND name = $2",
                )
                .bind(campaign.0)
                .bind(name)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                w.tx.commit().await?;
                Ok(Some(n > 0))
            }

            async fn copy_attachments(
                &self,
                from: CampaignId,
                to: CampaignId,
                now_ms: i64,
            ) -> Result<u64> {
                let mut w = self.write().await?;
                let n = sqlx::query(
                    "INSERT INTO campaign_attachments \
                     (campaign_id, name, content_type, content, size, sha256, created_at) \
                     SELECT $2, name, content_type, content, size, sha256, $3 \
                     FROM campaign_attachments WHERE campaign_id = $1 ORDER BY id",
                )
                .bind(from.0)
                .bind(to.0)
                .bind(now_ms)
                .execute(&mut *w.tx)
                .await?
                .rows_affected();
                w.tx.commit().await?;
                Ok(n)
            }
        }
    };
}

pub(crate) use attachments;
