//! Public sign-up (design §6b): a hosted form per list and the double opt-in confirmation.
//!
//! | route | what |
//! |---|---|
//! | `GET /s/{slug}` | the list's sign-up form |
//! | `POST /s/{slug}` | signs up: subscribed at once, or pending with a confirmation message |
//! | `GET /s/confirm/{token}` | a page with a Confirm button (a GET never confirms: scanners fetch links) |
//! | `POST /s/confirm/{token}` | confirms the sign-up the message was sent for |
//!
//! Anti-abuse without third-party CAPTCHAs: the form carries a signed token with the time it
//! was served (a post sooner than `min_fill` after it, or a day later, is not taken), a hidden
//! honeypot field (a bot that fills it is answered as if it had signed up, and nothing is
//! stored), a limit of sign-ups per client network per hour, and double opt-in itself. Every
//! outcome of a valid post reads the same, so the form never tells whether an address was
//! already on the list.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use herald_domain::OptIn;
use herald_domain::connections::network;
use herald_engine::audience::{self, AudienceError, SignUpForm};
use herald_mail::tracking::TokenKind;
use herald_store::{DeliveryId, ListRecord, Store};

use super::{Public, client_ip, user_agent};

/// `[lists]` settings the public pages follow.
#[derive(Debug, Clone)]
pub struct SignupRules {
    /// A confirmation link works this long after its message was sent.
    pub confirm_within: Duration,
    /// A preference-centre link works this long after its message was sent (a forwarded or
    /// leaked message does not open someone's preferences for ever); unsubscribe links do not
    /// expire.
    pub preferences_within: Duration,
    /// A form posted sooner than this after it was served is not taken (bots fill at once).
    pub min_fill: Duration,
    /// Sign-ups accepted per client network (IPv4 address, IPv6 /64) per hour; 0: no limit.
    pub per_ip_per_hour: u32,
    /// An unsubscribe link (and RFC 8058 one-click) leaves only the list the message was sent
    /// to (`[lists] unsubscribe = "list"`), instead of everything.
    pub unsubscribe_leaves_list_only: bool,
    /// Erasure tokens: a person erased at their request is not signed up again (the form
    /// answers as for anyone, revealing nothing).
    pub erasure: Arc<herald_mail::erasure::ErasureKey>,
}

impl Default for SignupRules {
    fn default() -> Self {
        Self {
            confirm_within: Duration::from_secs(7 * 24 * 3600),
            preferences_within: Duration::from_secs(90 * 24 * 3600),
            min_fill: Duration::from_secs(2),
            per_ip_per_hour: 20,
            unsubscribe_leaves_list_only: false,
            // A key of this process alone: the application passes the installation's.
            erasure: Arc::new(herald_mail::erasure::ErasureKey::new(
                &herald_mail::verp::VerpKey::generate_secret().unwrap_or([7; 32]),
            )),
        }
    }
}

/// A served form is good for this long.
const FORM_VALID_S: i64 = 24 * 3600;
/// Client networks remembered by the rate limit before the map is cleared.
const RATE_MAX: usize = 100_000;

/// Sign-ups per client network in the current hour.
#[derive(Default)]
pub struct SignupRate {
    seen: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl SignupRate {
    /// Count one sign-up from `ip` at `now_ms`; false when it is over `limit` this hour.
    pub fn allow(&self, ip: IpAddr, now_ms: i64, limit: u32) -> bool {
        if limit == 0 {
            return true;
        }
        let Ok(mut seen) = self.seen.lock() else {
            return true;
        };
        if seen.len() >= RATE_MAX {
            seen.clear();
        }
        let e = seen.entry(network(ip)).or_insert((now_ms, 0));
        if now_ms - e.0 >= 3_600_000 {
            *e = (now_ms, 0);
        }
        e.1 += 1;
        e.1 <= limit
    }
}

struct FieldView {
    name: String,
    label: String,
    value: String,
}

struct FormView {
    action: String,
    token: String,
    email: String,
    fields: Vec<FieldView>,
    consent: String,
    button: &'static str,
}

#[derive(Template)]
#[template(path = "signup.html")]
struct Page {
    title: String,
    problem: Option<String>,
    paragraphs: Vec<String>,
    form: Option<FormView>,
    /// The confirm page's button posts here.
    confirm_action: Option<String>,
}

fn page(status: StatusCode, p: Page) -> Response {
    match p.render() {
        Ok(html) => (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a public page");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub(super) fn message(status: StatusCode, title: &str, paragraphs: &[&str]) -> Response {
    page(
        status,
        Page {
            title: title.to_string(),
            problem: None,
            paragraphs: paragraphs.iter().map(|p| p.to_string()).collect(),
            form: None,
            confirm_action: None,
        },
    )
}

fn not_found() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "Not found",
        &["There is no sign-up form at this address."],
    )
}

fn unavailable() -> Response {
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Please try again",
        &["We could not record your request just now. Please try again in a minute."],
    )
}

