//! Warm-up allowances (the queries: `crate::shared::warmup`).

use super::PgStore;

crate::shared::warmup::warmup!(PgStore, sqlx::postgres::PgRow, sqlx::Postgres);
