//! `GET /?status=`: the campaigns with their headline numbers and rates, by status.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use herald_engine::reports::campaign_list;
use herald_store::{CampaignStatus, Store};

use super::{Session, flashed, problem, render};
use crate::Web;

struct CampaignRow {
    id: String,
    name: String,
    subject: String,
    status: String,
    recipients: u64,
    delivered: u64,
    /// Accepted by a relay, the recipient's server not heard from.
    relayed: u64,
    /// Of those sent (everyone but not sent); empty before anything was sent.
    delivered_rate: String,
    bounced: u64,
    bounced_rate: String,
    opened: u64,
    /// People who opened, of those delivered.
    opened_rate: String,
    created_at: String,
    /// The same, exact (RFC 3339), for the page's script.
    created_at_exact: String,
}

/// `part` of `whole` as a percentage with one decimal (`96.0 %`); empty when `whole` is 0.
fn rate(part: u64, whole: u64) -> String {
    if whole == 0 {
        String::new()
    } else {
        format!("{:.1} %", part as f64 * 100.0 / whole as f64)
    }
}

/// `2026-12-03T22:41:07.123Z` as `2026-12-03 22:41 UTC`.
fn minute(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => rfc3339.to_string(),
    }
}

/// The filters above the list: (query value, label).
const FILTERS: &[(&str, &str)] = &[
    ("", "All"),
    ("draft", "Drafts"),
    ("scheduled", "Scheduled"),
    ("sending", "Sending"),
    ("paused", "Paused"),
    ("sent", "Sent"),
    ("cancelled", "Cancelled"),
];

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    user: Option<String>,
    csrf: String,
    notice: Option<String>,
    /// Nothing was sent yet: the page points to Getting started.
    new_here: bool,
    filters: &'static [(&'static str, &'static str)],
    /// The filter shown ("" for all).
    status: String,
    campaigns: Vec<CampaignRow>,
    /// The link to older campaigns (their page's `?before=`), when there are more.
    older: Option<String>,
}

#[derive(serde::Deserialize)]
pub(super) struct DashboardQuery {
    flash: Option<String>,
    status: Option<String>,
    /// Campaigns older than this id (the "Older campaigns" link).
    before: Option<i64>,
}

pub(super) async fn dashboard<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(s): axum::Extension<Session>,
    axum::extract::Query(q): axum::extract::Query<DashboardQuery>,
) -> Response {
    // Only notices come here (a deleted draft); problems stay on the campaign's page.
    let (_, notice) = flashed(&s, q.flash.as_deref());
    let status = q.status.as_deref().and_then(CampaignStatus::parse);
    let before = q.before.map(herald_store::CampaignId);
    let Ok(page) = campaign_list(&web.store, before, status, 100).await else {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "The database did not answer. Try again.",
        );
    };
    let older = page.next.map(|id| match status {
        Some(s) => format!("/?status={}&before={id}", s.as_str()),
        None => format!("/?before={id}"),
    });
    let list = page.campaigns;
    // Until a campaign was sent, the page points to the first run's steps (read from the list
    // already loaded: nothing more per visit).
    let new_here = status.is_none()
        && before.is_none()
        && !list
            .iter()
            .any(|e| !matches!(e.campaign.status, "draft" | "scheduled"));
    let campaigns = list
        .into_iter()
        .map(|e| {
            let k = &e.counts;
            let sent = k.recipients - k.not_sent;
            CampaignRow {
                delivered_rate: rate(k.delivered, sent),
                bounced_rate: rate(k.bounced, sent),
                // Opens come through a relay too.
                opened_rate: rate(k.opened, k.delivered + k.relayed),
                recipients: k.recipients,
                delivered: k.delivered,
                relayed: k.relayed,
                bounced: k.bounced,
                opened: k.opened,
                created_at: minute(&e.campaign.created_at),
                created_at_exact: e.campaign.created_at.clone(),
                id: e.campaign.id,
                name: e.campaign.name,
                subject: e.campaign.subject,
                status: e.campaign.status.to_string(),
            }
        })
        .collect();
    render(&Dashboard {
        new_here,
        notice,
        filters: FILTERS,
        status: status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        user: Some(s.user.email),
        csrf: s.csrf,
        campaigns,
        older,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_times_read_as_people_read_them() {
        assert_eq!(rate(24, 25), "96.0 %");
        assert_eq!(rate(0, 0), "");
        assert_eq!(minute("2026-12-03T22:41:07.123Z"), "2026-12-03 22:41 UTC");
        assert_eq!(minute("garbage"), "garbage");
    }
}
