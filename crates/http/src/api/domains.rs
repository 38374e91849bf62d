//! `/api/v1/domains…`, `/api/v1/seeds…` and `/api/v1/ips`: sending domains, seed mailboxes
//! and IPs, as `domain list|add|verify|rotate --json`, `seeds list --json` and `ips --json`
//! print them.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_engine::api_types::{DomainList, SeedList, SeedView};
use herald_store::Store;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::paging::{PageQuery, page_of};
use super::{Body, Params, error, failure, internal};
use crate::Web;

/// A `{domain}` path segment, parsed at the edge: only a host name goes further (never a
/// path); anything else is a 404.
fn domain_param(domain: &str) -> Result<String, Box<Response>> {
    herald_domain::address::normalise_domain(domain)
        .map_err(|_| Box::new(error(StatusCode::NOT_FOUND, "no such domain")))
}

pub async fn list<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Params(q): Params<PageQuery>,
) -> Response {
    let limit = match q.size() {
        Ok(n) => n,
        Err(r) => return *r,
    };
    match web.actions.domains().await {
        Ok(all) => {
            let (domains, next) = page_of(all, q.after.as_deref(), limit, |d| d.domain.clone());
            Json(DomainList { domains, next }).into_response()
        }
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

pub async fn seeds<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Params(q): Params<PageQuery>,
) -> Response {
    let limit = match q.size() {
        Ok(n) => n,
        Err(r) => return *r,
    };
    match web.store.seeds().await {
        Ok(all) => {
            let (page, next) = page_of(all, q.after.as_deref(), limit, |s| s.address.clone());
            Json(SeedList {
                seeds: page.into_iter().map(Into::into).collect(),
                next,
            })
            .into_response()
        }
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

/// `POST /api/v1/seeds`: as the Seeds page adds one (the login is tried first).
#[derive(Deserialize, JsonSchema)]
pub struct NewSeedBody {
    /// Which provider's mailbox this is, as placement reports name it (`gmail`, `outlook`…).
    #[schemars(extend("minLength" = 1, "maxLength" = 100, "pattern" = "^[^\\u0000-\\u001f\\u007f]*$"))]
    pub provider: String,
    /// The mailbox's address (default: the login, when that is an address).
    #[schemars(extend("pattern" = super::EMAIL_PATTERN, "maxLength" = 254))]
    pub address: Option<String>,
    /// The IMAP server, `HOST:PORT` (`imap.gmail.com:993`).
    #[schemars(extend("maxLength" = 260, "pattern" = "^[A-Za-z0-9.\\[\\]:-]+:[0-9]{1,5}$"))]
    pub imap: String,
    /// The IMAP login.
    #[schemars(extend("minLength" = 1, "maxLength" = 254, "pattern" = "^[^\\u0000-\\u001f\\u007f]*$"))]
    pub user: String,
    /// The password (an app password for Gmail and Outlook): kept in a file only the server
    /// reads, never shown again.
    #[schemars(extend("minLength" = 1, "maxLength" = 1024))]
    pub password: String,
    /// `tls` (the default, port 993), `starttls` or `plain` (loopback tests only).
    #[schemars(extend("enum" = ["tls", "starttls", "plain", null]))]
    pub security: Option<String>,
}

pub async fn add_seed<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Body(b): Body<NewSeedBody>,
) -> Response {
    let request = crate::SeedRequest {
        provider: b.provider,
        imap: b.imap,
        user: b.user,
        password: b.password,
        address: b.address,
        security: b.security.unwrap_or_else(|| "tls".into()),
    };
    let address = match web.actions.add_seed(request).await {
        Ok(a) => a,
        Err(f) => return failure(f),
    };
    match web.store.seeds().await {
        Ok(all) => match all.into_iter().find(|s| s.address == address) {
            Some(s) => (StatusCode::CREATED, Json(SeedView::from(s))).into_response(),
            None => error(
                StatusCode::CONFLICT,
                format!("{address} was removed meanwhile"),
            ),
        },
        Err(e) => internal(e),
    }
}

/// `POST /api/v1/seeds/{address}/test`: whether its login works now.
#[derive(Serialize, JsonSchema)]
pub struct SeedLogin {
    pub address: String,
    pub ok: bool,
    /// What failed (null when the login worked).
    pub error: Option<String>,
}

pub async fn test_seed<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(address): Path<String>,
) -> Response {
    let Ok(key) = herald_domain::EmailAddress::parse(&address).map(|a| a.key()) else {
        return error(StatusCode::NOT_FOUND, "no such seed");
    };
    match web.actions.test_seed(key.clone()).await {
        Ok(outcome) => Json(SeedLogin {
            address: key,
            ok: outcome.is_ok(),
            error: outcome.err(),
        })
        .into_response(),
        Err(f) => failure(f),
    }
}
