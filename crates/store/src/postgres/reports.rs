//! Read models for reports (the queries: `crate::shared::reports`).

use super::PgStore;

crate::shared::reports::reports!(PgStore, sqlx::postgres::PgRow, sqlx::Postgres);
