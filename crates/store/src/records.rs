//! Plain records passed to and from the store.

use std::fmt;
use std::str::FromStr;

use herald_domain::{DeliveryState, Evidence};

macro_rules! id {
    ($name:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse().map($name)
            }
        }
    };
}
id!(ListId);
id!(CampaignId);
id!(DeliveryId);

/// A contact to insert or merge.
#[derive(Debug, Clone)]
pub struct NewContact {
    pub email: String,
    pub email_key: String,
    /// JSON object text.
    pub fields: String,
    /// The address's erasure token (`herald_mail::erasure`): a row whose token is on the
    /// suppression list (the person was erased) is refused, in the same transaction.
    pub erased_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub inserted: u64,
    pub updated: u64,
    /// Address keys refused because the person was erased.
    pub refused: Vec<String>,
}

/// A list member as the audience stage sees it.
#[derive(Debug, Clone)]
pub struct AudienceMember {
    pub contact_id: i64,
    pub email: String,
    pub email_key: String,
    /// The contact's fields (JSON object text).
    pub fields: String,
    /// The suppression list's reason, if the address is on it.
    pub suppression: Option<String>,
    /// A hard bounce of this address in an earlier campaign.
    pub hard_bounced_before: bool,
    /// Where the contact stands on this list.
    pub status: herald_domain::MemberStatus,
    /// Matches the campaign's exclusion rule (`not_sent: excluded`).
    pub excluded: bool,
}

/// A list as created or changed (design §6b).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewList {
    pub name: String,
    /// Public sign-up form at `/s/{slug}`; `None`: no public form.
    pub slug: Option<String>,
    pub description: String,
    pub opt_in: herald_domain::OptIn,
    /// The fields its sign-up form asks for (besides the address), in order.
    pub form_fields: Vec<String>,
    /// Sender of its confirmation messages (`Name`, address).
    pub from_name: Option<String>,
    pub from_address: Option<String>,
}

/// A stored list with its members counted by standing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRecord {
    pub id: ListId,
    pub list: NewList,
    pub created_at_ms: i64,
    pub subscribed: u64,
    pub pending: u64,
    pub unsubscribed: u64,
}

/// A person joining a list (a sign-up form, the API, the CLI).
#[derive(Debug, Clone)]
pub struct SignUp {
    pub list: ListId,
    pub email: String,
    pub email_key: String,
    /// Fields given (JSON object text): a new contact gets them at once; an existing contact's
    /// fields change only once the sign-up is confirmed (a stranger cannot rename a member).
    pub fields: String,
    /// `form:<slug>`, `api`, `cli`.
    pub source: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// What the person agreed to, as shown to them.
    pub form_text: String,
    /// The standing a new (or returning) member gets: `pending` on a double opt-in list.
    pub status: herald_domain::MemberStatus,
    pub at_ms: i64,
    /// The address's erasure token: an erased person is refused (`StoreError::Erased`).
    pub erased_token: Option<String>,
}

/// What a sign-up changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedUp {
    pub contact_id: i64,
    /// The standing before (`None`: not a member).
    pub before: Option<herald_domain::MemberStatus>,
    pub now: herald_domain::MemberStatus,
    /// The consent record this sign-up added (none when nothing changed).
    pub consent: Option<i64>,
}

/// A confirmation message to queue for a pending member.
#[derive(Debug, Clone)]
pub struct NewConfirmation {
    pub list: ListId,
    pub contact_id: i64,
    pub email: String,
    pub email_key: String,
    pub domain: String,
    pub message_id: String,
    /// The campaign that carries the list's confirmations, if one must be created.
    pub campaign: NewCampaign,
    /// The sign-up's consent record: the one this message's link confirms.
    pub consent: Option<i64>,
    /// No new message when one went to this address for this list after this time…
    pub not_since_ms: i64,
    /// …or when `max_in_window` went after `window_since_ms`.
    pub window_since_ms: i64,
    pub max_in_window: u32,
    pub at_ms: i64,
}

