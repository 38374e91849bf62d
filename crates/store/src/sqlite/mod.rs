//! The SQLite backend: the embedded default. WAL, a busy timeout, and one writer at a time
//! inside the process (write transactions take `write_lock` and start `BEGIN IMMEDIATE`), so
//! concurrent writers queue instead of failing with SQLITE_BUSY.

mod campaigns;
mod contacts;
mod domains;
mod feedback;
mod queue;
mod reports;
mod seeds;
mod users;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use tokio::sync::Mutex;

use crate::{
    AudienceMember, Campaign, CampaignId, CampaignStatus, ClaimRequest, ClaimedDelivery,
    ContactDelivery, ContactRow, DeliveryDetail, DeliveryId, DeliveryRef, DomainCheck, DomainEvent,
    EngagementRecord, EventRow, InboundRecord, ListId, NewCampaign, NewContact, NewDelivery,
    NewSeed, NewSession, NewUser, OutcomeRecord, PendingPlacement, RecipientFilter, RecipientRow,
    Result, Seed, SeedPlacement, StateCounts, Store, StoreError, Suppression, TimelinePoint,
    UpsertCounts, User,
};

const MIGRATIONS: &[(u32, &str)] = &[
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
            .pragma("cache_size", "-8000");
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
                    .map(|r| r.get(0));
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

impl Store for SqliteStore {
    async fn ensure_list(&self, name: &str) -> Result<ListId> {
        self.ensure_list_impl(name).await
    }
    async fn find_list(&self, name: &str) -> Result<Option<ListId>> {
        self.find_list_impl(name).await
    }
    async fn lists(&self) -> Result<Vec<(String, u64)>> {
        Ok(sqlx::query(
            "SELECT l.name, (SELECT COUNT(*) FROM list_members m WHERE m.list_id = l.id) FROM lists l ORDER BY l.name",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1) as u64))
        .collect())
    }
    async fn upsert_contacts(&self, list: ListId, batch: &[NewContact]) -> Result<UpsertCounts> {
        self.upsert_contacts_impl(list, batch).await
    }
    async fn audience_page(
        &self,
        list: ListId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AudienceMember>> {
        self.audience_page_impl(list, after, limit).await
    }
    async fn create_campaign(&self, c: &NewCampaign) -> Result<CampaignId> {
        self.create_campaign_impl(c).await
    }
    async fn campaign(&self, id: CampaignId) -> Result<Option<Campaign>> {
        self.campaign_impl(id).await
    }
    async fn set_campaign_status(
        &self,
        id: CampaignId,
        s: CampaignStatus,
        at_ms: i64,
    ) -> Result<()> {
        self.set_campaign_status_impl(id, s, at_ms).await
    }
    async fn insert_deliveries(&self, batch: &[NewDelivery]) -> Result<u64> {
        self.insert_deliveries_impl(batch).await
    }
    async fn claim(&self, c: &ClaimRequest<'_>) -> Result<Vec<ClaimedDelivery>> {
        self.claim_impl(c).await
    }
    async fn renew_leases(&self, owner: &str, lease_until_ms: i64) -> Result<u64> {
        self.renew_leases_impl(owner, lease_until_ms).await
    }
    async fn record_outcomes(&self, batch: &[OutcomeRecord]) -> Result<()> {
        self.record_outcomes_impl(batch).await
    }
    async fn finish_campaigns(&self, at_ms: i64) -> Result<u64> {
        self.finish_campaigns_impl(at_ms).await
    }
    async fn next_due(&self, campaign: Option<CampaignId>) -> Result<Option<i64>> {
        self.next_due_impl(campaign).await
    }
    async fn counts(&self, campaign: CampaignId) -> Result<StateCounts> {
        self.counts_impl(campaign).await
    }
    async fn recipients(
        &self,
        campaign: CampaignId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<RecipientRow>> {
        self.recipients_impl(campaign, after, limit).await
    }
    async fn recipients_filtered(
        &self,
        campaign: CampaignId,
        filter: &RecipientFilter,
        search: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<RecipientRow>> {
        self.recipients_filtered_impl(campaign, filter, search, after, limit)
            .await
    }
    async fn delivery_ref(&self, id: DeliveryId) -> Result<Option<DeliveryRef>> {
        self.delivery_ref_impl(Some(id), None).await
    }
    async fn delivery_by_message_id(&self, message_id: &str) -> Result<Option<DeliveryRef>> {
        self.delivery_ref_impl(None, Some(message_id)).await
    }
    async fn record_inbound(&self, m: &InboundRecord) -> Result<i64> {
        self.record_inbound_impl(m).await
    }
    async fn suppressions(&self, after_key: &str, limit: u32) -> Result<Vec<Suppression>> {
        self.suppressions_impl(after_key, limit).await
    }
    async fn add_suppression(&self, s: &Suppression) -> Result<bool> {
        self.add_suppression_impl(s).await
    }
    async fn remove_suppression(&self, email_key: &str, source: &str, at_ms: i64) -> Result<bool> {
        self.remove_suppression_impl(email_key, source, at_ms).await
    }
    async fn record_engagement(&self, batch: &[EngagementRecord]) -> Result<u64> {
        self.record_engagement_impl(batch).await
    }
    async fn delivery_detail(
        &self,
        campaign: CampaignId,
        email_key: &str,
    ) -> Result<Option<DeliveryDetail>> {
        self.delivery_detail_impl(campaign, email_key).await
    }
    async fn add_seed(&self, s: &NewSeed) -> Result<i64> {
        self.add_seed_impl(s).await
    }
    async fn seeds(&self) -> Result<Vec<Seed>> {
        self.seeds_impl().await
    }
    async fn remove_seed(&self, address: &str) -> Result<bool> {
        self.remove_seed_impl(address).await
    }
    async fn seed_polled(&self, id: i64, at_ms: i64, error: Option<&str>) -> Result<()> {
        self.seed_polled_impl(id, at_ms, error).await
    }
    async fn pending_placements(&self) -> Result<Vec<PendingPlacement>> {
        self.pending_placements_impl().await
    }
    async fn placements(&self, campaign: CampaignId) -> Result<Vec<SeedPlacement>> {
        self.placements_impl(campaign).await
    }
    async fn add_user(&self, u: &NewUser) -> Result<i64> {
        self.add_user_impl(u).await
    }
    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        self.user_by_email_impl(email).await
    }
    async fn create_session(&self, s: &NewSession) -> Result<()> {
        self.create_session_impl(s).await
    }
    async fn session(&self, token_hash: &str, now_ms: i64) -> Result<Option<(User, String)>> {
        self.session_impl(token_hash, now_ms).await
    }
    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        self.delete_session_impl(token_hash).await
    }
    async fn create_api_token(
        &self,
        token_hash: &str,
        user: i64,
        name: &str,
        at_ms: i64,
    ) -> Result<()> {
        self.create_api_token_impl(token_hash, user, name, at_ms)
            .await
    }
    async fn user_by_api_token(&self, token_hash: &str, now_ms: i64) -> Result<Option<User>> {
        self.user_by_api_token_impl(token_hash, now_ms).await
    }
    async fn campaigns(&self, limit: u32) -> Result<Vec<Campaign>> {
        self.campaigns_impl(limit).await
    }
    async fn events(&self, deliveries: &[DeliveryId]) -> Result<Vec<(DeliveryId, EventRow)>> {
        self.events_impl(deliveries).await
    }
    async fn record_domain_check(&self, c: &DomainCheck) -> Result<bool> {
        self.record_domain_check_impl(c).await
    }
    async fn domain_checks(&self) -> Result<Vec<DomainCheck>> {
        self.domain_checks_impl().await
    }
    async fn domain_events(&self, domain: &str, limit: u32) -> Result<Vec<DomainEvent>> {
        self.domain_events_impl(domain, limit).await
    }
    async fn search_contacts(
        &self,
        query: &str,
        after_key: &str,
        limit: u32,
    ) -> Result<Vec<ContactRow>> {
        self.search_contacts_impl(query, after_key, limit).await
    }
    async fn contact_deliveries(&self, email_key: &str) -> Result<Vec<ContactDelivery>> {
        self.contact_deliveries_impl(email_key).await
    }
    async fn timeline(&self, campaign: CampaignId) -> Result<Vec<TimelinePoint>> {
        self.timeline_impl(campaign).await
    }
    async fn register_node(
        &self,
        n: &crate::NodeRecord,
        stale_before_ms: i64,
    ) -> Result<Option<crate::NodeRecord>> {
        self.register_node_impl(n, stale_before_ms).await
    }
    async fn node_heartbeat(&self, name: &str, owner: &str, at_ms: i64) -> Result<bool> {
        self.node_heartbeat_impl(name, owner, at_ms).await
    }
    async fn nodes(&self) -> Result<Vec<crate::NodeRecord>> {
        self.nodes_impl().await
    }
}
