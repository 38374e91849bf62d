//! Stage `campaign`: create a draft (validated up front) and snapshot its audience.
//!
//! Create checks everything a send would trip over later: the list exists, the From address
//! parses, the templates compile and render for every contact of the list. The snapshot turns
//! list members into deliveries: one per eligible contact (`queued`), and one `not_sent` with
//! its reason for every ineligible one, so nobody is dropped silently.

use herald_domain::{CampaignKind, DeliveryState, EmailAddress, MemberStatus, NotSentReason};
use herald_mail::CampaignTemplates;
use herald_store::{
    AudienceMember, CampaignId, CampaignStatus, ListId, NewCampaign, NewDelivery, Store, StoreError,
};

use crate::render::context;

pub mod ab;
pub mod attachments;
pub mod check;
pub mod rspamd;
pub mod templates;
mod timing;
pub mod uribl;

pub use timing::*;

const PAGE: u32 = 5_000;
/// Template problems listed before giving up on the rest.
const MAX_TEMPLATE_ERRORS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("unknown list {0:?} (import contacts with `herald contacts import FILE --list {0}`)")]
    UnknownList(String),
    #[error("--from {0:?}: {1}")]
    BadFrom(String, String),
    #[error("--reply-to {0:?}: {1}")]
    BadReplyTo(String, String),
    #[error("segment {0:?}: {1}")]
    BadSegment(String, String),
    #[error("template {0}")]
    Template(#[from] herald_mail::TemplateError),
    #[error("the templates took longer than {0:?} to compile; simplify them")]
    TemplateTooSlow(std::time::Duration),
    #[error("templates fail for some contacts of list {list:?}:\n{}", problems.join("\n"))]
    Personalisation { list: String, problems: Vec<String> },
    #[error(
        "list {0:?} is one this campaign keeps out: take it out of the excluded lists first (campaign audience ID --exclude-list …)"
    )]
    ListExcluded(String),
    #[error("the name must not be empty")]
    EmptyName,
    #[error("the name must not contain control characters (line breaks, tabs, NUL)")]
    BadName,
    #[error("the name is longer than {MAX_NAME} characters")]
    LongName,
    #[error("unknown campaign {0}")]
    UnknownCampaign(CampaignId),
    #[error("campaign {0} is {1}: only a draft can be changed (duplicate it to send it again)")]
    NotDraft(CampaignId, &'static str),
    #[error("--at {at:?}: {why}")]
    BadSchedule { at: String, why: String },
    #[error("{0}")]
    ScheduleOutOfRange(String),
    #[error("campaign {id} is {status}: {what}")]
    WrongStatus {
        id: CampaignId,
        status: &'static str,
        what: &'static str,
    },
    #[error("A/B test: {0}")]
    BadAbTest(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The longest campaign name, in characters.
pub const MAX_NAME: usize = 200;

/// What `campaign create` takes.
#[derive(Debug, Clone)]
pub struct CampaignInput {
    pub name: String,
    pub list: String,
    /// `Name <address>` or a bare address.
    pub from: String,
    pub subject: String,
    pub html: String,
    pub text: Option<String>,
    /// Why the From-alignment gate was bypassed (recorded on the campaign), if it was.
    pub gate_override: Option<String>,
    /// `Reply-To`: `Name <address>` or an address; None replies to the From address.
    pub reply_to: Option<String>,
    pub tracking: TrackingSwitches,
}

/// Per-campaign open and click tracking (both on by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackingSwitches {
    pub opens: bool,
    pub clicks: bool,
    /// Send a copy to every seed mailbox (placement measurement).
    pub seeds: bool,
}

impl Default for TrackingSwitches {
    fn default() -> Self {
        Self {
            opens: true,
            clicks: true,
            seeds: true,
        }
    }
}

/// Split `"Ann Lee <ann@example.com>"` into a display name and a validated address.
pub fn parse_from(s: &str) -> Result<(Option<String>, EmailAddress), String> {
    let s = s.trim();
    if s.contains(['\r', '\n']) {
        return Err("contains a line break".into());
    }
    let (name, addr) = match (s.rfind('<'), s.ends_with('>')) {
        (Some(lt), true) => {
            let name = s[..lt].trim().trim_matches('"').trim();
            (
                Some(name).filter(|n| !n.is_empty()).map(str::to_string),
                &s[lt + 1..s.len() - 1],
            )
        }
        (None, false) => (None, s),
        _ => return Err("expected `Name <address>` or `address`".into()),
    };
    let addr = EmailAddress::parse(addr).map_err(|e| e.to_string())?;
    Ok((name, addr))
}

/// Create a draft campaign after checking it can be rendered for every contact.
pub async fn create<S: Store>(
    store: &S,
    input: &CampaignInput,
    now_ms: i64,
) -> Result<CampaignId, CampaignError> {
    check_name(&input.name)?;
    let c = checked(store, input, now_ms).await?;
    Ok(store.create_campaign(&c).await?)
}

/// Replace a draft's content with `input`, checked as `create` checks it. The campaign must
/// still be a draft: once its send started it is never changed ([`CampaignError::NotDraft`]).
pub async fn update<S: Store>(
    store: &S,
    id: CampaignId,
    input: &CampaignInput,
    now_ms: i64,
) -> Result<(), CampaignError> {
    let Some(old) = store.campaign(id).await? else {
        return Err(CampaignError::UnknownCampaign(id));
    };
    if !matches!(
        old.status,
        CampaignStatus::Draft | CampaignStatus::Scheduled
    ) {
        return Err(CampaignError::NotDraft(id, old.status.as_str()));
    }
    // A name kept from before the rules is not refused again.
    if input.name != old.name {
        check_name(&input.name)?;
    }
    let c = checked(store, input, now_ms).await?;
    // Its other lists: the new list must not be one it keeps out, and the new content must
    // render for their members too.
    if let Some((_, name)) = old.exclude_lists.iter().find(|(l, _)| *l == c.list) {
        return Err(CampaignError::ListExcluded(name.clone()));
    }
    check_renders_for(store, input, &old.also_lists).await?;
    if !store.update_draft(id, &c, now_ms).await? {
        // Its send started between the two reads.
        return Err(CampaignError::NotDraft(id, "sending"));
    }
    // Its own list now: no longer one of its other lists.
    if old.also_lists.iter().any(|(l, _)| *l == c.list) {
        let also: Vec<ListId> = old
            .also_lists
            .iter()
            .map(|l| l.0)
            .filter(|l| *l != c.list)
            .collect();
        let out: Vec<ListId> = old.exclude_lists.iter().map(|l| l.0).collect();
        let setting = herald_store::AudienceSetting {
            segment: crate::audience::segments::as_refs(&old.segment),
            exclude: crate::audience::segments::as_refs(&old.exclude),
            also_lists: &also,
            exclude_lists: &out,
        };
        store.set_campaign_audience(id, &setting, now_ms).await?;
    }
    Ok(())
}

/// Give draft `id` its A/B test, or take it away (None). Each variant is checked as the
/// campaign's content is (its templates compile and render for every contact of its lists); a
/// test cannot be combined with sending in each recipient's local time.
pub async fn set_ab<S: Store>(
    store: &S,
    id: CampaignId,
    test: Option<&ab::AbTest>,
    now_ms: i64,
) -> Result<(), CampaignError> {
    let Some(c) = store.campaign(id).await? else {
        return Err(CampaignError::UnknownCampaign(id));
    };
    if !matches!(c.status, CampaignStatus::Draft | CampaignStatus::Scheduled) {
        return Err(CampaignError::NotDraft(id, c.status.as_str()));
    }
    if let Some(t) = test {
        t.check()?;
        if c.local_time.is_some() {
            return Err(CampaignError::BadAbTest(
                "it is scheduled in each recipient's local time; an A/B test sends its test group at once and the rest later, so the two cannot be combined (unschedule it first)".into(),
            ));
        }
        for v in 1..t.count() {
            let input = input_of(&t.apply(&c, v));
            let named = |e: CampaignError| match e {
                CampaignError::Store(s) => CampaignError::Store(s),
                e => CampaignError::BadAbTest(format!("variant {}: {e}", ab::variant_name(v))),
            };
            checked(store, &input, now_ms).await.map_err(named)?;
            check_renders_for(store, &input, &c.also_lists)
                .await
                .map_err(named)?;
        }
    }
    let json = test.map(ab::AbTest::to_json);
    if !store.set_campaign_ab(id, json.as_deref()).await? {
        return Err(CampaignError::NotDraft(id, "sending"));
    }
    Ok(())
}

/// A new name: not empty, no control characters, at most [`MAX_NAME`] characters.
pub fn check_name(name: &str) -> Result<(), CampaignError> {
    if name.chars().any(char::is_control) {
        return Err(CampaignError::BadName);
    }
    if name.chars().count() > MAX_NAME {
        return Err(CampaignError::LongName);
    }
    Ok(())
}

/// The input as it will be stored, once it passed every check: a name, a known list, a valid
/// From, templates that compile and render for every contact of the list.
async fn checked<S: Store>(
    store: &S,
    input: &CampaignInput,
    now_ms: i64,
) -> Result<NewCampaign, CampaignError> {
    if input.name.trim().is_empty() {
        return Err(CampaignError::EmptyName);
    }
    let list = store
        .find_list(&input.list)
        .await?
        .ok_or_else(|| CampaignError::UnknownList(input.list.clone()))?;
    let (from_name, from) =
        parse_from(&input.from).map_err(|e| CampaignError::BadFrom(input.from.clone(), e))?;
    let templates = compile_bounded(input).await?;
    // Kept as `Name <address>` (or the address), checked as the From is.
    let reply_to = match input.reply_to.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(r) => {
            let (name, addr) =
                parse_from(r).map_err(|e| CampaignError::BadReplyTo(r.to_string(), e))?;
            Some(match name {
                Some(n) => format!("{n} <{addr}>"),
                None => addr.to_string(),
            })
        }
    };

    // Render for every contact now, so a missing field is an error today, not a failed send.
    render_for_list(store, &templates, list, &input.list).await?;
    Ok(NewCampaign {
        name: input.name.trim().to_string(),
        list,
        from_name,
        from_address: from.to_string(),
        subject: input.subject.clone(),
        html: input.html.clone(),
        text: input.text.clone(),
        created_at_ms: now_ms,
        gate_override: input.gate_override.clone(),
        reply_to,
        track_opens: input.tracking.opens,
        track_clicks: input.tracking.clicks,
        send_to_seeds: input.tracking.seeds,
    })
}

