//! Campaigns and the audience snapshot (deliveries) (the queries: `crate::shared::campaigns`).

use super::PgStore;

crate::shared::campaigns::campaigns!(PgStore, sqlx::postgres::PgRow, sqlx::Postgres);
