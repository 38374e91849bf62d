//! Every answer Herald gives, as one typed struct: the CLI's `--json`, the HTTP API's bodies
//! and the web UI's views are built from these (serde names are the interface's names: the
//! contract scripts rely on, documented in the README). The UI reads fields, never JSON keys: renaming a field here is a
//! compile error in every reader, and the API's OpenAPI schemas are generated from these types.
//!
//! Answers computed elsewhere in the engine are re-exported here, so this module is the one
//! list of them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

pub use crate::diagnose::{Diagnosis, Finding, Severity, TimelineEntry};
pub use crate::domains::DnsRecord;
pub use crate::domains::ips::IpReport;
pub use crate::domains::verify::{Check, Status as CheckStatus, Verification};
pub use crate::queue::TestSend;
pub use crate::reports::recipients::RecipientsPage;
pub use crate::reports::{
    CampaignReport, CampaignSummary, Counts, EvidenceReport, FromAddress, RecipientReport,
};

/// `campaign show --json`, the API's campaign details and the UI's "See details": how the
/// campaign is (or will be) sent.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CampaignDetails {
    pub id: String,
    pub name: String,
    pub subject: String,
    pub from: FromAddress,
    /// The From address's domain.
    pub sending_domain: String,
    pub list: String,
    pub status: String,
    /// Why the campaign may send although its domain did not verify (None: it verified).
    pub gate_override: Option<String>,
    /// Why it was sent despite a spam-complaint rate past 0.3 %, and by whom.
    pub complaint_override: Option<String>,
    /// `Reply-To` of its messages, if set.
    pub reply_to: Option<String>,
    /// The `List-Id` header its messages carry (RFC 2919).
    pub list_id: String,
    /// The last pre-send check (at create, schedule, send or `campaign check`), if one ran.
    pub check: Option<CampaignCheck>,
    pub dkim: Dkim,
    /// The envelope sender's domain (`b+<token>@<it>`), where bounces come back; None: the
    /// From address is the return path and bounces are not collected.
    pub return_path_domain: Option<String>,
    /// The last re-verification of the signing domain by `serve`.
    pub domain_verification: Option<DomainVerification>,
    /// Addresses the installation sends from (empty: chosen by the system per connection).
    pub sending_ips: Vec<String>,
    pub helo_name: String,
    /// Its public archive page, while it is published (shown once its send started).
    pub archive_url: Option<String>,
    /// Files every copy carries.
    pub attachments: Vec<crate::campaign::attachments::AttachmentView>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// How messages From the campaign's domain are signed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Dkim {
    pub status: DkimStatus,
    /// The signing domain (d=), when signing.
    pub d: Option<String>,
    /// The selectors (RSA, Ed25519), when signing.
    pub selectors: Vec<String>,
    /// Why the keys cannot be used, when `keys_unusable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DkimStatus {
    Signing,
    NotConnected,
    KeysUnusable,
}

/// The last re-verification of a campaign's signing domain.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DomainVerification {
    pub checked_at: String,
    pub ok: bool,
    pub problems: String,
    /// The failure holds this campaign's sends (it was not created with the gate override).
    pub sends_held: bool,
}

/// A connected domain as `domain list --json`, the API and the domains page show it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DomainStatus {
    pub domain: String,
    pub selector: String,
    /// A rotation waiting for its records.
    pub pending_selector: Option<String>,
    /// What to publish (as `domain add` printed it, without an existing SPF record merged).
    pub records: Vec<DnsRecord>,
    /// The last re-verification by `serve`, if any.
    pub last_check: Option<LastCheck>,
    /// Recorded changes of the verification result, newest first.
    pub changes: Vec<DomainChange>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LastCheck {
    pub at: String,
    pub ok: bool,
    /// Why new sends From the domain are held; empty when it verifies.
    pub problems: String,
    pub held: bool,
    pub since: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DomainChange {
    pub at: String,
    pub ok: bool,
    pub problems: String,
}

/// `herald ips --json` and `GET /api/v1/ips`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct IpsReport {
    pub ips: Vec<IpReport>,
    /// The IPs were detected (the system's route to the Internet), not configured.
    pub detected: bool,
    /// Every node registered on the database, with its sending IPs (allowlist them all).
    pub nodes: Vec<NodeIps>,
    pub blocklists: Vec<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NodeIps {
    pub name: String,
    pub helo_name: String,
    pub source_ips: Vec<String>,
    pub heartbeat_at: String,
}

/// One campaign in a list, with its counts.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CampaignEntry {
    pub campaign: CampaignSummary,
    pub counts: Counts,
}

