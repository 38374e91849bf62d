//! Feedback: inbound messages and their effects, events, suppressions (the queries: `crate::shared::feedback`).

use super::SqliteStore;

crate::shared::feedback::feedback!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::Sqlite);
