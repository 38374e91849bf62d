//! `herald migrate`: move an SQLite installation into an empty PostgreSQL database.
//!
//! Everything is copied in one PostgreSQL transaction, table by table in foreign-key order,
//! streaming from SQLite in batches (memory stays bounded at any size). The derived tables
//! (report counts, event flags, the chart, the health rollup) are not copied: PostgreSQL's
//! triggers rebuild them as the rows arrive, and the report counts and event flags are then
//! compared with SQLite's — together with every table's row count — before the transaction
//! commits. A failure, a mismatch or a target that
//! already holds data leaves the target as it was.

use futures_util::TryStreamExt;
use sqlx::{Postgres, QueryBuilder, Row};

use crate::{PgStore, SqliteStore, StoreError};

/// The tables that are copied, parents before children.
const TABLES: &[&str] = &[
    "lists",
    "contacts",
    "list_members",
    "suppressions",
    "campaigns",
    "campaign_lists",
    "campaign_attachments",
    "seeds",
    "deliveries",
    "attempts",
    "events",
    "inbound_messages",
    "suppression_log",
    "users",
    "sessions",
    "api_tokens",
    "domain_checks",
    "domain_events",
    "consents",
    "segments",
    "webhook_events",
    "herald_keys",
    "webhook_endpoints",
    "webhook_outbox",
    "dmarc_reports",
    "dmarc_rows",
    "warmup_usage",
    "runtime_settings",
    "templates",
];

/// The tables that are not copied, and why: a new table is in [`TABLES`] or here (a test
/// checks every table the schema creates is one or the other).
#[cfg_attr(not(test), allow(dead_code))]
const NOT_COPIED: &[&str] = &[
    // Derived: PostgreSQL's triggers rebuild them as the rows arrive (`check_derived`).
    "campaign_counts",
    "campaign_timeline",
    "delivery_flags",
    "health_daily",
    // Of the running processes: node names and heartbeats, API retries' answers (24 h).
    "nodes",
    "idempotency_keys",
];

/// Rows per INSERT (the widest table has 19 columns: far below PostgreSQL's 65,535 binds).
const BATCH: usize = 1000;

/// One table's rows in the source and, after the copy, in the target.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Copied {
    pub table: String,
    pub rows: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "the target database already holds Herald data ({0} rows in {1}): migrate into an empty database (nothing was changed)"
    )]
    TargetNotEmpty(i64, &'static str),
    #[error("verification failed, nothing was committed: {0}")]
    Mismatch(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for MigrateError {
    fn from(e: sqlx::Error) -> Self {
        MigrateError::Store(StoreError::Database(e))
    }
}

enum Kind {
    Int,
    Text,
    Bytes,
}

enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

/// A PostgreSQL table's columns, in order, with how each is copied.
async fn target_columns(
    tx: &mut sqlx::PgConnection,
    table: &str,
) -> std::result::Result<Vec<(String, Kind)>, MigrateError> {
    Ok(sqlx::query(
        "SELECT column_name::text AS name, data_type::text AS kind FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| {
        let kind = match r.try_get::<String, _>("kind")?.as_str() {
            "bigint" | "integer" => Kind::Int,
            "bytea" => Kind::Bytes,
            _ => Kind::Text,
        };
        Ok((r.try_get::<String, _>("name")?, kind))
    })
    .collect::<std::result::Result<_, sqlx::Error>>()?)
}

/// The report counts the triggers rebuilt in PostgreSQL equal SQLite's.
async fn check_derived(
    from: &SqliteStore,
    tx: &mut sqlx::PgConnection,
) -> std::result::Result<(), MigrateError> {
    for derived in ["campaign_counts", "delivery_flags"] {
        let q = match derived {
            "campaign_counts" => {
                "SELECT campaign_id || ' ' || key || ' ' || n AS line FROM campaign_counts WHERE n <> 0"
            }
            _ => "SELECT delivery_id || ' ' || key AS line FROM delivery_flags",
        };
        let mut a: Vec<String> = sqlx::query(q)
            .fetch_all(&from.pool)
            .await?
            .iter()
            .map(|r| r.try_get("line"))
            .collect::<std::result::Result<_, _>>()?;
        let mut b: Vec<String> = sqlx::query(q)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get("line"))
            .collect::<std::result::Result<_, _>>()?;
        a.sort();
        b.sort();
        if a != b {
            return Err(MigrateError::Mismatch(format!(
                "{derived} differ after the copy ({} rows in SQLite, {} in PostgreSQL)",
                a.len(),
                b.len()
            )));
        }
    }
    Ok(())
}

