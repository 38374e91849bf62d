//! `GET /api/v1/queue`: what waits to be sent, per destination domain, and why in words, as
//! `herald queue --json`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use herald_engine::reports::waiting::queue_report;
use herald_store::Store;

use super::internal;
use crate::Web;

pub async fn get<S: Store>(State(web): State<Arc<Web<S>>>) -> Response {
    match queue_report(&web.store, web.clock.now_ms()).await {
        Ok(r) => Json(r).into_response(),
        Err(e) => internal(e),
    }
}
