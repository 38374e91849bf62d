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

use herald_domain::audience::{slug_of, valid_slug};
use herald_domain::{EmailAddress, MemberStatus, OptIn};
use herald_mail::erasure::ErasureKey;
use herald_store::{
    Confirmed, DeliveryId, ListRecord, NewCampaign, NewConfirmation, NewList, SignUp, Store,
    StoreError,
};

pub mod privacy;
pub mod segments;

use crate::campaign::parse_from;
use crate::now_ms;

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

#[derive(Debug, thiserror::Error)]
pub enum AudienceError {
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
) -> Result<ListRecord, AudienceError> {
    let l = merged(store, None, input).await?;
    store.create_list(&l, now_ms()).await?;
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

/// A person asking to join a list.
#[derive(Debug, Clone, Default)]
pub struct SignUpForm {
    pub email: String,
    /// Field values as posted (only the list's form fields are kept).
    pub fields: Vec<(String, String)>,
    pub source: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub form_text: String,
}

/// What a sign-up did. The public pages answer the same whatever this is, so a sign-up never
/// reveals whether an address was already on the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignUpOutcome {
    pub contact_id: i64,
    pub before: Option<MemberStatus>,
    pub status: MemberStatus,
    /// The confirmation message queued, if one was.
    pub confirmation: Option<DeliveryId>,
}

/// Check a sign-up's address and fields (each problem named by its field).
pub fn parse_form(
    list: &ListRecord,
    form: &SignUpForm,
) -> Result<(EmailAddress, serde_json::Map<String, serde_json::Value>), AudienceError> {
    let email = form.email.trim();
    if email.is_empty() {
        return Err(AudienceError::BadEmail("enter your email address".into()));
    }
    let addr = EmailAddress::parse(email).map_err(|e| AudienceError::BadEmail(e.to_string()))?;
    let mut fields = serde_json::Map::new();
    for (k, v) in &form.fields {
        if !list.list.form_fields.iter().any(|f| f == k) {
            continue;
        }
        let v = v.trim();
        check_value(k, v)?;
        if !v.is_empty() {
            fields.insert(k.clone(), serde_json::Value::String(v.to_string()));
        }
    }
    Ok((addr, fields))
}

/// The default confirmation message of a list (`{{ list.name }}` and `{{ confirm_url }}` are
/// filled in per message).
pub fn confirmation_campaign(l: &ListRecord) -> Result<NewCampaign, AudienceError> {
    let from = l
        .list
        .from_address
        .clone()
        .ok_or(AudienceError::DoubleNeedsFrom)?;
    Ok(NewCampaign {
        name: format!("Confirmations: {}", l.list.name),
        list: l.id,
        from_name: l.list.from_name.clone(),
        from_address: from,
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
        created_at_ms: now_ms(),
        gate_override: None,
        reply_to: None,
        track_opens: false,
        track_clicks: false,
        send_to_seeds: false,
    })
}

/// Sign `form`'s person up to `list`: subscribed at once (single opt-in) or pending with a
/// confirmation message queued (double opt-in).
pub async fn sign_up<S: Store>(
    store: &S,
    erasure: &ErasureKey,
    list: &ListRecord,
    form: &SignUpForm,
) -> Result<SignUpOutcome, AudienceError> {
    let (addr, fields) = parse_form(list, form)?;
    let status = match list.list.opt_in {
        OptIn::Single => MemberStatus::Subscribed,
        OptIn::Double => MemberStatus::Pending,
    };
    join(store, erasure, list, form, addr, fields, status).await
}

/// Add `addr` to `list` as `status` (`pending`: with a confirmation message).
async fn join<S: Store>(
    store: &S,
    erasure: &ErasureKey,
    list: &ListRecord,
    form: &SignUpForm,
    addr: EmailAddress,
    fields: serde_json::Map<String, serde_json::Value>,
    status: MemberStatus,
) -> Result<SignUpOutcome, AudienceError> {
    let at = now_ms();
    let done = store
        .sign_up(&SignUp {
            list: list.id,
            email: addr.to_string(),
            email_key: addr.key(),
            fields: serde_json::Value::Object(fields).to_string(),
            source: form.source.clone(),
            ip: form.ip.clone(),
            user_agent: form.user_agent.clone(),
            form_text: form.form_text.clone(),
            status,
            at_ms: at,
            erased_token: Some(erasure.token(&addr.key())),
        })
        .await
        .map_err(|e| match e {
            StoreError::Erased => AudienceError::Erased(addr.to_string()),
            e => e.into(),
        })?;
    let confirmation = if done.now == MemberStatus::Pending {
        let campaign = confirmation_campaign(list)?;
        let from_domain = herald_domain::address::domain_part(&campaign.from_address).to_string();
        store
            .queue_confirmation(&NewConfirmation {
                list: list.id,
                contact_id: done.contact_id,
                email: addr.to_string(),
                email_key: addr.key(),
                domain: addr.domain().to_string(),
                message_id: format!("<{}@{from_domain}>", uuid::Uuid::now_v7().simple()),
                campaign,
                consent: done.consent,
                not_since_ms: at - CONFIRM_RESEND_MS,
                window_since_ms: at - CONFIRM_WINDOW_MS,
                max_in_window: MAX_CONFIRMATIONS,
                at_ms: at,
            })
            .await?
    } else {
        None
    };
    Ok(SignUpOutcome {
        contact_id: done.contact_id,
        before: done.before,
        status: done.now,
        confirmation,
    })
}

