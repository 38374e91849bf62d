//! A campaign's attachments (the queries: `crate::shared::attachments`).

use super::SqliteStore;

crate::shared::attachments::attachments!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::Sqlite);
