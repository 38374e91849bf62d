//! `/api/v1/domains…` and `/api/v1/ips`: sending domains and IPs, as `domain list --json`,
//! `domain verify --json` and `ips --json` print them.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_engine::api_types::DomainList;
use herald_store::Store;

use super::{error, failure};
use crate::Web;

pub async fn list<S: Store>(State(web): State<Arc<Web<S>>>) -> Response {
    match web.actions.domains().await {
        Ok(domains) => Json(DomainList { domains }).into_response(),
        Err(f) => failure(f),
    }
}

pub async fn verify<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(domain): Path<String>,
) -> Response {
    // Parsed at the edge: only a host name goes further (never a path).
    let Ok(domain) = herald_domain::address::normalise_domain(&domain) else {
        return error(StatusCode::NOT_FOUND, "no such domain");
    };
    match web.actions.verify_domain(domain.clone()).await {
        Ok(Some(v)) => Json(v).into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            format!("{domain} is not connected (herald domain add {domain})"),
        ),
        Err(f) => failure(f),
    }
}

pub async fn ips<S: Store>(State(web): State<Arc<Web<S>>>) -> Response {
    match web.actions.ips().await {
        Ok(r) => Json(r).into_response(),
        Err(f) => failure(f),
    }
}
