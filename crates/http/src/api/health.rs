//! `GET /api/v1/health`: deliverability per sending domain and receiving provider, as
//! `herald health --json`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_engine::reports::health::health;
use herald_store::Store;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Params, error, internal};
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
    let days = q.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "days: from 1 to 366".to_string(),
        );
    }
    match health(&web.store, days, web.clock.now_ms()).await {
        Ok(r) => Json(r).into_response(),
        Err(e) => internal(e),
    }
}
