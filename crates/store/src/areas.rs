//! The store's repositories, one trait per area, each implemented once for both backends by
//! the macro of the same name in `shared/` (the queue's claim differs by backend: it is
//! written in `sqlite/queue.rs` and `postgres/queue.rs`). [`store_area!`] declares a trait and
//! [`AnyStore`]'s dispatch of it together, so a new query touches two places: its line here and
//! its body in `shared/<area>.rs`.
//!
//! Every method is one transaction; batch methods take whole batches.

use std::future::Future;

use crate::*;

/// Declare an area's trait (each method an `async` one returning `Result<T>`, written here as
/// `fn name(&self, args) -> T;`) and implement it for [`AnyStore`] by calling the backend's.
macro_rules! store_area {
    (
        $(#[$tm:meta])*
        pub trait $trait:ident {
            $(
                $(#[$m:meta])*
                fn $name:ident(&self $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty;
            )*
        }
    ) => {
        $(#[$tm])*
        pub trait $trait: Send + Sync {
            $(
                $(#[$m])*
                fn $name(&self $(, $arg: $ty)*) -> impl Future<Output = Result<$ret>> + Send;
            )*
        }

        impl $trait for AnyStore {
            $(
                async fn $name(&self $(, $arg: $ty)*) -> Result<$ret> {
                    match self {
                        AnyStore::Sqlite(db) => db.$name($($arg),*).await,
                        AnyStore::Postgres(db) => db.$name($($arg),*).await,
                    }
                }
            )*
        }
    };
}

store_area! {
    /// Lists by name, contacts, their import and the audience pages a send reads
    /// (`shared/contacts.rs`).
    pub trait ContactStore {
        fn ensure_list(&self, name: &str, now_ms: i64) -> ListId;
        fn find_list(&self, name: &str) -> Option<ListId>;
        /// Every list with its number of members, by name.
        fn lists(&self) -> Vec<(String, u64)>;
        /// Every list's name, in order (no member counts: for menus).
        fn list_names(&self) -> Vec<String>;
        /// Insert or merge contacts by `email_key` and add them to the list. Existing contacts keep
        /// their first spelling; their fields are merged with the new ones.
        fn upsert_contacts(&self, list: ListId, batch: &[NewContact], now_ms: i64) -> UpsertCounts;
        /// Keep the consent records an import brought for `list`'s contacts (an address that is
        /// not a contact is skipped). How many were kept.
        fn import_consents(&self, list: ListId, batch: &[ImportedConsent]) -> u64;
        /// One page of a list's members in contact-id order, with what eligibility needs.
        fn audience_page(
            &self,
            list: ListId,
            after_contact: i64,
            limit: u32,
        ) -> Vec<AudienceMember>;
        /// `audience_page` narrowed to the members `filter.include` selects, each marked
        /// `excluded` when `filter.exclude` selects it.
        fn audience_page_for(
            &self,
            list: ListId,
            after: i64,
            limit: u32,
            filter: &AudienceFilter,
        ) -> Vec<AudienceMember>;
        /// Contacts whose address contains `query` (case-insensitive), in address order after
        /// `after_key` (keyset pagination).
        fn search_contacts(&self, query: &str, after_key: &str, limit: u32) -> Vec<ContactRow>;
        /// The contact with this address key.
        fn contact(&self, email_key: &str) -> Option<ContactRow>;
        /// Every campaign delivery to `email_key`, newest first (a contact's timeline).
        fn contact_deliveries(&self, email_key: &str) -> Vec<ContactDelivery>;
    }
}

store_area! {
    /// Lists as users manage them, sign-ups, confirmations, consent, the preference centre
    /// (`shared/audience.rs`).
    pub trait AudienceStore {
        /// Create a list (its name and slug must be free: both are unique).
        fn create_list(&self, l: &NewList, at_ms: i64) -> ListId;
        /// Replace a list's settings; false when it does not exist.
        fn update_list(&self, id: ListId, l: &NewList) -> bool;
        /// Every list with its settings and members counted by standing, by name.
        fn list_records(&self) -> Vec<ListRecord>;
        /// The list with this name (or, `by_slug`, this public slug: then its settings only, the
        /// member counts read as 0, since the public form reads it on every sign-up).
        fn list_record(&self, key: &str, by_slug: bool) -> Option<ListRecord>;
        /// The list with this id: its settings only (the member counts read as 0).
        fn list_settings(&self, id: ListId) -> Option<ListRecord>;
        /// Delete a list with its memberships and consent records; false (and nothing changed) when a
        /// campaign uses it: a sent campaign's list is part of its record.
        fn delete_list(&self, id: ListId) -> bool;
        /// Add a person to a list (or bring a returning one back) with a consent record. A
        /// subscribed member is left as they are (and no consent is recorded).
        fn sign_up(&self, s: &SignUp) -> SignedUp;
        /// Queue one of a list's own messages (a pending member's confirmation, a new member's
        /// welcome) through the list's campaign of that kind (created when needed); `None` when
        /// one of that kind went to the address after `not_since_ms`, or too many in the window.
        fn queue_list_message(&self, c: &NewListMessage) -> Option<DeliveryId>;
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
        ) -> Option<Confirmed>;
        /// Remove pending members (and their unconfirmed consents) who signed up before `before_ms`.
        fn purge_pending(&self, before_ms: i64) -> u64;
    }
}

store_area! {
    /// A contact's standing on its lists: the preference centre, an operator's edits, the
    /// export, consent records (`shared/members.rs`).
    pub trait MemberStore {
        /// A contact's consent records, oldest first.
        fn consents(&self, email_key: &str) -> Vec<ConsentRecord>;
        /// What the preference centre shows the contact a delivery went to; `None` for a seed copy
        /// or an unknown delivery.
        fn preferences(&self, delivery: DeliveryId) -> Option<Preferences>;
        /// Apply a contact's preference-centre changes (lists they are on: leave or rejoin, the
        /// latter with a consent record; fields), each recorded as an event of `delivery`.
        fn set_preferences(&self, delivery: DeliveryId, change: &PreferenceChange) -> bool;
        /// An unsubscribe that leaves only the list `delivery`'s campaign went to (`[lists]
        /// unsubscribe = "list"`): recorded as its `unsubscribe` event, no global suppression.
        fn leave_list(&self, delivery: DeliveryId, at_ms: i64, detail: &str) -> bool;
        /// Replace a contact's fields (JSON object text); false when there is no such contact.
        fn set_contact_fields(&self, email_key: &str, fields: &str, at_ms: i64) -> bool;
        /// Set a member's standing on a list (an operator's act: taken off, they are not offered the
        /// list back in their preference centre); false when the contact is not on it.
        fn set_member_status(
            &self,
            list: ListId,
            email_key: &str,
            status: herald_domain::MemberStatus,
            at_ms: i64,
        ) -> bool;
        /// A page of contacts (of one list, or all) in contact-id order, for `contacts export`.
        fn export_page(
            &self,
            list: Option<ListId>,
            after_contact: i64,
            limit: u32,
        ) -> Vec<ExportRow>;
    }
}

store_area! {
    /// Saved segments and the contacts they select (`shared/segments.rs`).
    pub trait SegmentStore {
        /// Save a segment; false when the name is taken.
        fn create_segment(&self, name: &str, rule: &str, at_ms: i64) -> bool;
        /// Every segment, by name.
        fn segment_records(&self) -> Vec<SegmentRecord>;
        /// Rename and/or change a segment's rule; false when there is no segment `name`.
        fn update_segment(&self, name: &str, new_name: &str, rule: &str, at_ms: i64) -> bool;
        fn delete_segment(&self, name: &str) -> bool;
        /// How many contacts the filter selects (one query).
        fn segment_count(&self, filter: &AudienceFilter) -> u64;
        /// The contacts the filter selects with an id above `after`, by id: (id, address).
        fn segment_page(
            &self,
            filter: &AudienceFilter,
            after: i64,
            limit: u32,
        ) -> Vec<(i64, String)>;
    }
}

store_area! {
    /// Campaigns: drafts, schedules, pause and cancel, the audience snapshot
    /// (`shared/campaigns.rs`).
    pub trait CampaignStore {
        /// Set (or clear) a campaign's segment and exclusion and its other and excluded lists
        /// (the setting replaces all four); false once its send started (or it is a list's
        /// confirmation campaign).
        fn set_campaign_audience(
            &self,
            id: CampaignId,
            setting: &AudienceSetting<'_>,
            now_ms: i64,
        ) -> bool;
        /// Record why a campaign was sent despite a spam-complaint rate past 0.3 % (once its send
        /// started); false when there is no such campaign.
        fn set_complaint_override(&self, id: CampaignId, why: &str) -> bool;
        /// Show a campaign on its public archive page, or stop; false when there is no such
        /// campaign (a list's own messages have none).
        fn set_campaign_archive(&self, id: CampaignId, on: bool) -> bool;
        /// Give a draft (or scheduled) campaign its A/B test (JSON), or take it away (None);
        /// false when it is not a draft any more or its send has begun (any delivery exists).
        fn set_campaign_ab(&self, id: CampaignId, ab: Option<&str>) -> bool;
        /// Start a campaign's A/B test once its audience is snapshotted (every queued delivery
        /// inserted without a next attempt): `share_pct` % of them (rounded down; at least one
        /// while there are as many people as variants; in an order
        /// no one chose, by a hash of the id) get each of `variants` variants and are due now;
        /// the rest wait with `waiting` as their reason until [`decide_ab`](Self::decide_ab).
        /// Done once (the decision time is set then): (test group, rest).
        fn start_ab(&self, id: CampaignId, share_pct: u32, variants: u32, decide_at_ms: i64, waiting: &str, now_ms: i64) -> Option<(u64, u64)>;
        /// The sending campaigns whose A/B winner is due to be picked.
        fn ab_due(&self, now_ms: i64) -> Vec<CampaignId>;
        /// Per variant of the test group: recipients, delivered (or relayed), opened and
        /// clicked by a person.
        fn ab_figures(&self, id: CampaignId) -> Vec<AbFigures>;
        /// Record the winner (once: false when another node did) with the figures it won on,
        /// and make the waiting rest of the audience due now.
        fn decide_ab(&self, id: CampaignId, winner: u32, result: &str, now_ms: i64) -> bool;
        fn create_campaign(&self, c: &NewCampaign) -> CampaignId;
        fn campaign(&self, id: CampaignId) -> Option<Campaign>;
        /// Replace a draft's content (name, list, From, subject, bodies, tracking, gate override;
        /// `created_at_ms` is kept). False when it is not a draft (any more), its audience
        /// snapshot has begun (deliveries exist while it is still marked draft), or it does not
        /// exist: the check and the change are one statement, so a send starting at the same
        /// moment wins cleanly.
        fn update_draft(&self, id: CampaignId, c: &NewCampaign, now_ms: i64) -> bool;
        /// Delete a draft (it has no deliveries yet). False when it is not a draft or does not
        /// exist; a campaign that was sent is never deleted.
        fn delete_draft(&self, id: CampaignId, now_ms: i64) -> bool;
        fn set_campaign_status(&self, id: CampaignId, status: CampaignStatus, at_ms: i64) -> ();
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
            now_ms: i64,
        ) -> bool;
        /// `scheduled` → `draft`. False when it was not scheduled (or has started meanwhile).
        fn unschedule_campaign(&self, id: CampaignId, now_ms: i64) -> bool;
        /// Scheduled campaigns due at `now_ms` that no other node is starting, leased to the caller
        /// until `lease_until_ms` (after that, another node takes over a start that did not finish).
        fn take_due_schedules(&self, now_ms: i64, lease_until_ms: i64) -> Vec<CampaignId>;
        /// A scheduled start was refused (e.g. its From domain no longer verifies): back to
        /// `draft`, with the reason shown on the campaign.
        fn schedule_failed(&self, id: CampaignId, error: &str) -> ();
        /// Keep the campaign's last pre-send check (JSON).
        fn save_check(&self, id: CampaignId, check: &str) -> ();
        /// `sending` → `paused`: no delivery of it is claimed until it is resumed (its waiting
        /// deliveries move out of the due range, [`PAUSE_SHIFT_MS`]). False when it was not sending.
        fn pause_campaign(&self, id: CampaignId, now_ms: i64) -> bool;
        /// `paused` → `sending`, its deliveries due again where they were. False when not paused.
        fn resume_campaign(&self, id: CampaignId, now_ms: i64) -> bool;
        /// A connected domain verifies again: the deliveries its hold put off (reason `held:
        /// <domain> …`) of sending campaigns are due now. How many.
        fn wake_held(&self, domain: &str, now_ms: i64) -> u64;
        /// `sending` or `paused` → `cancelled`: every waiting delivery no live lease holds becomes
        /// `not_sent: cancelled` in the same transaction. The number settled so, or None when the
        /// campaign was neither sending nor paused.
        fn cancel_campaign(&self, id: CampaignId, at_ms: i64) -> Option<u64>;
        /// Settle what cancelled campaigns still have waiting (leases given back or run out) as
        /// `not_sent: cancelled`. Returns how many.
        fn settle_cancelled(&self, at_ms: i64) -> u64;
        /// Campaigns whose claimed deliveries must not be attempted: paused ones, and cancelled
        /// ones with deliveries still waiting.
        fn halted_campaigns(&self) -> Vec<(CampaignId, CampaignStatus)>;
        /// Insert deliveries (the audience snapshot). Already present (campaign, email) pairs are
        /// left as they are, so snapshotting twice is harmless.
        fn insert_deliveries(&self, batch: &[NewDelivery]) -> u64;
        /// Mark `sending` campaigns whose every delivery is final as `sent`. Returns how many.
        fn finish_campaigns(&self, at_ms: i64) -> u64;
        /// The newest campaigns first: those older than `before` (all when None), only in
        /// `status` when given.
        fn campaigns(
            &self,
            before: Option<CampaignId>,
            status: Option<CampaignStatus>,
            limit: u32,
        ) -> Vec<Campaign>;
    }
}

store_area! {
    /// The delivery queue: leases, outcomes, what is due (`sqlite/queue.rs`,
    /// `postgres/queue.rs`: the claim differs by backend).
    pub trait QueueStore {
        /// Lease up to `limit` due deliveries (queued or deferred, next attempt due, lease free or
        /// expired), grouped by destination domain. A delivery whose previous lease expired with no
        /// outcome is flagged `possible_duplicate`: its holder may have sent it before dying.
        fn claim(&self, c: &ClaimRequest<'_>) -> Vec<ClaimedDelivery>;
        /// Extend the leases `owner` holds on `ids` (the deliveries it has in flight; the ids
        /// spare the database an index on the lease owner, which every claim would have to update).
        fn renew_leases(&self, owner: &str, ids: &[DeliveryId], lease_until_ms: i64) -> u64;
        /// Record outcomes, each with its attempt evidence, and release their leases: one
        /// transaction for the whole batch.
        fn record_outcomes(&self, batch: &[OutcomeRecord]) -> ();
        /// Earliest `next_attempt_at` of unfinished deliveries (of one campaign, or all).
        fn next_due(&self, campaign: Option<CampaignId>) -> Option<i64>;
    }
}

store_area! {
    /// Reports: counts, recipients, a delivery's detail, what waits, the chart
    /// (`shared/reports.rs`).
    pub trait ReportStore {
        fn counts(&self, campaign: CampaignId) -> StateCounts;
        /// What waits to be sent, grouped (see [`WaitingGroup`]); leases are counted as held at
        /// `now_ms`.
        fn waiting(&self, now_ms: i64) -> Vec<WaitingGroup>;
        fn recipients(&self, campaign: CampaignId, after_id: i64, limit: u32) -> Vec<RecipientRow>;
        /// A page of recipients matching `filter` and, if given, whose address contains `search`,
        /// in delivery-id order after `after_id` (keyset pagination).
        fn recipients_filtered(
            &self,
            campaign: CampaignId,
            filter: &RecipientFilter,
            search: Option<&str>,
            after_id: i64,
            limit: u32,
        ) -> Vec<RecipientRow>;
        /// Everything recorded about `email_key` in `campaign`.
        fn delivery_detail(&self, campaign: CampaignId, email_key: &str) -> Option<DeliveryDetail>;
        /// A campaign's outcomes and events per minute (the performance page's chart).
        fn timeline(&self, campaign: CampaignId) -> Vec<TimelinePoint>;
        /// Outcomes and events per day, campaign and receiving provider from UTC day
        /// `since_day` (ms / 86,400,000) on, with each campaign's name and From address (the
        /// health dashboard; a read of the rollup the triggers keep).
        fn health_rows(&self, since_day: i64) -> Vec<HealthRow>;
    }
}

store_area! {
    /// What comes back: inbound reports, provider events, suppressions, opens and clicks
    /// (`shared/feedback.rs`).
    pub trait FeedbackStore {
        fn delivery_ref(&self, id: DeliveryId) -> Option<DeliveryRef>;
        /// The deliveries of these ids that exist (any order).
        fn delivery_refs(&self, ids: &[DeliveryId]) -> Vec<DeliveryRef>;
        /// The delivery that sent this Message-ID (with or without angle brackets).
        fn delivery_by_message_id(&self, message_id: &str) -> Option<DeliveryRef>;
        /// Keep an inbound message and apply its effects (events, late bounces, suppressions):
        /// one transaction. Returns the inbound message's id.
        fn record_inbound(&self, m: &InboundRecord) -> i64;
        /// Keep a provider's webhook post and apply each of its events not seen before (by
        /// provider and key): one transaction.
        fn record_webhook(&self, post: &WebhookPost) -> WebhookIngest;
        /// Drop the raw text of inbound messages received before `before_ms` (their kind, summary
        /// and effects stay). Returns how many were emptied.
        fn prune_inbound_raw(&self, before_ms: i64) -> u64;
        /// A page of the suppression list in address order, after `after_key`.
        fn suppressions(&self, after_key: &str, limit: u32) -> Vec<Suppression>;
        /// Suppress an address (logged). False if it was already suppressed.
        fn add_suppression(&self, s: &Suppression) -> bool;
        /// Record opens and clicks (one transaction for the batch); an `unsubscribe` record also
        /// suppresses the delivery's address (`unsubscribed`). Records of unknown deliveries are
        /// dropped. Returns how many were recorded.
        fn record_engagement(&self, batch: &[EngagementRecord]) -> u64;
        /// The events of these deliveries, oldest first.
        fn events(&self, deliveries: &[DeliveryId]) -> Vec<(DeliveryId, EventRow)>;
        /// Lift a suppression (logged). False if the address was not suppressed.
        fn remove_suppression(&self, email_key: &str, source: &str, at_ms: i64) -> bool;
    }
}

store_area! {
    /// Seed mailboxes and inbox placement (`shared/seeds.rs`).
    pub trait SeedStore {
        fn add_seed(&self, s: &NewSeed) -> i64;
        fn seeds(&self) -> Vec<Seed>;
        /// Stop sending to a seed (its past placements stay). False if unknown.
        fn remove_seed(&self, address: &str) -> bool;
        /// Record a poll of a seed's mailbox and its error, if it failed.
        fn seed_polled(&self, id: i64, at_ms: i64, error: Option<&str>) -> ();
        /// Seed copies that were delivered and have no placement yet.
        fn pending_placements(&self) -> Vec<PendingPlacement>;
        /// Every seed copy of a campaign with its placement, if known.
        fn placements(&self, campaign: CampaignId) -> Vec<SeedPlacement>;
    }
}

store_area! {
    /// Users, sessions and API tokens (`shared/users.rs`).
    pub trait UserStore {
        fn add_user(&self, u: &NewUser) -> i64;
        fn user_by_email(&self, email: &str) -> Option<User>;
        fn create_session(&self, s: &NewSession) -> ();
        /// The user and CSRF token of an unexpired session.
        fn session(&self, token_hash: &str, now_ms: i64) -> Option<(User, String)>;
        fn delete_session(&self, token_hash: &str) -> ();
        /// A new API token (`expires_at_ms`: None never expires).
        fn create_api_token(
            &self,
            token_hash: &str,
            user: i64,
            name: &str,
            at_ms: i64,
            expires_at_ms: Option<i64>,
        ) -> ();
        /// API tokens (all, or one user's), by user and age.
        fn api_tokens(&self, user_email: Option<&str>) -> Vec<ApiToken>;
        /// Revoke a user's tokens named `name`. Returns how many there were.
        fn revoke_api_tokens(&self, user: i64, name: &str) -> u64;
        /// End every session of a user (a password reset). Returns how many there were.
        fn end_sessions(&self, user: i64) -> u64;
        /// Remove a user with its sessions and tokens.
        fn remove_user(&self, user: i64) -> ();
        /// Every user, by address.
        fn users(&self) -> Vec<User>;
        fn user_by_api_token(&self, token_hash: &str, now_ms: i64) -> Option<User>;
    }
}

store_area! {
    /// Sending domains' re-verification (drift) and the nodes that ran on this database
    /// (`shared/domains.rs`).
    pub trait DomainStore {
        /// Register a starting node. Refused — the live record is returned — when a node of the
        /// same name with another owner sent a heartbeat at or after `stale_before_ms`.
        fn register_node(&self, n: &NodeRecord, stale_before_ms: i64) -> Option<NodeRecord>;
        /// A running node's heartbeat; false if the record is no longer this owner's.
        fn node_heartbeat(&self, name: &str, owner: &str, at_ms: i64) -> bool;
        /// Every node that ever ran on this database, by name.
        fn nodes(&self) -> Vec<NodeRecord>;
        /// Store the latest re-verification of a domain. When its result differs from the last one
        /// (or it is the first), a [`DomainEvent`] is appended too; returns whether it changed.
        fn record_domain_check(&self, c: &DomainCheck) -> bool;
        /// The latest check of every domain that was ever re-verified.
        fn domain_checks(&self) -> Vec<DomainCheck>;
        /// The newest changes of a domain's verification first.
        fn domain_events(&self, domain: &str, limit: u32) -> Vec<DomainEvent>;
    }
}

store_area! {
    /// Erasure and right of access (GDPR), contact deletion, key checks (`shared/privacy.rs`).
    pub trait PrivacyStore {
        /// Erase one person (GDPR): their contact, fields, memberships and consent records go;
        /// their delivery records stay for the counts with the address replaced; evidence, event
        /// details and inbound messages lose the address, IPs and user agents; the suppression list
        /// keeps them out by the erasure token alone. One transaction.
        fn erase_person(&self, e: &Erasure) -> EraseOutcome;
        /// What the database holds on one person besides the contact timeline (right of access).
        /// `needles`: the address's spellings, to find inbound messages not tied to a delivery.
        fn person_record(&self, email_key: &str, needles: &[String]) -> PersonRecord;
        /// Delete a contact (`contacts delete`): its fields, memberships and consent records go;
        /// the deliveries to it stay, under their address. False when there is no such contact.
        fn delete_contact(&self, email_key: &str) -> bool;
        /// Keep `check` as the check value of the key `name` unless one is kept already; the one
        /// kept (a different one: the key given is not the key this database was used with).
        fn claim_key_check(&self, name: &str, check: &str, at_ms: i64) -> String;
        /// The check value kept for the key `name`, if any.
        fn key_check(&self, name: &str) -> Option<String>;
    }
}

store_area! {
    /// Outbound webhooks: endpoints and their outbox (see [`crate::webhooks`];
    /// `shared/webhooks.rs`).
    pub trait WebhookStore {
        fn add_endpoint(&self, e: &NewEndpoint) -> i64;
        /// Every endpoint, by id.
        fn endpoints(&self) -> Vec<Endpoint>;
        fn endpoint(&self, id: i64) -> Option<Endpoint>;
        /// Remove an endpoint and its outbox (what was not posted is dropped); false if unknown.
        fn remove_endpoint(&self, id: i64) -> bool;
        /// Lease up to `limit` due events (oldest first) to `owner` until `lease_until_ms`.
        fn claim_webhooks(
            &self,
            owner: &str,
            now_ms: i64,
            lease_until_ms: i64,
            limit: u32,
        ) -> Vec<OutboxClaim>;
        /// Record posts' results, each only while `owner` still holds its lease (otherwise
        /// another node has it now and its result counts). Returns how many were recorded.
        fn finish_webhooks(&self, owner: &str, results: &[OutboxResult]) -> u64;
        /// An endpoint's events, newest first, before the event id `before` (paging).
        fn webhook_log(&self, endpoint: i64, before: Option<i64>, limit: u32) -> Vec<OutboxEntry>;
        /// Post events again: they become pending and due at `now_ms`. Returns how many.
        fn replay_webhooks(&self, endpoint: i64, which: Replay, now_ms: i64) -> u64;
        /// When the next pending event is due (None: nothing pending).
        fn next_webhook_due(&self) -> Option<i64>;
        /// Forget posted and given-up events that happened before `before_ms`; how many.
        fn prune_webhooks(&self, before_ms: i64) -> u64;
    }
}

store_area! {
    /// DMARC aggregate reports (`shared/dmarc.rs`).
    pub trait DmarcStore {
        /// Keep a report and its rows; false (nothing written) when a report with the same
        /// reporter, report id and domain is kept already.
        fn record_dmarc(&self, r: &NewDmarcReport) -> bool;
        /// Per domain and source IP, what the reports whose period ended at or after
        /// `since_ms` say (`domain` "": every domain); the biggest senders first per domain.
        fn dmarc_sources(&self, domain: &str, since_ms: i64) -> Vec<DmarcSource>;
        /// Per domain and reporting organisation, the reports whose period ended at or after
        /// `since_ms`: how many, their messages, the period, the policy the newest found.
        fn dmarc_reporters(&self, domain: &str, since_ms: i64) -> Vec<DmarcReporterRow>;
        /// Forget the reports whose period ended before `before_ms`; how many.
        fn prune_dmarc(&self, before_ms: i64) -> u64;
    }
}

store_area! {
    /// Warm-up allowances per From domain and UTC day (`shared/warmup.rs`).
    pub trait WarmupStore {
        /// The domain's place in its warm-up schedule on the UTC day `today` (ms / 86,400,000):
        /// 0 on its first day of sending. Fixed for the day (it counts earlier days only).
        fn warmup_day(&self, domain: &str, today: i64) -> u64;
        /// Take up to `want` of the domain's `cap` for `today`: how many were granted. Atomic
        /// across nodes. An allowance taken is spent even if a receiver's slow-down then holds
        /// the message: a warm-up errs on the side of sending less.
        fn take_warmup(&self, domain: &str, today: i64, want: u64, cap: u64) -> u64;
    }
}

store_area! {
    /// Idempotency keys of the JSON API (`shared/idempotency.rs`).
    pub trait IdempotencyStore {
        /// Take `key` for `user`'s request (`request_hash`), or say what became of it: answered
        /// (the first answer to give again), still running, or used for another request.
        /// Keys older than 24 hours are forgotten first.
        fn claim_idempotency(&self, user: &str, key: &str, request_hash: &str, now_ms: i64) -> IdempotentClaim;
        /// Keep the answer to a claimed key (status, JSON body), or, `None`, free the key (the
        /// request failed on our side: a retry should run it).
        fn answer_idempotency(&self, user: &str, key: &str, answer: Option<(u16, &str)>) -> ();
    }
}

store_area! {
    /// Settings changed at run time (`shared/runtime_settings.rs`): overrides of herald.toml
    /// values that every node reads again every few seconds.
    pub trait RuntimeSettingsStore {
        /// Every override, by name.
        fn runtime_settings(&self) -> Vec<RuntimeSetting>;
        /// Set (or replace) an override.
        fn set_runtime_setting(&self, s: &RuntimeSetting) -> ();
        /// Remove an override (back to the file's value); false if there was none.
        fn reset_runtime_setting(&self, name: &str) -> bool;
    }
}

store_area! {
    /// Saved templates (`shared/templates.rs`).
    pub trait TemplateStore {
        /// Every template, by name.
        fn templates(&self) -> Vec<TemplateRecord>;
        fn template(&self, name: &str) -> Option<TemplateRecord>;
        /// Save (or replace) a template by its name; true when it is new.
        fn save_template(&self, t: &TemplateRecord) -> bool;
        /// False when there is no such template.
        fn delete_template(&self, name: &str) -> bool;
    }
}

store_area! {
    /// A campaign's attachments (`shared/attachments.rs`); changed only while it is a draft.
    pub trait AttachmentStore {
        /// The campaign's attachments by name, without their content.
        fn attachments(&self, campaign: CampaignId) -> Vec<AttachmentMeta>;
        /// The same with their content (the sender reads them once per campaign).
        fn attachment_contents(&self, campaign: CampaignId) -> Vec<Attachment>;
        /// Attach (or replace by name) while the campaign is a draft and every attachment
        /// together stays within `max_total` bytes: checked and written in one transaction.
        fn add_attachment(
            &self,
            campaign: CampaignId,
            a: &Attachment,
            max_total: i64,
            now_ms: i64,
        ) -> Attached;
        /// Remove by name while a draft: `Some(true)` removed, `Some(false)` no such file,
        /// `None` not a draft (nothing changed).
        fn remove_attachment(&self, campaign: CampaignId, name: &str, now_ms: i64) -> Option<bool>;
        /// Copy every attachment of `from` to `to` (a duplicated campaign).
        fn copy_attachments(&self, from: CampaignId, to: CampaignId, now_ms: i64) -> u64;
    }
}
