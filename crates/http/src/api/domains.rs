//! `/api/v1/domains…`, `/api/v1/seeds…` and `/api/v1/ips`: sending domains, seed mailboxes
//! and IPs, as `domain list|add|verify|rotate --json`, `seeds list --json` and `ips --json`
//! print them.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_engine::api_types::{DomainList, SeedList};
use herald_store::Store;
use serde::Deserialize;

use super::{Body, error, failure, internal};
use crate::Web;

/// A `{domain}` path segment, parsed at the edge: only a host name goes further (never a
/// path); anything else is a 404.
fn domain_param(domain: &str) -> Result<String, Box<Response>> {
    herald_domain::address::normalise_domain(domain)
        .map_err(|_| Box::new(error(StatusCode::NOT_FOUND, "no such domain")))
}

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
    let domain = match domain_param(&domain) {
        Ok(d) => d,
        Err(r) => return *r,
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

/// `POST /api/v1/domains`.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct NewDomain {
    /// The domain to send from (a host name).
    #[schemars(extend("format" = "hostname", "maxLength" = 253))]
    pub domain: String,
    /// The DKIM selector (default: a dated one).
    #[schemars(extend("pattern" = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"))]
    pub selector: Option<String>,
}

pub async fn add<S: Store>(State(web): State<Arc<Web<S>>>, Body(b): Body<NewDomain>) -> Response {
    match web.actions.add_domain(b.domain, b.selector).await {
        Ok((connected, _notes)) => (StatusCode::CREATED, Json(connected)).into_response(),
        Err(f) => failure(f),
    }
}

pub async fn rotate<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(domain): Path<String>,
) -> Response {
    let domain = match domain_param(&domain) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    match web.actions.rotate_domain(domain).await {
        Ok(r) => Json(r).into_response(),
        Err(f) => failure(f),
    }
}

pub async fn seeds<S: Store>(State(web): State<Arc<Web<S>>>) -> Response {
    match web.store.seeds().await {
        Ok(seeds) => Json(SeedList {
            seeds: seeds.into_iter().map(Into::into).collect(),
        })
        .into_response(),
        Err(e) => internal(e),
    }
}

pub async fn remove_seed<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(address): Path<String>,
) -> Response {
    let Ok(key) = herald_domain::EmailAddress::parse(&address).map(|a| a.key()) else {
        return error(StatusCode::NOT_FOUND, "no such seed");
    };
    match web.store.remove_seed(&key).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => error(StatusCode::NOT_FOUND, format!("{key} is not a seed")),
        Err(e) => internal(e),
    }
}
