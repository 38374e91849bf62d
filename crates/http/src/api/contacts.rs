//! `/api/v1/contacts…`: search, one contact's timeline across campaigns, erasure and the
//! right-of-access export.

use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_engine::api_types::ContactsPage;
use herald_engine::audience::{AudienceError, privacy};
use herald_engine::reports::{contact_timeline, contact_view};
use herald_store::Store;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Caller, Params, error, internal};
use crate::Web;

#[derive(Deserialize, JsonSchema)]
pub struct SearchQuery {
    /// Only addresses containing this.
    #[schemars(length(max = 320))]
    pub q: Option<String>,
    /// The previous page's `next`.
    pub after: Option<String>,
    /// At most this many (default 100; more than 1000 returns 1000).
    #[schemars(range(min = 1, max = u32::MAX))]
    pub limit: Option<u32>,
}

pub async fn search<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Params(q): Params<SearchQuery>,
) -> Response {
    let query = q.q.unwrap_or_default();
    if query.len() > 320 {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "q: at most 320 characters",
        );
    }
    let limit = match super::paging::page_size(q.limit) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    match web
        .store
        .search_contacts(&query, q.after.as_deref().unwrap_or(""), limit)
        .await
    {
        Ok(rows) => Json(ContactsPage {
            next: super::paging::next_cursor(&rows, limit, |r| r.email_key.clone()),
            contacts: rows.iter().map(contact_view).collect(),
        })
        .into_response(),
        Err(e) => internal(e),
    }
}

pub async fn show<S: Store>(State(web): State<Arc<Web<S>>>, Path(email): Path<String>) -> Response {
    match contact_timeline(&web.store, &email).await {
        Ok(Some(v)) => Json(v).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no contact {email:?}")),
        Err(e) => internal(e),
    }
}

/// `POST /api/v1/contacts/{email}/erase`.
pub async fn erase<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(Caller(user)): Extension<Caller>,
    Path(email): Path<String>,
) -> Response {
    let source = format!("api:{}", user.email);
    match privacy::erase(
        &web.store,
        &web.erasure,
        &email,
        &source,
        web.clock.now_ms(),
    )
    .await
    {
        Ok(done) => Json(done).into_response(),
        Err(AudienceError::Store(e)) => internal(e),
        Err(AudienceError::UnknownContact(_)) => error(
            StatusCode::NOT_FOUND,
            format!("Herald holds nothing on {email:?}"),
        ),
        Err(e @ AudienceError::EraseInFlight(_)) => error(StatusCode::CONFLICT, e.to_string()),
        Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}

/// `GET /api/v1/contacts/{email}/export`.
pub async fn export_person<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(email): Path<String>,
) -> Response {
    match privacy::export_person(&web.store, &email, web.clock.now_ms()).await {
        Ok(Some(p)) => Json(p).into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            format!("Herald holds nothing on {email:?}"),
        ),
        Err(e) => internal(e),
    }
}
