//! Joining and leaving by oneself: the sign-up form, the confirmation message and its link,
//! the preference centre.

use herald_domain::{EmailAddress, MemberStatus, OptIn};
use herald_mail::erasure::ErasureKey;
use herald_store::{
    Confirmed, DeliveryId, ListRecord, NewCampaign, NewConfirmation, SignUp, Store, StoreError,
};

use super::*;

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
pub fn confirmation_campaign(l: &ListRecord, now_ms: i64) -> Result<NewCampaign, AudienceError> {
    let from = l
        .list
        .from_address
        .clone()
        .ok_or(AudienceError::DoubleNeedsFrom)?;
    let text = l
        .list
        .confirmation
        .clone()
        .unwrap_or_else(super::built_in_confirmation);
    Ok(NewCampaign {
        name: format!("Confirmations: {}", l.list.name),
        list: l.id,
        from_name: l.list.from_name.clone(),
        from_address: from,
        subject: text.subject,
        html: text.html,
        text: text.text,
        created_at_ms: now_ms,
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
    now_ms: i64,
) -> Result<SignUpOutcome, AudienceError> {
    let (addr, fields) = parse_form(list, form)?;
    let status = match list.list.opt_in {
        OptIn::Single => MemberStatus::Subscribed,
        OptIn::Double => MemberStatus::Pending,
    };
    join(store, erasure, list, form, (addr, fields), status, now_ms).await
}

/// Add `addr` to `list` as `status` (`pending`: with a confirmation message).
pub(super) async fn join<S: Store>(
    store: &S,
    erasure: &ErasureKey,
    list: &ListRecord,
    form: &SignUpForm,
    (addr, fields): (EmailAddress, serde_json::Map<String, serde_json::Value>),
    status: MemberStatus,
    now_ms: i64,
) -> Result<SignUpOutcome, AudienceError> {
    let at = now_ms;
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
        let campaign = confirmation_campaign(list, now_ms)?;
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

/// Confirm the sign-up behind a confirmation message's link (already verified by the caller).
pub async fn confirm<S: Store>(
    store: &S,
    delivery: DeliveryId,
    ip: Option<&str>,
    now_ms: i64,
) -> Result<Option<Confirmed>, AudienceError> {
    Ok(store.confirm_member(delivery, now_ms, ip).await?)
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
    now_ms: i64,
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
                at_ms: now_ms,
            },
        )
        .await?)
}
