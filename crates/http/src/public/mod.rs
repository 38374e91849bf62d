//! The public endpoints messages link to. Each verifies its token first; a tampered, unknown
//! or expired token gets a 404 and nothing else (no redirect, no event).
//!
//! | route | what |
//! |---|---|
//! | `GET /t/o/{token}` | open pixel (1×1 GIF), records an `open` |
//! | `GET\|HEAD /t/c/{token}?u=…` | records a `click`, then 302 to the signed URL |
//! | `GET /u/{token}` | confirmation page with an Unsubscribe button (a GET never unsubscribes) |
//! | `POST /u/{token}` | unsubscribes at once: the page's button and RFC 8058 one-click |
//! | `/s/…` | sign-up forms and double opt-in confirmation ([`signup`]) |
//! | `/p/{token}` | the recipient's preference centre ([`preferences`]) |
//! | `GET /v/{token}` | the message's web copy, tracking off ([`web_copy`]) |

mod archive;
pub mod preferences;
pub mod signup;
pub mod web_copy;
pub mod writer;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use herald_engine::feedback::engagement::{Action, Hit, Rules, Verdict, verdict};
use herald_mail::tracking::{Keyset, PIXEL_GIF, TokenKind, decode_url};
use herald_store::{DeliveryId, EngagementRecord, Store};
use serde::Deserialize;

pub use writer::Events;

/// What is kept of a visitor's IP address (`[tracking] ip`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpPolicy {
    Full,
    /// IPv4 /24, IPv6 /48.
    Anonymized,
    None,
}

impl IpPolicy {
    pub fn apply(self, ip: IpAddr) -> Option<String> {
        match self {
            IpPolicy::Full => Some(ip.to_string()),
            IpPolicy::None => None,
            IpPolicy::Anonymized => Some(match ip {
                IpAddr::V4(v) => {
                    let o = v.octets();
                    format!("{}.{}.{}.0", o[0], o[1], o[2])
                }
                IpAddr::V6(v) => {
                    let s = v.segments();
                    format!("{:x}:{:x}:{:x}::", s[0], s[1], s[2])
                }
            }),
        }
    }
}

/// Everything the public routes need.
pub struct Public<S: Store> {
    pub store: S,
    pub keys: Arc<Keyset>,
    pub rules: Rules,
    pub ip_policy: IpPolicy,
    /// Who the client is (behind proxies).
    pub client_ip: crate::ClientIp,
    pub events: Events,
    /// How sign-up forms and confirmation links behave (`[lists]`).
    pub signup: signup::SignupRules,
    signup_rate: signup::SignupRate,
    /// The time of day: token expiry, engagement and consent times.
    pub clock: herald_engine::Clock,
    /// Recent clicks per delivery (ms, URL hash) for the burst rule; bounded.
    recent: Mutex<HashMap<i64, Vec<(i64, u64)>>>,
    /// The run-time settings in force (the sign-up limit, what an unsubscribe leaves); None:
    /// `signup`'s values.
    runtime: Option<herald_engine::runtime::Live>,
}

/// Deliveries remembered for the burst rule before the map is cleared.
const RECENT_MAX: usize = 100_000;
/// The burst window.
const BURST_MS: i64 = 2_000;

impl<S: Store> Public<S> {
    pub fn new(
        store: S,
        keys: Arc<Keyset>,
        rules: Rules,
        ip_policy: IpPolicy,
        client_ip: crate::ClientIp,
        events: Events,
    ) -> Self {
        Self {
            store,
            keys,
            rules,
            ip_policy,
            client_ip,
            events,
            signup: signup::SignupRules::default(),
            signup_rate: signup::SignupRate::default(),
            clock: herald_engine::Clock::system(),
            recent: Mutex::new(HashMap::new()),
            runtime: None,
        }
    }

    /// Follow the run-time settings (`lists.signups_per_ip_per_hour`, `lists.unsubscribe`
    /// changed on the Settings page apply to the next request).
    pub fn with_runtime(mut self, live: herald_engine::runtime::Live) -> Self {
        self.runtime = Some(live);
        self
    }

