//! The web UI: server-rendered pages (askama, autoescaped), a session cookie per login, and a
//! CSRF token checked on every form. No CDN: the one stylesheet is served from the binary.
//!
//! | route | page |
//! |---|---|
//! | `GET/POST /login`, `POST /logout` | log in (double-submit CSRF cookie), log out |
//! | `GET /` | campaigns with their headline numbers |
//! | `GET /contacts`, `POST /contacts/import` | lists; CSV upload with the rejected rows |
//! | `GET /campaigns/new`, `POST /campaigns/preview`, `POST /campaigns` | compose with a live preview; create (the From gate applies) |
//! | `GET /campaigns/{id}?tab=…&q=…` | the post-send performance page: numbers with definitions, See details, tabs, rows |
//! | `POST /campaigns/{id}/send` | send a draft (idempotent: a double click sends once) |
//! | `POST /campaigns/{id}/test` | one test copy to an address (admin; recorded nowhere) |
//! | `GET /campaigns/{id}/why/{email}` | "Didn't receive it?": findings, timeline, IT report (+ `.txt`/`.html` downloads) |
//! | `GET /contacts/{email}` | a contact's deliveries and events across campaigns |
//! | `GET /domains`, `POST /domains/{domain}/verify` | records to publish (copy buttons), verification per record, drift |
//! | `GET /ips` | sending IPs: PTR, forward-confirmed rDNS, blocklists |
//! | `GET/POST /suppressions`, `POST /suppressions/remove` | the suppression list; add and lift (admin) |

mod chart;
mod compose;
mod contacts;
pub mod flash;
mod login;
mod settings;

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use herald_engine::reports::campaign_report;
use herald_store::{CampaignId, Store, User};
use serde::Deserialize;

use crate::Web;
use crate::api::campaigns::{page, tab_filter};
use crate::auth::{Role, same, token_hash};

const SESSION_COOKIE: &str = "herald_session";
const CSS: &str = include_str!("../../templates/herald.css");
/// The pages' behaviour (copy buttons, the live preview, the upload progress): one static
/// file, so the Content-Security-Policy can forbid inline scripts.
const JS: &str = include_str!("../../templates/herald.js");
const PAGE_SIZE: u32 = 100;

/// The logged-in user and the session's CSRF token (request extension).
#[derive(Clone)]
struct Session {
    user: User,
    csrf: String,
}

pub fn router<S: Store>(web: Arc<Web<S>>) -> Router {
    let protected = Router::new()
        .route("/", get(dashboard::<S>))
        .route("/logout", post(login::logout::<S>))
        .route("/contacts", get(contacts::show::<S>))
        .route("/contacts/{email}", get(contacts::timeline::<S>))
        .route(
            "/contacts/import",
            post(contacts::import::<S>).layer(axum::extract::DefaultBodyLimit::max(
                contacts::MAX_UPLOAD + 64 * 1024,
            )),
        )
        .route("/domains", get(settings::domains::<S>))
        .route("/domains/{domain}/verify", post(settings::verify::<S>))
        .route("/ips", get(settings::ips::<S>))
        .route(
            "/suppressions",
            get(settings::suppressions::<S>).post(settings::suppress::<S>),
        )
        .route("/suppressions/remove", post(settings::unsuppress::<S>))
        .route("/campaigns/new", get(compose::new::<S>))
        .route("/campaigns/preview", post(compose::preview::<S>))
        .route("/campaigns", post(compose::create::<S>))
        .route("/campaigns/{id}", get(campaign::<S>))
        .route("/campaigns/{id}/send", post(send::<S>))
        .route("/campaigns/{id}/test", post(compose::test::<S>))
        .route("/campaigns/{id}/why/{email}", get(why::<S>))
        .route(
            "/campaigns/{id}/why/{email}/it-report.txt",
            get(it_report_text::<S>),
        )
        .route(
            "/campaigns/{id}/why/{email}/it-report.html",
            get(it_report_html::<S>),
        )
        .layer(from_fn_with_state(web.clone(), require_session::<S>));
    Router::new()
        .merge(protected)
        .route("/login", get(login::login_page).post(login::login::<S>))
        .route("/static/herald.css", get(css))
        .route("/static/herald.js", get(js))
        .with_state(web)
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn set_cookie(web_secure: bool, name: &str, value: &str, max_age_s: i64) -> HeaderValue {
    let secure = if web_secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// A failure the user cannot fix: logged with what was being done, answered with a 500 page
/// saying `message`.
fn failed(e: impl std::fmt::Display, doing: &str, message: &str) -> Response {
    tracing::error!(error = %e, "{doing}");
    problem(StatusCode::INTERNAL_SERVER_ERROR, message)
}

fn problem(status: StatusCode, message: &str) -> Response {
    (status, Html(format!(
        "<!doctype html><meta charset=\"utf-8\"><title>Herald</title><link rel=\"stylesheet\" href=\"/static/herald.css\"><main><p class=\"problem\">{}</p><p><a href=\"/\">Back</a></p></main>",
        message.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    ))).into_response()
}

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        JS,
    )
        .into_response()
}