/// What the person agrees to, as shown on the form and kept in the consent record.
pub(crate) fn consent_text(l: &ListRecord) -> String {
    match l.list.opt_in {
        OptIn::Double => format!(
            "By subscribing you agree to receive {} at this address. We will send you a message to confirm first; you can leave at any time with the link in every message.",
            l.list.name
        ),
        OptIn::Single => format!(
            "By subscribing you agree to receive {} at this address. You can leave at any time with the link in every message.",
            l.list.name
        ),
    }
}

pub(super) fn label(field: &str) -> String {
    let s = field.replace('_', " ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => s,
    }
}

fn form_page<S: Store>(
    p: &Public<S>,
    l: &ListRecord,
    status: StatusCode,
    problem: Option<String>,
    posted: &HashMap<String, String>,
) -> Response {
    let slug = l.list.slug.clone().unwrap_or_default();
    let mut paragraphs = Vec::new();
    if !l.list.description.trim().is_empty() {
        paragraphs.push(l.list.description.clone());
    }
    page(
        status,
        Page {
            title: format!("Subscribe to {}", l.list.name),
            problem,
            paragraphs,
            form: Some(FormView {
                action: format!("/s/{slug}"),
                token: p
                    .keys
                    .sign(TokenKind::Form, l.id.0, p.clock.now_ms() / 1000, &slug),
                email: posted.get("email").cloned().unwrap_or_default(),
                fields: l
                    .list
                    .form_fields
                    .iter()
                    .map(|f| FieldView {
                        name: f.clone(),
                        label: label(f),
                        value: posted.get(f).cloned().unwrap_or_default(),
                    })
                    .collect(),
                consent: consent_text(l),
                button: "Subscribe",
            }),
            confirm_action: None,
        },
    )
}

async fn public_list<S: Store>(p: &Public<S>, slug: &str) -> Result<Option<ListRecord>, Response> {
    if !herald_domain::audience::valid_slug(slug) {
        return Ok(None);
    }
    p.store.list_record(slug, true).await.map_err(|e| {
        tracing::error!(error = %e, "reading a list");
        unavailable()
    })
}

pub(super) async fn form<S: Store>(
    State(p): State<Arc<Public<S>>>,
    Path(slug): Path<String>,
    Query(prefill): Query<HashMap<String, String>>,
) -> Response {
    // Only the address is filled in from the link (an embedded form on a website).
    let prefill: HashMap<String, String> = prefill
        .into_iter()
        .filter(|(k, v)| k == "email" && v.len() <= 320)
        .collect();
    match public_list(&p, &slug).await {
        Ok(Some(l)) => form_page(&p, &l, StatusCode::OK, None, &prefill),
        Ok(None) => not_found(),
        Err(r) => r,
    }
}

fn done_page(l: &ListRecord, email: &str) -> Response {
    match l.list.opt_in {
        OptIn::Double => message(
            StatusCode::OK,
            "Almost done: please check your inbox",
            &[
                &format!(
                    "If {email} can receive {}, a message to confirm your subscription is on its way to it. Click the link in it to finish.",
                    l.list.name
                ),
                "Nothing there in a few minutes? Look in your spam or junk folder.",
            ],
        ),
        OptIn::Single => message(
            StatusCode::OK,
            "Thank you",
            &[&format!("{email} is subscribed to {}.", l.list.name)],
        ),
    }
}

