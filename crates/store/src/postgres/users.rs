//! Users, sessions and API tokens (the queries: `crate::shared::users`).

use super::PgStore;

crate::shared::users::users!(PgStore, sqlx::postgres::PgRow, sqlx::Postgres);
