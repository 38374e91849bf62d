//! Plain records passed to and from the store.

use std::fmt;
use std::str::FromStr;

mod accounts;
mod deliveries;
mod dmarc;

pub use accounts::*;
pub use deliveries::*;
pub use dmarc::*;

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
    pub suppression: Option<herald_domain::SuppressionReason>,
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
    /// Its own confirmation message; `None`: the built-in one.
    pub confirmation: Option<ListMessage>,
    /// The message a person gets once subscribed by their own request; `None`: no welcome.
    pub welcome: Option<ListMessage>,
}

/// One of a list's own messages (its confirmation, its welcome), as templates
/// (`{{ confirm_url }}` is a confirmation's link).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ListMessage {
    pub subject: String,
    pub html: String,
    /// The plain-text part; `None`: derived from the HTML.
    pub text: Option<String>,
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

/// One of a list's own messages to queue for one person: a pending member's confirmation, a
/// new member's welcome.
#[derive(Debug, Clone)]
pub struct NewListMessage {
    pub kind: herald_domain::CampaignKind,
    pub list: ListId,
    pub contact_id: i64,
    pub email: String,
    pub email_key: String,
    pub domain: String,
    pub message_id: String,
    /// The campaign that carries the list's messages of this kind, if one must be created.
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
    pub contact_id: i64,
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

/// A consent record another tool kept, brought by an import's consent columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedConsent {
    pub email_key: String,
    /// `import:<list>`, or `import:<list>: <the old tool's source>`.
    pub source: String,
    pub ip: Option<String>,
    /// What the person agreed to, as the old tool recorded it.
    pub form_text: String,
    pub at_ms: i64,
    pub confirmed_at_ms: Option<i64>,
    pub confirm_ip: Option<String>,
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

/// Which contacts: those matching `include` (all when `None`) and not `exclude`, subscribed to
/// one of `lists` (when any) and to none of `exclude_lists`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudienceFilter {
    pub include: Option<herald_domain::segment::Rule>,
    pub exclude: Option<herald_domain::segment::Rule>,
    /// Counting: subscribed to one of these. A campaign's audience page
    /// (`audience_page_for`): the members of its own list and of these, each once.
    pub lists: Vec<crate::ListId>,
    /// Subscribed to one of these: kept out (a campaign's audience: marked `excluded`).
    pub exclude_lists: Vec<crate::ListId>,
    /// What `within` counts back from.
    pub now_ms: i64,
}

/// What `set_campaign_audience` stores: the segment and exclusion, each (name, rule text as it
/// is now), and the lists the campaign also goes to and those it keeps out.
#[derive(Debug, Clone, Copy, Default)]
pub struct AudienceSetting<'a> {
    pub segment: Option<(&'a str, &'a str)>,
    pub exclude: Option<(&'a str, &'a str)>,
    pub also_lists: &'a [crate::ListId],
    pub exclude_lists: &'a [crate::ListId],
}

/// What became of an idempotency key (`claim_idempotency`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotentClaim {
    /// Taken now: run the request.
    New,
    /// The same request was answered: give this again.
    Answered { status: u16, body: String },
    /// The same request is still running.
    InProgress,
    /// The key was used for a different request.
    OtherRequest,
}

/// A setting changed at run time: its name (`lists.signups_per_ip_per_hour`), its value as
/// typed (checked before it is kept), who changed it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeSetting {
    pub name: String,
    pub value: String,
    pub changed_by: String,
    pub changed_at_ms: i64,
}

/// A saved template: a subject, an HTML layout (`{{ content }}` takes a campaign's own
/// content) and a text part, reusable across campaigns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRecord {
    pub name: String,
    pub subject: Option<String>,
    pub html: String,
    pub text: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// A campaign's attachment, without its content (what lists and pages show).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentMeta {
    /// The file name the recipient sees.
    pub name: String,
    pub content_type: String,
    pub size: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    pub created_at_ms: i64,
}

/// An attachment with its content (what the sender puts in every copy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub meta: AttachmentMeta,
    pub content: Vec<u8>,
}

/// What [`crate::AttachmentStore::add_attachment`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attached {
    Added,
    /// One of the same name was there: its content is replaced.
    Replaced,
    /// The campaign is not a draft (or no longer: its send is starting); nothing changed.
    NotDraft,
    /// With it, the campaign's attachments would weigh `total` bytes, over the cap; nothing
    /// changed.
    OverCap {
        total: i64,
    },
}
