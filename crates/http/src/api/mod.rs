//! `/api/v1`: the same data as the CLI's `--json`, for integrations. Bearer tokens
//! (`herald token create`); every route and the role it needs are in [`ROUTES`], checked by one
//! middleware before any handler runs. One file per resource.

mod attachments;
mod campaigns;
pub(crate) mod contacts;
mod dmarc;
mod domains;
mod health;
mod idempotency;
mod lists;
mod members;
mod openapi;
mod paging;
mod queue;
mod routes;
mod segments;
mod settings;
mod suppressions;
mod templates;
mod tokens;
mod users;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use herald_engine::api_types;
use herald_store::{Store, User};

use crate::Web;
use crate::auth::{Role, token_hash};

pub use routes::{ROUTES, Route, SchemaFn};

/// The addresses the API takes, as its OpenAPI document describes them: ASCII dot-atom local
/// part and a host name (Herald does not send to SMTPUTF8 addresses or address literals).
pub const EMAIL_PATTERN: &str = r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,31})?@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$";

/// The domain names the API takes: LDH labels and a top-level label of letters (or an
/// internationalised one, `xn--…`).
pub const DOMAIN_PATTERN: &str =
    r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$";

/// A JSON Schema of one type, into the document's components ([`openapi`]).
/// The authenticated caller, put into request extensions by the middleware.
#[derive(Debug, Clone)]
pub struct Caller(pub User);

pub fn router<S: Store>(web: Arc<Web<S>>) -> Router {
    Router::new()
        .route(
            "/api/v1/campaigns",
            get(campaigns::list::<S>).post(campaigns::create::<S>),
        )
        .route(
            "/api/v1/campaigns/{id}",
            get(campaigns::show::<S>)
                .patch(campaigns::edit::<S>)
                .delete(campaigns::delete::<S>),
        )
        .route("/api/v1/campaigns/preview", post(campaigns::preview::<S>))
        .route(
            "/api/v1/campaigns/{id}/archive",
            axum::routing::put(campaigns::archive::<S>),
        )
        .route(
            "/api/v1/campaigns/{id}/ab",
            axum::routing::put(campaigns::set_ab::<S>).delete(campaigns::remove_ab::<S>),
        )
        .route(
            "/api/v1/campaigns/{id}/details",
            get(campaigns::details::<S>),
        )
        .route(
            "/api/v1/campaigns/{id}/duplicate",
            post(campaigns::duplicate::<S>),
        )
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
        .route("/api/v1/campaigns/{id}/check", post(campaigns::check::<S>))
        .route(
            "/api/v1/campaigns/{id}/schedule",
            post(campaigns::schedule::<S>).delete(campaigns::unschedule::<S>),
        )
        .route("/api/v1/campaigns/{id}/pause", post(campaigns::pause::<S>))
        .route(
            "/api/v1/campaigns/{id}/resume",
            post(campaigns::resume::<S>),
        )
        .route(
            "/api/v1/campaigns/{id}/cancel",
            post(campaigns::cancel::<S>),
        )
        .route(
            "/api/v1/suppressions",
            get(suppressions::list::<S>).post(suppressions::add::<S>),
        )
        .route(
            "/api/v1/suppressions/{email}",
            delete(suppressions::remove::<S>),
        )
        .route(
            "/api/v1/suppressions/import",
            post(suppressions::import::<S>).layer(axum::extract::DefaultBodyLimit::max(
                members::IMPORT_BODY_LIMIT,
            )),
        )
        .route(
            "/api/v1/contacts/import",
            post(members::import::<S>).layer(axum::extract::DefaultBodyLimit::max(
                members::IMPORT_BODY_LIMIT,
            )),
        )
        .route(
            "/api/v1/lists/{name}/members",
            get(members::list_members::<S>),
        )
        .route(
            "/api/v1/lists/{name}/members/{email}",
            delete(members::remove_member::<S>),
        )
        .route(
            "/api/v1/segments/{name}",
            axum::routing::patch(segments::update::<S>).delete(segments::delete::<S>),
        )
        .route("/api/v1/users", get(users::list::<S>).post(users::add::<S>))
        .route("/api/v1/users/{email}", delete(users::remove::<S>))
        .route("/api/v1/settings", get(settings::list::<S>))
        .route(
            "/api/v1/campaigns/{id}/attachments",
            get(attachments::list::<S>),
        )
        .route(
            "/api/v1/campaigns/{id}/attachments/{name}",
            axum::routing::put(attachments::put::<S>)
                .delete(attachments::delete::<S>)
                .layer(axum::extract::DefaultBodyLimit::max(
                    attachments::BODY_LIMIT,
                )),
        )
        .route("/api/v1/templates", get(templates::list::<S>))
        .route(
            "/api/v1/templates/{name}",
            get(templates::show::<S>)
                .put(templates::save::<S>)
                .delete(templates::delete::<S>),
        )
        .route(
            "/api/v1/settings/{name}",
            axum::routing::put(settings::set::<S>).delete(settings::reset::<S>),
        )
        .route(
            "/api/v1/seeds/{address}/test",
            post(domains::test_seed::<S>),
        )
        .route(
            "/api/v1/contacts",
            get(contacts::search::<S>).post(lists::add_contact::<S>),
        )
        .route(
            "/api/v1/lists",
            get(lists::list::<S>).post(lists::create_list::<S>),
        )
        .route(
            "/api/v1/lists/{name}",
            axum::routing::patch(lists::update_list::<S>).delete(lists::delete_list::<S>),
        )
        .route(
            "/api/v1/public/subscribe",
            post(lists::public_subscribe::<S>),
        )
        .route(
            "/api/v1/contacts/{email}",
            get(contacts::show::<S>).patch(members::edit_contact::<S>),
        )
        .route("/api/v1/contacts/{email}/erase", post(contacts::erase::<S>))
        .route(
            "/api/v1/contacts/{email}/export",
            get(contacts::export_person::<S>),
        )
        .route(
            "/api/v1/segments",
            get(segments::list::<S>).post(segments::create::<S>),
        )
        .route("/api/v1/segments/count", post(segments::count::<S>))
        .route(
            "/api/v1/campaigns/{id}/audience",
            axum::routing::put(segments::audience::<S>),
        )
        .route(
            "/api/v1/domains",
            get(domains::list::<S>).post(domains::add::<S>),
        )
        .route(
            "/api/v1/domains/{domain}/rotate",
            post(domains::rotate::<S>),
        )
        .route(
            "/api/v1/seeds",
            get(domains::seeds::<S>).post(domains::add_seed::<S>),
        )
        .route("/api/v1/seeds/{address}", delete(domains::remove_seed::<S>))
        .route("/api/v1/health", get(health::get::<S>))
        .route("/api/v1/dmarc", get(dmarc::get::<S>))
        .route("/api/v1/queue", get(queue::get::<S>))
        .route(
            "/api/v1/domains/{domain}/verify",
            post(domains::verify::<S>),
        )
        .route("/api/v1/ips", get(domains::ips::<S>))
        .route(
            "/api/v1/webhooks",
            get(webhooks::list::<S>).post(webhooks::create::<S>),
        )
        .route("/api/v1/webhooks/{id}", delete(webhooks::remove::<S>))
        .route(
            "/api/v1/tokens",
            get(tokens::list::<S>).post(tokens::create::<S>),
        )
        .route("/api/v1/tokens/{user}/{name}", delete(tokens::revoke::<S>))
        .route("/api/v1/webhooks/{id}/events", get(webhooks::events::<S>))
        .route("/api/v1/webhooks/{id}/replay", post(webhooks::replay::<S>))
        .route("/api/v1/openapi.json", get(openapi::document))
        // Inside authentication: keys are the caller's.
        .layer(from_fn_with_state(web.clone(), idempotency::layer::<S>))
        .layer(from_fn_with_state(web.clone(), authenticate::<S>))
        .with_state(web)
}