/// Every UI route that changes something, the role it needs, and what a lesser role is told
/// it may not do. Checked by one middleware before any handler runs; a state-changing
/// request to a route missing here is never served. Pages (GET) need a session only.
pub const WRITES: &[(&str, Role, &str)] = &[
    ("/logout", Role::Viewer, "log out"),
    ("/campaigns/preview", Role::Viewer, "preview campaigns"),
    ("/contacts/import", Role::Admin, "import contacts"),
    ("/domains/{domain}/verify", Role::Admin, "verify domains"),
    ("/suppressions", Role::Admin, "change the suppression list"),
    (
        "/suppressions/remove",
        Role::Admin,
        "change the suppression list",
    ),
    ("/campaigns", Role::Admin, "create campaigns"),
    ("/campaigns/{id}/send", Role::Admin, "send campaigns"),
    ("/campaigns/{id}/test", Role::Admin, "send test copies"),
];

/// Whether `user` may make a state-changing request to the route `path`: Ok, or the answer.
fn permitted(user: &User, path: &str) -> Result<(), Box<Response>> {
    match WRITES.iter().find(|(p, _, _)| *p == path) {
        None => Err(Box::new(problem(StatusCode::NOT_FOUND, "No such page."))),
        Some((_, needed, _)) if Role::of(user) >= *needed => Ok(()),
        Some((_, _, what)) => Err(Box::new(problem(
            StatusCode::FORBIDDEN,
            &format!("Your account may look but not {what}."),
        ))),
    }
}

async fn require_session<S: Store>(
    State(web): State<Arc<Web<S>>>,
    mut req: Request,
    next: Next,
) -> Response {
    let token = cookie(req.headers(), SESSION_COOKIE);
    let session = match &token {
        Some(t) => web
            .store
            .session(&token_hash(t), herald_engine::now_ms())
            .await
            .ok()
            .flatten(),
        None => None,
    };
    let Some((user, csrf)) = session else {
        if !matches!(*req.method(), Method::GET | Method::HEAD) {
            // A form posted after the session ended: nothing is done, and no redirect
            // carries the post's target.
            return problem(
                StatusCode::FORBIDDEN,
                "Your session has expired. Log in again, then repeat what you were doing.",
            );
        }
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let expired = if token.is_some() { "&expired=1" } else { "" };
        let next = url_escape(path);
        return Redirect::to(&format!("/login?next={next}{expired}")).into_response();
    };
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let path = req
            .extensions()
            .get::<MatchedPath>()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        if let Err(r) = permitted(&user, &path) {
            return *r;
        }
    }
    req.extensions_mut().insert(Session { user, csrf });
    next.run(req).await
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: Option<String>,
}

