//! Erasure and right of access (the queries: `crate::shared::privacy`).

use super::PgStore;

crate::shared::privacy::privacy!(PgStore, sqlx::postgres::PgRow, sqlx::Postgres);
