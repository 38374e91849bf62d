//! A contact's standing on its lists (the queries: `crate::shared::members`).

use super::PgStore;

crate::shared::members::members!(PgStore, sqlx::postgres::PgRow, sqlx::Postgres);