/// A contact as the API and the contact page show it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ContactView {
    pub email: String,
    /// The contact's fields (from imports), by name.
    pub fields: BTreeMap<String, FieldValue>,
    /// The lists it is on.
    pub lists: Vec<String>,
    /// Its standing on each list: `subscribed`, `pending` (not confirmed yet), `unsubscribed`.
    pub memberships: Vec<MembershipView>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MembershipView {
    pub list: String,
    pub status: String,
}

/// How a contact came onto a list: a sign-up form, the CLI or API, the preference centre.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ConsentView {
    pub list: String,
    /// `form:<slug>`, `cli`, `api`, `preferences`.
    pub source: String,
    pub at: String,
    /// As `[tracking] ip` keeps IP addresses.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// What the person agreed to, as shown to them.
    pub text: String,
    /// When they confirmed (double opt-in), if they did.
    pub confirmed_at: Option<String>,
    pub confirm_ip: Option<String>,
}

/// A contact field's value: text as imported, or another JSON value kept as it was.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum FieldValue {
    Text(String),
    Other(serde_json::Value),
}

impl FieldValue {
    /// The value as a person reads it (text as is, anything else as JSON; null as nothing).
    pub fn text(&self) -> String {
        match self {
            FieldValue::Text(s) => s.clone(),
            FieldValue::Other(serde_json::Value::Null) => String::new(),
            FieldValue::Other(v) => v.to_string(),
        }
    }
}

/// `GET /api/v1/contacts/{email}` and the contact page: a contact's deliveries across
/// campaigns, newest campaign first, each with its events.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ContactTimeline {
    pub email: String,
    /// None when the address was a recipient but is no longer a contact.
    pub contact: Option<ContactView>,
    /// Consent records, oldest first (contacts imported from a file have none).
    pub consents: Vec<ConsentView>,
    pub deliveries: Vec<ContactDeliveryView>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ContactDeliveryView {
    pub campaign: CampaignRef,
    /// The subject this contact's copy had (personalised); the campaign's template when no
    /// copy was made.
    pub subject: String,
    pub state: String,
    pub reason: Option<String>,
    pub attempts: u32,
    pub updated_at: String,
    pub events: Vec<EventView>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CampaignRef {
    pub id: String,
    pub name: String,
    pub subject: String,
}

/// One recorded event (open, click, bounce, complaint…) of a delivery.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EventView {
    pub kind: String,
    pub at: String,
    /// What was recorded with it (its shape depends on the kind).
    pub detail: serde_json::Value,
}

impl EventView {
    /// `human` or `machine` for opens and clicks.
    pub fn verdict(&self) -> Option<&str> {
        self.detail.get("verdict").and_then(|v| v.as_str())
    }

    /// The event as one line: `open (machine) 2026-…`.
    pub fn summary(&self) -> String {
        match self.verdict() {
            Some(v) if !v.is_empty() => format!("{} ({v}) {}", self.kind, self.at),
            _ => format!("{} {}", self.kind, self.at),
        }
    }
}

/// One suppressed address (`suppressions list --json`, the API).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SuppressionView {
    pub email: String,
    pub reason: String,
    pub source: String,
    pub at: String,
}

impl From<&herald_store::Suppression> for SuppressionView {
    fn from(s: &herald_store::Suppression) -> Self {
        SuppressionView {
            email: s.email_key.clone(),
            reason: s.reason.to_string(),
            source: s.source.clone(),
            at: crate::reports::ms_to_rfc3339(s.created_at_ms),
        }
    }
}

/// Seed copies of one campaign per mailbox provider: where they landed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PlacementTally {
    pub provider: String,
    pub inbox: u64,
    pub junk: u64,
    pub other: u64,
    pub missing: u64,
    /// Not looked for yet.
    pub pending: u64,
}

/// `GET /api/v1/campaigns`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CampaignList {
    pub campaigns: Vec<CampaignEntry>,
    /// Pass as `?after=` for the next page; null on the last one.
    pub next: Option<String>,
}

/// `domain list --json` and `GET /api/v1/domains`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DomainList {
    pub domains: Vec<DomainStatus>,
    /// Pass as `?after=` for the next page; null on the last one.
    pub next: Option<String>,
}

