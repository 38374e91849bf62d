//! Campaigns and the audience snapshot (deliveries) (the queries: `crate::shared::campaigns`).

use super::SqliteStore;

crate::shared::campaigns::campaigns!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::Sqlite);
