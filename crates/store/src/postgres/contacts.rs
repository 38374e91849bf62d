//! Lists and contacts: streaming upserts, audience pages, search (the queries: `crate::shared::contacts`).

use super::PgStore;

crate::shared::contacts::contacts!(PgStore, sqlx::postgres::PgRow, sqlx::Postgres);