/// A confirmed sign-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmed {
    pub list: ListId,
    pub list_name: String,
    pub email: String,
    /// `false` when the member was already subscribed (a second click).
    pub newly: bool,
}

/// What the preference centre shows a contact (reached through one of their deliveries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    pub contact_id: i64,
    pub email: String,
    /// The contact's fields (JSON object text).
    pub fields: String,
    /// Every list they are (or were) a member of, by name.
    pub memberships: Vec<Membership>,
    /// The suppression list's reason, if the address is on it.
    pub suppressed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub list: ListId,
    pub name: String,
    pub status: herald_domain::MemberStatus,
    /// The fields the list's form asks for (the ones a member may change).
    pub form_fields: Vec<String>,
}

/// Changes a contact makes in the preference centre.
#[derive(Debug, Clone)]
pub struct PreferenceChange {
    /// Lists to leave or (re)join; only lists they are a member of are changed.
    pub lists: Vec<(ListId, herald_domain::MemberStatus)>,
    /// Fields to merge (JSON object text; only fields their lists ask for).
    pub fields: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub at_ms: i64,
}

/// One contact as `contacts export` writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRow {
    pub contact_id: i64,
    pub email: String,
    /// JSON object text.
    pub fields: String,
    /// Its lists with its standing on each ("name<TAB>status" per line), or, when exporting one
    /// list, that list only.
    pub memberships: Vec<(String, herald_domain::MemberStatus)>,
    pub suppression: Option<String>,
    /// The newest consent record on the exported list (or any list): source, when, confirmed when.
    pub consent: Option<(String, i64, Option<i64>)>,
    pub created_at_ms: i64,
}

/// One consent record of a contact on a list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConsentRecord {
    pub list: String,
    pub source: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub form_text: String,
    pub created_at_ms: i64,
    pub confirmed_at_ms: Option<i64>,
    pub confirm_ip: Option<String>,
}

/// Where a campaign is in its life: `draft` (⇄ `scheduled`) → `sending` ⇄ `paused` → `sent`,
/// or `sending`/`paused` → `cancelled` (the rest of its recipients `not_sent: cancelled`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignStatus {
    Draft,
    /// A draft that `serve` starts at its `scheduled_at` (it can still be changed).
    Scheduled,
    Sending,
    /// No new attempts; the deliveries keep their places and resume continues them.
    Paused,
    Sent,
    Cancelled,
}

impl CampaignStatus {
    pub const ALL: [CampaignStatus; 6] = [
        Self::Draft,
        Self::Scheduled,
        Self::Sending,
        Self::Paused,
        Self::Sent,
        Self::Cancelled,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Sending => "sending",
            Self::Paused => "paused",
            Self::Sent => "sent",
            Self::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Added to the `next_attempt_at` of a paused campaign's waiting deliveries, so they sort
/// after all due work and claims never walk over them (a paused million would otherwise be
/// read on every claim of other campaigns); resume takes it off again. Larger than any real
/// time in ms (year 33658), so a shifted value is recognised by being at least this.
pub const PAUSE_SHIFT_MS: i64 = 1_000_000_000_000_000;

/// A `next_attempt_at` as the time it stands for: without the pause shift, if it has one.
pub fn unshifted(next_attempt_at_ms: i64) -> i64 {
    if next_attempt_at_ms >= PAUSE_SHIFT_MS {
        next_attempt_at_ms - PAUSE_SHIFT_MS
    } else {
        next_attempt_at_ms
    }
}

#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub name: String,
    pub list: ListId,
    pub from_name: Option<String>,
    pub from_address: String,
    pub subject: String,
    pub html: String,
    pub text: Option<String>,
    pub created_at_ms: i64,
    /// Why the From-alignment gate was bypassed, when it was.
    pub gate_override: Option<String>,
    pub track_opens: bool,
    pub track_clicks: bool,
    pub send_to_seeds: bool,
    /// `Reply-To` of its messages (`Name <address>` or an address), if set.
    pub reply_to: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub list: ListId,
    pub list_name: String,
    pub from_name: Option<String>,
    pub from_address: String,
    pub subject: String,
    pub html: String,
    pub text: Option<String>,
    pub status: CampaignStatus,
    pub gate_override: Option<String>,
    pub track_opens: bool,
    pub track_clicks: bool,
    pub send_to_seeds: bool,
    pub created_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    /// When a scheduled campaign starts (or was due, once started), and the zone it was given in.
    pub scheduled_at_ms: Option<i64>,
    pub schedule_tz: Option<String>,
    /// Why its scheduled start was refused (it is a draft again), if it was.
    pub schedule_error: Option<String>,
    /// `Reply-To` of its messages, if set.
    pub reply_to: Option<String>,
    /// The last pre-send check (JSON), if one ran.
    pub presend_check: Option<String>,
    /// Sent in each recipient's local time: the local date and time (`2026-12-10T09:00`)
    /// every recipient gets it at, in their own zone.
    pub local_time: Option<String>,
    /// A list's confirmation messages rather than a campaign a user wrote.
    pub confirmation: bool,
    /// Only the list's members this segment selects get it: (name, rule as it was when set).
    pub segment: Option<(String, String)>,
    /// The list's members this segment selects are recorded `not_sent: excluded`.
    pub exclude: Option<(String, String)>,
}

/// One recipient of a campaign, as snapshotted from the audience.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub campaign: CampaignId,
    pub contact_id: Option<i64>,
    pub email: String,
    pub email_key: String,
    pub domain: String,
    pub state: DeliveryState,
    pub reason: Option<String>,
    pub message_id: String,
    pub next_attempt_at_ms: Option<i64>,
    pub updated_at_ms: i64,
    /// A copy to a seed mailbox rather than to a contact.
    pub seed_id: Option<i64>,
}

