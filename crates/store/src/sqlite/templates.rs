//! Saved templates (the queries: `crate::shared::templates`).

use super::SqliteStore;

crate::shared::templates::templates!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::Sqlite);
