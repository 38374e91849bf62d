//! Who is logged in: the session cookie, the role table of state-changing routes
//! ([`WRITES`]), CSRF tokens on forms, and messages carried across a redirect.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use herald_store::{Store, User};
use serde::Deserialize;

use super::{flash, problem, url_escape};
use crate::Web;
use crate::auth::{Role, same, token_hash};

pub(super) const SESSION_COOKIE: &str = "herald_session";

/// The logged-in user and the session's CSRF token (request extension).
#[derive(Clone)]
pub(super) struct Session {
    pub(super) user: User,
    pub(super) csrf: String,
}

pub(super) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub(super) fn set_cookie(web_secure: bool, name: &str, value: &str, max_age_s: i64) -> HeaderValue {
    let secure = if web_secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Every UI route that changes something, the role it needs, and what a lesser role is told
/// Every UI route that changes something, the role it needs, and what a lesser role is told
/// it may not do. Checked by one middleware before any handler runs; a state-changing
/// request to a route missing here is never served. Pages (GET) need a session only.
pub const WRITES: &[(&str, Role, &str)] = &[
    ("/logout", Role::Viewer, "log out"),
    ("/campaigns/preview", Role::Viewer, "preview campaigns"),
    ("/contacts/import", Role::Admin, "import contacts"),
    ("/contacts/{email}/erase", Role::Admin, "erase people"),
    ("/contacts/{email}/fields", Role::Admin, "change contacts"),
    (
        "/contacts/{email}/lists",
        Role::Admin,
        "add people to lists",
    ),
    ("/domains/{domain}/verify", Role::Admin, "verify domains"),
    ("/domains", Role::Admin, "connect domains"),
    ("/domains/{domain}/rotate", Role::Admin, "rotate DKIM keys"),
    ("/suppressions", Role::Admin, "change the suppression list"),
    ("/settings", Role::Admin, "change settings"),
    ("/templates", Role::Admin, "change templates"),
    ("/templates/delete", Role::Admin, "change templates"),
    ("/campaigns/{id}/ab", Role::Admin, "change campaigns"),
    ("/campaigns/{id}/archive", Role::Admin, "change campaigns"),
    (
        "/campaigns/{id}/attachments",
        Role::Admin,
        "change campaigns",
    ),
    (
        "/campaigns/{id}/attachments/remove",
        Role::Admin,
        "change campaigns",
    ),
    ("/campaigns/{id}/ab/remove", Role::Admin, "change campaigns"),
    ("/settings/reset", Role::Admin, "change settings"),
    (
        "/suppressions/remove",
        Role::Admin,
        "change the suppression list",
    ),
    (
        "/suppressions/import",
        Role::Admin,
        "change the suppression list",
    ),
    ("/campaigns", Role::Admin, "create campaigns"),
    ("/campaigns/{id}/send", Role::Admin, "send campaigns"),
    ("/campaigns/{id}/test", Role::Admin, "send test copies"),
    ("/campaigns/{id}/duplicate", Role::Admin, "create campaigns"),
    ("/campaigns/{id}/delete", Role::Admin, "delete campaigns"),
    ("/campaigns/{id}/check", Role::Admin, "check campaigns"),
    ("/campaigns/{id}/edit", Role::Admin, "change campaigns"),
    (
        "/campaigns/{id}/schedule",
        Role::Admin,
        "schedule campaigns",
    ),
    (
        "/campaigns/{id}/unschedule",
        Role::Admin,
        "schedule campaigns",
    ),
    ("/campaigns/{id}/audience", Role::Admin, "change campaigns"),
    ("/lists", Role::Admin, "create lists"),
    ("/lists/{name}", Role::Admin, "change lists"),
    ("/lists/{name}/delete", Role::Admin, "delete lists"),
    ("/lists/{name}/members", Role::Admin, "add people to lists"),
    ("/lists/{name}/remove", Role::Admin, "take people off lists"),
    ("/users", Role::Admin, "manage users"),
    ("/users/remove", Role::Admin, "manage users"),
    ("/users/tokens", Role::Admin, "manage API tokens"),
    ("/users/tokens/revoke", Role::Admin, "manage API tokens"),
    ("/seeds", Role::Admin, "add seed mailboxes"),
    ("/seeds/test", Role::Admin, "test seed mailboxes"),
    ("/seeds/remove", Role::Admin, "remove seed mailboxes"),
    ("/segments", Role::Admin, "change segments"),
    ("/segments/delete", Role::Admin, "change segments"),
    ("/webhooks", Role::Admin, "manage webhooks"),
    ("/webhooks/remove", Role::Admin, "manage webhooks"),
    ("/webhooks/replay", Role::Admin, "manage webhooks"),
    ("/campaigns/{id}/pause", Role::Admin, "pause campaigns"),
    ("/campaigns/{id}/resume", Role::Admin, "resume campaigns"),
    ("/campaigns/{id}/cancel", Role::Admin, "cancel campaigns"),
];

/// Whether `user` may make a state-changing request to the route `path`: Ok, or the answer.
pub(super) fn permitted(user: &User, path: &str) -> Result<(), Box<Response>> {
    match WRITES.iter().find(|(p, _, _)| *p == path) {
        None => Err(Box::new(problem(StatusCode::NOT_FOUND, "No such page."))),
        Some((_, needed, _)) if user.role >= *needed => Ok(()),
        Some((_, _, what)) => Err(Box::new(problem(
            StatusCode::FORBIDDEN,
            &format!("Your account may look but not {what}."),
        ))),
    }
}

pub(super) async fn require_session<S: Store>(
    State(web): State<Arc<Web<S>>>,
    mut req: Request,
    next: Next,
) -> Response {
    let token = cookie(req.headers(), SESSION_COOKIE);
    let session = match &token {
        Some(t) => web
            .store
            .session(&token_hash(t), web.clock.now_ms())
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

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    pub(super) csrf: Option<String>,
}

pub(super) fn csrf_ok(s: &Session, f: &CsrfForm) -> bool {
    f.csrf.as_deref().is_some_and(|c| same(c, &s.csrf))
}

/// A form's CSRF token (the role was checked by the [`WRITES`] table before): Ok, or the 403
/// page.
pub(super) fn csrf_form(s: &Session, csrf: Option<&str>) -> Result<(), Box<Response>> {
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
pub(super) fn redirect_with(s: &Session, path: &str, kind: flash::Kind, text: &str) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!(
        "{path}{sep}flash={}",
        flash::encode(&s.csrf, kind, text)
    ))
    .into_response()
}

/// The message a `?flash=` value carries for this session: (problem, notice).
pub(super) fn flashed(s: &Session, value: Option<&str>) -> (Option<String>, Option<String>) {
    match value.and_then(|v| flash::decode(&s.csrf, v)) {
        Some((flash::Kind::Problem, t)) => (Some(t), None),
        Some((flash::Kind::Notice, t)) => (None, Some(t)),
        None => (None, None),
    }
}