pub struct ClaimRequest<'a> {
    pub owner: &'a str,
    pub now_ms: i64,
    pub lease_until_ms: i64,
    pub limit: u32,
    /// Only this campaign's deliveries (the CLI's `campaign send`), or all.
    pub campaign: Option<CampaignId>,
}

/// A leased delivery with what rendering and sending need.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: DeliveryId,
    pub campaign: CampaignId,
    pub email: String,
    pub domain: String,
    pub message_id: String,
    pub attempts: u32,
    pub first_attempt_at_ms: Option<i64>,
    pub possible_duplicate: bool,
    /// The contact's fields (JSON object text); "{}" when the contact is gone.
    pub fields: String,
    /// Its state and reason when claimed (queued or deferred): what a claim given back
    /// unattempted (its campaign was paused) restores.
    pub state: herald_domain::DeliveryState,
    pub reason: Option<String>,
    /// The suppression list's reason for its address now, if it is on it: the recipient
    /// unsubscribed or complained after the audience was snapshotted (a delivery can wait
    /// hours — a retry, a recipient's local time), so it is not sent.
    pub suppressed: Option<String>,
}

/// The result of one attempt (or a decision without one) for a leased delivery.
#[derive(Debug, Clone)]
pub struct OutcomeRecord {
    pub delivery: DeliveryId,
    pub campaign: CampaignId,
    pub state: DeliveryState,
    pub reason: Option<String>,
    pub hard: bool,
    pub next_attempt_at_ms: Option<i64>,
    /// The attempt to append, if one was made ("outcome" name and evidence). The delivery's
    /// first-attempt time (which starts the expiry clock) is taken from the first of these;
    /// a record without an attempt leaves it unset.
    pub attempt: Option<(String, Evidence)>,
    pub at_ms: i64,
}

/// Per-state counts of one campaign.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateCounts {
    pub by_state: Vec<(DeliveryState, u64)>,
    /// Deliveries with at least one event of each kind (`complaint`, `async_bounce`, …).
    pub events: Vec<(String, u64)>,
    /// `not_sent` deliveries per reason.
    pub not_sent_reasons: Vec<(String, u64)>,
}

