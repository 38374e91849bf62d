//! Idempotency keys of the JSON API (the queries: `crate::shared::idempotency`).

use super::SqliteStore;

crate::shared::idempotency::idempotency!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::Sqlite);