/// Render the templates for every subscribed member of `list` (named `name` in the error):
/// a missing field is an error when the audience is set, not a failed send.
async fn render_for_list<S: Store>(
    store: &S,
    templates: &CampaignTemplates,
    list: ListId,
    name: &str,
) -> Result<(), CampaignError> {
    let mut problems = Vec::new();
    let mut after = 0;
    'pages: loop {
        let page = store.audience_page(list, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.contact_id;
        // Only members the campaign would be sent to (a pending sign-up may lack fields).
        for m in page.iter().filter(|m| m.status == MemberStatus::Subscribed) {
            let fields = serde_json::from_str(&m.fields).unwrap_or_default();
            if let Err(e) = templates.render(&context(&m.email, fields, None)) {
                problems.push(format!("  {}: {e}", m.email));
                if problems.len() >= MAX_TEMPLATE_ERRORS {
                    problems.push(
                        "  … (stopped after 5; use `| default(\"…\")` for optional fields)".into(),
                    );
                    break 'pages;
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CampaignError::Personalisation {
            list: name.to_string(),
            problems,
        })
    }
}

/// The templates of `input` render for every subscribed member of these other lists (named):
/// checked when a campaign's audience gains lists, or its content changes while it has some,
/// as `create` checks its own list's.
pub async fn check_renders_for<S: Store>(
    store: &S,
    input: &CampaignInput,
    lists: &[(ListId, String)],
) -> Result<(), CampaignError> {
    if lists.is_empty() {
        return Ok(());
    }
    let templates = compile_bounded(input).await?;
    for (id, name) in lists {
        render_for_list(store, &templates, *id, name).await?;
    }
    Ok(())
}

/// What a stored campaign was created from: the input `update` starts from.
pub fn input_of(c: &herald_store::Campaign) -> CampaignInput {
    CampaignInput {
        name: c.name.clone(),
        list: c.list_name.clone(),
        from: match &c.from_name {
            Some(n) => format!("{n} <{}>", c.from_address),
            None => c.from_address.clone(),
        },
        subject: c.subject.clone(),
        html: c.html.clone(),
        text: c.text.clone(),
        gate_override: c.gate_override.clone(),
        reply_to: c.reply_to.clone(),
        tracking: TrackingSwitches {
            opens: c.track_opens,
            clicks: c.track_clicks,
            seeds: c.send_to_seeds,
        },
    }
}

/// The longest compiling a campaign's templates may take.
pub(crate) const COMPILE_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Compile the user's templates off the async workers, within [`COMPILE_LIMIT`] (the size and
/// nesting caps of `CampaignTemplates` bound the work too).
async fn compile_bounded(input: &CampaignInput) -> Result<CampaignTemplates, CampaignError> {
    let (subject, html, text) = (
        input.subject.clone(),
        input.html.clone(),
        input.text.clone(),
    );
    match crate::bounded(COMPILE_LIMIT, move || {
        CampaignTemplates::compile(&subject, &html, text.as_deref())
    })
    .await
    {
        Ok(compiled) => Ok(compiled?),
        // The compiler panicked: report it as a template problem, not a crash.
        Err(crate::Unfinished::Panicked(e)) => {
            Err(CampaignError::Template(herald_mail::TemplateError {
                part: "html",
                line: None,
                message: format!("could not be compiled ({e})"),
            }))
        }
        Err(crate::Unfinished::TooSlow) => Err(CampaignError::TemplateTooSlow(COMPILE_LIMIT)),
    }
}

/// What `campaign pause | resume | cancel` asks of a campaign that is sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// No new attempts on any node (those in flight finish and are recorded).
    Pause,
    /// Continue a paused campaign where it stopped: nobody is mailed twice.
    Resume,
    /// End it: everyone not attempted yet is `not_sent: cancelled`.
    Cancel,
}

impl Control {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Cancel => "cancel",
        }
    }
}