    /// Sign-ups one client network may make per hour now (0: no limit).
    pub(crate) fn signups_per_ip_per_hour(&self) -> u32 {
        match &self.runtime {
            Some(l) => l.get().signups_per_ip_per_hour,
            None => self.signup.per_ip_per_hour,
        }
    }

    /// Whether an unsubscribe leaves only the message's list now.
    pub(crate) fn unsubscribe_leaves_list_only(&self) -> bool {
        match &self.runtime {
            Some(l) => l.get().unsubscribe_leaves_list_only,
            None => self.signup.unsubscribe_leaves_list_only,
        }
    }

    /// Read the time of day from `clock` instead of the system's.
    pub fn with_clock(mut self, clock: herald_engine::Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Sign-up forms and confirmation links follow `rules`.
    pub fn with_signup(mut self, rules: signup::SignupRules) -> Self {
        self.signup = rules;
        self
    }

    /// Other links of `delivery` clicked in the last burst window; records this one.
    fn recent_other_clicks(&self, delivery: i64, now_ms: i64, url: &str) -> usize {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        url.hash(&mut h);
        let url_hash = h.finish();
        let Ok(mut map) = self.recent.lock() else {
            return 0;
        };
        if map.len() >= RECENT_MAX {
            map.clear();
        }
        let list = map.entry(delivery).or_default();
        list.retain(|(at, _)| now_ms - at <= BURST_MS);
        let others = list.iter().filter(|(_, u)| *u != url_hash).count();
        list.push((now_ms, url_hash));
        if list.len() > 32 {
            list.remove(0);
        }
        others
    }
}

/// The public routes.
pub fn router<S: Store>(state: Arc<Public<S>>) -> Router {
    Router::new()
        .route("/t/o/{token}", get(open::<S>))
        .route("/t/c/{token}", get(click::<S>))
        .route(
            "/u/{token}",
            get(unsubscribe_page::<S>).post(unsubscribe::<S>),
        )
        .route(
            "/s/{slug}",
            get(signup::form::<S>).post(signup::submit::<S>),
        )
        .route(
            "/s/confirm/{token}",
            get(signup::confirm_page::<S>).post(signup::confirm::<S>),
        )
        .route(
            "/p/{token}",
            get(preferences::page::<S>).post(preferences::save::<S>),
        )
        .route("/v/{token}", get(web_copy::page::<S>))
        .route("/a/{token}", get(archive::page::<S>))
        .layer(DefaultBodyLimit::max(16 * 1024))
        .with_state(state)
}

pub(crate) fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CACHE_CONTROL, "no-store")],
        "Not found\n",
    )
        .into_response()
}

fn client_ip<S: Store>(p: &Public<S>, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    p.client_ip.of(peer, headers)
}

fn user_agent(headers: &HeaderMap) -> String {
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    ua.chars().take(256).collect()
}

fn detail(v: &Verdict, ua: &str, ip: Option<String>, url: Option<&str>) -> String {
    let (verdict, reason) = match v {
        Verdict::Human => ("human", None),
        Verdict::Machine(r) => ("machine", Some(r.as_str())),
    };
    serde_json::json!({
        "verdict": verdict, "reason": reason, "user_agent": ua, "ip": ip, "url": url,
    })
    .to_string()
}

async fn open<S: Store>(
    State(p): State<Arc<Public<S>>>,
    Path(token): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let now = p.clock.now_ms();
    let Some(t) = p.keys.verify(TokenKind::Open, &token, "", now) else {
        return not_found();
    };
    let ip = client_ip(&p, peer, &headers);
    let ua = user_agent(&headers);
    let v = verdict(
        &p.rules,
        &Hit {
            action: Action::Open,
            head: false,
            user_agent: &ua,
            ip: Some(ip),
            seconds_after_send: now / 1000 - t.sent_at,
            recent_other_clicks: 0,
        },
    );
    p.events
        .push(EngagementRecord {
            delivery: DeliveryId(t.delivery),
            kind: herald_domain::EventKind::Open,
            at_ms: now,
            detail: detail(&v, &ua, p.ip_policy.apply(ip), None),
        })
        .await;
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/gif")),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store, max-age=0"),
            ),
        ],
        PIXEL_GIF,
    )
        .into_response()
}

#[derive(Deserialize)]
struct ClickQuery {
    u: Option<String>,
}

