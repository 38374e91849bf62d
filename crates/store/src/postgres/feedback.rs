//! Feedback: inbound messages and their effects, events, suppressions (the queries: `crate::shared::feedback`).

use super::PgStore;

crate::shared::feedback::feedback!(PgStore, sqlx::postgres::PgRow, sqlx::Postgres);