/// What `contacts add` did.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Added {
    pub email: String,
    pub list: String,
    /// The standing before (`null`: not a member).
    pub before: Option<String>,
    pub status: String,
    /// A confirmation message was queued (`--confirm`).
    pub confirmation_queued: bool,
}

/// A field's value as a person may give it: at most 256 characters, no control characters.
fn check_value(field: &str, v: &str) -> Result<(), AudienceError> {
    let why = if v.chars().count() > MAX_FIELD_VALUE {
        "at most 256 characters"
    } else if v.chars().any(char::is_control) {
        "must not contain line breaks or control characters"
    } else {
        return Ok(());
    };
    Err(AudienceError::BadField {
        field: field.to_string(),
        why,
    })
}

fn check_values(fields: &[(String, String)]) -> Result<(), AudienceError> {
    for (k, v) in fields {
        check_field_name(k)?;
        check_value(k, v)?;
    }
    Ok(())
}

/// An operator adds a person to a list (CLI, API): subscribed at once, their fields set — or,
/// with `confirm`, pending with a confirmation message (the person's fields then wait for it).
/// Someone who left the list is not put back without `confirm`.
pub async fn add_contact<S: Store>(
    store: &S,
    erasure: &ErasureKey,
    list: &ListRecord,
    email: &str,
    fields: &[(String, String)],
    confirm: bool,
    source: &str,
) -> Result<Added, AudienceError> {
    check_values(fields)?;
    let addr =
        EmailAddress::parse(email.trim()).map_err(|e| AudienceError::BadEmail(e.to_string()))?;
    if confirm && list.list.from_address.is_none() {
        return Err(AudienceError::DoubleNeedsFrom);
    }
    let map: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.trim().to_string())))
        .collect();
    let form = SignUpForm {
        email: addr.to_string(),
        source: source.to_string(),
        form_text: format!("added by an operator ({source})"),
        ..Default::default()
    };
    let status = if confirm {
        MemberStatus::Pending
    } else {
        MemberStatus::Subscribed
    };
    let done = join(
        store,
        erasure,
        list,
        &form,
        addr.clone(),
        map.clone(),
        status,
    )
    .await?;
    if !confirm && done.status == MemberStatus::Unsubscribed {
        return Err(AudienceError::LeftList(
            addr.to_string(),
            list.list.name.clone(),
        ));
    }
    // The operator's fields apply to an existing contact too (a form's never do).
    if !confirm && !map.is_empty() {
        edit_contact(store, addr.as_str(), fields, &[]).await?;
    }
    Ok(Added {
        email: addr.to_string(),
        list: list.list.name.clone(),
        before: done.before.map(|b| b.as_str().to_string()),
        status: done.status.as_str().to_string(),
        confirmation_queued: done.confirmation.is_some(),
    })
}

/// Set and remove a contact's fields; its fields afterwards.
pub async fn edit_contact<S: Store>(
    store: &S,
    email: &str,
    set: &[(String, String)],
    unset: &[String],
) -> Result<serde_json::Map<String, serde_json::Value>, AudienceError> {
    check_values(set)?;
    let key = EmailAddress::parse(email.trim())
        .map_err(|e| AudienceError::BadEmail(e.to_string()))?
        .key();
    let c = store
        .contact(&key)
        .await?
        .ok_or_else(|| AudienceError::UnknownContact(email.to_string()))?;
    let mut fields: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&c.fields).unwrap_or_default();
    for (k, v) in set {
        fields.insert(k.clone(), serde_json::Value::String(v.trim().to_string()));
    }
    for k in unset {
        fields.remove(k);
    }
    store
        .set_contact_fields(
            &key,
            &serde_json::Value::Object(fields.clone()).to_string(),
            now_ms(),
        )
        .await?;
    Ok(fields)
}

