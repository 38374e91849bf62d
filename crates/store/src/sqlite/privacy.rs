//! Erasure and right of access (the queries: `crate::shared::privacy`).

use super::SqliteStore;

crate::shared::privacy::privacy!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::Sqlite);
