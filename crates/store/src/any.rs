//! The store a database URL names: SQLite (the embedded default) or PostgreSQL (several nodes
//! on one database). Everything above this crate holds an `AnyStore` and sees only [`Store`](crate::Store);
//! each area's trait implements its dispatch where it is declared ([`crate::areas`]).

use crate::{PgStore, SqliteStore};

#[derive(Clone)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl AnyStore {
    /// "sqlite" or "postgres".
    pub fn backend(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            AnyStore::Postgres(_) => "postgres",
        }
    }
}
