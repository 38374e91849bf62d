//! `GET /dmarc?days=N&domain=D`: DMARC aggregate reports per domain: reporters, each sending
//! server (Herald's or not) with its results, and what to do about the policy.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use herald_engine::reports::dmarc::DmarcView;
use herald_store::Store;

use axum::http::StatusCode;

use super::{Session, failed, problem, render};
use crate::Web;

#[derive(Template)]
#[template(path = "dmarc.html")]
struct DmarcPage {
    user: Option<String>,
    csrf: String,
    r: DmarcView,
    days: u32,
    domain: String,
}

impl DmarcPage {
    fn pct(&self, r: &Option<f64>) -> String {
        herald_engine::reports::health::rate_text(*r)
    }
}

#[derive(serde::Deserialize)]
pub struct DmarcQuery {
    days: Option<u32>,
    domain: Option<String>,
}

pub async fn show<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Query(q): Query<DmarcQuery>,
) -> Response {
    let days = q.days.unwrap_or(30).clamp(1, 366);
    let domain = q.domain.filter(|d| !d.trim().is_empty());
    match web.actions.dmarc(domain.clone(), days).await {
        Ok(r) => render(&DmarcPage {
            user: Some(s.user.email),
            csrf: s.csrf,
            r,
            days,
            domain: domain.unwrap_or_default(),
        }),
        Err(crate::Failure::BadInput(m)) => problem(StatusCode::UNPROCESSABLE_ENTITY, &m),
        Err(e) => failed(
            e,
            "reading DMARC reports",
            "The DMARC reports could not be read.",
        ),
    }
}
