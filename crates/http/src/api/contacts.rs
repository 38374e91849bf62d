//! `/api/v1/contacts…`: search, and one contact's timeline across campaigns.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_engine::api_types::ContactsPage;
use herald_engine::reports::{contact_timeline, contact_view};
use herald_store::Store;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Params, error, internal};
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
    if q.limit == Some(0) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "limit: at least 1");
    }
    let limit = q.limit.unwrap_or(100).min(1000);
    match web
        .store
        .search_contacts(&query, q.after.as_deref().unwrap_or(""), limit)
        .await
    {
        Ok(rows) => {
            let next = (rows.len() as u32 == limit)
                .then(|| rows.last().map(|r| r.email_key.clone()))
                .flatten();
            Json(ContactsPage {
                contacts: rows.iter().map(contact_view).collect(),
                next,
            })
            .into_response()
        }
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
