//! The SQLite backend: the embedded default. WAL, a busy timeout, and one writer at a time
//! inside the process (write transactions take `write_lock` and start `BEGIN IMMEDIATE`), so
//! concurrent writers queue instead of failing with SQLITE_BUSY.

mod attachments;
mod audience;
mod campaigns;
mod contacts;
mod dmarc;
mod domains;
mod feedback;
mod idempotency;
mod members;
mod privacy;
mod queue;
mod reports;
mod runtime_settings;
mod seeds;
mod segments;
mod templates;
mod users;
mod warmup;
mod webhooks;

/// What the shared queries (`crate::shared`) write differently for SQLite.
pub(crate) mod dialect {
    /// A condition that always holds.
    pub const TRUE: &str = "1";
    /// `needle` occurs in `haystack`.
    pub fn contains(haystack: &str, needle: &str) -> String {
        format!("instr({haystack}, {needle}) > 0")
    }
    /// `contains` with the needle still to come: `contains_open(h)`, the needle, `CONTAINS_CLOSE`.
    pub fn contains_open(haystack: &str) -> String {
        format!("instr({haystack}, ")
    }
    pub const CONTAINS_CLOSE: &str = ") > 0";
    /// The text of `key` in the JSON object in column `column`.
    pub fn json_text(column: &str, key: &str) -> String {
        format!("json_extract({column}, '$.{key}')")
    }
    /// The ids in the JSON array parameter `param`, as a sub-select.
    pub fn id_list(param: &str) -> String {
        format!("SELECT value FROM json_each({param})")
    }
    /// The elements of the JSON array parameter `param`, as a table `alias` with a `value`.
    pub fn json_rows(param: &str, alias: &str) -> String {
        format!("json_each({param}) {alias}")
    }
    /// A JSON text expression read as an integer.
    pub fn json_int(expr: &str) -> String {
        expr.to_string()
    }
    /// Locks the rows a `SELECT` reads until the transaction ends (SQLite serialises writers: nothing to lock).
    pub const FOR_UPDATE: &str = "";
    /// `id <this>`: the ids the sub-select `select` picks, for an UPDATE that leases them
    /// (SQLite has one writer: nothing to skip).
    /// Locks the endpoints an enqueue reads (SQLite has one writer: nothing to lock).
    pub const KEY_SHARE_ENDPOINTS: &str = "";
    pub fn claim_ids(select: &str) -> String {
        format!("IN ({select})")
    }
    /// The JSON object `doc` with `key` set to the integer `value`.
    pub fn json_set_int(doc: &str, key: &str, value: &str) -> String {
        format!("json_set({doc}, '$.{key}', {value})")
    }
    /// JSON object `a` with the members of `b` (newer values win).
    pub fn json_merge(a: &str, b: &str) -> String {
        format!("json_patch({a}, {b})")
    }
    /// The text elements of the JSON array parameter `param`, as a table `alias` with a `value`.
    pub fn json_text_rows(param: &str, alias: &str) -> String {
        format!("json_each({param}) {alias}")
    }
    /// The bytes of `haystack`, lower-cased (ASCII), contain the text `needle`.
    pub fn bytes_contain_ci(haystack: &str, needle: &str) -> String {
        format!("instr(lower(CAST({haystack} AS TEXT)), {needle}) > 0")
    }
    /// The JSON object text `doc` without a person's own keys (IP, user agent, URL).
    pub fn json_without_personal(doc: &str) -> String {
        format!("json_remove({doc}, '$.ip', '$.user_agent', '$.url')")
    }
    /// Held by an erasure (exclusive) and by what adds contacts (shared), so neither sees the
    /// other half done. SQLite serialises writers already: nothing to take.
    pub const ERASE_LOCK: &str = "SELECT 1";
    pub const ADD_LOCK: &str = "SELECT 1";
    /// The values of `expr` in a group, one per line.
    pub fn lines_agg(expr: &str) -> String {
        format!("group_concat({expr}, char(10))")
    }
}

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use tokio::sync::Mutex;

use crate::{Result, StoreError};

