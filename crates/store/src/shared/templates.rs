//! Saved templates. The queries of both backends, written once; `sqlite/templates.rs` and
//! `postgres/templates.rs` expand this macro.

macro_rules! templates {
    ($store:ident, $row:ty, $db:ty) => {
        #[allow(unused_imports)]
        use crate::areas::*;
        use sqlx::Row;

        use crate::{Result, TemplateRecord};

        fn template_of(r: &$row) -> Result<TemplateRecord> {
            Ok(TemplateRecord {
                name: r.try_get("name")?,
                subject: r.try_get("subject")?,
                html: r.try_get("html")?,
                text: r.try_get("text")?,
                created_at_ms: r.try_get("created_at")?,
                updated_at_ms: r.try_get("updated_at")?,
            })
        }

        impl TemplateStore for $store {
            async fn templates(&self) -> Result<Vec<TemplateRecord>> {
                sqlx::query(
                    "SELECT name, subject, html, text, created_at, updated_at FROM templates ORDER BY name",
                )
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(template_of)
                .collect()
            }

            async fn template(&self, name: &str) -> Result<Option<TemplateRecord>> {
                sqlx::query(
                    "SELECT name, subject, html, text, created_at, updated_at FROM templates WHERE name = $1",
                )
                .bind(name)
                .fetch_optional(&self.pool)
                .await?
                .as_ref()
                .map(template_of)
                .transpose()
            }

            async fn save_template(&self, t: &TemplateRecord) -> Result<bool> {
                let mut w = self.write().await?;
                let existed = sqlx::query("SELECT 1 AS x FROM templates WHERE name = $1")
                    .bind(&t.name)
                    .fetch_optional(&mut *w.tx)
                    .await?
                    .is_some();
                sqlx::query(
                    "INSERT INTO templates (name, subject, html, text, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (name) DO UPDATE SET \
                     subject = excluded.subject, html = excluded.html, text = excluded.text, \
                     updated_at = excluded.updated_at",
                )
                .bind(&t.name)
                .bind(&t.subject)
                .bind(&t.html)
                .bind(&t.text)
                .bind(t.updated_at_ms)
                .execute(&mut *w.tx)
                .await?;
                w.tx.commit().await?;
                Ok(!existed)
            }

            async fn delete_template(&self, name: &str) -> Result<bool> {
                let mut w = self.write().await?;
                let n = sqlx::query("DELETE FROM templates WHERE name = $1")
                    .bind(name)
                    .execute(&mut *w.tx)
                    .await?
                    .rows_affected();
                w.tx.commit().await?;
                Ok(n > 0)
            }
        }
    };
}

pub(crate) use templates;
