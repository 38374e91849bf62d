//! `/api/v1`: the same data as the CLI's `--json`, for integrations. Bearer tokens
//! (`herald token create`); every route and the role it needs are in [`ROUTES`], checked by one
//! middleware before any handler runs. One file per resource.

pub(crate) mod campaigns;
pub(crate) mod contacts;
mod domains;
mod openapi;
mod suppressions;

use std::sync::Arc;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use herald_store::{Store, User};

use crate::Web;
use crate::auth::{Role, token_hash};

/// Every API route: method, path, the role it needs.
pub const ROUTES: &[(&str, &str, Role, &str)] = &[
    (
        "GET",
        "/api/v1/campaigns",
        Role::Viewer,
        "Campaigns, newest first, with their counts",
    ),
    (
        "GET",
        "/api/v1/campaigns/{id}",
        Role::Viewer,
        "A campaign's report: details, counts, not-sent reasons",
    ),
    (
        "GET",
        "/api/v1/campaigns/{id}/recipients",
        Role::Viewer,
        "Recipients by tab (?tab=delivered&q=&after=&limit=)",
    ),
    (
        "GET",
        "/api/v1/campaigns/{id}/why/{email}",
        Role::Viewer,
        "Why didn't they get it: findings, timeline, IT report",
    ),
    (
        "POST",
        "/api/v1/campaigns/{id}/send",
        Role::Admin,
        "Send a draft campaign (idempotent)",
    ),
    (
        "POST",
        "/api/v1/campaigns/{id}/test",
        Role::Admin,
        "Send one test copy: {\"to\": …} (recorded nowhere)",
    ),
    (
        "GET",
        "/api/v1/suppressions",
        Role::Viewer,
        "The suppression list",
    ),
    (
        "POST",
        "/api/v1/suppressions",
        Role::Admin,
        "Suppress an address: {\"email\": …, \"reason\": …}",
    ),
    (
        "DELETE",
        "/api/v1/suppressions/{email}",
        Role::Admin,
        "Lift a suppression",
    ),
    (
        "GET",
        "/api/v1/contacts",
        Role::Viewer,
        "Contacts whose address contains ?q= (keyset pages: ?after=&limit=)",
    ),
    (
        "GET",
        "/api/v1/contacts/{email}",
        Role::Viewer,
        "A contact and its deliveries across campaigns, with their events",
    ),
    (
        "GET",
        "/api/v1/domains",
        Role::Viewer,
        "Connected domains: records to publish, rotation, last re-verification and changes",
    ),
    (
        "POST",
        "/api/v1/domains/{domain}/verify",
        Role::Admin,
        "Verify a domain's records through DNS now (completes a pending key rotation)",
    ),
    (
        "GET",
        "/api/v1/ips",
        Role::Viewer,
        "Sending IPs with PTR, forward-confirmed rDNS and blocklist listings",
    ),
    (
        "GET",
        "/api/v1/openapi.json",
        Role::Viewer,
        "This API as OpenAPI 3.1",
    ),
];

/// The authenticated caller, put into request extensions by the middleware.
#[derive(Debug, Clone)]
pub struct Caller(pub User);

pub fn router<S: Store>(web: Arc<Web<S>>) -> Router {
    Router::new()
        .route("/api/v1/campaigns", get(campaigns::list::<S>))
        .route("/api/v1/campaigns/{id}", get(campaigns::show::<S>))
        .route(
            "/api/v1/campaigns/{id}/recipients",
            get(campaigns::recipients::<S>),
        )
        .route(
            "/api/v1/campaigns/{id}/why/{email}",
            get(campaigns::why::<S>),
        )
        .route("/api/v1/campaigns/{id}/send", post(campaigns::send::<S>))
        .route("/api/v1/campaigns/{id}/test", post(campaigns::test::<S>))
        .route(
            "/api/v1/suppressions",
            get(suppressions::list::<S>).post(suppressions::add::<S>),
        )
        .route(
            "/api/v1/suppressions/{email}",
            delete(suppressions::remove::<S>),
        )
        .route("/api/v1/contacts", get(contacts::search::<S>))
        .route("/api/v1/contacts/{email}", get(contacts::show::<S>))
        .route("/api/v1/domains", get(domains::list::<S>))
        .route(
            "/api/v1/domains/{domain}/verify",
            post(domains::verify::<S>),
        )
        .route("/api/v1/ips", get(domains::ips::<S>))
        .route("/api/v1/openapi.json", get(openapi::document))
        .layer(from_fn_with_state(web.clone(), authenticate::<S>))
        .with_state(web)
}

/// An action's [`Failure`](crate::Failure) as a JSON error with its one status.
pub fn failure(f: crate::Failure) -> Response {
    error(f.status(), f.to_string())
}

/// A store failure: logged, answered as its [`Failure`](crate::Failure) kind (a database that
/// did not answer is a 503, a corrupt record a 500), without internals.
pub fn internal(e: herald_store::StoreError) -> Response {
    let f = match e {
        herald_store::StoreError::Corrupt(_) => crate::Failure::Internal,
        _ => crate::Failure::Unavailable,
    };
    tracing::error!(error = %e, "API request failed");
    failure(f)
}

/// A JSON error body: `{"error": "…"}`.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "error": message.into() })),
    )
        .into_response()
}

async fn authenticate<S: Store>(
    State(web): State<Arc<Web<S>>>,
    mut req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let needed = ROUTES
        .iter()
        .find(|(m, p, _, _)| {
            *p == path
                && (Method::from_bytes(m.as_bytes()).ok() == Some(method.clone())
                    || (method == Method::HEAD && *m == "GET"))
        })
        .map(|(_, _, role, _)| *role);
    let Some(needed) = needed else {
        // A route without an entry in the table is never served.
        return error(StatusCode::NOT_FOUND, "no such route");
    };
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 128);
    let user = match token {
        Some(t) => match web
            .store
            .user_by_api_token(&token_hash(t), herald_engine::now_ms())
            .await
        {
            Ok(u) => u,
            Err(e) => {
                tracing::error!(error = %e, "token lookup failed");
                return error(StatusCode::SERVICE_UNAVAILABLE, "try again");
            }
        },
        None => None,
    };
    let Some(user) = user else {
        let mut r = error(
            StatusCode::UNAUTHORIZED,
            "a valid API token is required (Authorization: Bearer …)",
        );
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return r;
    };
    if Role::of(&user) < needed {
        return error(StatusCode::FORBIDDEN, "this token's user may not do this");
    }
    req.extensions_mut().insert(Caller(user));
    next.run(req).await
}
