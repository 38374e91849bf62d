//! Segments and their SQL (the queries: `crate::shared::segments`).

use super::SqliteStore;

crate::shared::segments::segments!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::Sqlite);
