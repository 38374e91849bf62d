//! Settings changed at run time: one row per overridden setting. The queries of both backends,
//! written once; `sqlite/runtime_settings.rs` and `postgres/runtime_settings.rs` expand this
//! macro.

macro_rules! runtime_settings {
    ($store:ident, $row:ty, $db:ty) => {
        #[allow(unused_imports)]
        use crate::areas::*;
        use sqlx::Row;

        use crate::{Result, RuntimeSetting};

        impl RuntimeSettingsStore for $store {
            async fn runtime_settings(&self) -> Result<Vec<RuntimeSetting>> {
                let rows = sqlx::query(
                    "SELECT name, value, changed_by, changed_at_ms FROM runtime_settings ORDER BY name",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(RuntimeSetting {
                            name: r.try_get("name")?,
                            value: r.try_get("value")?,
                            changed_by: r.try_get("changed_by")?,
                            changed_at_ms: r.try_get("changed_at_ms")?,
                        })
                    })
                    .collect()
            }

            async fn set_runtime_setting(&self, s: &RuntimeSetting) -> Result<()> {
                let mut w = self.write().await?;
                sqlx::query(
                    "INSERT INTO runtime_settings (name, value, changed_by, changed_at_ms) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET \
                     value = excluded.value, changed_by = excluded.changed_by, \
                     changed_at_ms = excluded.changed_at_ms",
                )
                .bind(&s.name)
                .bind(&s.value)
                .bind(&s.changed_by)
                .bind(s.changed_at_ms)
                .execute(&mut *w.tx)
                .await?;
                w.tx.commit().await?;
                Ok(())
            }

            async fn reset_runtime_setting(&self, name: &str) -> Result<bool> {
                let mut w = self.write().await?;
                let gone = sqlx::query("DELETE FROM runtime_settings WHERE name = $1")
                    .bind(name)
                    .execute(&mut *w.tx)
                    .await?
                    .rows_affected();
                w.tx.commit().await?;
                Ok(gone > 0)
            }
        }
    };
}

pub(crate) use runtime_settings;
