//! Users, sessions and API tokens (the queries: `crate::shared::users`).

use super::SqliteStore;

crate::shared::users::users!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::Sqlite);
