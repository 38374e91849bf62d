//! Outbound webhooks: endpoints and the outbox (the queries: `crate::shared::webhooks`).

use super::SqliteStore;

crate::shared::webhooks::webhooks!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::Sqlite);
