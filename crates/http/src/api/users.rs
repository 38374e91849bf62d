//! `/api/v1/users…`: the web UI's users, as the Users page and `herald user add|remove|list`
//! manage them. A new user's password is made here and shown once.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use herald_store::Store;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::paging::{PageQuery, page_of};
use super::tokens::refused;
use super::{Body, Params, error};
use crate::Web;
use crate::accounts::{self, AccountError, UserView};
use crate::auth::Role;

#[derive(Serialize, JsonSchema)]
pub struct UsersPage {
    pub users: Vec<UserView>,
    /// Pass as `?after=` for the next page; null on the last one.
    pub next: Option<String>,
}

/// A user just added, with its password: shown this once.
#[derive(Serialize, JsonSchema)]
pub struct NewUserAnswer {
    pub email: String,
    pub role: String,
    pub password: String,
    /// Where it logs in.
    pub login_url: String,
}

/// `POST /api/v1/users`.
#[derive(Deserialize, JsonSchema)]
pub struct NewUserBody {
    #[schemars(extend("pattern" = super::EMAIL_PATTERN, "maxLength" = 254))]
    pub email: String,
    /// `admin` or `viewer` (the default).
    #[schemars(extend("enum" = ["admin", "viewer", null]))]
    pub role: Option<String>,
}

pub async fn list<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Params(q): Params<PageQuery>,
) -> Response {
    let limit = match q.size() {
        Ok(n) => n,
        Err(r) => return *r,
    };
    match accounts::users(&web.store).await {
        Ok(all) => {
            let (users, next) = page_of(all, q.after.as_deref(), limit, |u| u.email.clone());
            Json(UsersPage { users, next }).into_response()
        }
        Err(e) => refused(e),
    }
}

/// Add a user (or give an existing one a new password and role: its sessions end) with a
/// generated password, as the Users page does.
pub async fn add<S: Store>(State(web): State<Arc<Web<S>>>, Body(b): Body<NewUserBody>) -> Response {
    let Some(role) = Role::parse(b.role.as_deref().unwrap_or("viewer").trim()) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "role: admin or viewer");
    };
    let password = match crate::auth::random_token() {
        Ok(p) => p,
        Err(e) => return refused(AccountError::Auth(e)),
    };
    match accounts::add_user(&web.store, &b.email, &password, role, web.clock.now_ms()).await {
        Ok((email, _)) => {
            let mut r = (
                StatusCode::CREATED,
                Json(NewUserAnswer {
                    email,
                    role: role.to_string(),
                    password,
                    login_url: format!("{}/login", web.public_url.trim_end_matches('/')),
                }),
            )
                .into_response();
            // A secret shown once: never kept by a cache (nor replayed: see idempotency).
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => refused(e),
    }
}

/// Remove a user with its sessions and tokens (never the last admin: 422).
pub async fn remove<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(email): Path<String>,
) -> Response {
    match accounts::remove_user(&web.store, &email).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(e),
    }
}
