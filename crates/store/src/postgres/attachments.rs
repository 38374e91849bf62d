//! A campaign's attachments (the queries: `crate::shared::attachments`).

use super::PgStore;

crate::shared::attachments::attachments!(PgStore, sqlx::postgres::PgRow, sqlx::Postgres);
