//! `GET /users` (admins): the users with their roles and the API tokens (never their
//! secrets); `POST /users` (add a user with a generated password, shown once), `POST
//! /users/remove`, `POST /users/tokens` (a new token, shown once), `POST /users/tokens/revoke`.
//! The rules are `herald user` / `herald token`'s (`crate::accounts`).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::{Extension, Form};
use herald_domain::Role;
use herald_store::Store;
use serde::Deserialize;

use super::session::{csrf_form, flashed, redirect_with};
use super::{Session, failed, flash, problem, render};
use crate::Web;
use crate::accounts::{self, AccountError, NewToken, TokenView, UserView};

/// A secret shown once on the answer to the form that made it.
struct Shown {
    what: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    user: Option<String>,
    csrf: String,
    users: Vec<UserView>,
    tokens: Vec<TokenView>,
    shown: Option<Shown>,
    problem: Option<String>,
    notice: Option<String>,
}

fn admins_only(s: &Session) -> Option<Response> {
    (s.user.role < Role::Admin).then(|| {
        problem(
            StatusCode::FORBIDDEN,
            "Only admins see and manage users and API tokens.",
        )
    })
}

/// The page with a secret (`what` says what it is) shown above it, once.
async fn shown_once<S: Store>(web: &Web<S>, s: Session, what: String, secret: String) -> Response {
    page(
        web,
        s,
        Some(Shown { what, secret }),
        (None, None),
        StatusCode::OK,
    )
    .await
}

async fn page<S: Store>(
    web: &Web<S>,
    s: Session,
    shown: Option<Shown>,
    (problem, notice): (Option<String>, Option<String>),
    status: StatusCode,
) -> Response {
    let (users, tokens) = match (
        accounts::users(&web.store).await,
        accounts::tokens(&web.store, None, web.clock.now_ms()).await,
    ) {
        (Ok(u), Ok(t)) => (u, t),
        (Err(e), _) | (_, Err(e)) => {
            return failed(e, "listing users", "The users could not be read.");
        }
    };
    let secret = shown.is_some();
    let mut r = render(&UsersPage {
        user: Some(s.user.email),
        csrf: s.csrf,
        users,
        tokens,
        shown,
        problem,
        notice,
    });
    *r.status_mut() = status;
    if secret {
        // The page holds a password or a token: kept in no cache.
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

pub async fn show<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Query(q): Query<super::FlashQuery>,
) -> Response {
    if let Some(r) = admins_only(&s) {
        return r;
    }
    let said = flashed(&s, q.flash.as_deref());
    page(&web, s, None, said, StatusCode::OK).await
}

/// A refusal shown on the page, or a failure.
async fn refused<S: Store>(web: &Web<S>, s: Session, e: AccountError, doing: &str) -> Response {
    match e {
        AccountError::BadInput(m) | AccountError::NotFound(m) => {
            page(
                web,
                s,
                None,
                (Some(m), None),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        e => failed(e, doing, "That could not be done."),
    }
}

#[derive(Deserialize)]
pub struct UserForm {
    csrf: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

/// Add a user (or reset one's password and role) with a generated password, shown once.
pub async fn add<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<UserForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let Some(role) = Role::parse(f.role.trim()) else {
        let why = format!("role {:?}: admin or viewer", f.role);
        return page(
            &web,
            s,
            None,
            (Some(why), None),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let password = match crate::auth::random_token() {
        Ok(p) => p,
        Err(e) => return failed(e, "making a password", "A password could not be made."),
    };
    match accounts::add_user(&web.store, &f.email, &password, role, web.clock.now_ms()).await {
        Ok((email, _)) => {
            let what = format!(
                "{email} ({role}) logs in at {}/login with this password, shown once (any earlier sessions of {email} ended):",
                web.public_url.trim_end_matches('/')
            );
            shown_once(&web, s, what, password).await
        }
        Err(e) => refused(&web, s, e, "adding a user").await,
    }
}

pub async fn remove<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<UserForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    match accounts::remove_user(&web.store, &f.email).await {
        Ok(email) => redirect_with(
            &s,
            "/users",
            flash::Kind::Notice,
            &format!("Removed {email}: its sessions and API tokens stopped working."),
        ),
        Err(e) => refused(&web, s, e, "removing a user").await,
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    csrf: Option<String>,
    #[serde(default)]
    user: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    expires: String,
}

/// A new API token, shown once.
pub async fn create_token<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<TokenForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let made = match accounts::lifetime(&f.expires) {
        Ok(lifetime) => {
            accounts::create_token(&web.store, &f.user, &f.name, lifetime, web.clock.now_ms()).await
        }
        Err(e) => Err(e),
    };
    match made {
        Ok(NewToken {
            token,
            user,
            name,
            expires_at,
        }) => {
            let what = format!(
                "API token {name:?} for {user}{}, shown once: send it as Authorization: Bearer …",
                expires_at
                    .map(|e| format!(", valid until {e}"))
                    .unwrap_or_default()
            );
            shown_once(&web, s, what, token).await
        }
        Err(e) => refused(&web, s, e, "making a token").await,
    }
}

pub async fn revoke_token<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<TokenForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    match accounts::revoke_token(&web.store, &f.user, &f.name).await {
        Ok(n) => redirect_with(
            &s,
            "/users",
            flash::Kind::Notice,
            &format!(
                "Revoked {n} token(s) {:?} of {}: they stopped working.",
                f.name, f.user
            ),
        ),
        Err(e) => refused(&web, s, e, "revoking a token").await,
    }
}
