//! `GET /campaigns/{id}/why/{email}`: "Didn't receive it?" — findings, timeline and the IT
//! report, with its `.txt` and `.html` downloads.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use herald_engine::api_types::{Diagnosis, Severity};
use herald_store::{CampaignId, Store};

use super::{Session, problem, render, segment};
use crate::Web;

struct FindingRow {
    code: String,
    severity: String,
    text: String,
}

struct TimelineRow {
    at: String,
    what: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "why.html")]
struct WhyPage {
    user: Option<String>,
    csrf: String,
    id: String,
    campaign: String,
    email: String,
    email_path: String,
    subject: String,
    state: String,
    reason: Option<String>,
    placement: String,
    findings: Vec<FindingRow>,
    timeline: Vec<TimelineRow>,
    it_report: String,
}

async fn diagnosis<S: Store>(
    web: &Web<S>,
    id: &str,
    email: &str,
) -> Result<(CampaignId, Diagnosis), Box<Response>> {
    let Ok(cid) = id.parse::<CampaignId>() else {
        return Err(Box::new(problem(
            StatusCode::NOT_FOUND,
            "No such campaign.",
        )));
    };
    match web.actions.why(cid, email.to_string()).await {
        Ok(Some(d)) => Ok((cid, d)),
        Ok(None) => Err(Box::new(problem(
            StatusCode::NOT_FOUND,
            &format!("{email} is not a recipient of this campaign."),
        ))),
        Err(e) => Err(Box::new(problem(e.status(), &e.to_string()))),
    }
}

pub(super) async fn why<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(s): axum::Extension<Session>,
    Path((id, email)): Path<(String, String)>,
) -> Response {
    let (cid, d) = match diagnosis(&web, &id, &email).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let name = web
        .store
        .campaign(cid)
        .await
        .ok()
        .flatten()
        .map(|c| c.name)
        .unwrap_or_default();
    render(&WhyPage {
        user: Some(s.user.email),
        csrf: s.csrf,
        id: cid.to_string(),
        campaign: name,
        email_path: segment(&d.email),
        email: d.email.clone(),
        subject: d.subject.clone(),
        state: d.state.to_string(),
        reason: d.reason.clone(),
        placement: d.placement.to_string(),
        findings: d
            .findings
            .iter()
            .map(|f| FindingRow {
                code: f.code.to_string(),
                severity: match f.severity {
                    Severity::Info => "info",
                    Severity::Warning => "warning",
                    Severity::Problem => "problem",
                }
                .into(),
                text: f.text.clone(),
            })
            .collect(),
        timeline: d
            .timeline
            .iter()
            .map(|t| TimelineRow {
                at: t.at.clone(),
                what: t.what.clone(),
                detail: t.said().to_string(),
            })
            .collect(),
        it_report: d.it_report,
    })
}

fn download(content_type: &'static str, name: String, body: String) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

pub(super) async fn it_report_text<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path((id, email)): Path<(String, String)>,
) -> Response {
    match diagnosis(&web, &id, &email).await {
        Ok((cid, d)) => download(
            "text/plain; charset=utf-8",
            format!("herald-it-report-{cid}.txt"),
            d.it_report,
        ),
        Err(r) => *r,
    }
}

pub(super) async fn it_report_html<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path((id, email)): Path<(String, String)>,
) -> Response {
    match diagnosis(&web, &id, &email).await {
        Ok((cid, d)) => download(
            "text/html; charset=utf-8",
            format!("herald-it-report-{cid}.html"),
            d.it_report_html,
        ),
        Err(r) => *r,
    }
}
