//! A contact's standing on its lists (the queries: `crate::shared::members`).

use super::SqliteStore;

crate::shared::members::members!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::Sqlite);
