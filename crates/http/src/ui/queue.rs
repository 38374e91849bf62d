//! `GET /queue`: what waits to be sent, per destination domain, and why in words (a receiver's
//! slow-down, a warm-up's daily allowance, a retry, a paused campaign), as `herald queue`.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use herald_engine::reports::waiting::{QueueReport, queue_report};
use herald_store::Store;

use super::{Session, failed, render};
use crate::Web;

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    user: Option<String>,
    csrf: String,
    q: QueueReport,
}

pub async fn show<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
) -> Response {
    match queue_report(&web.store, web.clock.now_ms()).await {
        Ok(q) => render(&QueuePage {
            user: Some(s.user.email),
            csrf: s.csrf,
            q,
        }),
        Err(e) => failed(e, "reading the queue", "The queue could not be read."),
    }
}