/// Take a contact off a list (they stay a contact; campaigns to it say `not_sent: unsubscribed`).
pub async fn remove_from_list<S: Store>(
    store: &S,
    list: &ListRecord,
    email: &str,
) -> Result<(), AudienceError> {
    let key = EmailAddress::parse(email.trim())
        .map_err(|e| AudienceError::BadEmail(e.to_string()))?
        .key();
    if !store
        .set_member_status(list.id, &key, MemberStatus::Unsubscribed, now_ms())
        .await?
    {
        return Err(AudienceError::NotMember(
            email.to_string(),
            list.list.name.clone(),
        ));
    }
    Ok(())
}

/// How `contacts export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

/// Stream every contact (of `list`, or all) to `out`, a page at a time: CSV (a header row;
/// fields as columns after the fixed ones) or one JSON array. Returns how many were written.
pub async fn export<S: Store, W: std::io::Write>(
    store: &S,
    list: Option<&ListRecord>,
    format: ExportFormat,
    out: W,
) -> Result<u64, ExportError> {
    const PAGE: u32 = 5_000;
    let id = list.map(|l| l.id);
    // CSV needs its columns first: one pass over the field names (bounded by their number).
    let mut names = std::collections::BTreeSet::new();
    if format == ExportFormat::Csv {
        let mut after = 0;
        loop {
            let page = store.export_page(id, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.contact_id;
            for r in &page {
                let f: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&r.fields).unwrap_or_default();
                names.extend(f.into_iter().map(|(k, _)| k));
            }
        }
    }
    let ms = |v: i64| crate::reports::ms_to_rfc3339(v);
    enum Sink<W: std::io::Write> {
        Csv(Box<csv::Writer<W>>),
        Json(W),
    }
    let mut sink = match format {
        ExportFormat::Csv => Sink::Csv(Box::new(csv::Writer::from_writer(out))),
        ExportFormat::Json => Sink::Json(out),
    };
    if let Sink::Csv(csv) = &mut sink {
        let mut head = vec![
            "email",
            if list.is_some() { "status" } else { "lists" },
            "suppressed",
            "consent_source",
            "consent_at",
            "confirmed_at",
            "created_at",
        ];
        head.extend(names.iter().map(String::as_str));
        csv.write_record(&head)?;
    }
    let mut n = 0u64;
    let mut after = 0;
    let mut json_started = false;
    loop {
        let page = store.export_page(id, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.contact_id;
        for r in &page {
            n += 1;
            let fields: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&r.fields).unwrap_or_default();
            let memberships = r
                .memberships
                .iter()
                .map(|(l, s)| format!("{l}:{s}"))
                .collect::<Vec<_>>()
                .join("; ");
            let (source, at, confirmed) = match &r.consent {
                Some((s, at, c)) => (s.clone(), ms(*at), c.map(ms).unwrap_or_default()),
                None => Default::default(),
            };
            match &mut sink {
                Sink::Csv(csv) => {
                    let status = match list {
                        Some(_) => r
                            .memberships
                            .first()
                            .map(|(_, s)| s.as_str().to_string())
                            .unwrap_or_default(),
                        None => memberships,
                    };
                    let mut row = vec![
                        r.email.clone(),
                        status,
                        r.suppression.clone().unwrap_or_default(),
                        source,
                        at,
                        confirmed,
                        ms(r.created_at_ms),
                    ];
                    for k in &names {
                        row.push(spreadsheet_safe(match fields.get(k) {
                            Some(serde_json::Value::String(s)) => s.clone(),
                            Some(serde_json::Value::Null) | None => String::new(),
                            Some(other) => other.to_string(),
                        }));
                    }
                    csv.write_record(&row)?;
                }
                Sink::Json(w) => {
                    let doc = serde_json::json!({
                        "email": r.email,
                        "lists": r.memberships.iter().map(|(l, s)| serde_json::json!({"list": l, "status": s.as_str()})).collect::<Vec<_>>(),
                        "suppressed": r.suppression,
                        "consent": r.consent.as_ref().map(|(s, at, c)| serde_json::json!({
                            "source": s, "at": ms(*at), "confirmed_at": c.map(ms),
                        })),
                        "created_at": ms(r.created_at_ms),
                        "fields": fields,
                    });
                    w.write_all(if json_started { b",\n" } else { b"[\n" })?;
                    json_started = true;
                    serde_json::to_writer(&mut *w, &doc)?;
                }
            }
        }
    }
    match sink {
        Sink::Json(mut w) => {
            w.write_all(if json_started { b"\n]\n" } else { b"[]\n" })?;
            w.flush()?;
        }
        Sink::Csv(mut csv) => csv.flush()?,
    }
    Ok(n)
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first: typed by anyone
/// into a sign-up form) gets a leading `'`, which spreadsheets show as text.
fn spreadsheet_safe(v: String) -> String {
    if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing: {0}")]
    Io(#[from] std::io::Error),
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Confirm the sign-up behind a confirmation message's link (already verified by the caller).
pub async fn confirm<S: Store>(
    store: &S,
    delivery: DeliveryId,
    ip: Option<&str>,
) -> Result<Option<Confirmed>, AudienceError> {
    Ok(store.confirm_member(delivery, now_ms(), ip).await?)
}

/// What a contact asks for in the preference centre.
#[derive(Debug, Clone, Default)]
pub struct PreferenceForm {
    /// The lists to stay on (or rejoin); every other list they are on is left.
    pub keep: Vec<herald_store::ListId>,
    /// Field values as posted (only fields one of their lists asks for are kept).
    pub fields: Vec<(String, String)>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Apply a preference-centre post for the contact `delivery` went to; `Ok(false)` when the
/// delivery names no contact.
pub async fn set_preferences<S: Store>(
    store: &S,
    delivery: DeliveryId,
    form: &PreferenceForm,
) -> Result<bool, AudienceError> {
    let Some(p) = store.preferences(delivery).await? else {
        return Ok(false);
    };
    let allowed: std::collections::HashSet<&str> = p
        .memberships
        .iter()
        .flat_map(|m| m.form_fields.iter().map(String::as_str))
        .collect();
    let stored: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&p.fields).unwrap_or_default();
    let mut fields = serde_json::Map::new();
    for (k, v) in &form.fields {
        if !allowed.contains(k.as_str()) {
            continue;
        }
        let v = v.trim();
        // Only what the person changed: an untouched field (whatever an import put there) is
        // neither checked nor rewritten, and an empty box does not create an empty field.
        let before = stored.get(k);
        if before.and_then(|b| b.as_str()).map(str::trim) == Some(v)
            || (before.is_none() && v.is_empty())
        {
            continue;
        }
        check_value(k, v)?;
        fields.insert(k.clone(), serde_json::Value::String(v.to_string()));
    }
    let lists = p
        .memberships
        .iter()
        // A pending sign-up is confirmed by its own link, not here.
        .filter(|m| m.status != MemberStatus::Pending)
        .map(|m| {
            let status = if form.keep.contains(&m.list) {
                MemberStatus::Subscribed
            } else {
                MemberStatus::Unsubscribed
            };
            (m.list, status)
        })
        .collect();
    Ok(store
        .set_preferences(
            delivery,
            &herald_store::PreferenceChange {
                lists,
                fields: serde_json::Value::Object(fields).to_string(),
                ip: form.ip.clone(),
                user_agent: form.user_agent.clone(),
                at_ms: now_ms(),
            },
        )
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(fields: &[&str]) -> ListRecord {
        ListRecord {
            id: herald_store::ListId(1),
            list: NewList {
                name: "News".into(),
                slug: Some("news".into()),
                description: String::new(),
                opt_in: OptIn::Double,
                form_fields: fields.iter().map(|f| f.to_string()).collect(),
                from_name: None,
                from_address: Some("news@sender.test".into()),
            },
            created_at_ms: 0,
            subscribed: 0,
            pending: 0,
            unsubscribed: 0,
        }
    }

    #[test]
    fn forms_keep_only_the_lists_fields_and_name_what_is_wrong() {
        let l = list(&["first_name"]);
        let form = |email: &str, fields: &[(&str, &str)]| SignUpForm {
            email: email.into(),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        };
        let (a, f) = parse_form(
            &l,
            &form(
                " Eve@Example.test ",
                &[("first_name", " Eve "), ("admin", "1")],
            ),
        )
        .expect("valid");
        assert_eq!(a.key(), "eve@example.test");
        assert_eq!(f.get("first_name").and_then(|v| v.as_str()), Some("Eve"));
        assert!(!f.contains_key("admin"));
        assert!(matches!(
            parse_form(&l, &form("", &[])),
            Err(AudienceError::BadEmail(_))
        ));
        assert!(matches!(
            parse_form(&l, &form("not an address", &[])),
            Err(AudienceError::BadEmail(_))
        ));
        let long = "x".repeat(257);
        match parse_form(&l, &form("a@b.test", &[("first_name", &long)])) {
            Err(AudienceError::BadField { field, .. }) => assert_eq!(field, "first_name"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_form(&l, &form("a@b.test", &[("first_name", "a\r\nBcc: x")])),
            Err(AudienceError::BadField { .. })
        ));
    }

    #[test]
    fn field_names() {
        for ok in ["first_name", "city", "a1"] {
            assert!(check_field_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1a",
            "first name",
            "email",
            "t",
            "website",
            "naïve",
            &"a".repeat(41),
        ] {
            assert!(check_field_name(bad).is_err(), "{bad:?}");
        }
    }
}
