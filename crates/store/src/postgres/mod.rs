//! The PostgreSQL backend, for several `herald serve` nodes on one database (design §8). The
//! same tables, queries and meanings as the SQLite backend (file for file); what differs:
//! ordinary concurrent transactions instead of one writer, claims with `FOR UPDATE SKIP LOCKED`
//! so nodes never lease the same delivery, migrations serialised by an advisory lock, and the
//! count triggers in PL/pgSQL.

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

/// What the shared queries (`crate::shared`) write differently for PostgreSQL.
pub(crate) mod dialect {
    /// A condition that always holds.
    pub const TRUE: &str = "TRUE";
    /// `needle` occurs in `haystack`.
    pub fn contains(haystack: &str, needle: &str) -> String {
        format!("strpos({haystack}, {needle}) > 0")
    }
    /// `contains` with the needle still to come: `contains_open(h)`, the needle, `CONTAINS_CLOSE`.
    pub fn contains_open(haystack: &str) -> String {
        format!("strpos({haystack}, ")
    }
    pub const CONTAINS_CLOSE: &str = ") > 0";
    /// The text of `key` in the JSON object in column `column` (stored as text).
    pub fn json_text(column: &str, key: &str) -> String {
        format!("({column}::jsonb ->> '{key}')")
    }
    /// The ids in the JSON array parameter `param`, as a sub-select.
    pub fn id_list(param: &str) -> String {
        format!("SELECT value::bigint FROM jsonb_array_elements_text({param}::jsonb)")
    }
    /// The elements of the JSON array parameter `param`, as a table `alias` with a `value`.
    pub fn json_rows(param: &str, alias: &str) -> String {
        format!("jsonb_array_elements({param}::jsonb) {alias}")
    }
    /// A JSON text expression read as an integer.
    pub fn json_int(expr: &str) -> String {
        format!("({expr})::bigint")
    }
    /// Locks the rows a `SELECT` reads until the transaction ends.
    pub const FOR_UPDATE: &str = " FOR UPDATE";
    /// `id <this>`: the ids the sub-select `select` picks, for an UPDATE that leases them;
    /// rows another node is leasing right now are skipped, and the update goes through the
    /// primary key (see `queue::claim_impl`).
    /// Locks the endpoints an enqueue reads against their removal until it commits; one
    /// removed meanwhile is skipped instead of failing the foreign key (and with it the
    /// outcome, bounce or open being recorded).
    pub const KEY_SHARE_ENDPOINTS: &str = " FOR KEY SHARE OF w";
    pub fn claim_ids(select: &str) -> String {
        format!("= ANY(ARRAY({select} FOR UPDATE SKIP LOCKED))")
    }
    /// The JSON object `doc` with `key` set to the integer `value`.
    pub fn json_set_int(doc: &str, key: &str, value: &str) -> String {
        format!("jsonb_set({doc}::jsonb, '{{{key}}}', to_jsonb({value}::bigint))::text")
    }
    /// JSON object `a` with the members of `b` (newer values win).
    pub fn json_merge(a: &str, b: &str) -> String {
        format!("({a}::jsonb || {b}::jsonb)::text")
    }
    /// The text elements of the JSON array parameter `param`, as a table `alias` with a `value`.
    pub fn json_text_rows(param: &str, alias: &str) -> String {
        format!("jsonb_array_elements_text({param}::jsonb) {alias}")
    }
    /// The bytes of `haystack`, lower-cased (ASCII), contain the text `needle`.
    pub fn bytes_contain_ci(haystack: &str, needle: &str) -> String {
        format!("strpos(lower(encode({haystack}, 'escape')), {needle}) > 0")
    }
    /// The JSON object text `doc` without a person's own keys (IP, user agent, URL).
    pub fn json_without_personal(doc: &str) -> String {
        format!("({doc}::jsonb - 'ip' - 'user_agent' - 'url')::text")
    }
    /// Held by an erasure (exclusive) and by what adds contacts (shared, before its check of
    /// erased tokens), so an import never re-creates a contact an erasure is removing.
    pub const ERASE_LOCK: &str = "SELECT pg_advisory_xact_lock(720118)";
    pub const ADD_LOCK: &str = "SELECT pg_advisory_xact_lock_shared(720118)";
    /// The values of `expr` in a group, one per line.
    pub fn lines_agg(expr: &str) -> String {
        format!("string_agg({expr}, E'\\n' ORDER BY {expr})")
    }
}

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};