/// A `?days=N` parameter of a report: 1–366, `default` when absent; else the 422 to answer.
pub fn days(given: Option<u32>, default: u32) -> Result<u32, Box<Response>> {
    let days = given.unwrap_or(default);
    if (1..=366).contains(&days) {
        Ok(days)
    } else {
        Err(Box::new(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "days: from 1 to 366".to_string(),
        )))
    }
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

/// A JSON request body; a body that is not JSON, not `application/json` or not the expected
/// shape is answered as every API error is (`{"error": …}`), with axum's status for it
/// (415, 400, 422). Every body is a JSON object: serde would also read a struct from an array
/// of its fields in order (`[null, null]`), which the document does not allow (422).
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let v = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            Err(r) => return Err(error(r.status(), r.body_text())),
        };
        if !v.is_object() {
            return Err(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the request body must be a JSON object",
            ));
        }
        serde_json::from_value(v).map(Body).map_err(|e| {
            error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("Failed to deserialize the JSON body into the target type: {e}"),
            )
        })
    }
}

/// Query parameters, with the same JSON errors as [`Body`] (400 when they cannot be read).
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S>
    for Params<T>
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Response> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Params(v)),
            Err(r) => Err(error(r.status(), r.body_text())),
        }
    }
}

/// A JSON error body: `{"error": "…"}`.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(herald_engine::api_types::ErrorBody {
            error: message.into(),
        }),
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
    let same_path = || ROUTES.iter().filter(|r| r.path == path);
    let needed = same_path()
        .find(|r| {
            Method::from_bytes(r.method.as_bytes()).ok() == Some(method.clone())
                || (method == Method::HEAD && r.method == "GET")
        })
        .map(|r| r.role);
    let Some(needed) = needed else {
        // A route without an entry in the table is never served; a path served with other
        // methods says which.
        let allowed: Vec<&str> = same_path().map(|r| r.method).collect();
        if allowed.is_empty() {
            return error(StatusCode::NOT_FOUND, "no such route");
        }
        let mut r = error(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{path} answers {}", allowed.join(", ")),
        );
        if let Ok(v) = HeaderValue::from_str(&allowed.join(", ")) {
            r.headers_mut().insert(header::ALLOW, v);
        }
        return r;
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
            .user_by_api_token(&token_hash(t), web.clock.now_ms())
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
    if user.role < needed {
        return error(StatusCode::FORBIDDEN, "this token's user may not do this");
    }
    req.extensions_mut().insert(Caller(user));
    next.run(req).await
}
