//! Lists, sign-ups, confirmations and consent (the queries: `crate::shared::audience`).

use super::PgStore;

crate::shared::audience::audience!(PgStore, sqlx::postgres::PgRow, sqlx::Postgres);