use crate::{Result, StoreError};

const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_schema.sql")),
    (2, include_str!("../../migrations/postgres/0002_nodes.sql")),
    (
        3,
        include_str!("../../migrations/postgres/0003_queue_indexes.sql"),
    ),
    (
        4,
        include_str!("../../migrations/postgres/0004_token_expiry.sql"),
    ),
    (
        5,
        include_str!("../../migrations/postgres/0005_node_sandbox.sql"),
    ),
    (
        6,
        include_str!("../../migrations/postgres/0006_schedule.sql"),
    ),
    (
        7,
        include_str!("../../migrations/postgres/0007_reply_to.sql"),
    ),
    (
        8,
        include_str!("../../migrations/postgres/0008_presend_check.sql"),
    ),
    (
        9,
        include_str!("../../migrations/postgres/0009_local_time.sql"),
    ),
    (
        10,
        include_str!("../../migrations/postgres/0010_webhook_events.sql"),
    ),
    (
        11,
        include_str!("../../migrations/postgres/0011_audience.sql"),
    ),
    (
        12,
        include_str!("../../migrations/postgres/0012_segments.sql"),
    ),
    (
        13,
        include_str!("../../migrations/postgres/0013_erasure.sql"),
    ),
    (
        14,
        include_str!("../../migrations/postgres/0014_webhooks.sql"),
    ),
    (
        15,
        include_str!("../../migrations/postgres/0015_list_confirmation.sql"),
    ),
    (
        16,
        include_str!("../../migrations/postgres/0016_suppression_reasons.sql"),
    ),
    (
        17,
        include_str!("../../migrations/postgres/0017_list_welcome.sql"),
    ),
    (
        18,
        include_str!("../../migrations/postgres/0018_health.sql"),
    ),
    (19, include_str!("../../migrations/postgres/0019_dmarc.sql")),
    (
        20,
        include_str!("../../migrations/postgres/0020_campaign_lists.sql"),
    ),
    (
        21,
        include_str!("../../migrations/postgres/0021_warmup.sql"),
    ),
    (
        22,
        include_str!("../../migrations/postgres/0022_complaint_override.sql"),
    ),
    (
        23,
        include_str!("../../migrations/postgres/0023_idempotency.sql"),
    ),
    (
        24,
        include_str!("../../migrations/postgres/0024_runtime_settings.sql"),
    ),
    (
        25,
        include_str!("../../migrations/postgres/0025_ab_test.sql"),
    ),
    (
        26,
        include_str!("../../migrations/postgres/0026_archive.sql"),
    ),
    (
        27,
        include_str!("../../migrations/postgres/0027_templates.sql"),
    ),
    (
        28,
        include_str!("../../migrations/postgres/0028_attachments.sql"),
    ),
];

/// Any 64-bit number: the advisory lock that serialises migrations across nodes.
const MIGRATION_LOCK: i64 = 0x4845_5241_4c44; // "HERALD"

#[derive(Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
    /// Last stamp given to an upsert batch (see `upsert_contacts`).
    last_stamp: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl PgStore {
    /// Connect to `url` (`postgres://…`) and apply pending migrations. The server being down is
    /// waited for, up to `connect_timeout`, so nodes may start before the database.
    pub async fn open(url: &str) -> Result<Self> {
        let opts = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts)
            .await?;
        let store = Self {
            pool,
            last_stamp: std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0)),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        // Two nodes starting together: the second waits here, then finds the work done.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS herald_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .execute(&mut *tx)
        .await?;
        for (version, sql) in MIGRATIONS {
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
        }
        tx.commit().await?;
        Ok(())
    }

    /// After an erasure: nothing to do here. PostgreSQL keeps the old row versions until
    /// (auto)vacuum reclaims them; no dump or query sees them.
    pub(crate) async fn after_erase(&self) {}

    /// Begin a write transaction (PostgreSQL takes row locks; no process-wide lock).
    async fn write(&self) -> Result<WriteTx> {
        Ok(WriteTx {
            tx: self.pool.begin().await?,
        })
    }
}

struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn parse_state(s: &str) -> Result<herald_domain::DeliveryState> {
    herald_domain::DeliveryState::from_str(s).map_err(StoreError::Corrupt)
}
