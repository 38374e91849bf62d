//! Lists and contacts: streaming upserts, audience pages, search (the queries: `crate::shared::contacts`).

use super::SqliteStore;

crate::shared::contacts::contacts!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::Sqlite);
