//! DMARC aggregate reports (the queries: `crate::shared::dmarc`).

use super::PgStore;

crate::shared::dmarc::dmarc!(PgStore, sqlx::postgres::PgRow, sqlx::Postgres);
