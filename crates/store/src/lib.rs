//! Persistence behind repository traits. Backends live in `src/<backend>/` with the same file
//! names; everything above this crate sees only [`Store`] and the record types.
//!
//! SQL lives here and nowhere else; policy (eligibility, retries, classification) does not.

mod any;
pub mod migrate;
pub mod postgres;
mod records;
mod shared;
pub mod sqlite;
mod webhooks;

use std::future::Future;

pub use any::AnyStore;
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

/// The repository. Every method is one transaction; batch methods take whole batches.
/// Outbound webhooks ([`WebhookStore`]) are part of every store: the write paths add their
/// events to the outbox in their own transactions.
pub trait Store: WebhookStore + Clone + Send + Sync + 'static {
    // ---- lists and contacts
    fn ensure_list(&self, name: &str) -> impl Future<Output = Result<ListId>> + Send;
    fn find_list(&self, name: &str) -> impl Future<Output = Result<Option<ListId>>> + Send;
    /// Every list with its number of members, by name.
    fn lists(&self) -> impl Future<Output = Result<Vec<(String, u64)>>> + Send;
    /// Insert or merge contacts by `email_key` and add them to the list. Existing contacts keep
    /// their first spelling; their fields are merged with the new ones.
    fn upsert_contacts(
        &self,
        list: ListId,
        batch: &[NewContact],
    ) -> impl Future<Output = Result<UpsertCounts>> + Send;
    /// One page of a list's members in contact-id order, with what eligibility needs.
    fn audience_page(
        &self,
        list: ListId,
        after_contact: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<AudienceMember>>> + Send;

    // ---- the audience: lists as users manage them, sign-ups, confirmations, consent
    /// Create a list (its name and slug must be free: both are unique).
    fn create_list(&self, l: &NewList, at_ms: i64) -> impl Future<Output = Result<ListId>> + Send;
    /// Replace a list's settings; false when it does not exist.
    fn update_list(&self, id: ListId, l: &NewList) -> impl Future<Output = Result<bool>> + Send;
    /// Every list with its settings and members counted by standing, by name.
    fn list_records(&self) -> impl Future<Output = Result<Vec<ListRecord>>> + Send;
    /// The list with this name (or, `by_slug`, this public slug: then its settings only, the
    /// member counts read as 0, since the public form reads it on every sign-up).
    fn list_record(
        &self,
        key: &str,
        by_slug: bool,
    ) -> impl Future<Output = Result<Option<ListRecord>>> + Send;
    /// Delete a list with its memberships and consent records; false (and nothing changed) when a
    /// campaign uses it: a sent campaign's list is part of its record.
    fn delete_list(&self, id: ListId) -> impl Future<Output = Result<bool>> + Send;
    /// Add a person to a list (or bring a returning one back) with a consent record. A
    /// subscribed member is left as they are (and no consent is recorded).
    fn sign_up(&self, s: &SignUp) -> impl Future<Output = Result<SignedUp>> + Send;
    /// Queue a confirmation message to a pending member through the list's confirmation
    /// campaign (created when needed); `None` when one went out after `not_since_ms`.
    fn queue_confirmation(
        &self,
        c: &NewConfirmation,
    ) -> impl Future<Output = Result<Option<DeliveryId>>> + Send;
    /// Confirm the sign-up a confirmation message (`delivery`) was sent for: the pending member
    /// becomes subscribed, that sign-up's consent confirmed and its fields applied; a global
    /// `unsubscribed` suppression is lifted for this list only. `newly: false` when already
    /// subscribed; `None` when it is no confirmation message, or its sign-up is gone or handled
    /// (removed after the window, or the person left the list since).
    fn confirm_member(
        &self,
        delivery: DeliveryId,
        at_ms: i64,
        ip: Option<&str>,
    ) -> impl Future<Output = Result<Option<Confirmed>>> + Send;
    /// Remove pending members (and their unconfirmed consents) who signed up before `before_ms`.
    fn purge_pending(&self, before_ms: i64) -> impl Future<Output = Result<u64>> + Send;
    /// Erase one person (GDPR): their contact, fields, memberships and consent records go;
    /// their delivery records stay for the counts with the address replaced; evidence, event
    /// details and inbound messages lose the address, IPs and user agents; the suppression list
    /// keeps them out by the erasure token alone. One transaction.
    fn erase_person(&self, e: &Erasure) -> impl Future<Output = Result<EraseOutcome>> + Send;
    /// What the database holds on one person besides the contact timeline (right of access).
    /// `needles`: the address's spellings, to find inbound messages not tied to a delivery.
    fn person_record(
        &self,
        email_key: &str,
        needles: &[String],
    ) -> impl Future<Output = Result<PersonRecord>> + Send;
    /// `audience_page` narrowed to the members `filter.include` selects, each marked
    /// `excluded` when `filter.exclude` selects it.
    fn audience_page_for(
        &self,
        list: ListId,
        after: i64,
        limit: u32,
        filter: &AudienceFilter,
    ) -> impl Future<Output = Result<Vec<AudienceMember>>> + Send;
    /// Set (or clear) a campaign's segment and exclusion, each (name, rule text); false once
    /// its send started (or it is a list's confirmation campaign).
    fn set_campaign_audience(
        &self,
        id: CampaignId,
        segment: Option<(&str, &str)>,
        exclude: Option<(&str, &str)>,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Delete a contact (`contacts delete`): its fields, memberships and consent records go;
    /// the deliveries to it stay, under their address. False when there is no such contact.
    fn delete_contact(&self, email_key: &str) -> impl Future<Output = Result<bool>> + Send;
    /// Keep `check` as the check value of the key `name` unless one is kept already; the one
    /// kept (a different one: the key given is not the key this database was used with).
    fn claim_key_check(
        &self,
        name: &str,
        check: &str,
        at_ms: i64,
    ) -> impl Future<Output = Result<String>> + Send;
    /// The check value kept for the key `name`, if any.
    fn key_check(&self, name: &str) -> impl Future<Output = Result<Option<String>>> + Send;
    /// Save a segment; false when the name is taken.
    fn create_segment(
        &self,
        name: &str,
        rule: &str,
        at_ms: i64,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Every segment, by name.
    fn segment_records(&self) -> impl Future<Output = Result<Vec<SegmentRecord>>> + Send;
    /// Rename and/or change a segment's rule; false when there is no segment `name`.
    fn update_segment(
        &self,
        name: &str,
        new_name: &str,
        rule: &str,
        at_ms: i64,
    ) -> impl Future<Output = Result<bool>> + Send;
    fn delete_segment(&self, name: &str) -> impl Future<Output = Result<bool>> + Send;
    /// How many contacts the filter selects (one query).
    fn segment_count(&self, filter: &AudienceFilter) -> impl Future<Output = Result<u64>> + Send;
    /// The contacts the filter selects with an id above `after`, by id: (id, address).
    fn segment_page(
        &self,
        filter: &AudienceFilter,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<(i64, String)>>> + Send;
    /// A contact's consent records, oldest first.
    fn consents(&self, email_key: &str) -> impl Future<Output = Result<Vec<ConsentRecord>>> + Send;

    /// What the preference centre shows the contact a delivery went to; `None` for a seed copy
    /// or an unknown delivery.
    fn preferences(
        &self,
        delivery: DeliveryId,
    ) -> impl Future<Output = Result<Option<Preferences>>> + Send;
    /// Apply a contact's preference-centre changes (lists they are on: leave or rejoin, the
    /// latter with a consent record; fields), each recorded as an event of `delivery`.
    fn set_preferences(
        &self,
        delivery: DeliveryId,
        change: &PreferenceChange,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// An unsubscribe that leaves only the list `delivery`'s campaign went to (`[lists]
    /// unsubscribe = "list"`): recorded as its `unsubscribe` event, no global suppression.
    fn leave_list(
        &self,
        delivery: DeliveryId,
        at_ms: i64,
        detail: &str,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Replace a contact's fields (JSON object text); false when there is no such contact.
    fn set_contact_fields(
        &self,
        email_key: &str,
        fields: &str,
        at_ms: i64,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Set a member's standing on a list (an operator's act: taken off, they are not offered the
    /// list back in their preference centre); false when the contact is not on it.
    fn set_member_status(
        &self,
        list: ListId,
        email_key: &str,
        status: herald_domain::MemberStatus,
        at_ms: i64,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// A page of contacts (of one list, or all) in contact-id order, for `contacts export`.
    fn export_page(
        &self,
        list: Option<ListId>,
        after_contact: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<ExportRow>>> + Send;

    // ---- campaigns
    fn create_campaign(&self, c: &NewCampaign) -> impl Future<Output = Result<CampaignId>> + Send;
    fn campaign(&self, id: CampaignId) -> impl Future<Output = Result<Option<Campaign>>> + Send;
    /// Replace a draft's content (name, list, From, subject, bodies, tracking, gate override;
    /// `created_at_ms` is kept). False when it is not a draft (any more), its audience
    /// snapshot has begun (deliveries exist while it is still marked draft), or it does not
    /// exist: the check and the change are one statement, so a send starting at the same
    /// moment wins cleanly.
    fn update_draft(
        &self,
        id: CampaignId,
        c: &NewCampaign,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Delete a draft (it has no deliveries yet). False when it is not a draft or does not
    /// exist; a campaign that was sent is never deleted.
    fn delete_draft(&self, id: CampaignId) -> impl Future<Output = Result<bool>> + Send;
    fn set_campaign_status(
        &self,
        id: CampaignId,
        status: CampaignStatus,
        at_ms: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    /// A draft (or a scheduled one, moved) becomes `scheduled` to start at `at_ms`; `tz` is
    /// the zone the time was given in, kept for display; `local_time` (`2026-12-10T09:00`):
    /// each recipient gets it at that local time in their own zone. False when it is not a draft (any
    /// more) or does not exist.
    fn schedule_campaign(
        &self,
        id: CampaignId,
        at_ms: i64,
        tz: Option<&str>,
        local_time: Option<&str>,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// `scheduled` → `draft`. False when it was not scheduled (or has started meanwhile).
    fn unschedule_campaign(&self, id: CampaignId) -> impl Future<Output = Result<bool>> + Send;
    /// Scheduled campaigns due at `now_ms` that no other node is starting, leased to the caller
    /// until `lease_until_ms` (after that, another node takes over a start that did not finish).
    fn take_due_schedules(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> impl Future<Output = Result<Vec<CampaignId>>> + Send;
    /// A scheduled start was refused (e.g. its From domain no longer verifies): back to
    /// `draft`, with the reason shown on the campaign.
    fn schedule_failed(
        &self,
        id: CampaignId,
        error: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Keep the campaign's last pre-send check (JSON).
    fn save_check(&self, id: CampaignId, check: &str) -> impl Future<Output = Result<()>> + Send;
    /// `sending` → `paused`: no delivery of it is claimed until it is resumed (its waiting
    /// deliveries move out of the due range, [`PAUSE_SHIFT_MS`]). False when it was not sending.
    fn pause_campaign(&self, id: CampaignId) -> impl Future<Output = Result<bool>> + Send;
    /// `paused` → `sending`, its deliveries due again where they were. False when not paused.
    fn resume_campaign(&self, id: CampaignId) -> impl Future<Output = Result<bool>> + Send;
    /// `sending` or `paused` → `cancelled`: every waiting delivery no live lease holds becomes
    /// `not_sent: cancelled` in the same transaction. The number settled so, or None when the
    /// campaign was neither sending nor paused.
    fn cancel_campaign(
        &self,
        id: CampaignId,
        at_ms: i64,
    ) -> impl Future<Output = Result<Option<u64>>> + Send;
    /// Settle what cancelled campaigns still have waiting (leases given back or run out) as
    /// `not_sent: cancelled`. Returns how many.
    fn settle_cancelled(&self, at_ms: i64) -> impl Future<Output = Result<u64>> + Send;
    /// Campaigns whose claimed deliveries must not be attempted: paused ones, and cancelled
    /// ones with deliveries still waiting.
    fn halted_campaigns(
        &self,
    ) -> impl Future<Output = Result<Vec<(CampaignId, CampaignStatus)>>> + Send;
    /// Insert deliveries (the audience snapshot). Already present (campaign, email) pairs are
    /// left as they are, so snapshotting twice is harmless.
    fn insert_deliveries(&self, batch: &[NewDelivery]) -> impl Future<Output = Result<u64>> + Send;

    // ---- queue
    /// Lease up to `limit` due deliveries (queued or deferred, next attempt due, lease free or
    /// expired), grouped by destination domain. A delivery whose previous lease expired with no
    /// outcome is flagged `possible_duplicate`: its holder may have sent it before dying.
    fn claim(
        &self,
        c: &ClaimRequest<'_>,
    ) -> impl Future<Output = Result<Vec<ClaimedDelivery>>> + Send;
    /// Extend the leases `owner` holds on `ids` (the deliveries it has in flight; the ids
    /// spare the database an index on the lease owner, which every claim would have to update).
    fn renew_leases(
        &self,
        owner: &str,
        ids: &[DeliveryId],
        lease_until_ms: i64,
    ) -> impl Future<Output = Result<u64>> + Send;
    /// Record outcomes, each with its attempt evidence, and release their leases: one
    /// transaction for the whole batch.
    fn record_outcomes(&self, batch: &[OutcomeRecord]) -> impl Future<Output = Result<()>> + Send;
    /// Mark `sending` campaigns whose every delivery is final as `sent`. Returns how many.
    fn finish_campaigns(&self, at_ms: i64) -> impl Future<Output = Result<u64>> + Send;
    /// Earliest `next_attempt_at` of unfinished deliveries (of one campaign, or all).
    fn next_due(
        &self,
        campaign: Option<CampaignId>,
    ) -> impl Future<Output = Result<Option<i64>>> + Send;

    // ---- reports
    fn counts(&self, campaign: CampaignId) -> impl Future<Output = Result<StateCounts>> + Send;
    /// What waits to be sent, grouped (see [`WaitingGroup`]); leases are counted as held at
    /// `now_ms`.
    fn waiting(&self, now_ms: i64) -> impl Future<Output = Result<Vec<WaitingGroup>>> + Send;
    fn recipients(
        &self,
        campaign: CampaignId,
        after_id: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<RecipientRow>>> + Send;

    /// A page of recipients matching `filter` and, if given, whose address contains `search`,
    /// in delivery-id order after `after_id` (keyset pagination).
    fn recipients_filtered(
        &self,
        campaign: CampaignId,
        filter: &RecipientFilter,
        search: Option<&str>,
        after_id: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<RecipientRow>>> + Send;

    // ---- feedback
    fn delivery_ref(
        &self,
        id: DeliveryId,
    ) -> impl Future<Output = Result<Option<DeliveryRef>>> + Send;
    /// The deliveries of these ids that exist (any order).
    fn delivery_refs(
        &self,
        ids: &[DeliveryId],
    ) -> impl Future<Output = Result<Vec<DeliveryRef>>> + Send;
    /// The delivery that sent this Message-ID (with or without angle brackets).
    fn delivery_by_message_id(
        &self,
        message_id: &str,
    ) -> impl Future<Output = Result<Option<DeliveryRef>>> + Send;
    /// Keep an inbound message and apply its effects (events, late bounces, suppressions):
    /// one transaction. Returns the inbound message's id.
    fn record_inbound(&self, m: &InboundRecord) -> impl Future<Output = Result<i64>> + Send;
    /// Keep a provider's webhook post and apply each of its events not seen before (by
    /// provider and key): one transaction.
    fn record_webhook(
        &self,
        post: &WebhookPost,
    ) -> impl Future<Output = Result<WebhookIngest>> + Send;
    /// Drop the raw text of inbound messages received before `before_ms` (their kind, summary
    /// and effects stay). Returns how many were emptied.
    fn prune_inbound_raw(&self, before_ms: i64) -> impl Future<Output = Result<u64>> + Send;
    /// A page of the suppression list in address order, after `after_key`.
    fn suppressions(
        &self,
        after_key: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Suppression>>> + Send;
    /// Suppress an address (logged). False if it was already suppressed.
    fn add_suppression(&self, s: &Suppression) -> impl Future<Output = Result<bool>> + Send;
    /// Record opens and clicks (one transaction for the batch); an `unsubscribe` record also
    /// suppresses the delivery's address (`unsubscribed`). Records of unknown deliveries are
    /// dropped. Returns how many were recorded.
    fn record_engagement(
        &self,
        batch: &[EngagementRecord],
    ) -> impl Future<Output = Result<u64>> + Send;
    /// Everything recorded about `email_key` in `campaign`.
    fn delivery_detail(
        &self,
        campaign: CampaignId,
        email_key: &str,
    ) -> impl Future<Output = Result<Option<DeliveryDetail>>> + Send;
    // ---- users, sessions, API tokens
    fn add_user(&self, u: &NewUser) -> impl Future<Output = Result<i64>> + Send;
    fn user_by_email(&self, email: &str) -> impl Future<Output = Result<Option<User>>> + Send;
    fn create_session(&self, s: &NewSession) -> impl Future<Output = Result<()>> + Send;
    /// The user and CSRF token of an unexpired session.
    fn session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<(User, String)>>> + Send;
    fn delete_session(&self, token_hash: &str) -> impl Future<Output = Result<()>> + Send;
    /// A new API token (`expires_at_ms`: None never expires).
    fn create_api_token(
        &self,
        token_hash: &str,
        user: i64,
        name: &str,
        at_ms: i64,
        expires_at_ms: Option<i64>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// API tokens (all, or one user's), by user and age.
    fn api_tokens(
        &self,
        user_email: Option<&str>,
    ) -> impl Future<Output = Result<Vec<ApiToken>>> + Send;
    /// Revoke a user's tokens named `name`. Returns how many there were.
    fn revoke_api_tokens(&self, user: i64, name: &str) -> impl Future<Output = Result<u64>> + Send;
    /// End every session of a user (a password reset). Returns how many there were.
    fn end_sessions(&self, user: i64) -> impl Future<Output = Result<u64>> + Send;
    /// Remove a user with its sessions and tokens.
    fn remove_user(&self, user: i64) -> impl Future<Output = Result<()>> + Send;
    /// Every user, by address.
    fn users(&self) -> impl Future<Output = Result<Vec<User>>> + Send;
    fn user_by_api_token(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<User>>> + Send;
    /// The newest campaigns first.
    fn campaigns(&self, limit: u32) -> impl Future<Output = Result<Vec<Campaign>>> + Send;

    // ---- seeds and placement
    fn add_seed(&self, s: &NewSeed) -> impl Future<Output = Result<i64>> + Send;
    fn seeds(&self) -> impl Future<Output = Result<Vec<Seed>>> + Send;
    /// Stop sending to a seed (its past placements stay). False if unknown.
    fn remove_seed(&self, address: &str) -> impl Future<Output = Result<bool>> + Send;
    /// Record a poll of a seed's mailbox and its error, if it failed.
    fn seed_polled(
        &self,
        id: i64,
        at_ms: i64,
        error: Option<&str>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Seed copies that were delivered and have no placement yet.
    fn pending_placements(&self) -> impl Future<Output = Result<Vec<PendingPlacement>>> + Send;
    /// Every seed copy of a campaign with its placement, if known.
    fn placements(
        &self,
        campaign: CampaignId,
    ) -> impl Future<Output = Result<Vec<SeedPlacement>>> + Send;
    /// The events of these deliveries, oldest first.
    fn events(
        &self,
        deliveries: &[DeliveryId],
    ) -> impl Future<Output = Result<Vec<(DeliveryId, EventRow)>>> + Send;
    // ---- contacts across campaigns, and the chart
    /// Contacts whose address contains `query` (case-insensitive), in address order after
    /// `after_key` (keyset pagination).
    fn search_contacts(
        &self,
        query: &str,
        after_key: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<ContactRow>>> + Send;
    /// The contact with this address key.
    fn contact(&self, email_key: &str) -> impl Future<Output = Result<Option<ContactRow>>> + Send;
    /// Every campaign delivery to `email_key`, newest first (a contact's timeline).
    fn contact_deliveries(
        &self,
        email_key: &str,
    ) -> impl Future<Output = Result<Vec<ContactDelivery>>> + Send;
    /// A campaign's outcomes and events per minute (the performance page's chart).
    fn timeline(
        &self,
        campaign: CampaignId,
    ) -> impl Future<Output = Result<Vec<TimelinePoint>>> + Send;

    // ---- nodes
    /// Register a starting node. Refused — the live record is returned — when a node of the
    /// same name with another owner sent a heartbeat at or after `stale_before_ms`.
    fn register_node(
        &self,
        n: &NodeRecord,
        stale_before_ms: i64,
    ) -> impl Future<Output = Result<Option<NodeRecord>>> + Send;
    /// A running node's heartbeat; false if the record is no longer this owner's.
    fn node_heartbeat(
        &self,
        name: &str,
        owner: &str,
        at_ms: i64,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Every node that ever ran on this database, by name.
    fn nodes(&self) -> impl Future<Output = Result<Vec<NodeRecord>>> + Send;

    // ---- sending domains (drift)
    /// Store the latest re-verification of a domain. When its result differs from the last one
    /// (or it is the first), a [`DomainEvent`] is appended too; returns whether it changed.
    fn record_domain_check(&self, c: &DomainCheck) -> impl Future<Output = Result<bool>> + Send;
    /// The latest check of every domain that was ever re-verified.
    fn domain_checks(&self) -> impl Future<Output = Result<Vec<DomainCheck>>> + Send;
    /// The newest changes of a domain's verification first.
    fn domain_events(
        &self,
        domain: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<DomainEvent>>> + Send;
    /// Lift a suppression (logged). False if the address was not suppressed.
    fn remove_suppression(
        &self,
        email_key: &str,
        source: &str,
        at_ms: i64,
    ) -> impl Future<Output = Result<bool>> + Send;
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
