//! `GET/POST /login`, `POST /logout`: the login form (double-submit CSRF cookie), argon2
//! behind the [`LoginGuard`](crate::throttle::LoginGuard), and the session cookie.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use herald_store::{NewSession, Store};
use serde::Deserialize;

use super::{CsrfForm, SESSION_COOKIE, Session, cookie, csrf_ok, problem, render, set_cookie};
use crate::Web;
use crate::auth::{random_token, same, token_hash, verify_password};
use crate::redirect::local_path;
use crate::throttle::Refusal;

const LOGIN_CSRF_COOKIE: &str = "herald_login_csrf";

/// Paid for a login to an unknown account, so it costs what a known one does.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    user: Option<String>,
    csrf: String,
    next: String,
    message: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
}

/// The login form with a fresh CSRF cookie; `status` and `message` say why it is shown again.
fn form(next: Option<&str>, message: Option<String>, status: StatusCode) -> Response {
    let Ok(csrf) = random_token() else {
        return problem(StatusCode::INTERNAL_SERVER_ERROR, "no randomness");
    };
    let mut r = render(&LoginPage {
        user: None,
        csrf: csrf.clone(),
        next: local_path(next.unwrap_or("/")).to_string(),
        message,
    });
    *r.status_mut() = status;
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(false, LOGIN_CSRF_COOKIE, &csrf, 3600),
    );
    r
}

pub(super) async fn login_page(Query(q): Query<LoginQuery>) -> Response {
    form(
        q.next.as_deref(),
        q.expired
            .map(|_| "Your session has expired. Please log in again.".to_string()),
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    csrf: String,
    email: String,
    password: String,
    next: Option<String>,
}

fn too_many(next: Option<&str>, refusal: Refusal) -> Response {
    let (secs, text) = match refusal {
        Refusal::Backoff { retry_after_s } => (
            retry_after_s,
            format!("Too many failed logins. Try again in {retry_after_s} seconds."),
        ),
        Refusal::Busy => (1, "The server is busy. Try again in a moment.".to_string()),
    };
    let mut r = form(next, Some(text), StatusCode::TOO_MANY_REQUESTS);
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

pub(super) async fn login<S: Store>(
    State(web): State<Arc<Web<S>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let csrf_matches = cookie(&headers, LOGIN_CSRF_COOKIE).is_some_and(|c| same(&c, &f.csrf));
    if !csrf_matches {
        return problem(
            StatusCode::FORBIDDEN,
            "The login form expired. Reload the page and try again.",
        );
    }
    let ip = web.client_ip.of(peer, &headers);
    let account = f.email.trim().to_ascii_lowercase();
    let next = f.next.as_deref();
    // Refused before any hashing: a flood costs a map lookup, not 19 MiB of argon2.
    if let Some(refusal) = web.login.blocked(ip, &account, web.clock.now_ms()) {
        return too_many(next, refusal);
    }
    // Counted before the check: a guess whose client hangs up before the answer still counts
    // (a success clears it).
    let _ = web.login.failed(ip, &account, web.clock.now_ms());
    let user = web.store.user_by_email(&account).await.ok().flatten();
    let hash = user
        .as_ref()
        .map_or_else(|| DUMMY_HASH.to_string(), |u| u.password_hash.clone());
    let password = f.password.clone();
    let ok = match web
        .login
        .check(move || verify_password(&hash, &password))
        .await
    {
        Ok(ok) => ok,
        Err(refusal) => return too_many(next, refusal),
    };
    let (Some(user), true) = (user, ok) else {
        if let Some(refusal) = web.login.blocked(ip, &account, web.clock.now_ms()) {
            tracing::info!(%ip, "login failures: backing off");
            return too_many(next, refusal);
        }
        return form(
            next,
            Some("Wrong email or password.".into()),
            StatusCode::UNAUTHORIZED,
        );
    };
    web.login.succeeded(ip, &account, web.clock.now_ms());
    let (Ok(token), Ok(csrf)) = (random_token(), random_token()) else {
        return problem(StatusCode::INTERNAL_SERVER_ERROR, "no randomness");
    };
    let now = web.clock.now_ms();
    if let Err(e) = web
        .store
        .create_session(&NewSession {
            token_hash: token_hash(&token),
            user: user.id,
            csrf,
            created_at_ms: now,
            expires_at_ms: now + web.session_ttl_ms,
        })
        .await
    {
        tracing::error!(error = %e, "creating a session");
        return problem(StatusCode::SERVICE_UNAVAILABLE, "Please try again.");
    }
    let mut r = Redirect::to(local_path(next.unwrap_or("/"))).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            web.secure_cookies,
            SESSION_COOKIE,
            &token,
            web.session_ttl_ms / 1000,
        ),
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(false, LOGIN_CSRF_COOKIE, "", 0),
    );
    r
}

pub(super) async fn logout<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(s): axum::Extension<Session>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&s, &f) {
        return problem(
            StatusCode::FORBIDDEN,
            "This form expired (missing or wrong CSRF token). Reload the page.",
        );
    }
    if let Some(t) = cookie(&headers, SESSION_COOKIE) {
        let _ = web.store.delete_session(&token_hash(&t)).await;
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(web.secure_cookies, SESSION_COOKIE, "", 0),
    );
    r
}
