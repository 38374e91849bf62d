//! Re-verification results of connected domains (drift), and the nodes registry (the queries: `crate::shared::domains`).

use super::SqliteStore;

crate::shared::domains::domains!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::Sqlite);
