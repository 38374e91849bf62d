//! A list's own messages: the confirmation a double opt-in sign-up gets, and the welcome a person
//! gets once subscribed by their own request. Each is a system campaign of its kind per list
//! (`kind = confirmation | welcome`), one delivery per person, so every copy has the evidence a
//! campaign's has.

use herald_domain::{CampaignKind, EmailAddress};
use herald_store::{DeliveryId, ListMessage, ListRecord, NewCampaign, NewListMessage, Store};

use super::*;

/// A second welcome to one address for one list goes out no sooner than this after the first
/// (someone who leaves and confirms again the same day is not greeted twice).
pub const WELCOME_RESEND_MS: i64 = 24 * 3600 * 1000;

/// At most this many welcomes to one address for one list per [`WELCOME_WINDOW_MS`].
pub const MAX_WELCOMES: u32 = 3;

pub const WELCOME_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;

/// The confirmation message a list without its own sends.
pub fn built_in_confirmation() -> ListMessage {
    ListMessage {
        subject: "Please confirm your subscription to {{ list.name }}".into(),
        html: "<!doctype html><html><body style=\"font-family:sans-serif\">\
               <p>Please confirm that you want to receive <strong>{{ list.name }}</strong> at {{ contact.email }}.</p>\
               <p><a href=\"{{ confirm_url }}\">Yes, subscribe me</a></p>\
               <p>If you did not ask for this, ignore this message: you will not be added.</p>\
               </body></html>"
            .into(),
        text: Some(
            "Please confirm that you want to receive {{ list.name }} at {{ contact.email }}:\n\n\
             {{ confirm_url }}\n\n\
             If you did not ask for this, ignore this message: you will not be added.\n"
                .into(),
        ),
    }
}

/// The error naming which of a list's messages is wrong.
fn bad(kind: CampaignKind, m: impl Into<String>) -> AudienceError {
    match kind {
        CampaignKind::Welcome => AudienceError::BadWelcome(m.into()),
        _ => AudienceError::BadConfirmation(m.into()),
    }
}

/// One of a list's own messages: a one-line subject, templates that compile and render for a
/// sign-up that brought only its address, and — for a confirmation — the link in the HTML (and
/// in the text, when it is given).
pub(super) async fn check_message(
    kind: CampaignKind,
    c: &ListMessage,
    list_name: &str,
) -> Result<(), AudienceError> {
    if c.subject.trim().is_empty() {
        return Err(bad(kind, "the subject must not be empty"));
    }
    if c.subject.contains(['\r', '\n']) {
        return Err(bad(kind, "the subject must be one line"));
    }
    if c.subject.chars().count() > MAX_CONFIRM_SUBJECT {
        return Err(bad(kind, "the subject must be at most 500 characters"));
    }
    if c.html.chars().count() > MAX_CONFIRM_BODY
        || c.text
            .as_deref()
            .is_some_and(|t| t.chars().count() > MAX_CONFIRM_BODY)
    {
        return Err(bad(
            kind,
            "the HTML and the text must be at most 262,144 characters each",
        ));
    }
    // The user's templates are compiled and tried off the async workers, within a bound (as a
    // campaign's are); a compiler panic is a template problem, not a crash.
    let (c, list_name) = (c.clone(), list_name.to_string());
    match crate::bounded(crate::campaign::COMPILE_LIMIT, move || {
        try_message(kind, &c, &list_name)
    })
    .await
    {
        Ok(checked) => checked,
        Err(crate::Unfinished::Panicked(e)) => Err(bad(
            kind,
            format!("the templates could not be compiled ({e})"),
        )),
        Err(crate::Unfinished::TooSlow) => Err(bad(kind, "the templates took too long to compile")),
    }
}

/// Compile the message and render it for a sign-up that brought only its address: it must
/// render, and a confirmation's link must be in what the person gets (in the HTML, and in the
/// text when one is given) — not only written somewhere in a comment or a branch never taken.
fn try_message(kind: CampaignKind, c: &ListMessage, list_name: &str) -> Result<(), AudienceError> {
    let templates =
        herald_mail::template::CampaignTemplates::compile(&c.subject, &c.html, c.text.as_deref())
            .map_err(|e| bad(kind, e.to_string()))?;
    const LINK: &str = "https://herald.invalid/s/confirm/link-check";
    let bare = crate::render::context_with(
        "someone@example.com",
        serde_json::Map::new(),
        crate::render::Links {
            confirm_url: (kind == CampaignKind::Confirmation).then_some(LINK),
            ..Default::default()
        },
        list_name,
    );
    let rendered = templates.render(&bare).map_err(|e| {
        bad(
            kind,
            format!(
                "{e} (a sign-up may bring only the address: give fields a default, e.g. \
                 {{{{ contact.first_name | default(\"there\") }}}})"
            ),
        )
    })?;
    if kind != CampaignKind::Confirmation {
        return Ok(());
    }
    if !rendered.html.contains(LINK) {
        return Err(bad(
            kind,
            "the HTML must contain the link {{ confirm_url }}",
        ));
    }
    if c.text.is_some() && !rendered.text.contains(LINK) {
        return Err(bad(
            kind,
            "the text must contain the link {{ confirm_url }}",
        ));
    }
    Ok(())
}

