//! Seed mailboxes and placement reads (the queries: `crate::shared::seeds`).

use super::SqliteStore;

crate::shared::seeds::seeds!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::Sqlite);