pub(crate) const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_init.sql")),
    (
        2,
        include_str!("../../migrations/sqlite/0002_gate_override.sql"),
    ),
    (3, include_str!("../../migrations/sqlite/0003_feedback.sql")),
    (4, include_str!("../../migrations/sqlite/0004_tracking.sql")),
    (5, include_str!("../../migrations/sqlite/0005_seeds.sql")),
    (6, include_str!("../../migrations/sqlite/0006_users.sql")),
    (7, include_str!("../../migrations/sqlite/0007_counts.sql")),
    (
        8,
        include_str!("../../migrations/sqlite/0008_campaign_id_index.sql"),
    ),
    (
        9,
        include_str!("../../migrations/sqlite/0009_domain_checks.sql"),
    ),
    (
        10,
        include_str!("../../migrations/sqlite/0010_timeline.sql"),
    ),
    (11, include_str!("../../migrations/sqlite/0011_nodes.sql")),
    (
        12,
        include_str!("../../migrations/sqlite/0012_no_lease_index.sql"),
    ),
    (
        13,
        include_str!("../../migrations/sqlite/0013_token_expiry.sql"),
    ),
    (
        14,
        include_str!("../../migrations/sqlite/0014_node_sandbox.sql"),
    ),
    (
        15,
        include_str!("../../migrations/sqlite/0015_schedule.sql"),
    ),
    (
        16,
        include_str!("../../migrations/sqlite/0016_reply_to.sql"),
    ),
    (
        17,
        include_str!("../../migrations/sqlite/0017_presend_check.sql"),
    ),
    (
        18,
        include_str!("../../migrations/sqlite/0018_local_time.sql"),
    ),
    (
        19,
        include_str!("../../migrations/sqlite/0019_webhook_events.sql"),
    ),
    (
        20,
        include_str!("../../migrations/sqlite/0020_audience.sql"),
    ),
    (
        21,
        include_str!("../../migrations/sqlite/0021_segments.sql"),
    ),
    (22, include_str!("../../migrations/sqlite/0022_erasure.sql")),
    (
        23,
        include_str!("../../migrations/sqlite/0023_webhooks.sql"),
    ),
    (
        24,
        include_str!("../../migrations/sqlite/0024_list_confirmation.sql"),
    ),
    (
        25,
        include_str!("../../migrations/sqlite/0025_suppression_reasons.sql"),
    ),
    (
        26,
        include_str!("../../migrations/sqlite/0026_list_welcome.sql"),
    ),
    (27, include_str!("../../migrations/sqlite/0027_health.sql")),
    (28, include_str!("../../migrations/sqlite/0028_dmarc.sql")),
    (
        29,
        include_str!("../../migrations/sqlite/0029_campaign_lists.sql"),
    ),
    (30, include_str!("../../migrations/sqlite/0030_warmup.sql")),
    (
        31,
        include_str!("../../migrations/sqlite/0031_complaint_override.sql"),
    ),
    (
        32,
        include_str!("../../migrations/sqlite/0032_idempotency.sql"),
    ),
    (
        33,
        include_str!("../../migrations/sqlite/0033_runtime_settings.sql"),
    ),
    (34, include_str!("../../migrations/sqlite/0034_ab_test.sql")),
    (35, include_str!("../../migrations/sqlite/0035_archive.sql")),
    (
        36,
        include_str!("../../migrations/sqlite/0036_templates.sql"),
    ),
    (
        37,
        include_str!("../../migrations/sqlite/0037_attachments.sql"),
    ),
];

#[derive(Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    write_lock: Arc<Mutex<()>>,
    /// Last stamp given to an upsert batch (see `upsert_contacts`).
    last_stamp: Arc<std::sync::atomic::AtomicI64>,
}

impl SqliteStore {
    /// Open (creating if needed) the database file and apply pending migrations.
    pub async fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Database(sqlx::Error::Io(std::io::Error::new(
                    e.kind(),
                    format!("creating {}: {e}", dir.display()),
                )))
            })?;
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode survives a crash of the process (kill -9); only a power loss
            // can drop the last transactions.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true)
            .pragma("cache_size", "-2000")
            // Deleted and overwritten content is zeroed in the file, not left in free space:
            // an erased person's address must not survive in the database file
            // (`contacts erase`). Overwrites happen on pages being written anyway.
            .pragma("secure_delete", "on");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        let store = Self {
            pool,
            write_lock: Arc::new(Mutex::new(())),
            last_stamp: Arc::new(std::sync::atomic::AtomicI64::new(0)),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        let _w = self.write_lock.lock().await;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS herald_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
        )
        .execute(&self.pool)
        .await?;
        for (version, sql) in MIGRATIONS {
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let done: Option<i64> =
                sqlx::query("SELECT version FROM herald_migrations WHERE version = $1")
                    .bind(*version as i64)
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|r| r.try_get("version"))
                    .transpose()?;
            if done.is_some() {
                continue;
            }
            sqlx::raw_sql(*sql)
                .execute(&mut *tx)
                .await
                .map_err(|source| StoreError::Migration {
                    version: *version,
                    source,
                })?;
            sqlx::query("INSERT INTO herald_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(*version as i64)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// After an erasure (its transaction committed, the writer lock released): copy the
    /// write-ahead log into the database and empty it, so the pages that held the address
    /// before survive in neither file. Readers still using the log can hold the truncation
    /// off; it is tried a few times, then left to SQLite's own checkpoints (the log is
    /// overwritten as it is reused). The erasure is done either way: a failure is logged.
    pub(crate) async fn after_erase(&self) {
        for _ in 0..5 {
            match sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&self.pool)
                .await
                .and_then(|r| r.try_get::<i64, _>("busy"))
            {
                Ok(0) => return,
                Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(e) => {
                    tracing::warn!(error = %e, "emptying the write-ahead log after an erasure failed");
                    return;
                }
            }
        }
        tracing::warn!("the write-ahead log could not be emptied after an erasure (readers busy)");
    }

    /// Begin a write transaction, holding the in-process writer lock for its lifetime.
    async fn write(&self) -> Result<WriteTx> {
        let guard = self.write_lock.clone().lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTx { tx, _guard: guard })
    }
}

struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn parse_state(s: &str) -> Result<herald_domain::DeliveryState> {
    herald_domain::DeliveryState::from_str(s).map_err(StoreError::Corrupt)
}