fn csrf_ok(s: &Session, f: &CsrfForm) -> bool {
    f.csrf.as_deref().is_some_and(|c| same(c, &s.csrf))
}

/// A form's CSRF token (the role was checked by the [`WRITES`] table before): Ok, or the 403
/// page.
fn csrf_form(s: &Session, csrf: Option<&str>) -> Result<(), Box<Response>> {
    if csrf.is_some_and(|c| same(c, &s.csrf)) {
        Ok(())
    } else {
        Err(Box::new(problem(
            StatusCode::FORBIDDEN,
            "This form expired (missing or wrong CSRF token). Reload the page.",
        )))
    }
}

/// Back to `path` with a message only this session can have written (see [`flash`]).
fn redirect_with(s: &Session, path: &str, kind: flash::Kind, text: &str) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!(
        "{path}{sep}flash={}",
        flash::encode(&s.csrf, kind, text)
    ))
    .into_response()
}

/// The message a `?flash=` value carries for this session: (problem, notice).
fn flashed(s: &Session, value: Option<&str>) -> (Option<String>, Option<String>) {
    match value.and_then(|v| flash::decode(&s.csrf, v)) {
        Some((flash::Kind::Problem, t)) => (Some(t), None),
        Some((flash::Kind::Notice, t)) => (None, Some(t)),
        None => (None, None),
    }
}

struct CampaignRow {
    id: String,
    name: String,
    subject: String,
    status: String,
    recipients: u64,
    delivered: u64,
    bounced: u64,
    opened: u64,
    created_at: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    user: Option<String>,
    csrf: String,
    campaigns: Vec<CampaignRow>,
}

async fn dashboard<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(s): axum::Extension<Session>,
) -> Response {
    let Ok(list) = web.store.campaigns(200).await else {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "The database did not answer. Try again.",
        );
    };
    let mut campaigns = Vec::new();
    for c in list {
        if let Ok(Some(r)) = campaign_report(&web.store, c.id, false).await {
            campaigns.push(CampaignRow {
                id: r.campaign.id.clone(),
                name: r.campaign.name.clone(),
                subject: r.campaign.subject.clone(),
                status: r.campaign.status.to_string(),
                recipients: r.counts.recipients,
                delivered: r.counts.delivered,
                bounced: r.counts.bounced,
                opened: r.counts.opened,
                created_at: r.campaign.created_at.clone(),
            });
        }
    }
    render(&Dashboard {
        user: Some(s.user.email),
        csrf: s.csrf,
        campaigns,
    })
}

struct Figure {
    key: &'static str,
    label: &'static str,
    value: u64,
    definition: &'static str,
}

struct Tab {
    key: &'static str,
    label: &'static str,
    count: u64,
}

#[derive(Default)]
struct PlacementRow {
    provider: String,
    inbox: u64,
    junk: u64,
    other: u64,
    missing: u64,
    pending: u64,
}

struct Row {
    email: String,
    email_path: String,
    state: String,
    reason: String,
    evidence: String,
}

#[derive(Template)]
#[template(path = "campaign.html")]
struct CampaignPage {
    user: Option<String>,
    csrf: String,
    id: String,
    name: String,
    subject: String,
    status: String,
    message: Option<String>,
    headline: Vec<Figure>,
    details: Vec<(String, String)>,
    tabs: Vec<Tab>,
    tab: String,
    q: String,
    rows: Vec<Row>,
    next: Option<i64>,
    placement: Vec<PlacementRow>,
    chart: Option<chart::Chart>,
    notice: Option<String>,
}

#[derive(Deserialize)]
struct CampaignQuery {
    tab: Option<String>,
    q: Option<String>,
    after: Option<i64>,
    flash: Option<String>,
}

