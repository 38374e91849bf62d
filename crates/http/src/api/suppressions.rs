//! `/api/v1/suppressions…`

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use super::Body;
use herald_domain::EmailAddress;
use herald_engine::api_types::{SuppressionAdded, SuppressionList, SuppressionView};
use herald_store::{Store, Suppression};
use schemars::JsonSchema;
use serde::Deserialize;

use super::paging::{PageQuery, next_cursor};
use super::{Caller, Params, error, internal};
use crate::Web;

pub async fn list<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Params(q): Params<PageQuery>,
) -> Response {
    let limit = match q.size() {
        Ok(n) => n,
        Err(r) => return *r,
    };
    match web
        .store
        .suppressions(q.after.as_deref().unwrap_or(""), limit)
        .await
    {
        Ok(page) => Json(SuppressionList {
            next: next_cursor(&page, limit, |s| s.email_key.clone()),
            suppressions: page.iter().map(SuppressionView::from).collect(),
        })
        .into_response(),
        Err(e) => internal(e),
    }
}

/// `POST /api/v1/suppressions`.
#[derive(Deserialize, JsonSchema)]
pub struct Add {
    #[schemars(extend("pattern" = super::EMAIL_PATTERN, "maxLength" = 254))]
    pub email: String,
    /// unsubscribed, previously_bounced, complained or suppressed (the default).
    #[schemars(extend("enum" = ["unsubscribed", "previously_bounced", "complained", "suppressed", null]))]
    pub reason: Option<String>,
}

pub async fn add<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(Caller(user)): Extension<Caller>,
    Body(a): Body<Add>,
) -> Response {
    let key = match EmailAddress::parse(&a.email) {
        Ok(e) => e.key(),
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, format!("email: {e}")),
    };
    let reason = match herald_domain::SuppressionReason::settable(
        a.reason.as_deref().unwrap_or("suppressed"),
    ) {
        Some(r) => r,
        None => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "reason: expected unsubscribed, previously_bounced, complained or suppressed",
            );
        }
    };
    match web
        .store
        .add_suppression(&Suppression {
            email_key: key.clone(),
            reason,
            source: format!("api:{}", user.email),
            created_at_ms: web.clock.now_ms(),
        })
        .await
    {
        Ok(added) => (
            if added {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            },
            Json(SuppressionAdded {
                reason: reason.as_str().into(),
                email: key,
                added,
            }),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

pub async fn remove<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(Caller(user)): Extension<Caller>,
    Path(email): Path<String>,
) -> Response {
    let key = match EmailAddress::parse(&email) {
        Ok(e) => e.key(),
        // A path that is not an address names no suppression.
        Err(e) => {
            return error(
                StatusCode::NOT_FOUND,
                format!("{email:?} is not suppressed: {e}"),
            );
        }
    };
    match web
        .store
        .remove_suppression(&key, &format!("api:{}", user.email), web.clock.now_ms())
        .await
    {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => error(StatusCode::NOT_FOUND, format!("{key} is not suppressed")),
        Err(e) => internal(e),
    }
}

/// `POST /api/v1/suppressions/import`: as `suppressions import` reads a file.
#[derive(Deserialize, JsonSchema)]
pub struct ImportBody {
    /// A CSV with an `email` column (other columns ignored) or one address per line. At most
    /// 500,000 characters a request: send a larger file in parts.
    #[schemars(extend("maxLength" = 500_000))]
    pub csv: String,
    /// unsubscribed, previously_bounced, complained or suppressed (the default).
    #[schemars(extend("enum" = ["unsubscribed", "previously_bounced", "complained", "suppressed", null]))]
    pub reason: Option<String>,
    /// Lift these addresses instead (no `reason` then).
    #[serde(default)]
    pub remove: bool,
}

pub async fn import<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(Caller(user)): Extension<Caller>,
    Body(b): Body<ImportBody>,
) -> Response {
    use herald_engine::contacts::suppress::{BulkAction, suppress_csv};
    let action = match (b.remove, b.reason.as_deref()) {
        (true, Some(_)) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "reason: not with remove (lifting takes no reason)",
            );
        }
        (true, None) => BulkAction::Remove,
        (false, r) => match herald_domain::SuppressionReason::settable(r.unwrap_or("suppressed")) {
            Some(r) => BulkAction::Add(r),
            None => {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "reason: expected unsubscribed, previously_bounced, complained or suppressed",
                );
            }
        },
    };
    if b.csv.chars().count() > super::members::MAX_CSV {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "csv: at most 500,000 characters a request; send a larger file in parts",
        );
    }
    let source = format!("api:{}", user.email);
    let input = std::io::Cursor::new(b.csv.into_bytes());
    match suppress_csv(&web.store, input, action, &source, web.clock.now_ms()).await {
        Ok(report) => Json(report).into_response(),
        Err(herald_engine::contacts::ImportError::Store(e)) => internal(e),
        Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}
