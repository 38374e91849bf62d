//! The preference centre (`{{ preferences_url }}` in a message): the lists the recipient is on,
//! leave or rejoin each, change the fields their lists ask for, or unsubscribe from
//! everything. Reached by a signed per-delivery link; a GET changes nothing.
//!
//! | route | what |
//! |---|---|
//! | `GET /p/{token}` | the page |
//! | `POST /p/{token}` | `action=save` (the ticked `list`s are kept, the rest left; `field_*`) or `action=everything` |

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, Path, RawForm, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use herald_domain::MemberStatus;
use herald_engine::audience::{self, AudienceError, PreferenceForm};
use herald_mail::tracking::TokenKind;
use herald_store::{DeliveryId, EngagementRecord, ListId, Store};

use super::{Public, client_ip, not_found, user_agent};

struct ListRow {
    id: i64,
    name: String,
    checked: bool,
    pending: bool,
}

struct FieldRow {
    name: String,
    label: String,
    value: String,
}

#[derive(Template)]
#[template(path = "preferences.html")]
struct Page {
    email: String,
    action: String,
    notice: Option<String>,
    problem: Option<String>,
    /// Unsubscribed from everything (ticking a list rejoins it).
    unsubscribed_all: bool,
    /// Suppressed for another reason (a bounce, a complaint, an operator): not mailed at all.
    blocked: Option<String>,
    lists: Vec<ListRow>,
    fields: Vec<FieldRow>,
}

/// Why a preference-centre link is not taken.
enum Refused {
    /// Not a genuine link.
    Unknown,
    /// Older than `[lists] preferences_within`.
    Expired,
}

impl Refused {
    fn answer(self) -> Response {
        match self {
            Refused::Unknown => not_found(),
            Refused::Expired => super::signup::message(
                StatusCode::GONE,
                "This link does not work any more",
                &[
                    "Links to your preferences work for a limited time. Use the link in a more recent message from us.",
                    "The unsubscribe link in any of our messages still works.",
                ],
            ),
        }
    }
}

/// The delivery a preference-centre link names, if it is genuine and within
/// `[lists] preferences_within`.
fn delivery<S: Store>(p: &Public<S>, token: &str) -> Result<DeliveryId, Refused> {
    let now = p.clock.now_ms();
    let v = p
        .keys
        .verify(TokenKind::Preferences, token, "", now)
        .ok_or(Refused::Unknown)?;
    if now / 1000 - v.sent_at > p.signup.preferences_within.as_secs() as i64 {
        return Err(Refused::Expired);
    }
    Ok(DeliveryId(v.delivery))
}

async fn show<S: Store>(
    p: &Public<S>,
    token: &str,
    d: DeliveryId,
    status: StatusCode,
    notice: Option<String>,
    problem: Option<String>,
) -> Response {
    let prefs = match p.store.preferences(d).await {
        Ok(Some(prefs)) => prefs,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "reading preferences");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let values: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&prefs.fields).unwrap_or_default();
    let unsubscribed_all = prefs.suppressed.as_deref() == Some("unsubscribed");
    let blocked = prefs
        .suppressed
        .clone()
        .filter(|r| r.as_str() != "unsubscribed");
    let mut names: Vec<&String> = prefs
        .memberships
        .iter()
        .flat_map(|m| m.form_fields.iter())
        .collect();
    names.sort();
    names.dedup();
    let page = Page {
        email: prefs.email.clone(),
        action: format!("/p/{token}"),
        notice,
        problem,
        unsubscribed_all,
        blocked,
        lists: prefs
            .memberships
            .iter()
            .map(|m| ListRow {
                id: m.list.0,
                name: m.name.clone(),
                checked: !unsubscribed_all && m.status == MemberStatus::Subscribed,
                pending: m.status == MemberStatus::Pending,
            })
            .collect(),
        fields: names
            .into_iter()
            .map(|f| FieldRow {
                name: f.clone(),
                label: super::signup::label(f),
                value: values
                    .get(f)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string(),
            })
            .collect(),
    };
    match page.render() {
        Ok(html) => (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the preference centre");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub(super) async fn page<S: Store>(
    State(p): State<Arc<Public<S>>>,
    Path(token): Path<String>,
) -> Response {
    match delivery(&p, &token) {
        Ok(d) => show(&p, &token, d, StatusCode::OK, None, None).await,
        Err(refused) => refused.answer(),
    }
}

pub(super) async fn save<S: Store>(
    State(p): State<Arc<Public<S>>>,
    Path(token): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> Response {
    let d = match delivery(&p, &token) {
        Ok(d) => d,
        Err(refused) => return refused.answer(),
    };
    // Repeated keys (`list`, one per ticked box) need the raw pairs, not a map.
    let pairs: Vec<(String, String)> = match serde_urlencoded::from_bytes(&body) {
        Ok(pairs) => pairs,
        Err(_) => {
            return show(
                &p,
                &token,
                d,
                StatusCode::BAD_REQUEST,
                None,
                Some("The form could not be read; please try again.".into()),
            )
            .await;
        }
    };
    let ip = client_ip(&p, peer, &headers);
    let ua = user_agent(&headers);
    let action = pairs
        .iter()
        .find(|(k, _)| k == "action")
        .map(|(_, v)| v.as_str());
    if action == Some("everything") {
        let record = EngagementRecord {
            delivery: d,
            kind: herald_domain::EventKind::Unsubscribe,
            at_ms: p.clock.now_ms(),
            detail: serde_json::json!({
                "verdict": "human", "reason": null, "user_agent": ua,
                "ip": p.ip_policy.apply(ip), "method": "preferences",
            })
            .to_string(),
        };
        return match p
            .store
            .record_engagement(std::slice::from_ref(&record))
            .await
        {
            Ok(_) => {
                show(
                    &p,
                    &token,
                    d,
                    StatusCode::OK,
                    Some("You are unsubscribed from everything.".into()),
                    None,
                )
                .await
            }
            Err(e) => {
                tracing::error!(error = %e, "recording an unsubscribe failed");
                StatusCode::SERVICE_UNAVAILABLE.into_response()
            }
        };
    }
    let form = PreferenceForm {
        keep: pairs
            .iter()
            .filter(|(k, _)| k == "list")
            .filter_map(|(_, v)| v.parse().ok().map(ListId))
            .collect(),
        fields: pairs
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("field_").map(|f| (f.to_string(), v.clone())))
            .collect(),
        ip: p.ip_policy.apply(ip),
        user_agent: Some(ua),
    };
    match audience::set_preferences(&p.store, d, &form, p.clock.now_ms()).await {
        Ok(true) => show(&p, &token, d, StatusCode::OK, Some("Saved.".into()), None).await,
        Ok(false) => not_found(),
        Err(e @ AudienceError::BadField { .. }) => {
            show(
                &p,
                &token,
                d,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(e.to_string()),
            )
            .await
        }
        Err(e) => {
            tracing::error!(error = %e, "saving preferences failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