async fn campaign<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(s): axum::Extension<Session>,
    Path(id): Path<String>,
    Query(q): Query<CampaignQuery>,
) -> Response {
    let Ok(id) = id.parse::<CampaignId>() else {
        return problem(StatusCode::NOT_FOUND, "No such campaign.");
    };
    let (message, notice) = flashed(&s, q.flash.as_deref());
    let report = match campaign_report(&web.store, id, false).await {
        Ok(Some(r)) => r,
        Ok(None) => return problem(StatusCode::NOT_FOUND, "No such campaign."),
        Err(_) => {
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "The database did not answer. Try again.",
            );
        }
    };
    let k = &report.counts;
    let sent = k.recipients - k.not_sent;
    let headline = vec![
        Figure {
            key: "sent",
            label: "Sent",
            value: sent,
            definition: "Herald tried to deliver it (everyone but Not sent).",
        },
        Figure {
            key: "delivered",
            label: "Delivered",
            value: k.delivered,
            definition: "Delivered: the recipient's server accepted the message. It may still be in Junk or held by a security filter.",
        },
        Figure {
            key: "bounced",
            label: "Bounced",
            value: k.bounced,
            definition: "Refused by the receiving server, at once or by a bounce message later.",
        },
        Figure {
            key: "deferred",
            label: "Deferred",
            value: k.deferred,
            definition: "Not accepted yet (a temporary refusal); Herald keeps retrying.",
        },
        Figure {
            key: "opened",
            label: "Opened",
            value: k.opened,
            definition: "A person opened it (machine opens such as Apple Mail Privacy Protection are not counted).",
        },
        Figure {
            key: "clicked",
            label: "Clicked",
            value: k.clicked,
            definition: "A person clicked a link (security scanners are not counted).",
        },
        Figure {
            key: "unsubscribed",
            label: "Unsubscribed",
            value: k.unsubscribed,
            definition: "Asked to receive no more; suppressed at once.",
        },
        Figure {
            key: "complained",
            label: "Spam reports",
            value: k.complained,
            definition: "Reported as spam through a feedback loop; suppressed.",
        },
        Figure {
            key: "not_sent",
            label: "Not sent",
            value: k.not_sent,
            definition: "Never attempted: suppressed, bounced before, unsubscribed, invalid or missing data.",
        },
    ];
    let tabs = vec![
        Tab {
            key: "sent",
            label: "Sent",
            count: sent,
        },
        Tab {
            key: "delivered",
            label: "Delivered",
            count: k.delivered,
        },
        Tab {
            key: "deferred",
            label: "Deferred",
            count: k.deferred,
        },
        Tab {
            key: "bounced",
            label: "Bounced",
            count: k.bounced,
        },
        Tab {
            key: "opened",
            label: "Opened",
            count: k.opened,
        },
        Tab {
            key: "clicked",
            label: "Clicked",
            count: k.clicked,
        },
        Tab {
            key: "unsubscribed",
            label: "Unsubscribed",
            count: k.unsubscribed,
        },
        Tab {
            key: "complained",
            label: "Spam reports",
            count: k.complained,
        },
        Tab {
            key: "not_sent",
            label: "Not sent",
            count: k.not_sent,
        },
    ];
    let tab = q
        .tab
        .clone()
        .filter(|t| tab_filter(t).is_some())
        .unwrap_or_else(|| "sent".into());
    let filter = tab_filter(&tab).unwrap_or(herald_store::RecipientFilter::Sent);
    let search = q.q.clone().unwrap_or_default();
    let (rows, next) = match page(
        &web.store,
        id,
        &filter,
        Some(search.as_str()),
        q.after.unwrap_or(0),
        PAGE_SIZE,
    )
    .await
    {
        Ok(p) => p,
        Err(_) => {
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "The database did not answer. Try again.",
            );
        }
    };
    let rows = rows
        .into_iter()
        .map(|r| Row {
            email_path: url_escape(&r.email),
            evidence: r
                .evidence
                .as_ref()
                .map(|e| {
                    format!(
                        "{} · {}{}",
                        e.at,
                        e.reply
                            .clone()
                            .or_else(|| e.error.clone())
                            .unwrap_or_default(),
                        e.mx.as_deref()
                            .map(|m| format!(" · {m}"))
                            .unwrap_or_default()
                    )
                })
                .unwrap_or_default(),
            email: r.email,
            state: r.state.to_string(),
            reason: r.reason.unwrap_or_default(),
        })
        .collect();
    let mut details: Vec<(String, String)> = vec![
        ("Subject".into(), report.campaign.subject.clone()),
        (
            "From".into(),
            format!(
                "{} <{}>",
                report.campaign.from.name.clone().unwrap_or_default(),
                report.campaign.from.address
            ),
        ),
        ("Created".into(), report.campaign.created_at.clone()),
        (
            "Started".into(),
            report
                .campaign
                .started_at
                .clone()
                .unwrap_or_else(|| "not yet".into()),
        ),
        (
            "Finished".into(),
            report
                .campaign
                .finished_at
                .clone()
                .unwrap_or_else(|| "not yet".into()),
        ),
    ];
    if let Ok(Some(d)) = web.actions.details(id).await {
        let get = |k: &str| {
            d.get(k).map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => "none".into(),
                other => other.to_string(),
            })
        };
        for (label, key) in [
            ("Sending domain", "sending_domain"),
            ("DKIM", "dkim"),
            ("Authentication", "gate_override"),
            ("Return path", "return_path_domain"),
            ("Sending IPs", "sending_ips"),
        ] {
            if let Some(v) = get(key) {
                let v = match key {
                    "gate_override" if v == "none" => {
                        "the domain passed Herald's checks when the campaign was created"
                            .to_string()
                    }
                    "gate_override" => format!("NOT verified: {v}"),
                    "dkim" => match d["dkim"]["d"].as_str() {
                        Some(dom) => format!(
                            "signed as d={dom} (selectors {})",
                            d["dkim"]["selectors"]
                                .as_array()
                                .map(|a| a
                                    .iter()
                                    .filter_map(|s| s.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", "))
                                .unwrap_or_default()
                        ),
                        None => "not signed: the From domain is not connected".to_string(),
                    },
                    "return_path_domain" if v == "none" => {
                        "the From address (no return-path domain: bounces are not collected)"
                            .to_string()
                    }
                    "return_path_domain" => format!("b+<token>@{v}"),
                    "sending_ips" => {
                        let ips: Vec<String> = d["sending_ips"]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|s| s.as_str().map(str::to_string))
                                    .collect()
                            })
                            .unwrap_or_default();
                        if ips.is_empty() {
                            "chosen by the system per connection ([delivery] source_ips is empty)"
                                .to_string()
                        } else {
                            ips.join(", ")
                        }
                    }
                    _ => v,
                };
                details.push((label.into(), v));
            }
        }
    }
    let mut placement: Vec<PlacementRow> = Vec::new();
    let seeds = match web.store.placements(id).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "reading seed placements");
            Vec::new()
        }
    };
    for p in seeds {
        let i = match placement.iter().position(|r| r.provider == p.seed.provider) {
            Some(i) => i,
            None => {
                placement.push(PlacementRow {
                    provider: p.seed.provider.clone(),
                    ..PlacementRow::default()
                });
                placement.len() - 1
            }
        };
        let row = &mut placement[i];
        match p.placement.as_deref() {
            Some("inbox") => row.inbox += 1,
            Some("junk") => row.junk += 1,
            Some("missing") => row.missing += 1,
            Some(_) => row.other += 1,
            None => row.pending += 1,
        }
    }
    let chart = match web.store.timeline(id).await {
        Ok(points) => chart::build(&points),
        Err(e) => {
            tracing::warn!(error = %e, "reading the chart");
            None
        }
    };
    render(&CampaignPage {
        notice,
        chart,
        placement,
        user: Some(s.user.email),
        csrf: s.csrf,
        id: report.campaign.id.clone(),
        name: report.campaign.name.clone(),
        subject: report.campaign.subject.clone(),
        status: report.campaign.status.to_string(),
        message,
        headline,
        details,
        tabs,
        tab,
        q: search,
        rows,
        next,
    })
}

