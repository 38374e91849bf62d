//! Settings changed at run time (the queries: `crate::shared::runtime_settings`).

use super::SqliteStore;

crate::shared::runtime_settings::runtime_settings!(
    SqliteStore,
    sqlx::sqlite::SqliteRow,
    sqlx::Sqlite
);
