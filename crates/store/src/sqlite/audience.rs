//! Lists, sign-ups, confirmations and consent (the queries: `crate::shared::audience`).

use super::SqliteStore;

crate::shared::audience::audience!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::Sqlite);