async fn click<S: Store>(
    State(p): State<Arc<Public<S>>>,
    Path(token): Path<String>,
    Query(q): Query<ClickQuery>,
    method: Method,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let now = p.clock.now_ms();
    let Some(url) = q.u.as_deref().and_then(decode_url) else {
        return not_found();
    };
    let Some(t) = p.keys.verify(TokenKind::Click, &token, &url, now) else {
        return not_found();
    };
    let Ok(location) = HeaderValue::from_str(&url) else {
        return not_found();
    };
    let ip = client_ip(&p, peer, &headers);
    let ua = user_agent(&headers);
    let head = method == Method::HEAD;
    let v = verdict(
        &p.rules,
        &Hit {
            action: Action::Click,
            head,
            user_agent: &ua,
            ip: Some(ip),
            seconds_after_send: now / 1000 - t.sent_at,
            recent_other_clicks: p.recent_other_clicks(t.delivery, now, &url),
        },
    );
    p.events
        .push(EngagementRecord {
            delivery: DeliveryId(t.delivery),
            kind: herald_domain::EventKind::Click,
            at_ms: now,
            detail: detail(&v, &ua, p.ip_policy.apply(ip), Some(&url)),
        })
        .await;
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}

/// The page is static apart from the form action, which is the (URL-safe base64) token itself.
fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}}\
         button{{font-size:1rem;padding:.6rem 1.2rem;border:0;border-radius:.3rem;background:#1f5fbf;color:#fff;cursor:pointer}}</style>\
         </head><body><h1>{title}</h1>{body}</body></html>"
    ))
}

async fn unsubscribe_page<S: Store>(
    State(p): State<Arc<Public<S>>>,
    Path(token): Path<String>,
) -> Response {
    if p.keys
        .verify(TokenKind::Unsubscribe, &token, "", p.clock.now_ms())
        .is_none()
    {
        return not_found();
    }
    // A GET never unsubscribes: scanners fetch every link in a message.
    page(
        "Unsubscribe",
        &format!(
            "<p>Stop receiving these emails at this address?</p>\
             <form method=\"post\" action=\"/u/{token}\"><button type=\"submit\">Unsubscribe</button></form>"
        ),
    )
    .into_response()
}

async fn unsubscribe<S: Store>(
    State(p): State<Arc<Public<S>>>,
    Path(token): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let now = p.clock.now_ms();
    let Some(t) = p.keys.verify(TokenKind::Unsubscribe, &token, "", now) else {
        return not_found();
    };
    let ip = client_ip(&p, peer, &headers);
    let ua = user_agent(&headers);
    let one_click = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let record = EngagementRecord {
        delivery: DeliveryId(t.delivery),
        kind: herald_domain::EventKind::Unsubscribe,
        at_ms: now,
        detail: serde_json::json!({
            "verdict": "human", "reason": null, "user_agent": ua,
            "ip": p.ip_policy.apply(ip), "method": if one_click { "post" } else { "post_other" },
        })
        .to_string(),
    };
    // Honoured at once, and durably before the answer: not through the batch queue.
    let done = if p.unsubscribe_leaves_list_only() {
        p.store
            .leave_list(record.delivery, record.at_ms, &record.detail)
            .await
            .map(|_| 1)
    } else {
        p.store
            .record_engagement(std::slice::from_ref(&record))
            .await
    };
    match done {
        Ok(_) => page(
            "You are unsubscribed",
            "<p>This address will not receive these emails any more.</p>",
        )
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "recording an unsubscribe failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                page(
                    "Please try again",
                    "<p>We could not record your request just now. Please try again in a minute.</p>",
                ),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_policy() {
        let v4: IpAddr = "198.51.100.77".parse().expect("ip");
        let v6: IpAddr = "2001:db8:abcd:12::1".parse().expect("ip");
        assert_eq!(IpPolicy::Full.apply(v4).as_deref(), Some("198.51.100.77"));
        assert_eq!(
            IpPolicy::Anonymized.apply(v4).as_deref(),
            Some("198.51.100.0")
        );
        assert_eq!(
            IpPolicy::Anonymized.apply(v6).as_deref(),
            Some("2001:db8:abcd::")
        );
        assert_eq!(IpPolicy::None.apply(v4), None);
    }
}
