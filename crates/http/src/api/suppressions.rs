//! `/api/v1/suppressions…`

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use herald_domain::{EmailAddress, NotSentReason};
use herald_engine::reports::ms_to_rfc3339;
use herald_store::{Store, Suppression};
use serde::Deserialize;

use super::{Caller, error};
use crate::Web;

pub async fn list<S: Store>(State(web): State<Arc<Web<S>>>) -> Response {
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let page = match web.store.suppressions(&after, 5000).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "listing suppressions");
                return error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
            }
        };
        let Some(last) = page.last() else { break };
        after = last.email_key.clone();
        out.extend(page.into_iter().map(|s| {
            serde_json::json!({"email": s.email_key, "reason": s.reason, "source": s.source, "at": ms_to_rfc3339(s.created_at_ms)})
        }));
        if out.len() >= 100_000 {
            break;
        }
    }
    Json(serde_json::json!({ "suppressions": out })).into_response()
}

#[derive(Deserialize)]
pub struct Add {
    email: String,
    reason: Option<String>,
}

pub async fn add<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(Caller(user)): Extension<Caller>,
    Json(a): Json<Add>,
) -> Response {
    let key = match EmailAddress::parse(&a.email) {
        Ok(e) => e.key(),
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, format!("email: {e}")),
    };
    let reason = match a
        .reason
        .as_deref()
        .unwrap_or("suppressed")
        .parse::<NotSentReason>()
    {
        Ok(r) => r,
        Err(_) => {
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
            reason: reason.as_str().into(),
            source: format!("api:{}", user.email),
            created_at_ms: herald_engine::now_ms(),
        })
        .await
    {
        Ok(added) => (
            if added {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            },
            Json(serde_json::json!({"email": key, "reason": reason.as_str(), "added": added})),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "adding a suppression");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

pub async fn remove<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(Caller(user)): Extension<Caller>,
    Path(email): Path<String>,
) -> Response {
    let key = match EmailAddress::parse(&email) {
        Ok(e) => e.key(),
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, format!("email: {e}")),
    };
    match web
        .store
        .remove_suppression(
            &key,
            &format!("api:{}", user.email),
            herald_engine::now_ms(),
        )
        .await
    {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => error(StatusCode::NOT_FOUND, format!("{key} is not suppressed")),
        Err(e) => {
            tracing::error!(error = %e, "removing a suppression");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}