/// `GET /api/v1/suppressions`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SuppressionList {
    pub suppressions: Vec<SuppressionView>,
    /// Pass as `?after=` for the next page; null on the last one.
    pub next: Option<String>,
}

/// `GET /api/v1/contacts`: one page of a search.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ContactsPage {
    pub contacts: Vec<ContactView>,
    /// Pass as `?after=` for the next page; null on the last one.
    pub next: Option<String>,
}

/// A change to a draft (`campaign edit`, `PATCH /api/v1/campaigns/{id}`, the UI's edit page):
/// what is given is replaced, the rest stays; checked as `campaign create` checks a campaign.
#[derive(Debug, Default, Clone, serde::Deserialize, JsonSchema)]
pub struct CampaignPatch {
    #[schemars(extend("pattern" = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$", "maxLength" = 200))]
    pub name: Option<String>,
    /// The list's name.
    #[schemars(extend("maxLength" = 200))]
    pub list: Option<String>,
    /// `Name <address@domain>` or `address@domain` (the From gate applies again).
    #[schemars(extend("maxLength" = 400))]
    pub from: Option<String>,
    /// Subject template.
    #[schemars(extend("maxLength" = 2000))]
    pub subject: Option<String>,
    /// HTML body template.
    pub html: Option<String>,
    /// `mjml`: `html` holds an MJML document, rendered to HTML now (a mistake names its line).
    pub format: Option<BodyFormat>,
    /// Text body template.
    pub text: Option<String>,
    /// Where replies go; an empty string removes it.
    #[schemars(extend("maxLength" = 400))]
    pub reply_to: Option<String>,
    /// With a new From: keep the change although its domain does not verify (recorded).
    pub allow_unverified: Option<bool>,
}

/// What a body is written in: HTML (a template), or MJML rendered to an HTML template once,
/// when it is given (`campaign create|edit --mjml FILE`, `"format": "mjml"`, the compose page).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    #[default]
    Html,
    Mjml,
}

impl BodyFormat {
    /// The HTML template of `body` written in this format.
    pub fn to_html(self, body: String) -> Result<String, herald_mail::mjml::MjmlError> {
        match self {
            BodyFormat::Html => Ok(body),
            BodyFormat::Mjml => herald_mail::mjml::to_html(&body),
        }
    }
}

/// What was created: `campaign create --json`, `campaign duplicate --json`, the API.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Created {
    pub id: String,
}

/// `campaign pause|resume|cancel --json`, `POST /api/v1/campaigns/{id}/pause|resume|cancel`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CampaignControlled {
    pub id: String,
    /// The campaign's status now: `paused`, `sending` (resumed) or `cancelled`.
    #[schemars(extend("enum" = ["paused", "sending", "cancelled"]))]
    pub status: String,
    /// After a cancel: recipients that became `not_sent: cancelled` at once (any a node had
    /// in hand follow within a second).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled: Option<u64>,
}

/// How much a pre-send finding matters.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CheckSeverity {
    Info,
    Warning,
    Problem,
}

/// One finding of the pre-send check, in plain words, with what to do.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, JsonSchema)]
pub struct CheckFinding {
    /// e.g. `unaligned_from`, `dmarc_missing`, `no_unsubscribe_link`, `clipped_by_gmail`,
    /// `images_without_alt`, `complaint_rate_high`.
    pub code: String,
    pub severity: CheckSeverity,
    pub text: String,
    pub fix: Option<String>,
}

impl CheckFinding {
    /// `problem`, `warning` or `ok` (for pages).
    pub fn severity_word(&self) -> &'static str {
        match self.severity {
            CheckSeverity::Problem => "problem",
            CheckSeverity::Warning => "warning",
            CheckSeverity::Info => "ok",
        }
    }
}

/// `campaign check --json`, `POST /api/v1/campaigns/{id}/check`; saved with the campaign at
/// create, schedule and send.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, JsonSchema)]
pub struct CampaignCheck {
    pub campaign: String,
    pub checked_at: String,
    /// When it ran: `create`, `schedule`, `send` or `check`.
    pub at: String,
    pub problems: u32,
    pub warnings: u32,
    pub findings: Vec<CheckFinding>,
}