impl StateCounts {
    pub fn get(&self, s: DeliveryState) -> u64 {
        self.by_state
            .iter()
            .find(|(k, _)| *k == s)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }
    pub fn total(&self) -> u64 {
        self.by_state.iter().map(|(_, n)| n).sum()
    }
    pub fn with_event(&self, kind: &str) -> u64 {
        self.events
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }
    /// Deliveries not yet in a final state.
    pub fn unfinished(&self) -> u64 {
        self.by_state
            .iter()
            .filter(|(k, _)| !k.is_final())
            .map(|(_, n)| n)
            .sum()
    }
}

/// One recipient row of a report, with its last attempt's evidence.
#[derive(Debug, Clone)]
pub struct RecipientRow {
    pub id: DeliveryId,
    pub email: String,
    pub state: DeliveryState,
    pub reason: Option<String>,
    pub hard: bool,
    pub attempts: u32,
    pub possible_duplicate: bool,
    pub message_id: String,
    pub next_attempt_at_ms: Option<i64>,
    pub evidence: Option<Evidence>,
}

/// Where a delivery stands, for attaching feedback to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRef {
    pub id: DeliveryId,
    pub campaign: CampaignId,
    pub email: String,
    pub email_key: String,
    pub state: DeliveryState,
}

/// One effect of an inbound message on one delivery.
#[derive(Debug, Clone)]
pub struct FeedbackEffect {
    pub delivery: DeliveryId,
    pub campaign: CampaignId,
    pub email_key: String,
    /// `async_bounce`, `complaint`, `autoreply`, `delayed`.
    pub kind: &'static str,
    pub at_ms: i64,
    /// JSON object shown with the event.
    pub detail: String,
    /// Move a delivered (or still pending) delivery to `bounced` with this reason and hardness.
    pub bounce: Option<(String, bool)>,
    /// Suppress the address with this not-sent reason.
    pub suppress: Option<String>,
    /// Suppress with `previously_bounced` when the address's last N deliveries all ended in a
    /// soft bounce (this one included).
    pub soft_bounce_limit: Option<u32>,
    /// Move a `relayed` delivery to `delivered`: its relay reports the next server took it.
    pub delivered: bool,
}

/// Deliveries waiting to be sent (queued or deferred), grouped by destination domain, state,
/// reason and their campaign's status (`herald queue`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingGroup {
    pub domain: String,
    pub state: DeliveryState,
    /// Why it waits: the last attempt's reason (`greylisted`, `authfailure`, …), if any.
    pub reason: Option<String>,
    /// Its campaign's status (`sending`, `paused`, …).
    pub campaign_status: String,
    pub count: u64,
    /// The earliest next attempt among them.
    pub next_attempt_at_ms: Option<i64>,
    /// How many a node holds a lease on now (being sent).
    pub in_flight: u64,
}

/// One event of a provider's webhook post, applied at most once.
#[derive(Debug, Clone)]
pub struct WebhookEvent {
    /// Unique per provider (its event id, or a digest of the event): a repeat is skipped.
    pub key: String,
    pub effects: Vec<FeedbackEffect>,
}

/// A provider's webhook post (one request), kept raw like an inbound message.
#[derive(Debug, Clone)]
pub struct WebhookPost {
    pub received_at_ms: i64,
    /// `mailgun`, `postmark`, `sendgrid`, `brevo`.
    pub provider: String,
    /// JSON summary (event counts by kind).
    pub summary: String,
    pub raw: Vec<u8>,
    pub events: Vec<WebhookEvent>,
}

/// What a webhook post changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebhookIngest {
    pub applied: u64,
    /// Events seen before (a retry or a replay): nothing changed for them.
    pub duplicates: u64,
}

/// A message the inbound listener accepted, with what it means.
#[derive(Debug, Clone)]
pub struct InboundRecord {
    pub received_at_ms: i64,
    pub mail_from: String,
    pub rcpt_to: String,
    pub delivery: Option<DeliveryId>,
    pub kind: String,
    /// JSON of the classification.
    pub summary: String,
    pub raw: Vec<u8>,
    pub effects: Vec<FeedbackEffect>,
}

/// An address Herald will not mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub email_key: String,
    /// A not-sent reason: unsubscribed, previously_bounced, complained, suppressed.
    pub reason: String,
    /// Who added it: `manual`, `bounce:<delivery id>`, `complaint:<delivery id>`, …
    pub source: String,
    pub created_at_ms: i64,
}

