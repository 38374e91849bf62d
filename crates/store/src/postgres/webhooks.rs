//! Outbound webhooks: endpoints and the outbox (the queries: `crate::shared::webhooks`).

use super::PgStore;

crate::shared::webhooks::webhooks!(PgStore, sqlx::postgres::PgRow, sqlx::Postgres);
