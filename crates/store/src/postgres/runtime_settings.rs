//! Settings changed at run time (the queries: `crate::shared::runtime_settings`).

use super::PgStore;

crate::shared::runtime_settings::runtime_settings!(PgStore, sqlx::postgres::PgRow, sqlx::Postgres);
