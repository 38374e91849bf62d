//! DMARC aggregate reports (the queries: `crate::shared::dmarc`).

use super::SqliteStore;

crate::shared::dmarc::dmarc!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::Sqlite);