/// What a [`Control`] did: the campaign's status after it, and for a cancel, how many
/// recipients became `not_sent: cancelled` at once (those in flight on a node follow within
/// a second, as their node gives them back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Controlled {
    pub status: CampaignStatus,
    pub cancelled: Option<u64>,
}

/// Pause, resume or cancel campaign `id`. The status check and the change are one statement,
/// so two operators (or nodes) racing get one success and one clear refusal.
pub async fn control<S: Store>(
    store: &S,
    id: CampaignId,
    what: Control,
    now_ms: i64,
) -> Result<Controlled, CampaignError> {
    // A list's own messages are not a campaign to pause or cancel: its double opt-in would stop
    // (the list's sign-ups would wait, or be cancelled, while the form says "check your
    // inbox"), or its welcomes be lost.
    if let Some(c) = store.campaign(id).await? {
        let what = match c.kind {
            CampaignKind::Campaign => None,
            CampaignKind::Confirmation => Some(
                "it carries a list's confirmation messages, which cannot be paused or cancelled (change the list's opt-in instead)",
            ),
            CampaignKind::Welcome => Some(
                "it carries a list's welcome messages, which cannot be paused or cancelled (lists update --no-welcome stops them)",
            ),
        };
        if let Some(what) = what {
            return Err(CampaignError::WrongStatus {
                id,
                status: c.status.as_str(),
                what,
            });
        }
    }
    let done = match what {
        Control::Pause => store
            .pause_campaign(id, now_ms)
            .await?
            .then_some(Controlled {
                status: CampaignStatus::Paused,
                cancelled: None,
            }),
        Control::Resume => store
            .resume_campaign(id, now_ms)
            .await?
            .then_some(Controlled {
                status: CampaignStatus::Sending,
                cancelled: None,
            }),
        Control::Cancel => store
            .cancel_campaign(id, now_ms)
            .await?
            .map(|n| Controlled {
                status: CampaignStatus::Cancelled,
                cancelled: Some(n),
            }),
    };
    if let Some(done) = done {
        return Ok(done);
    }
    let Some(c) = store.campaign(id).await? else {
        return Err(CampaignError::UnknownCampaign(id));
    };
    Err(CampaignError::WrongStatus {
        id,
        status: c.status.as_str(),
        what: match (what, c.status) {
            (Control::Pause, CampaignStatus::Paused) => "it is already paused",
            (Control::Resume, CampaignStatus::Sending) => "it is not paused",
            (_, CampaignStatus::Draft | CampaignStatus::Scheduled) => {
                "its send has not started (`herald campaign delete` removes a draft, `unschedule` calls off a schedule)"
            }
            (Control::Pause, _) => "only a sending campaign can be paused",
            (Control::Resume, _) => "only a paused campaign can be resumed",
            (Control::Cancel, _) => "only a sending or paused campaign can be cancelled",
        },
    })
}

