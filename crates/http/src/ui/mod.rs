//! The web UI: server-rendered pages (askama, autoescaped), a session cookie per login, and a
//! CSRF token checked on every form. No CDN: the one stylesheet is served from the binary.
//!
//! | route | page |
//! |---|---|
//! | `GET/POST /login`, `POST /logout` | log in (double-submit CSRF cookie), log out |
//! | `GET /` | campaigns with their headline numbers (and the first run's progress until it is done) |
//! | `GET/POST /users`, `POST /users/remove`, `/users/tokens`, `/users/tokens/revoke` | users and API tokens; add (a password shown once), remove, make a token (shown once), revoke (admin only, reading too) |
//! | `GET /start` | the first run step by step, each ticked from the installation's state |
//! | `GET /contacts`, `POST /contacts/import` | lists; CSV upload with the rejected rows |
//! | `GET /campaigns/new`, `POST /campaigns/preview`, `POST /campaigns` | compose with a live preview; create (the From gate applies) |
//! | `GET /campaigns/{id}?tab=…&q=…` | the post-send performance page: numbers with definitions, See details, tabs, rows |
//! | `POST /campaigns/{id}/send` | send a draft (idempotent: a double click sends once) |
//! | `POST /campaigns/{id}/duplicate`, `POST /campaigns/{id}/delete` | a new draft with the same content; delete a draft (admin) |
//! | `GET/POST /campaigns/{id}/edit` | change a draft (or scheduled) campaign on the compose page (admin) |
//! | `POST /campaigns/{id}/check` | run the pre-send check again (admin); the page shows the last one |
//! | `POST /campaigns/{id}/schedule`, `…/unschedule` | start a draft at a set time in a zone; call it off (admin) |
//! | `POST /campaigns/{id}/pause`, `…/resume`, `…/cancel` | stop new attempts; continue; end the rest as not sent (admin) |
//! | `POST /campaigns/{id}/test` | one test copy to an address (admin; recorded nowhere) |
//! | `GET /campaigns/{id}/why/{email}` | "Didn't receive it?": findings, timeline, IT report (+ `.txt`/`.html` downloads) |
//! | `GET /contacts/{email}` | a contact's deliveries and events across campaigns |
//! | `POST /contacts/{email}/fields`, `…/lists` | edit its fields; put it on a list (admin) |
//! | `GET/POST /lists`, `GET/POST /lists/{name}` | lists with members by standing; a list's form, snippet, members, settings (its confirmation and welcome messages); create, change (admin) |
//! | `POST /lists/{name}/members`, `…/remove`, `…/delete` | add a person (optionally asked to confirm), take one off, delete the list (admin) |
//! | `GET /domains`, `POST /domains/{domain}/verify` | records to publish (copy buttons), verification per record, drift |
//! | `POST /domains`, `POST /domains/{domain}/rotate` | connect a domain; new DKIM keys (admin) |
//! | `GET /queue` | what waits to be sent, per destination domain, and why in words |
//! | `GET /dmarc?days=N&domain=D` | DMARC aggregate reports per domain: reporters, sending servers (Herald's or not) and their results, a recommendation for the policy |
//! | `GET /health?days=N` | deliverability per sending domain and receiving provider against Gmail's and Yahoo's thresholds, seed placement, domain status |
//! | `GET/POST /seeds`, `POST /seeds/test`, `…/remove` | seed mailboxes with their last poll; add (the login tried first), test the login, remove (admin) |
//! | `GET /ips` | sending IPs: PTR, forward-confirmed rDNS, blocklists |
//! | `GET/POST /templates`, `POST /templates/delete` | saved templates; save, delete (admin); `GET /campaigns/new?template=NAME` starts from one |
//! | `GET/POST /settings`, `POST /settings/reset` | the settings that can change while Herald runs; change one on every node, back to herald.toml's (admin) |
//! | `GET/POST /suppressions`, `POST /suppressions/remove` | the suppression list; add and lift (admin) |
//! | `POST /suppressions/import` | add or lift every address of a CSV (admin) |