/// Copy everything from `from` into the empty `to`, verify, commit.
pub async fn sqlite_to_postgres(
    from: &SqliteStore,
    to: &PgStore,
) -> std::result::Result<Vec<Copied>, MigrateError> {
    let mut tx = to.pool.begin().await?;
    for t in ["campaigns", "contacts", "lists", "users"] {
        let n: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM {t}"
        )))
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if n > 0 {
            return Err(MigrateError::TargetNotEmpty(n, t));
        }
    }
    let mut out = Vec::new();
    for table in TABLES {
        // The target's columns decide what is read: the schemas name them the same.
        let columns = target_columns(&mut tx, table).await?;
        let list = columns
            .iter()
            .map(|(c, _)| c.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {list} FROM {table}")))
            .fetch(&from.pool);
        // A campaign's files are up to 10 MiB each: one row per INSERT.
        let batch_rows = if *table == "campaign_attachments" {
            1
        } else {
            BATCH
        };
        let mut batch: Vec<Vec<Value>> = Vec::with_capacity(batch_rows);
        let mut copied = 0u64;
        loop {
            let row = rows.try_next().await?;
            if let Some(r) = &row {
                let values = columns
                    .iter()
                    .enumerate()
                    .map(|(i, (_, k))| {
                        Ok(match k {
                            Kind::Int => Value::Int(r.try_get(i)?),
                            Kind::Text => Value::Text(r.try_get(i)?),
                            Kind::Bytes => Value::Bytes(r.try_get(i)?),
                        })
                    })
                    .collect::<std::result::Result<Vec<_>, sqlx::Error>>()?;
                batch.push(values);
            }
            if batch.len() == batch_rows || (row.is_none() && !batch.is_empty()) {
                let mut q = QueryBuilder::<Postgres>::new(format!("INSERT INTO {table} ({list}) "));
                q.push_values(batch.drain(..), |mut b, values| {
                    for v in values {
                        match v {
                            Value::Int(x) => b.push_bind(x),
                            Value::Text(x) => b.push_bind(x),
                            Value::Bytes(x) => b.push_bind(x),
                        };
                    }
                });
                copied += q.build().execute(&mut *tx).await?.rows_affected();
            }
            if row.is_none() {
                break;
            }
        }
        drop(rows);
        // Identity columns continue after the copied ids.
        if columns.iter().any(|(c, _)| c == "id") {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {table}"
            )))
            .execute(&mut *tx)
            .await?;
        }
        let source: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM {table}"
        )))
        .fetch_one(&from.pool)
        .await?
        .try_get("n")?;
        let target: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM {table}"
        )))
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if source != target || copied != source as u64 {
            return Err(MigrateError::Mismatch(format!(
                "{table}: {source} rows in SQLite, {target} in PostgreSQL"
            )));
        }
        out.push(Copied {
            table: table.to_string(),
            rows: copied,
        });
    }
    // The derived report counts, rebuilt by the triggers, must equal the source's.
    check_derived(from, &mut tx).await?;
    tx.commit().await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table added by a migration but forgotten here would be left behind by every move to
    /// PostgreSQL, without an error (the row counts compare only the tables copied).
    #[test]
    fn every_table_is_copied_or_said_not_to_be() {
        let mut created: Vec<&str> = crate::sqlite::MIGRATIONS
            .iter()
            .flat_map(|(_, sql)| sql.split("CREATE TABLE ").skip(1))
            .filter_map(|rest| {
                rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
            })
            .collect();
        created.sort_unstable();
        created.dedup();
        let missing: Vec<&&str> = created
            .iter()
            .filter(|t| !TABLES.contains(t) && !NOT_COPIED.contains(t))
            .collect();
        assert!(
            missing.is_empty(),
            "neither copied nor listed as not copied: {missing:?}"
        );
        for t in TABLES.iter().chain(NOT_COPIED) {
            assert!(created.contains(t), "{t} is not a table the schema creates");
        }
    }
}
