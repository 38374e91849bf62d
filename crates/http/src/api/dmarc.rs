//! `GET /api/v1/dmarc`: DMARC aggregate reports per domain, as `herald dmarc report --json`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use herald_store::Store;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Params, failure};
use crate::Web;

#[derive(Deserialize, JsonSchema)]
pub struct DmarcQuery {
    /// Only this domain (default: every domain with reports, and every connected one).
    #[schemars(extend("pattern" = super::DOMAIN_PATTERN, "maxLength" = 253))]
    pub domain: Option<String>,
    /// Reports whose period ended in the last N days (default 30).
    #[schemars(range(min = 1, max = 366))]
    pub days: Option<u32>,
}

pub async fn get<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Params(q): Params<DmarcQuery>,
) -> Response {
    let days = match super::days(q.days, 30) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    match web.actions.dmarc(q.domain, days).await {
        Ok(r) => Json(r).into_response(),
        Err(f) => failure(f),
    }
}