mod ab;
mod archive;
mod attachments;
mod campaign;
mod chart;
mod compose;
mod contacts;
mod dashboard;
mod dmarc;
pub mod flash;
mod health;
mod lists;
mod login;
mod queue;
mod runtime;
mod seeds;
mod segment_builder;
mod segments;
mod session;
mod settings;
mod start;
mod templates;
mod users;
mod webhooks;
mod why;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use herald_store::Store;

use crate::Web;
use crate::auth::same;
pub use session::WRITES;
use session::{
    CsrfForm, SESSION_COOKIE, Session, cookie, csrf_form, csrf_ok, flashed, redirect_with,
    require_session, set_cookie,
};

const CSS: &str = include_str!("../../templates/herald.css");
/// The pages' behaviour (copy buttons, the live preview, the upload progress): one static
/// file, so the Content-Security-Policy can forbid inline scripts.
const JS: &str = include_str!("../../templates/herald.js");
const PAGE_SIZE: u32 = 100;

pub fn router<S: Store>(web: Arc<Web<S>>) -> Router {
    let protected = Router::new()
        .route("/", get(dashboard::dashboard::<S>))
        .route("/logout", post(login::logout::<S>))
        .route("/contacts", get(contacts::show::<S>))
        .route("/contacts/{email}", get(contacts::timeline::<S>))
        .route(
            "/contacts/{email}/export",
            get(contacts::export_person::<S>),
        )
        .route("/contacts/{email}/erase", post(contacts::erase::<S>))
        .route("/contacts/{email}/fields", post(contacts::edit_fields::<S>))
        .route("/contacts/{email}/lists", post(contacts::join_list::<S>))
        .route(
            "/contacts/import",
            post(contacts::import::<S>).layer(axum::extract::DefaultBodyLimit::max(
                contacts::MAX_UPLOAD + 64 * 1024,
            )),
        )
        .route(
            "/lists",
            get(lists::show_lists::<S>).post(lists::create_list::<S>),
        )
        .route(
            "/lists/{name}",
            get(lists::show_list::<S>).post(lists::update_list::<S>),
        )
        .route("/lists/{name}/delete", post(lists::delete_list::<S>))
        .route("/lists/{name}/members", post(lists::add_member::<S>))
        .route("/lists/{name}/remove", post(lists::remove_member::<S>))
        .route("/health", get(health::show::<S>))
        .route("/dmarc", get(dmarc::show::<S>))
        .route("/queue", get(queue::show::<S>))
        .route("/settings", get(runtime::show::<S>).post(runtime::set::<S>))
        .route("/settings/reset", post(runtime::reset::<S>))
        .route(
            "/templates",
            get(templates::show::<S>).post(templates::save::<S>),
        )
        .route("/templates/delete", post(templates::delete::<S>))
        .route("/start", get(start::show::<S>))
        .route("/users", get(users::show::<S>).post(users::add::<S>))
        .route("/users/remove", post(users::remove::<S>))
        .route("/users/tokens", post(users::create_token::<S>))
        .route("/users/tokens/revoke", post(users::revoke_token::<S>))
        .route("/seeds", get(seeds::show::<S>).post(seeds::add::<S>))
        .route("/seeds/test", post(seeds::test::<S>))
        .route("/seeds/remove", post(seeds::remove::<S>))
        .route(
            "/domains",
            get(settings::domains::<S>).post(settings::add_domain::<S>),
        )
        .route("/domains/{domain}/rotate", post(settings::rotate::<S>))
        .route("/domains/{domain}/verify", post(settings::verify::<S>))
        .route("/ips", get(settings::ips::<S>))
        .route(
            "/suppressions",
            get(settings::suppressions::<S>).post(settings::suppress::<S>),
        )
        .route("/suppressions/remove", post(settings::unsuppress::<S>))
        .route(
            "/suppressions/import",
            post(settings::import_suppressions::<S>).layer(axum::extract::DefaultBodyLimit::max(
                contacts::MAX_UPLOAD + 64 * 1024,
            )),
        )
        .route("/campaigns/new", get(compose::new::<S>))
        .route("/campaigns/preview", post(compose::preview::<S>))
        .route("/campaigns", post(compose::create::<S>))
        .route("/campaigns/{id}", get(campaign::campaign::<S>))
        .route("/campaigns/{id}/send", post(campaign::send::<S>))
        .route("/campaigns/{id}/duplicate", post(campaign::duplicate::<S>))
        .route("/campaigns/{id}/delete", post(campaign::delete::<S>))
        .route("/campaigns/{id}/check", post(campaign::check::<S>))
        .route(
            "/campaigns/{id}/edit",
            get(compose::edit_page::<S>).post(compose::save::<S>),
        )
        .route("/campaigns/{id}/schedule", post(campaign::schedule::<S>))
        .route(
            "/campaigns/{id}/unschedule",
            post(campaign::unschedule::<S>),
        )
        .route("/campaigns/{id}/audience", post(campaign::audience::<S>))
        .route("/campaigns/{id}/ab", post(ab::set::<S>))
        .route("/campaigns/{id}/archive", post(archive::set::<S>))
        .route(
            "/campaigns/{id}/attachments",
            post(attachments::upload::<S>).layer(axum::extract::DefaultBodyLimit::max(
                attachments::MAX_UPLOAD,
            )),
        )
        .route(
            "/campaigns/{id}/attachments/remove",
            post(attachments::remove::<S>),
        )
        .route("/campaigns/{id}/ab/remove", post(ab::remove::<S>))
        .route(
            "/segments",
            get(segments::show::<S>).post(segments::create::<S>),
        )
        .route("/segments/delete", post(segments::delete::<S>))
        .route(
            "/webhooks",
            get(webhooks::show::<S>).post(webhooks::create::<S>),
        )
        .route("/webhooks/{id}", get(webhooks::log::<S>))
        .route("/webhooks/remove", post(webhooks::remove::<S>))
        .route("/webhooks/replay", post(webhooks::replay::<S>))
        .route("/campaigns/{id}/pause", post(campaign::pause::<S>))
        .route("/campaigns/{id}/resume", post(campaign::resume::<S>))
        .route("/campaigns/{id}/cancel", post(campaign::cancel::<S>))
        .route("/campaigns/{id}/test", post(compose::test::<S>))
        .route("/campaigns/{id}/why/{email}", get(why::why::<S>))
        .route(
            "/campaigns/{id}/why/{email}/it-report.txt",
            get(why::it_report_text::<S>),
        )
        .route(
            "/campaigns/{id}/why/{email}/it-report.html",
            get(why::it_report_html::<S>),
        )
        .layer(from_fn_with_state(web.clone(), require_session::<S>));
    Router::new()
        .merge(protected)
        .route("/login", get(login::login_page).post(login::login::<S>))
        .route("/static/herald.css", get(css))
        .route("/static/herald.js", get(js))
        .with_state(web)
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
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>Herald</title><link rel=\"stylesheet\" href=\"/static/herald.css\"><main><p class=\"problem\">{}</p><p><a href=\"/\">Back</a></p></main>",
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

/// A page's query when it only shows what a redirect said (`?flash=`).
#[derive(serde::Deserialize)]
pub(super) struct FlashQuery {
    flash: Option<String>,
}

/// `s` percent-encoded for a URL path, its `/` kept.
fn url_escape(s: &str) -> String {
    escape(s, true)
}

/// `s` as one path segment (a `/` in it encoded too).
fn segment(s: &str) -> String {
    escape(s, false)
}

fn escape(s: &str, keep_slash: bool) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b'/' if keep_slash => "/".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
