//! Read models for reports (the queries: `crate::shared::reports`).

use super::SqliteStore;

crate::shared::reports::reports!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::Sqlite);