/// An event attached to a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub kind: String,
    pub at_ms: i64,
    pub detail: String,
}

/// An open, click or unsubscribe through the public HTTP endpoints.
#[derive(Debug, Clone)]
pub struct EngagementRecord {
    pub delivery: DeliveryId,
    /// `open`, `click` or `unsubscribe`.
    pub kind: &'static str,
    pub at_ms: i64,
    /// JSON object: verdict, reason, user agent, ip, url …
    pub detail: String,
}

/// One SMTP attempt, as recorded.
#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub outcome: String,
    pub reason: Option<String>,
    pub started_at_ms: i64,
    pub ended_at_ms: i64,
    pub evidence: Evidence,
}

/// Everything recorded about one recipient of one campaign ("why didn't they get it?").
#[derive(Debug, Clone)]
pub struct DeliveryDetail {
    pub row: RecipientRow,
    pub campaign: CampaignId,
    pub email_key: String,
    /// The contact's personalisation fields (JSON object), when the contact still exists.
    pub fields: Option<String>,
    pub attempts: Vec<AttemptRow>,
    pub events: Vec<EventRow>,
    /// The address's entry on the suppression list now, if any: (reason, source, at).
    pub suppression: Option<(String, String, i64)>,
}

/// A seed mailbox to add.
#[derive(Debug, Clone)]
pub struct NewSeed {
    pub provider: String,
    pub address: String,
    pub imap_host: String,
    pub imap_port: u16,
    pub username: String,
    /// `tls`, `starttls` or `plain`.
    pub security: String,
    pub created_at_ms: i64,
}

/// A seed mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    pub id: i64,
    pub provider: String,
    pub address: String,
    pub imap_host: String,
    pub imap_port: u16,
    pub username: String,
    pub security: String,
    pub enabled: bool,
    pub last_poll_at_ms: Option<i64>,
    pub last_error: Option<String>,
}

/// A delivered seed copy still waiting for its placement.
#[derive(Debug, Clone)]
pub struct PendingPlacement {
    pub delivery: DeliveryId,
    pub campaign: CampaignId,
    pub seed: Seed,
    pub message_id: String,
    /// When the seed's server accepted it.
    pub delivered_at_ms: i64,
}

/// A seed copy of a campaign and where it landed.
#[derive(Debug, Clone)]
pub struct SeedPlacement {
    pub seed: Seed,
    pub state: DeliveryState,
    /// inbox | junk | other:<folder> | missing; None while unknown.
    pub placement: Option<String>,
    pub folder: Option<String>,
    pub at_ms: Option<i64>,
}

/// A person who uses the UI or the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    /// `admin` (everything) or `viewer` (read only).
    pub role: herald_domain::Role,
}

/// An API token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub user: String,
    pub name: String,
    pub created_at_ms: i64,
    /// None: never expires.
    pub expires_at_ms: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub password_hash: String,
    pub role: herald_domain::Role,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub token_hash: String,
    pub user: i64,
    pub csrf: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// Which recipients of a campaign a page lists (the performance page's tabs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientFilter {
    All,
    /// Everyone Herald attempted (not `not_sent`).
    Sent,
    State(DeliveryState),
    /// With at least one event of this kind (`open`, `click` count human ones only).
    Event(String),
}

/// The latest re-verification of a connected domain (drift, design §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainCheck {
    pub domain: String,
    pub checked_at_ms: i64,
    pub ok: bool,
    /// What fails and what receivers will do because of it; empty when `ok`.
    pub problems: String,
    /// When `ok`/`problems` last changed (set by the store).
    pub changed_at_ms: i64,
}

/// A change in a domain's verification result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainEvent {
    pub at_ms: i64,
    pub ok: bool,
    pub problems: String,
}

