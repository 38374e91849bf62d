//! Records of campaigns, deliveries and what came back about them.

use super::*;
use herald_domain::{AttemptOutcome, DeliveryState, EventKind, Evidence, SuppressionReason};

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
    /// A campaign a user wrote, or the carrier of a list's own messages.
    pub kind: herald_domain::CampaignKind,
    /// Only the list's members this segment selects get it: (name, rule as it was when set).
    pub segment: Option<(String, String)>,
    /// The list's members this segment selects are recorded `not_sent: excluded`.
    pub exclude: Option<(String, String)>,
    /// The lists it also goes to (each person once), by name.
    pub also_lists: Vec<(ListId, String)>,
    /// The lists whose subscribed members are recorded `not_sent: excluded`.
    pub exclude_lists: Vec<(ListId, String)>,
    /// Why it was sent despite a spam-complaint rate past 0.3 %, and by whom, if it was.
    pub complaint_override: Option<String>,
    /// Its A/B test (JSON, the engine's `campaign::ab::AbTest`), if it has one.
    pub ab: Option<String>,
    /// When the A/B test's winner is picked (set when the send starts).
    pub ab_decide_at_ms: Option<i64>,
    /// The variant that won (0: the campaign's own content, 1: B, …), once picked.
    pub ab_winner: Option<u32>,
    /// The figures the winner was picked on (JSON).
    pub ab_result: Option<String>,
    /// Shown on its public archive page (once its send started).
    pub archive: bool,
}

/// One A/B test variant's figures so far: its recipients (the test group's), how many were
/// delivered (or relayed), and how many a person opened and clicked (machine opens never
/// count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbFigures {
    pub variant: u32,
    pub recipients: u64,
    pub delivered: u64,
    pub opened: u64,
    pub clicked: u64,
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
    /// A copy for a seed mailbox (no contact: its fields are empty).
    pub seed: bool,
    /// Its state and reason when claimed (queued or deferred): what a claim given back
    /// unattempted (its campaign was paused) restores.
    pub state: herald_domain::DeliveryState,
    pub reason: Option<String>,
    /// The suppression list's reason for its address now, if it is on it: the recipient
    /// unsubscribed or complained after the audience was snapshotted (a delivery can wait
    /// hours — a retry, a recipient's local time), so it is not sent.
    pub suppressed: Option<SuppressionReason>,
    /// Its A/B test variant (None: the campaign has no test, or the recipient gets the
    /// winner).
    pub variant: Option<u32>,
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
    /// The attempt to append, if one was made (its outcome and evidence). The delivery's
    /// first-attempt time (which starts the expiry clock) is taken from the first of these;
    /// a record without an attempt leaves it unset.
    pub attempt: Option<(AttemptOutcome, Evidence)>,
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
    /// A copy for a seed mailbox.
    pub seed: bool,
    /// Its A/B test variant (None: no test, or the winner).
    pub variant: Option<u32>,
}

/// One effect of an inbound message on one delivery.
#[derive(Debug, Clone)]
pub struct FeedbackEffect {
    pub delivery: DeliveryId,
    pub campaign: CampaignId,
    pub email_key: String,
    /// `async_bounce`, `complaint`, `autoreply`, `delayed`, …
    pub kind: EventKind,
    pub at_ms: i64,
    /// JSON object shown with the event.
    pub detail: String,
    /// Move a delivered (or still pending) delivery to `bounced` with this reason and hardness.
    pub bounce: Option<(String, bool)>,
    /// Suppress the address for this reason.
    pub suppress: Option<SuppressionReason>,
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
    pub reason: SuppressionReason,
    /// Who added it: `manual`, `bounce:<delivery id>`, `complaint:<delivery id>`, …
    pub source: String,
    pub created_at_ms: i64,
}

/// An event attached to a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub kind: EventKind,
    pub at_ms: i64,
    pub detail: String,
}

/// An open, click or unsubscribe through the public HTTP endpoints.
#[derive(Debug, Clone)]
pub struct EngagementRecord {
    pub delivery: DeliveryId,
    /// `open`, `click` or `unsubscribe` (or `placement`, read from a seed's mailbox).
    pub kind: EventKind,
    pub at_ms: i64,
    /// JSON object: verdict, reason, user agent, ip, url …
    pub detail: String,
}

/// One SMTP attempt, as recorded.
#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub outcome: AttemptOutcome,
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

/// How many `kind` (an attempt outcome or an event kind) happened in one minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelinePoint {
    pub minute: i64,
    pub kind: String,
    pub n: u64,
}

/// How many `kind` happened on one UTC day in one campaign at one receiving provider (see the
/// `health_daily` migration for the kinds and providers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthRow {
    pub day: i64,
    pub campaign: CampaignId,
    pub campaign_name: String,
    pub from_address: String,
    pub provider: String,
    pub kind: String,
    pub n: u64,
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
