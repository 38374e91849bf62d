//! Persistence behind repository traits. Backends live in `src/<backend>/` with the same file
//! names; everything above this crate sees only [`Store`] (one trait per area, [`areas`]) and
//! the record types.
//!
//! SQL lives here and nowhere else; policy (eligibility, retries, classification) does not.

mod any;
pub mod areas;
pub mod migrate;
pub mod postgres;
mod records;
mod shared;
pub mod sqlite;
mod webhooks;

pub use any::AnyStore;
pub use areas::*;
pub use postgres::PgStore;
pub use records::*;
pub use sqlite::SqliteStore;
pub use webhooks::*;

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration {version} failed: {source}")]
    Migration { version: u32, source: sqlx::Error },
    #[error("unsupported database url {0:?} (expected sqlite://PATH or postgres://…)")]
    UnsupportedUrl(String),
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The address belongs to a person erased at their request: it stays off every list.
    #[error("this address was erased at the person's request; it is never added again")]
    Erased,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The whole repository: every area's trait ([`areas`]). Code above this crate is generic over
/// `S: Store` or holds an [`AnyStore`] with `use herald_store::prelude::*` (the traits in
/// scope). Outbound webhooks ([`WebhookStore`]) are part of every store: the write paths add
/// their events to the outbox in their own transactions.
pub trait Store:
    ContactStore
    + AudienceStore
    + MemberStore
    + SegmentStore
    + CampaignStore
    + QueueStore
    + ReportStore
    + FeedbackStore
    + SeedStore
    + UserStore
    + DomainStore
    + PrivacyStore
    + WebhookStore
    + DmarcStore
    + WarmupStore
    + IdempotencyStore
    + RuntimeSettingsStore
    + TemplateStore
    + AttachmentStore
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: ContactStore
        + AudienceStore
        + MemberStore
        + SegmentStore
        + CampaignStore
        + QueueStore
        + ReportStore
        + FeedbackStore
        + SeedStore
        + UserStore
        + DomainStore
        + PrivacyStore
        + WebhookStore
        + DmarcStore
        + WarmupStore
        + IdempotencyStore
        + RuntimeSettingsStore
        + TemplateStore
        + AttachmentStore
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// The store's traits, for callers holding a concrete store: `use herald_store::prelude::*;`.
pub mod prelude {
    pub use crate::Store;
    pub use crate::areas::*;
}

/// A database URL fit for messages and logs: the password, if any, replaced by `***`
/// (`postgres://herald:***@db/herald`).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Open the store named by a database URL: `sqlite://PATH` or `postgres://…`.
pub async fn open(url: &str) -> Result<AnyStore> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        Ok(AnyStore::Sqlite(
            SqliteStore::open(std::path::Path::new(path)).await?,
        ))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(AnyStore::Postgres(PgStore::open(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(redact_url(url)))
    }
}

#[cfg(test)]
mod redact_tests {
    use super::redact_url;

    #[test]
    fn passwords_never_print() {
        assert_eq!(
            redact_url("postgres://herald:s3cr%40t@db.example:5432/herald?sslmode=require"),
            "postgres://herald:***@db.example:5432/herald?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://herald@db/herald"),
            "postgres://herald@db/herald"
        );
        assert_eq!(
            redact_url("sqlite://herald-data/herald.db"),
            "sqlite://herald-data/herald.db"
        );
        assert_eq!(redact_url("postgres://a:b@c@d/e"), "postgres://a:***@d/e");
    }
}
