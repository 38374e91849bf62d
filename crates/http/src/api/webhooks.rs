//! `/api/v1/webhooks…`: outbound webhook endpoints, their event log, replays (admins only:
//! an endpoint receives every recipient's address).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use herald_engine::webhooks::{self, EndpointView, LogEntry, WebhookError};
use herald_store::{Replay, Store};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::paging::{PageQuery, page_of};
use super::{Body, Caller, Params, error, internal};
use crate::Web;

#[derive(Serialize, JsonSchema)]
pub struct WebhooksPage {
    pub webhooks: Vec<EndpointView>,
    /// Pass as `?after=` for the next page; null on the last one.
    pub next: Option<String>,
}

#[derive(Serialize, JsonSchema)]
pub struct EventsPage {
    /// Newest first; pass the last one's `id` as `before` for the next page.
    pub events: Vec<LogEntry>,
    /// Pass as `?before=` for the next page; null on the last one.
    pub next: Option<String>,
}

#[derive(Serialize, JsonSchema)]
pub struct Replayed {
    /// How many events will be posted again.
    pub replayed: u64,
}

/// `POST /api/v1/webhooks`.
#[derive(Deserialize, JsonSchema)]
pub struct NewWebhook {
    /// `https://…` (or `http://`), without credentials.
    #[schemars(extend("minLength" = 1, "maxLength" = 2000))]
    pub url: String,
    /// The events to receive, or `["all"]`.
    #[schemars(extend("minItems" = 1, "items" = {"enum": ["all", "delivered", "relayed", "deferred",
        "bounced", "expired", "complained", "unsubscribed", "opened", "clicked"]}))]
    pub events: Vec<String>,
    #[serde(default)]
    #[schemars(extend("maxLength" = 200))]
    pub description: String,
}

/// `GET /api/v1/webhooks/{id}/events`.
#[derive(Deserialize, JsonSchema)]
pub struct EventsQuery {
    /// An event id (`evt_42`): events before it.
    pub before: Option<String>,
    /// At most this many (default 100; more than 1000 returns 1000).
    #[schemars(range(min = 1, max = u32::MAX))]
    pub limit: Option<u32>,
}

/// `POST /api/v1/webhooks/{id}/replay`: exactly one of the three.
#[derive(Deserialize, JsonSchema)]
pub struct ReplayBody {
    /// Post again every event given up on.
    #[serde(default)]
    pub failed: bool,
    /// Post again every event that happened at or after this time (RFC 3339).
    #[schemars(extend("format" = "date-time"))]
    pub since: Option<String>,
    /// Post again this event (`evt_42`).
    pub event: Option<String>,
}

fn refused(e: WebhookError) -> Response {
    match e {
        WebhookError::Store(e) => internal(e),
        WebhookError::NotFound(_) => error(StatusCode::NOT_FOUND, e.to_string()),
        WebhookError::BadInput(m) => error(StatusCode::UNPROCESSABLE_ENTITY, m),
        WebhookError::Random => {
            tracing::error!("the system's random source failed");
            super::failure(crate::Failure::Internal)
        }
    }
}

fn endpoint_id(id: &str) -> Option<i64> {
    id.parse::<i64>().ok().filter(|n| *n > 0)
}

fn unknown(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("there is no webhook endpoint {id:?}"),
    )
}

pub async fn list<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Params(q): Params<PageQuery>,
) -> Response {
    let limit = match q.size() {
        Ok(n) => n,
        Err(r) => return *r,
    };
    match webhooks::endpoints(&web.store).await {
        Ok(all) => {
            // Zero-padded: the cursors sort as the ids do.
            let (webhooks, next) =
                page_of(all, q.after.as_deref(), limit, |e| format!("{:019}", e.id));
            Json(WebhooksPage { webhooks, next }).into_response()
        }
        Err(e) => refused(e),
    }
}

pub async fn create<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(Caller(user)): Extension<Caller>,
    Body(b): Body<NewWebhook>,
) -> Response {
    let by = format!("api:{}", user.email);
    match webhooks::add_endpoint(
        &web.store,
        &b.url,
        &b.events.join(","),
        &b.description,
        &by,
        web.clock.now_ms(),
    )
    .await
    {
        Ok(e) => (StatusCode::CREATED, Json(e)).into_response(),
        Err(e) => refused(e),
    }
}

pub async fn remove<S: Store>(State(web): State<Arc<Web<S>>>, Path(id): Path<String>) -> Response {
    let Some(id) = endpoint_id(&id) else {
        return unknown(&id);
    };
    match webhooks::remove_endpoint(&web.store, id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(e),
    }
}

pub async fn events<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(id): Path<String>,
    Params(q): Params<EventsQuery>,
) -> Response {
    let Some(id) = endpoint_id(&id) else {
        return unknown(&id);
    };
    let before = match q
        .before
        .as_deref()
        .map(webhooks::parse_event_id)
        .transpose()
    {
        Ok(b) => b,
        Err(e) => return refused(e),
    };
    let limit = match super::paging::page_size(q.limit) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    match webhooks::log(&web.store, id, before, limit).await {
        Ok(events) => Json(EventsPage {
            next: super::paging::next_cursor(&events, limit, |e| e.id.clone()),
            events,
        })
        .into_response(),
        Err(e) => refused(e),
    }
}

pub async fn replay<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(id): Path<String>,
    Body(b): Body<ReplayBody>,
) -> Response {
    let Some(id) = endpoint_id(&id) else {
        return unknown(&id);
    };
    let which = match (b.failed, b.since.as_deref(), b.event.as_deref()) {
        (true, None, None) => Replay::Failed,
        (false, Some(t), None) => {
            match time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339) {
                Ok(t) => Replay::Since(herald_engine::ms(t)),
                Err(_) => {
                    return error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("since: {t:?} is not an RFC 3339 date-time"),
                    );
                }
            }
        }
        (false, None, Some(ev)) => match webhooks::parse_event_id(ev) {
            Ok(n) => Replay::One(n),
            Err(e) => return refused(e),
        },
        _ => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "give exactly one of failed: true, since or event",
            );
        }
    };
    match webhooks::replay(&web.store, id, which, web.clock.now_ms()).await {
        Ok(replayed) => Json(Replayed { replayed }).into_response(),
        Err(e) => refused(e),
    }
}