/// Eligibility of one list member: plain policy, no I/O.
pub fn eligibility(m: &AudienceMember) -> Result<(), NotSentReason> {
    if EmailAddress::parse(&m.email).is_err() {
        return Err(NotSentReason::InvalidAddress);
    }
    match m.status {
        MemberStatus::Subscribed => {}
        MemberStatus::Pending => return Err(NotSentReason::PendingConfirmation),
        MemberStatus::Unsubscribed => return Err(NotSentReason::Unsubscribed),
    }
    if m.excluded {
        return Err(NotSentReason::Excluded);
    }
    if let Some(reason) = m.suppression {
        return Err(reason.not_sent());
    }
    if m.hard_bounced_before {
        return Err(NotSentReason::PreviouslyBounced);
    }
    Ok(())
}

/// The campaign's segment, exclusion and other lists as a store filter; `None` when it has
/// none of them (its own list's members, all of them).
pub fn audience_filter(
    c: &herald_store::Campaign,
    now_ms: i64,
) -> Result<Option<herald_store::AudienceFilter>, CampaignError> {
    if c.segment.is_none()
        && c.exclude.is_none()
        && c.also_lists.is_empty()
        && c.exclude_lists.is_empty()
    {
        return Ok(None);
    }
    let parse = |s: &Option<(String, String)>| {
        s.as_ref()
            .map(|(name, rule)| {
                herald_domain::segment::parse(rule)
                    .map_err(|e| CampaignError::BadSegment(name.clone(), e.to_string()))
            })
            .transpose()
    };
    Ok(Some(herald_store::AudienceFilter {
        include: parse(&c.segment)?,
        exclude: parse(&c.exclude)?,
        lists: c.also_lists.iter().map(|l| l.0).collect(),
        exclude_lists: c.exclude_lists.iter().map(|l| l.0).collect(),
        now_ms,
    }))
}