pub(super) async fn submit<S: Store>(
    State(p): State<Arc<Public<S>>>,
    Path(slug): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(posted): Form<HashMap<String, String>>,
) -> Response {
    let l = match public_list(&p, &slug).await {
        Ok(Some(l)) => l,
        Ok(None) => return not_found(),
        Err(r) => return r,
    };
    let now = p.clock.now_ms();
    let served = posted
        .get("t")
        .and_then(|t| p.keys.verify(TokenKind::Form, t, &slug, now))
        .filter(|v| v.delivery == l.id.0)
        .map(|v| now / 1000 - v.sent_at);
    let Some(age_s) = served.filter(|a| *a <= FORM_VALID_S) else {
        return form_page(
            &p,
            &l,
            StatusCode::BAD_REQUEST,
            Some("This form has expired. Please fill it in again.".into()),
            &posted,
        );
    };
    let email = posted.get("email").map(|e| e.trim()).unwrap_or("");
    // A bot filled the hidden field: answered as a person would be, nothing stored.
    if posted.get("website").is_some_and(|v| !v.is_empty()) {
        tracing::info!(list = %l.list.name, "sign-up with the honeypot filled: ignored");
        return done_page(&l, email);
    }
    if (age_s as u128) < p.signup.min_fill.as_millis() / 1000 {
        return form_page(
            &p,
            &l,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("That was quick. Please check the form and press Subscribe again.".into()),
            &posted,
        );
    }
    let ip = client_ip(&p, peer, &headers);
    if !p.signup_rate.allow(ip, now, p.signups_per_ip_per_hour()) {
        return message(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-ups",
            &["Too many sign-ups came from your network in the last hour. Please try again later."],
        );
    }
    let form = SignUpForm {
        email: email.to_string(),
        fields: posted
            .iter()
            .filter(|(k, _)| l.list.form_fields.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        source: format!("form:{slug}"),
        ip: p.ip_policy.apply(ip),
        user_agent: Some(user_agent(&headers)),
        form_text: consent_text(&l),
    };
    match audience::sign_up(&p.store, &p.signup.erasure, &l, &form, p.clock.now_ms()).await {
        // An erased person is told what anyone is told, and nothing is kept.
        Ok(_) | Err(AudienceError::Erased(_)) => done_page(&l, email),
        Err(e @ (AudienceError::BadEmail(_) | AudienceError::BadField { .. })) => form_page(
            &p,
            &l,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(e.to_string()),
            &posted,
        ),
        Err(e) => {
            tracing::error!(error = %e, list = %l.list.name, "sign-up failed");
            unavailable()
        }
    }
}

/// The delivery a confirmation link names, if it is genuine and within `confirm_within`.
fn confirm_token<S: Store>(p: &Public<S>, token: &str) -> Option<DeliveryId> {
    let now = p.clock.now_ms();
    let v = p.keys.verify(TokenKind::Confirm, token, "", now)?;
    (now / 1000 - v.sent_at <= p.signup.confirm_within.as_secs() as i64)
        .then_some(DeliveryId(v.delivery))
}

fn expired() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "This link does not work any more",
        &["Confirmation links work for a limited time. Please sign up again to get a new one."],
    )
}

pub(super) async fn confirm_page<S: Store>(
    State(p): State<Arc<Public<S>>>,
    Path(token): Path<String>,
) -> Response {
    if confirm_token(&p, &token).is_none() {
        return expired();
    }
    page(
        StatusCode::OK,
        Page {
            title: "Confirm your subscription".into(),
            problem: None,
            paragraphs: vec!["One click to finish:".into()],
            form: None,
            confirm_action: Some(format!("/s/confirm/{token}")),
        },
    )
}

pub(super) async fn confirm<S: Store>(
    State(p): State<Arc<Public<S>>>,
    Path(token): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let Some(delivery) = confirm_token(&p, &token) else {
        return expired();
    };
    let ip = p.ip_policy.apply(client_ip(&p, peer, &headers));
    match audience::confirm(&p.store, delivery, ip.as_deref(), p.clock.now_ms()).await {
        Ok(Some(c)) => message(
            StatusCode::OK,
            "You are subscribed",
            &[&format!("{} will receive {}.", c.email, c.list_name)],
        ),
        Ok(None) => expired(),
        Err(e) => {
            tracing::error!(error = %e, "confirming a sign-up failed");
            unavailable()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_per_network_per_hour() {
        let r = SignupRate::default();
        let a: IpAddr = "2001:db8::1".parse().expect("ip");
        let b: IpAddr = "2001:db8::2".parse().expect("ip");
        assert!(r.allow(a, 0, 2));
        assert!(r.allow(b, 1, 2), "the same /64");
        assert!(!r.allow(a, 2, 2));
        assert!(r.allow(a, 3_600_000, 2), "a new hour");
        assert!(r.allow(a, 0, 0), "0: no limit");
    }

    #[test]
    fn labels() {
        assert_eq!(label("first_name"), "First name");
        assert_eq!(label("city"), "City");
    }
}
