//! Joining and leaving by oneself: the sign-up form, the confirmation message and its link,
//! the preference centre.

use herald_domain::{CampaignKind, EmailAddress, MemberStatus, OptIn};
use herald_mail::erasure::ErasureKey;
use herald_store::{Confirmed, DeliveryId, ListRecord, SignUp, Store, StoreError};

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
    /// The list's welcome message queued (a person subscribed by this sign-up), if one was.
    pub welcome: Option<DeliveryId>,
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

/// Sign `form`'s person up to `list`: subscribed at once (single opt-in, greeted by the list's
/// welcome message if it has one) or pending with a confirmation message queued (double opt-in).
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
    let mut done = join(
        store,
        erasure,
        list,
        form,
        (addr.clone(), fields),
        status,
        now_ms,
    )
    .await?;
    if done.status == MemberStatus::Subscribed && done.before != Some(MemberStatus::Subscribed) {
        done.welcome = welcome(store, list, (done.contact_id, &addr), now_ms).await;
    }
    Ok(done)
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
        queue_message(
            store,
            list,
            CampaignKind::Confirmation,
            (done.contact_id, &addr),
            done.consent,
            at,
        )
        .await?
    } else {
        None
    };
    Ok(SignUpOutcome {
        contact_id: done.contact_id,
        before: done.before,
        status: done.now,
        confirmation,
        welcome: None,
    })
}

/// Confirm the sign-up behind a confirmation message's link (already verified by the caller);
/// a person subscribed by it gets the list's welcome message, if it has one.
pub async fn confirm<S: Store>(
    store: &S,
    delivery: DeliveryId,
    ip: Option<&str>,
    now_ms: i64,
) -> Result<Option<Confirmed>, AudienceError> {
    let done = store.confirm_member(delivery, now_ms, ip).await?;
    if let Some(c) = done.as_ref().filter(|c| c.newly)
        && let Ok(addr) = EmailAddress::parse(&c.email)
    {
        match store.list_settings(c.list).await {
            Ok(Some(list)) => {
                welcome(store, &list, (c.contact_id, &addr), now_ms).await;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(
                error = %e,
                list = %c.list_name,
                "no welcome queued: the list could not be read"
            ),
        }
    }
    Ok(done)
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