async fn send<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(s): axum::Extension<Session>,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let Ok(cid) = id.parse::<CampaignId>() else {
        return problem(StatusCode::NOT_FOUND, "No such campaign.");
    };
    match web.actions.send(cid).await {
        Ok(()) => Redirect::to(&format!("/campaigns/{cid}")).into_response(),
        Err(e) => redirect_with(
            &s,
            &format!("/campaigns/{cid}"),
            flash::Kind::Problem,
            &e.to_string(),
        ),
    }
}

struct FindingRow {
    code: String,
    severity: String,
    text: String,
}

struct TimelineRow {
    at: String,
    what: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "why.html")]
struct WhyPage {
    user: Option<String>,
    csrf: String,
    id: String,
    campaign: String,
    email: String,
    email_path: String,
    state: String,
    reason: Option<String>,
    placement: String,
    findings: Vec<FindingRow>,
    timeline: Vec<TimelineRow>,
    it_report: String,
}

async fn diagnosis<S: Store>(
    web: &Web<S>,
    id: &str,
    email: &str,
) -> Result<(CampaignId, herald_engine::diagnose::Diagnosis), Box<Response>> {
    let Ok(cid) = id.parse::<CampaignId>() else {
        return Err(Box::new(problem(
            StatusCode::NOT_FOUND,
            "No such campaign.",
        )));
    };
    match web.actions.why(cid, email.to_string()).await {
        Ok(Some(d)) => Ok((cid, d)),
        Ok(None) => Err(Box::new(problem(
            StatusCode::NOT_FOUND,
            &format!("{email} is not a recipient of this campaign."),
        ))),
        Err(e) => Err(Box::new(problem(e.status(), &e.to_string()))),
    }
}

