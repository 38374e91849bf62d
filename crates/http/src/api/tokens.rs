//! `GET/POST /api/v1/tokens`, `DELETE /api/v1/tokens/{user}/{name}`: API tokens, as
//! `herald token list|create|revoke` (admins only: a token acts as its user).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_store::Store;
use schemars::JsonSchema;
use serde::Deserialize;

use super::paging::{PageQuery, page_of};
use super::{Body, Params, error, internal};
use crate::Web;
use crate::accounts::{self, AccountError, TokenList};

/// What an account refusal is in HTTP (tokens and users).
pub(super) fn refused(e: AccountError) -> Response {
    match e {
        AccountError::BadInput(m) => error(StatusCode::UNPROCESSABLE_ENTITY, m),
        AccountError::NotFound(m) => error(StatusCode::NOT_FOUND, m),
        AccountError::Store(e) => internal(e),
        AccountError::Auth(e) => {
            tracing::error!(error = %e, "making a secret (token or password) failed");
            super::failure(crate::Failure::Internal)
        }
    }
}

pub async fn list<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Params(q): Params<PageQuery>,
) -> Response {
    let limit = match q.size() {
        Ok(n) => n,
        Err(r) => return *r,
    };
    match accounts::tokens(&web.store, None, web.clock.now_ms()).await {
        Ok(all) => {
            // A user's address has no space: the cursor sorts as (user, name, created) does, and
            // two tokens of one user with one name still differ by when they were made.
            let (tokens, next) = page_of(all, q.after.as_deref(), limit, |t| {
                format!("{} {} {}", t.user, t.name, t.created_at)
            });
            Json(TokenList { tokens, next }).into_response()
        }
        Err(e) => refused(e),
    }
}

/// `POST /api/v1/tokens`.
#[derive(Deserialize, JsonSchema)]
pub struct NewTokenBody {
    /// The user the token acts as.
    #[schemars(extend("pattern" = super::EMAIL_PATTERN, "maxLength" = 254))]
    pub user: String,
    #[schemars(extend("minLength" = 1, "maxLength" = 100, "pattern" = "^[^\\u0000-\\u001f\\u007f]*$"))]
    pub name: String,
    /// How long it works, e.g. `90d` (default: until revoked).
    #[schemars(extend("maxLength" = 40))]
    pub expires: Option<String>,
}

pub async fn create<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Body(b): Body<NewTokenBody>,
) -> Response {
    let lifetime = match accounts::lifetime(b.expires.as_deref().unwrap_or("")) {
        Ok(l) => l,
        Err(e) => return refused(e),
    };
    match accounts::create_token(&web.store, &b.user, &b.name, lifetime, web.clock.now_ms()).await {
        Ok(t) => (
            StatusCode::CREATED,
            [(axum::http::header::CACHE_CONTROL, "no-store")],
            Json(t),
        )
            .into_response(),
        Err(AccountError::NotFound(m)) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, format!("user: {m}"))
        }
        Err(e) => refused(e),
    }
}

pub async fn revoke<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path((user, name)): Path<(String, String)>,
) -> Response {
    match accounts::revoke_token(&web.store, &user, &name).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(e),
    }
}
