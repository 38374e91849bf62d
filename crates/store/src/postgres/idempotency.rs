//! Idempotency keys of the JSON API (the queries: `crate::shared::idempotency`).

use super::PgStore;

crate::shared::idempotency::idempotency!(PgStore, sqlx::postgres::PgRow, sqlx::Postgres);