/// Snapshot the audience into deliveries (idempotent) and mark the campaign `sending`.
/// Returns how many deliveries were created by this call.
pub async fn snapshot<S: Store>(
    store: &S,
    id: CampaignId,
    now_ms: i64,
) -> Result<u64, CampaignError> {
    let c = store
        .campaign(id)
        .await?
        .ok_or(CampaignError::UnknownCampaign(id))?;
    if !matches!(c.status, CampaignStatus::Draft | CampaignStatus::Scheduled) {
        return Ok(0);
    }
    let from_domain = EmailAddress::parse(&c.from_address)
        .map(|a| a.domain().to_string())
        .map_err(|e| CampaignError::BadFrom(c.from_address.clone(), e.to_string()))?;
    let now = now_ms;
    // Sent in each recipient's local time: each delivery is due at its recipient's.
    let local: Option<(jiff::civil::DateTime, jiff::tz::TimeZone)> = c
        .local_time
        .as_deref()
        .and_then(|l| l.parse().ok())
        .map(|l| {
            let default = c
                .schedule_tz
                .as_deref()
                .and_then(|z| jiff::tz::TimeZone::get(z).ok())
                .unwrap_or(jiff::tz::TimeZone::UTC);
            (l, default)
        });
    // A segment narrows the list; an exclusion is recorded per person (`not_sent: excluded`).
    // A list a rule names must still exist: renamed or deleted, it would select nobody (an
    // exclusion would keep nobody out), so the start is refused and says which.
    for (name, rule) in c.segment.iter().chain(c.exclude.iter()) {
        crate::audience::segments::check_rule(store, rule)
            .await
            .map_err(|e| CampaignError::BadSegment(name.clone(), e.to_string()))?;
    }
    let filter = audience_filter(&c, now)?;
    // An A/B test: every delivery waits (no next attempt) until the test group is drawn from
    // the whole audience below.
    let ab = ab::AbTest::of(&c);
    let mut created = 0;
    let mut after = 0;
    loop {
        let page = match &filter {
            Some(f) => store.audience_page_for(c.list, after, PAGE, f).await?,
            None => store.audience_page(c.list, after, PAGE).await?,
        };
        let Some(last) = page.last() else { break };
        after = last.contact_id;
        let batch: Vec<NewDelivery> = page
            .iter()
            .map(|m| {
                let (state, reason) = match eligibility(m) {
                    Ok(()) => (DeliveryState::Queued, None),
                    Err(r) => (DeliveryState::NotSent, Some(r.as_str().to_string())),
                };
                NewDelivery {
                    campaign: id,
                    contact_id: Some(m.contact_id),
                    email: m.email.clone(),
                    email_key: m.email_key.clone(),
                    domain: herald_domain::address::domain_part(&m.email).to_string(),
                    state,
                    reason,
                    message_id: format!("<{}@{from_domain}>", uuid::Uuid::now_v7().simple()),
                    next_attempt_at_ms: (state == DeliveryState::Queued && ab.is_none()).then(
                        || match &local {
                            Some((l, default)) => {
                                let fields = serde_json::from_str(&m.fields).unwrap_or_default();
                                local_due(*l, &fields, default).max(now)
                            }
                            None => now,
                        },
                    ),
                    updated_at_ms: now,
                    seed_id: None,
                }
            })
            .collect();
        created += store.insert_deliveries(&batch).await?;
    }
    // A copy for every seed mailbox, to see where the campaign lands at each provider.
    if c.send_to_seeds {
        let seeds: Vec<NewDelivery> = store
            .seeds()
            .await?
            .into_iter()
            .map(|s| NewDelivery {
                campaign: id,
                contact_id: None,
                domain: herald_domain::address::domain_part(&s.address).to_string(),
                email_key: s.address.clone(),
                email: s.address,
                state: DeliveryState::Queued,
                reason: None,
                message_id: format!("<{}@{from_domain}>", uuid::Uuid::now_v7().simple()),
                next_attempt_at_ms: Some(now),
                updated_at_ms: now,
                seed_id: Some(s.id),
            })
            .collect();
        store.insert_deliveries(&seeds).await?;
    }
    if let Some(t) = &ab {
        store
            .start_ab(
                id,
                t.share_pct,
                t.count(),
                now + t.wait_ms,
                ab::WAITING,
                now,
            )
            .await?;
    }
    store
        .set_campaign_status(id, CampaignStatus::Sending, now_ms)
        .await?;
    Ok(created)
}

#[cfg(test)]
mod tests;
