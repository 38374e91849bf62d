//! The audience (design §6b): lists as users manage them, people joining them through a
//! sign-up form (single or double opt-in), the confirmation message and its link, consent.
//!
//! A double opt-in sign-up makes the person `pending` on the list and queues a confirmation
//! message through the normal engine: a list's confirmation messages are deliveries of a system
//! campaign (`kind = confirmation`), so each has the same evidence (reply, queue id, bounces,
//! `why`) as any campaign's. Its `{{ confirm_url }}` is signed for that delivery; the link's page
//! confirms with a button (a GET never confirms: link scanners fetch every link), after which
//! the person is `subscribed` and campaigns to the list reach them. Until then they are
//! `not_sent: pending_confirmation`; unconfirmed entries are removed after `confirm_within`.

use herald_domain::CampaignKind;
use herald_domain::OptIn;
use herald_domain::audience::{slug_of, valid_slug};
use herald_store::{ListRecord, NewList, Store, StoreError};

pub mod privacy;
pub mod segments;

use crate::campaign::parse_from;

mod members;
mod messages;
mod signup;

pub use members::*;
pub use messages::*;
pub use signup::*;

/// Longest list name, description and field value, in characters.
pub const MAX_NAME: usize = 200;

pub const MAX_DESCRIPTION: usize = 2_000;

pub const MAX_FIELD_VALUE: usize = 256;

/// Most fields a sign-up form may ask for.
pub const MAX_FORM_FIELDS: usize = 20;

/// A second confirmation message to one address for one list goes out no sooner than this
/// after the first (a form cannot be used to flood someone's mailbox).
pub const CONFIRM_RESEND_MS: i64 = 10 * 60 * 1000;

/// At most this many confirmation messages to one address for one list per
/// [`CONFIRM_WINDOW_MS`], whoever asks (a form cannot be used to pester someone).
pub const MAX_CONFIRMATIONS: u32 = 3;

pub const CONFIRM_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;

/// Longest subject and body of a list's own messages (confirmation, welcome), in characters.
pub const MAX_CONFIRM_SUBJECT: usize = 500;
pub const MAX_CONFIRM_BODY: usize = 262_144;

