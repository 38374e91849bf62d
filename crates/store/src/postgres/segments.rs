//! Segments and their SQL (the queries: `crate::shared::segments`).

use super::PgStore;

crate::shared::segments::segments!(PgStore, sqlx::postgres::PgRow, sqlx::Postgres);
