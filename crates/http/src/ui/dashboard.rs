//! `GET /`: the campaigns with their headline numbers.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use herald_engine::reports::campaign_list;
use herald_store::Store;

use super::{Session, flashed, problem, render};
use crate::Web;

struct CampaignRow {
    id: String,
    name: String,
    subject: String,
    status: String,
    recipients: u64,
    delivered: u64,
    bounced: u64,
    opened: u64,
    created_at: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    user: Option<String>,
    csrf: String,
    notice: Option<String>,
    campaigns: Vec<CampaignRow>,
}

#[derive(serde::Deserialize)]
pub(super) struct DashboardQuery {
    flash: Option<String>,
}

pub(super) async fn dashboard<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(s): axum::Extension<Session>,
    axum::extract::Query(q): axum::extract::Query<DashboardQuery>,
) -> Response {
    // Only notices come here (a deleted draft); problems stay on the campaign's page.
    let (_, notice) = flashed(&s, q.flash.as_deref());
    let Ok(list) = campaign_list(&web.store, 200).await else {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "The database did not answer. Try again.",
        );
    };
    let campaigns = list
        .into_iter()
        .map(|e| CampaignRow {
            id: e.campaign.id,
            name: e.campaign.name,
            subject: e.campaign.subject,
            status: e.campaign.status.to_string(),
            recipients: e.counts.recipients,
            delivered: e.counts.delivered,
            bounced: e.counts.bounced,
            opened: e.counts.opened,
            created_at: e.campaign.created_at,
        })
        .collect();
    render(&Dashboard {
        notice,
        user: Some(s.user.email),
        csrf: s.csrf,
        campaigns,
    })
}
