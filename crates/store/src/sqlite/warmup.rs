//! Warm-up allowances (the queries: `crate::shared::warmup`).

use super::SqliteStore;

crate::shared::warmup::warmup!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::Sqlite);
