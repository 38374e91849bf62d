//! `GET /api/v1/health`: deliverability per sending domain and receiving provider, as
//! `herald health --json`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use herald_engine::reports::health::health;
use herald_store::Store;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Params, internal};
use crate::Web;

#[derive(Deserialize, JsonSchema)]
pub struct HealthQuery {
    /// The last N UTC days, today included (default 30).
    #[schemars(range(min = 1, max = 366))]
    pub days: Option<u32>,
}

pub async fn get<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Params(q): Params<HealthQuery>,
) -> Response {
    let days = match super::days(q.days, 30) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    match health(&web.store, days, web.clock.now_ms()).await {
        Ok(r) => Json(r).into_response(),
        Err(e) => internal(e),
    }
}
