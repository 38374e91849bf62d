//! Seed mailboxes and placement reads (the queries: `crate::shared::seeds`).

use super::PgStore;

crate::shared::seeds::seeds!(PgStore, sqlx::postgres::PgRow, sqlx::Postgres);
