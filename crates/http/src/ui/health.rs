//! `GET /health?days=N`: deliverability per sending domain and receiving provider against
//! Gmail's and Yahoo's thresholds, seed placement per provider, the connected domains' status,
//! and each campaign's part, linking to its recipients.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use herald_engine::reports::health::{HealthFigures, HealthReport, health};
use herald_store::Store;

use super::{Session, failed, render};
use crate::Web;

#[derive(Template)]
#[template(path = "health.html")]
struct HealthPage {
    user: Option<String>,
    csrf: String,
    r: HealthReport,
    days: u32,
}

impl HealthPage {
    fn pct(&self, r: &Option<f64>) -> String {
        herald_engine::reports::health::rate_text(*r)
    }

    fn limit(&self, r: &f64) -> String {
        format!("{:.1} %", r * 100.0)
    }

    fn quiet(&self, f: &HealthFigures) -> bool {
        f.sent == 0 && f.deferrals == 0
    }
}

#[derive(serde::Deserialize)]
pub struct HealthQuery {
    days: Option<u32>,
}

pub async fn show<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Query(q): Query<HealthQuery>,
) -> Response {
    let days = q.days.unwrap_or(30).clamp(1, 366);
    match health(&web.store, days, web.clock.now_ms()).await {
        Ok(r) => render(&HealthPage {
            user: Some(s.user.email),
            csrf: s.csrf,
            r,
            days,
        }),
        Err(e) => failed(e, "reading health", "The health figures could not be read."),
    }
}