#[derive(Debug, thiserror::Error)]
pub enum AudienceError {
    #[error("confirmation message: {0}")]
    BadConfirmation(String),
    #[error("welcome message: {0}")]
    BadWelcome(String),
    #[error(
        "a list with a welcome message needs --from \"Name <address>\": the sender of its welcome"
    )]
    WelcomeNeedsFrom,
    #[error("the list name must not be empty")]
    EmptyName,
    #[error("the list name must be at most {MAX_NAME} characters, without control characters")]
    BadName,
    #[error("a list named {0:?} exists already")]
    NameTaken(String),
    #[error(
        "--slug {0:?}: a slug is 1–64 of a-z, 0-9 and '-', not starting or ending with '-' (it is the form's address: /s/SLUG)"
    )]
    BadSlug(String),
    #[error("the slug {0:?} is taken by list {1:?}")]
    SlugTaken(String, String),
    #[error("the description must be at most {MAX_DESCRIPTION} characters")]
    LongDescription,
    #[error(
        "--fields: {0:?} is not a field name (letters, digits and '_', starting with a letter, at most 40)"
    )]
    BadFieldName(String),
    #[error("--fields: at most {MAX_FORM_FIELDS} fields")]
    TooManyFields,
    #[error("--from {0:?}: {1}")]
    BadFrom(String, String),
    #[error(
        "a double opt-in list needs --from \"Name <address>\": the sender of its confirmation messages"
    )]
    DoubleNeedsFrom,
    #[error("unknown list {0:?}")]
    UnknownList(String),
    #[error(
        "list {0:?} is used by campaigns (its confirmation messages count): it is kept as part of their record"
    )]
    ListInUse(String),
    #[error("email: {0}")]
    BadEmail(String),
    #[error("no contact {0:?}")]
    UnknownContact(String),
    #[error("{0} is not on list {1:?}")]
    NotMember(String, String),
    #[error(
        "{0} left list {1:?}: they come back only by their own request (their preference centre link, or a confirmation message: --confirm)"
    )]
    LeftList(String, String),
    #[error("{field}: {why}")]
    BadField { field: String, why: &'static str },
    #[error(
        "{0} was erased at the person's request (contacts erase): it is never added to a list again"
    )]
    Erased(String),
    #[error(
        "a message to {0} is being handed over right now: erase again in a minute, once it is recorded"
    )]
    EraseInFlight(String),
    #[error("{0}")]
    BadRule(String),
    #[error("a segment name is 1–100 characters, without control characters")]
    BadSegmentName,
    #[error("a segment named {0:?} exists already")]
    SegmentTaken(String),
    #[error("unknown segment {0:?}")]
    UnknownSegment(String),
    #[error("unknown campaign {0}")]
    UnknownCampaign(String),
    #[error("campaign {0} has started sending: its audience is fixed")]
    CampaignStarted(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What `lists create` and `lists update` take (update: `None` keeps the value).
#[derive(Debug, Clone, Default)]
pub struct ListInput {
    pub name: Option<String>,
    pub slug: Option<String>,
    /// Remove the slug (no public form).
    pub no_slug: bool,
    pub description: Option<String>,
    pub opt_in: Option<OptIn>,
    pub fields: Option<Vec<String>>,
    /// `Name <address>`; `Some("")` removes it.
    pub from: Option<String>,
    /// The list's own confirmation message (templates; the HTML, and the text if given, must
    /// carry `{{ confirm_url }}`): each part replaces the current one (or the built-in one's).
    pub confirmation: MessageParts,
    /// Back to the built-in confirmation message.
    pub default_confirmation: bool,
    /// The list's welcome message (templates): each part replaces the current one; a list
    /// without one needs both a subject and HTML.
    pub welcome: MessageParts,
    /// No welcome message any more.
    pub no_welcome: bool,
}

fn check_field_name(f: &str) -> Result<(), AudienceError> {
    let ok = !f.is_empty()
        && f.len() <= 40
        && f.starts_with(|c: char| c.is_ascii_alphabetic())
        && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        // Names the sign-up form uses itself: the address, its token and its honeypot.
        && !matches!(f, "email" | "t" | "website");
    if ok {
        Ok(())
    } else {
        Err(AudienceError::BadFieldName(f.to_string()))
    }
}

/// Apply `input` over `base` and check the result as a whole.
async fn merged<S: Store>(
    store: &S,
    base: Option<&ListRecord>,
    input: ListInput,
) -> Result<NewList, AudienceError> {
    let mut l = base.map(|b| b.list.clone()).unwrap_or(NewList {
        name: String::new(),
        slug: None,
        description: String::new(),
        opt_in: OptIn::Single,
        form_fields: Vec::new(),
        from_name: None,
        from_address: None,
        confirmation: None,
        welcome: None,
    });
    if let Some(n) = input.name {
        l.name = n.trim().to_string();
    }
    if l.name.is_empty() {
        return Err(AudienceError::EmptyName);
    }
    if l.name.chars().count() > MAX_NAME || l.name.chars().any(char::is_control) {
        return Err(AudienceError::BadName);
    }
    if let Some(s) = input.slug {
        let s = s.trim().to_string();
        if !valid_slug(&s) {
            return Err(AudienceError::BadSlug(s));
        }
        l.slug = Some(s);
    } else if input.no_slug {
        l.slug = None;
    } else if base.is_none() {
        l.slug = slug_of(&l.name);
    }
    if let Some(d) = input.description {
        if d.chars().count() > MAX_DESCRIPTION {
            return Err(AudienceError::LongDescription);
        }
        l.description = d;
    }
    if let Some(o) = input.opt_in {
        l.opt_in = o;
    }
    if let Some(fields) = input.fields {
        let fields: Vec<String> = fields
            .iter()
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty())
            .collect();
        if fields.len() > MAX_FORM_FIELDS {
            return Err(AudienceError::TooManyFields);
        }
        for f in &fields {
            check_field_name(f)?;
        }
        l.form_fields = fields;
    }
    match input.from.as_deref().map(str::trim) {
        None => {}
        Some("") => {
            l.from_name = None;
            l.from_address = None;
        }
        Some(f) => {
            let (name, addr) =
                parse_from(f).map_err(|e| AudienceError::BadFrom(f.to_string(), e))?;
            l.from_name = name;
            l.from_address = Some(addr.to_string());
        }
    }
    if input.default_confirmation {
        l.confirmation = None;
    }
    let was = l.confirmation.take();
    l.confirmation = match merged_message(
        CampaignKind::Confirmation,
        was.clone(),
        input.confirmation,
        &l.name,
    )
    .await?
    {
        Some(c) => Some(c),
        None => was,
    };
    if input.no_welcome {
        l.welcome = None;
    }
    let was = l.welcome.take();
    l.welcome =
        match merged_message(CampaignKind::Welcome, was.clone(), input.welcome, &l.name).await? {
            Some(w) => Some(w),
            None => was,
        };
    if l.welcome.is_some() && l.from_address.is_none() {
        return Err(AudienceError::WelcomeNeedsFrom);
    }
    if l.opt_in == OptIn::Double && l.from_address.is_none() {
        return Err(AudienceError::DoubleNeedsFrom);
    }
    let id = base.map(|b| b.id);
    if let Some(other) = store.list_record(&l.name, false).await?
        && Some(other.id) != id
    {
        return Err(AudienceError::NameTaken(l.name));
    }
    if let Some(slug) = &l.slug
        && let Some(other) = store.list_record(slug, true).await?
        && Some(other.id) != id
    {
        return Err(AudienceError::SlugTaken(slug.clone(), other.list.name));
    }
    Ok(l)
}

