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

use super::{Caller, error, internal};
use crate::Web;

pub async fn list<S: Store>(State(web): State<Arc<Web<S>>>) -> Response {
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let page = match web.store.suppressions(&after, 5000).await {
            Ok(p) => p,
            Err(e) => return internal(e),
        };
        let Some(last) = page.last() else { break };
        after = last.email_key.clone();
        out.extend(page.iter().map(SuppressionView::from));
        if out.len() >= 100_000 {
            break;
        }
    }
    Json(SuppressionList { suppressions: out }).into_response()
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
