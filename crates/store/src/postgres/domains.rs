//! Re-verification results of connected domains (drift), and the nodes registry (the queries: `crate::shared::domains`).

use super::PgStore;

crate::shared::domains::domains!(PgStore, sqlx::postgres::PgRow, sqlx::Postgres);