/// A list as the CLI's `--json`, the API and the UI show it.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct ListView {
    pub id: i64,
    pub name: String,
    /// Its public sign-up form is at `/s/{slug}`; `null`: no public form.
    pub slug: Option<String>,
    pub description: String,
    /// `single` or `double`.
    pub opt_in: String,
    /// The fields its sign-up form asks for besides the address.
    pub fields: Vec<String>,
    /// Sender of its confirmation messages.
    pub from: Option<String>,
    pub created_at: String,
    pub subscribed: u64,
    pub pending: u64,
    pub unsubscribed: u64,
    /// The hosted sign-up form (`[http] public_url` + `/s/{slug}`).
    pub form_url: Option<String>,
    /// Its own confirmation message (templates); all `null`: the built-in one.
    pub confirm_subject: Option<String>,
    pub confirm_html: Option<String>,
    pub confirm_text: Option<String>,
    /// Its welcome message (templates), sent once a person is subscribed by their own request
    /// (a single opt-in sign-up, a confirmed double opt-in); all `null`: none.
    pub welcome_subject: Option<String>,
    pub welcome_html: Option<String>,
    pub welcome_text: Option<String>,
}

impl ListView {
    pub fn of(l: &ListRecord, public_url: &str) -> Self {
        let base = public_url.trim_end_matches('/');
        Self {
            id: l.id.0,
            name: l.list.name.clone(),
            slug: l.list.slug.clone(),
            description: l.list.description.clone(),
            opt_in: l.list.opt_in.as_str().to_string(),
            fields: l.list.form_fields.clone(),
            from: l
                .list
                .from_address
                .as_ref()
                .map(|a| match &l.list.from_name {
                    Some(n) => format!("{n} <{a}>"),
                    None => a.clone(),
                }),
            created_at: crate::reports::ms_to_rfc3339(l.created_at_ms),
            subscribed: l.subscribed,
            pending: l.pending,
            unsubscribed: l.unsubscribed,
            form_url: l.list.slug.as_ref().map(|s| format!("{base}/s/{s}")),
            confirm_subject: l.list.confirmation.as_ref().map(|c| c.subject.clone()),
            confirm_html: l.list.confirmation.as_ref().map(|c| c.html.clone()),
            confirm_text: l.list.confirmation.as_ref().and_then(|c| c.text.clone()),
            welcome_subject: l.list.welcome.as_ref().map(|c| c.subject.clone()),
            welcome_html: l.list.welcome.as_ref().map(|c| c.html.clone()),
            welcome_text: l.list.welcome.as_ref().and_then(|c| c.text.clone()),
        }
    }

    /// An HTML form to paste into a website. It opens the hosted form with the address filled
    /// in, where the person presses Subscribe: the hosted form's signed token and minimum fill
    /// time (which a pasted copy cannot carry) still guard every sign-up.
    pub fn embed_html(&self) -> Option<String> {
        let url = self.form_url.as_ref()?;
        Some(format!(
            "<form method=\"get\" action=\"{url}\">\n  <input type=\"email\" name=\"email\" placeholder=\"you@example.com\" required>\n  <button type=\"submit\">Subscribe</button>\n</form>\n"
        ))
    }
}

/// The list named `key`.
pub async fn find<S: Store>(store: &S, key: &str) -> Result<ListRecord, AudienceError> {
    store
        .list_record(key.trim(), false)
        .await?
        .ok_or_else(|| AudienceError::UnknownList(key.to_string()))
}

/// Create a list. The caller holds its From address to the From gate first.
pub async fn create_list<S: Store>(
    store: &S,
    input: ListInput,
    now_ms: i64,
) -> Result<ListRecord, AudienceError> {
    let l = merged(store, None, input).await?;
    store.create_list(&l, now_ms).await?;
    find(store, &l.name).await
}

/// Change a list: what `input` does not name stays.
pub async fn update_list<S: Store>(
    store: &S,
    key: &str,
    input: ListInput,
) -> Result<ListRecord, AudienceError> {
    let base = find(store, key).await?;
    let l = merged(store, Some(&base), input).await?;
    store.update_list(base.id, &l).await?;
    find(store, &l.name).await
}

/// Delete a list no campaign uses, with its memberships (contacts stay).
pub async fn delete_list<S: Store>(store: &S, key: &str) -> Result<(), AudienceError> {
    let l = find(store, key).await?;
    if !store.delete_list(l.id).await? {
        return Err(AudienceError::ListInUse(l.list.name));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
