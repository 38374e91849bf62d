//! Saved templates (the queries: `crate::shared::templates`).

use super::PgStore;

crate::shared::templates::templates!(PgStore, sqlx::postgres::PgRow, sqlx::Postgres);