/// The parts of a list's message given on `lists create|update` (`None` keeps the current one).
#[derive(Debug, Clone, Default)]
pub struct MessageParts {
    pub subject: Option<String>,
    pub html: Option<String>,
    /// `Some("")`: derive the text part from the HTML.
    pub text: Option<String>,
}

impl MessageParts {
    fn given(&self) -> bool {
        self.subject.is_some() || self.html.is_some() || self.text.is_some()
    }
}

/// `base` with `parts` applied, checked: `None` when nothing was given (keep `base`).
pub(super) async fn merged_message(
    kind: CampaignKind,
    base: Option<ListMessage>,
    parts: MessageParts,
    list_name: &str,
) -> Result<Option<ListMessage>, AudienceError> {
    if !parts.given() {
        return Ok(None);
    }
    let new_html = parts.html.is_some();
    let base = match (base, kind) {
        (Some(b), _) => b,
        (None, CampaignKind::Confirmation) => built_in_confirmation(),
        // A welcome has no built-in text: a new one needs both its subject and its HTML.
        (None, _) => ListMessage {
            subject: parts.subject.clone().ok_or_else(|| {
                bad(
                    kind,
                    "a new welcome message needs a subject (--welcome-subject)",
                )
            })?,
            html: parts.html.clone().ok_or_else(|| {
                bad(
                    kind,
                    "a new welcome message needs its HTML (--welcome-html)",
                )
            })?,
            text: None,
        },
    };
    let m = ListMessage {
        subject: parts.subject.unwrap_or(base.subject),
        html: parts.html.unwrap_or(base.html),
        // New HTML without new text: the text is derived from the new HTML.
        text: match parts.text {
            Some(t) if t.trim().is_empty() => None,
            Some(t) => Some(t),
            None if new_html => None,
            None => base.text,
        },
    };
    check_message(kind, &m, list_name).await?;
    Ok(Some(m))
}

/// The campaign that carries list `l`'s messages of `kind` (created by the store when the
/// list's current one has other content).
pub fn list_campaign(
    l: &ListRecord,
    kind: CampaignKind,
    now_ms: i64,
) -> Result<NewCampaign, AudienceError> {
    let from = l
        .list
        .from_address
        .clone()
        .ok_or(AudienceError::DoubleNeedsFrom)?;
    let (name, text, track) = match kind {
        CampaignKind::Welcome => (
            "Welcome",
            l.list.welcome.clone().ok_or_else(|| {
                AudienceError::BadWelcome(format!("list {:?} has none", l.list.name))
            })?,
            // List mail like a campaign, with a campaign's default tracking.
            true,
        ),
        _ => (
            "Confirmations",
            l.list
                .confirmation
                .clone()
                .unwrap_or_else(built_in_confirmation),
            false,
        ),
    };
    Ok(NewCampaign {
        name: format!("{name}: {}", l.list.name),
        list: l.id,
        from_name: l.list.from_name.clone(),
        from_address: from,
        subject: text.subject,
        html: text.html,
        text: text.text,
        created_at_ms: now_ms,
        gate_override: None,
        reply_to: None,
        track_opens: track,
        track_clicks: track,
        send_to_seeds: false,
    })
}

/// Queue list `l`'s message of `kind` to `addr` (contact `contact_id`); `None` when the
/// resend pause or the window's cap held it back.
pub(super) async fn queue_message<S: Store>(
    store: &S,
    l: &ListRecord,
    kind: CampaignKind,
    (contact_id, addr): (i64, &EmailAddress),
    consent: Option<i64>,
    at: i64,
) -> Result<Option<DeliveryId>, AudienceError> {
    let campaign = list_campaign(l, kind, at)?;
    let from_domain = herald_domain::address::domain_part(&campaign.from_address).to_string();
    let (resend, window, max) = match kind {
        CampaignKind::Welcome => (WELCOME_RESEND_MS, WELCOME_WINDOW_MS, MAX_WELCOMES),
        _ => (CONFIRM_RESEND_MS, CONFIRM_WINDOW_MS, MAX_CONFIRMATIONS),
    };
    Ok(store
        .queue_list_message(&NewListMessage {
            kind,
            list: l.id,
            contact_id,
            email: addr.to_string(),
            email_key: addr.key(),
            domain: addr.domain().to_string(),
            message_id: format!("<{}@{from_domain}>", uuid::Uuid::now_v7().simple()),
            campaign,
            consent,
            not_since_ms: at - resend,
            window_since_ms: at - window,
            max_in_window: max,
            at_ms: at,
        })
        .await?)
}

/// Greet a person who just became a member of `l` by their own request, if `l` has a welcome.
/// Their subscription is already kept: a welcome that cannot be queued is logged, not an error
/// to show them (a retry would find them subscribed and greet nobody).
pub(super) async fn welcome<S: Store>(
    store: &S,
    l: &ListRecord,
    (contact_id, addr): (i64, &EmailAddress),
    at: i64,
) -> Option<DeliveryId> {
    l.list.welcome.as_ref()?;
    match queue_message(
        store,
        l,
        CampaignKind::Welcome,
        (contact_id, addr),
        None,
        at,
    )
    .await
    {
        Ok(queued) => queued,
        Err(e) => {
            tracing::warn!(error = %e, list = %l.list.name, "a welcome message could not be queued");
            None
        }
    }
}