/// A contact found by search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRow {
    pub email: String,
    pub email_key: String,
    /// JSON object of personalisation fields.
    pub fields: String,
    /// The lists it is on, by name.
    pub lists: Vec<String>,
    /// Its standing on each of them (same order as `lists`).
    pub statuses: Vec<herald_domain::MemberStatus>,
    pub created_at_ms: i64,
}

/// One campaign's delivery to a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactDelivery {
    pub delivery: DeliveryId,
    pub campaign: CampaignId,
    pub campaign_name: String,
    pub subject: String,
    pub state: herald_domain::DeliveryState,
    pub reason: Option<String>,
    pub attempts: u32,
    pub updated_at_ms: i64,
    /// The subject of the copy last handed over (personalised), when recorded.
    pub sent_subject: Option<String>,
}

/// How many `kind` (an attempt outcome or an event kind) happened in one minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelinePoint {
    pub minute: i64,
    pub kind: String,
    pub n: u64,
}

/// A node running `herald serve` on this database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    pub name: String,
    /// The lease owner of the running process.
    pub owner: String,
    pub helo_name: String,
    /// JSON array of the node's sending IPs.
    pub source_ips: String,
    pub started_at_ms: i64,
    pub heartbeat_at_ms: i64,
    /// It runs (ran) `herald serve --sandbox`.
    pub sandbox: bool,
}

/// One person's erasure (`herald contacts erase`): what to find and what replaces it.
#[derive(Debug, Clone)]
pub struct Erasure {
    pub email_key: String,
    /// The keyed hash that takes the address's place on the suppression list.
    pub token: String,
    /// What stands in for the address in the delivery records (counts stay whole).
    pub placeholder: String,
    /// Spellings of the address to blank wherever stored text holds them (evidence, event
    /// details, inbound messages), compared without regard to ASCII case.
    pub needles: Vec<String>,
    /// Who asked (`cli`, `api:<user>`, `ui:<user>`), for the suppression log.
    pub source: String,
    pub at_ms: i64,
}

/// What an erasure changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Erased {
    /// A contact record was removed (with its fields, memberships and consent records).
    pub contact: bool,
    pub memberships: u64,
    pub consents: u64,
    /// Delivery records kept for the counts, the address replaced.
    pub deliveries: u64,
    /// Of those, messages not yet sent, now `not_sent: suppressed`.
    pub cancelled: u64,
    pub attempts: u64,
    pub events: u64,
    /// Inbound messages (bounces, complaints, replies) emptied of their raw text.
    pub inbound: u64,
    /// Suppression-log entries re-keyed to the token.
    pub suppression_log: u64,
}

/// Whether an erasure could be done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EraseOutcome {
    Erased(Erased),
    /// Herald holds nothing on this address.
    Unknown,
    /// A message to the person is being handed over right now; try again when it is recorded.
    InFlight,
}

/// Everything the database holds on one person besides the contact timeline (right of access).
#[derive(Debug, Clone, Default)]
pub struct PersonRecord {
    /// (delivery, outcome, reason, started ms, ended ms, evidence JSON)
    pub attempts: Vec<(DeliveryId, String, Option<String>, i64, i64, String)>,
    pub inbound: Vec<InboundCopy>,
    /// (reason, source, created ms) on the suppression list.
    pub suppression: Option<(String, String, i64)>,
    /// (action, reason, source, at ms), oldest first.
    pub suppression_log: Vec<(String, String, String, i64)>,
}

/// An inbound message about one of the person's deliveries.
#[derive(Debug, Clone)]
pub struct InboundCopy {
    pub id: i64,
    pub delivery: Option<DeliveryId>,
    pub received_at_ms: i64,
    pub kind: String,
    pub mail_from: String,
    /// JSON object text.
    pub summary: String,
    pub raw: Vec<u8>,
}

/// A saved segment: a named rule (`herald_domain::segment`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRecord {
    pub name: String,
    /// The rule's text, as written.
    pub rule: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// Which contacts: those matching `include` (all when `None`) and not `exclude`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceFilter {
    pub include: Option<herald_domain::segment::Rule>,
    pub exclude: Option<herald_domain::segment::Rule>,
    /// What `within` counts back from.
    pub now_ms: i64,
}