/// `campaign schedule|unschedule --json`, `POST|DELETE /api/v1/campaigns/{id}/schedule`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CampaignScheduled {
    pub id: String,
    /// `scheduled`, or `draft` after unschedule.
    #[schemars(extend("enum" = ["scheduled", "draft"]))]
    pub status: String,
    /// When it starts, UTC (RFC 3339); null after unschedule.
    pub scheduled_at: Option<String>,
    /// The zone it was given in, if one was.
    pub tz: Option<String>,
    /// The start in that zone (`2026-12-10T09:00:00+01:00`).
    pub local: Option<String>,
    /// Sent in each recipient's local time: the local date and time each gets it at
    /// (`2026-12-10T09:00`); `scheduled_at` is then when the first zone reaches it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_time: Option<String>,
}

/// `POST /api/v1/campaigns/{id}/send`: the send started (or had started before).
#[derive(Debug, Serialize, JsonSchema)]
pub struct SendStarted {
    pub campaign: String,
    /// Always `sending`.
    pub status: String,
}

/// `POST /api/v1/suppressions`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SuppressionAdded {
    pub email: String,
    pub reason: String,
    /// False when the address was suppressed already.
    pub added: bool,
}

/// Every error answer of the API: `{"error": "…"}`, saying what to fix (internal causes are
/// logged, never sent).
#[derive(Debug, Serialize, JsonSchema)]
pub struct ErrorBody {
    pub error: String,
}

/// One seed mailbox (`seeds list --json`, `GET /api/v1/seeds`); its password never leaves the
/// server.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SeedView {
    pub address: String,
    pub provider: String,
    /// `host:port` of its IMAP server.
    pub imap: String,
    /// `tls`, `starttls` or `plain`.
    pub security: String,
    /// The last time its mailbox was searched (RFC 3339); null before the first poll.
    pub last_poll_at: Option<String>,
    /// What failed at the last poll, if it did.
    pub last_error: Option<String>,
}

impl From<herald_store::Seed> for SeedView {
    fn from(s: herald_store::Seed) -> Self {
        SeedView {
            imap: format!("{}:{}", s.imap_host, s.imap_port),
            last_poll_at: s.last_poll_at_ms.map(crate::reports::ms_to_rfc3339),
            address: s.address,
            provider: s.provider,
            security: s.security,
            last_error: s.last_error,
        }
    }
}

/// `GET /api/v1/seeds`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SeedList {
    pub seeds: Vec<SeedView>,
    /// Pass as `?after=` for the next page; null on the last one.
    pub next: Option<String>,
}

/// One member of a list (`GET /api/v1/lists/{name}/members`), as `contacts export --list L
/// --format json` writes a row.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MemberView {
    pub email: String,
    /// Their standing on this list: `subscribed`, `pending` or `unsubscribed`.
    pub status: String,
    /// The suppression reason when the address is suppressed.
    pub suppressed: Option<String>,
    pub consent: Option<ConsentSummary>,
    pub created_at: String,
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// The newest consent record of a member.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConsentSummary {
    pub source: String,
    pub at: String,
    pub confirmed_at: Option<String>,
}

impl From<herald_store::ExportRow> for MemberView {
    fn from(r: herald_store::ExportRow) -> Self {
        let ms = crate::reports::ms_to_rfc3339;
        MemberView {
            status: r
                .memberships
                .first()
                .map(|(_, s)| s.as_str().to_string())
                .unwrap_or_default(),
            suppressed: r.suppression,
            consent: r.consent.map(|(source, at, confirmed)| ConsentSummary {
                source,
                at: ms(at),
                confirmed_at: confirmed.map(ms),
            }),
            created_at: ms(r.created_at_ms),
            fields: serde_json::from_str(&r.fields).unwrap_or_default(),
            email: r.email,
        }
    }
}

/// `GET /api/v1/lists/{name}/members`: one page.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MembersPage {
    pub members: Vec<MemberView>,
    /// Pass as `?after=` for the next page; null on the last one.
    pub next: Option<String>,
}

/// A contact's fields after a change (`PATCH /api/v1/contacts/{email}`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct ContactFields {
    pub email: String,
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// A campaign's public archive page (`campaign archive --json`, `PUT /api/v1/campaigns/{id}/archive`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ArchiveState {
    pub id: String,
    /// Published: the page is shown (once the send started).
    pub public: bool,
    /// Its address (null when not published).
    pub url: Option<String>,
}