async fn why<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(s): axum::Extension<Session>,
    Path((id, email)): Path<(String, String)>,
) -> Response {
    let (cid, d) = match diagnosis(&web, &id, &email).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let name = web
        .store
        .campaign(cid)
        .await
        .ok()
        .flatten()
        .map(|c| c.name)
        .unwrap_or_default();
    render(&WhyPage {
        user: Some(s.user.email),
        csrf: s.csrf,
        id: cid.to_string(),
        campaign: name,
        email_path: url_escape(&d.email),
        email: d.email.clone(),
        state: d.state.to_string(),
        reason: d.reason.clone(),
        placement: d.placement.to_string(),
        findings: d
            .findings
            .iter()
            .map(|f| FindingRow {
                code: f.code.to_string(),
                severity: serde_json::to_value(f.severity)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                text: f.text.clone(),
            })
            .collect(),
        timeline: d
            .timeline
            .iter()
            .map(|t| TimelineRow {
                at: t.at.clone(),
                what: t.what.clone(),
                detail: t.detail["reply"]
                    .as_str()
                    .or_else(|| t.detail["error"].as_str())
                    .or_else(|| t.detail["reason"].as_str())
                    .unwrap_or("")
                    .to_string(),
            })
            .collect(),
        it_report: d.it_report,
    })
}

fn download(content_type: &'static str, name: String, body: String) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

async fn it_report_text<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path((id, email)): Path<(String, String)>,
) -> Response {
    match diagnosis(&web, &id, &email).await {
        Ok((cid, d)) => download(
            "text/plain; charset=utf-8",
            format!("herald-it-report-{cid}.txt"),
            d.it_report,
        ),
        Err(r) => *r,
    }
}

async fn it_report_html<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path((id, email)): Path<(String, String)>,
) -> Response {
    match diagnosis(&web, &id, &email).await {
        Ok((cid, d)) => download(
            "text/html; charset=utf-8",
            format!("herald-it-report-{cid}.html"),
            d.it_report_html,
        ),
        Err(r) => *r,
    }
}
