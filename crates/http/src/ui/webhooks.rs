//! `GET /webhooks` (endpoints, add form), `GET /webhooks/{id}` (an endpoint's event log), and
//! the admins' `POST /webhooks` (add: the secret is shown on the answer, once),
//! `POST /webhooks/remove`, `POST /webhooks/replay`. Admins only, as in the API: an endpoint
//! receives every recipient's address.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Form};
use herald_domain::webhook::WebhookEvent;
use herald_engine::webhooks::{self, EndpointView, LogEntry, WebhookError};
use herald_store::{Replay, Store};
use serde::Deserialize;

use super::session::{csrf_form, flashed, redirect_with};
use super::{Session, failed, flash, problem, render};
use crate::Web;
use crate::auth::Role;

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    user: Option<String>,
    csrf: String,
    endpoints: Vec<EndpointView>,
    events: Vec<&'static str>,
    /// What was typed (kept when the add is refused).
    url: String,
    description: String,
    chosen: Vec<String>,
    /// The endpoint just added, with its secret (shown this once).
    created: Option<EndpointView>,
    problem: Option<String>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct WebhookPage {
    user: Option<String>,
    csrf: String,
    endpoint: EndpointView,
    log: Vec<LogEntry>,
    /// The oldest shown event's id, for the next page.
    next: Option<String>,
    problem: Option<String>,
    notice: Option<String>,
}

/// The answer to a viewer (None for an admin).
fn refused_unless_admin(s: &Session) -> Option<Response> {
    (s.user.role < Role::Admin).then(|| {
        problem(
            StatusCode::FORBIDDEN,
            "Only admins see and manage webhooks (they receive every recipient's address).",
        )
    })
}

struct Typed {
    url: String,
    description: String,
    chosen: Vec<String>,
}

async fn page<S: Store>(
    web: &Web<S>,
    s: Session,
    typed: Typed,
    created: Option<EndpointView>,
    problem: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let endpoints = match webhooks::endpoints(&web.store).await {
        Ok(e) => e,
        Err(e) => return failed(e, "listing webhooks", "The webhooks could not be read."),
    };
    let mut r = render(&WebhooksPage {
        user: Some(s.user.email),
        csrf: s.csrf,
        endpoints,
        events: WebhookEvent::ALL.map(|e| e.as_str()).to_vec(),
        url: typed.url,
        description: typed.description,
        chosen: typed.chosen,
        created: created.clone(),
        problem,
        notice,
    });
    *r.status_mut() = status;
    if created.is_some() {
        // The page holds a secret: kept in no cache.
        r.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    r
}

#[derive(Deserialize)]
pub struct FlashQuery {
    flash: Option<String>,
    before: Option<String>,
}

pub async fn show<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Query(q): Query<FlashQuery>,
) -> Response {
    if let Some(r) = refused_unless_admin(&s) {
        return r;
    }
    let (problem, notice) = flashed(&s, q.flash.as_deref());
    let typed = Typed {
        url: String::new(),
        description: String::new(),
        chosen: vec!["delivered".into(), "bounced".into(), "complained".into()],
    };
    page(&web, s, typed, None, problem, notice, StatusCode::OK).await
}

/// The add form: `url`, `description`, and one `event` field per box ticked (or `all`).
pub async fn create<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let field = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let csrf = field("csrf");
    if let Err(r) = csrf_form(&s, Some(csrf.as_str())) {
        return *r;
    }
    let chosen: Vec<String> = f
        .iter()
        .filter(|(n, _)| n == "event")
        .map(|(_, v)| v.clone())
        .collect();
    let typed = Typed {
        url: field("url"),
        description: field("description"),
        chosen,
    };
    let by = format!("ui:{}", s.user.email);
    match webhooks::add_endpoint(
        &web.store,
        typed.url.trim(),
        &typed.chosen.join(","),
        typed.description.trim(),
        &by,
        web.clock.now_ms(),
    )
    .await
    {
        Ok(e) => {
            let typed = Typed {
                url: String::new(),
                description: String::new(),
                chosen: typed.chosen,
            };
            page(&web, s, typed, Some(e), None, None, StatusCode::CREATED).await
        }
        Err(WebhookError::Store(e)) => {
            failed(e, "adding a webhook", "The webhook could not be saved.")
        }
        Err(e) => {
            page(
                &web,
                s,
                typed,
                None,
                Some(e.to_string()),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub async fn log<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Path(id): Path<String>,
    Query(q): Query<FlashQuery>,
) -> Response {
    if let Some(r) = refused_unless_admin(&s) {
        return r;
    }
    let Some(id) = id.parse::<i64>().ok() else {
        return problem(StatusCode::NOT_FOUND, "No such webhook.");
    };
    let before = q
        .before
        .as_deref()
        .and_then(|b| webhooks::parse_event_id(b).ok());
    let (endpoint, log) = match (
        webhooks::endpoint(&web.store, id).await,
        webhooks::log(&web.store, id, before, 100).await,
    ) {
        (Ok(e), Ok(l)) => (e, l),
        (Err(WebhookError::NotFound(_)), _) | (_, Err(WebhookError::NotFound(_))) => {
            return problem(StatusCode::NOT_FOUND, "No such webhook.");
        }
        (Err(e), _) | (_, Err(e)) => {
            return failed(e, "reading a webhook's log", "The log could not be read.");
        }
    };
    let (problem, notice) = flashed(&s, q.flash.as_deref());
    let next = (log.len() == 100)
        .then(|| log.last().map(|e| e.id.clone()))
        .flatten();
    render(&WebhookPage {
        user: Some(s.user.email),
        csrf: s.csrf,
        endpoint,
        log,
        next,
        problem,
        notice,
    })
}

#[derive(Deserialize)]
pub struct EndpointForm {
    csrf: Option<String>,
    id: Option<i64>,
    /// `failed`, or an event id (`evt_N`).
    replay: Option<String>,
}

/// Remove an endpoint (admins, in `WRITES`).
pub async fn remove<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<EndpointForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let id = f.id.unwrap_or(0);
    match webhooks::remove_endpoint(&web.store, id).await {
        Ok(()) => redirect_with(
            &s,
            "/webhooks",
            flash::Kind::Notice,
            &format!("Webhook {id} removed."),
        ),
        Err(WebhookError::Store(e)) => {
            failed(e, "removing a webhook", "The webhook could not be removed.")
        }
        Err(e) => redirect_with(&s, "/webhooks", flash::Kind::Problem, &e.to_string()),
    }
}

/// Post events again: those given up on, or one (admins, in `WRITES`).
pub async fn replay<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<EndpointForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let id = f.id.unwrap_or(0);
    let back = format!("/webhooks/{id}");
    let which = match f.replay.as_deref() {
        Some("failed") => Replay::Failed,
        Some(ev) => match webhooks::parse_event_id(ev) {
            Ok(n) => Replay::One(n),
            Err(e) => return redirect_with(&s, &back, flash::Kind::Problem, &e.to_string()),
        },
        None => {
            return redirect_with(&s, &back, flash::Kind::Problem, "Nothing to replay.");
        }
    };
    match webhooks::replay(&web.store, id, which, web.clock.now_ms()).await {
        Ok(n) => redirect_with(
            &s,
            &back,
            flash::Kind::Notice,
            &format!("{n} event(s) will be posted again."),
        ),
        Err(WebhookError::Store(e)) => failed(
            e,
            "replaying webhook events",
            "The events could not be replayed.",
        ),
        Err(e) => redirect_with(&s, "/webhooks", flash::Kind::Problem, &e.to_string()),
    }
}
