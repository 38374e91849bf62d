//! `/api/v1/campaigns…`

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_engine::reports::{RecipientReport, campaign_report, ms_to_rfc3339};
use herald_store::{CampaignId, RecipientFilter, Store};
use serde::Deserialize;

use super::{error, failure, internal};
use crate::Web;

fn campaign_id(id: &str) -> Result<CampaignId, Box<Response>> {
    id.parse()
        .map_err(|_| Box::new(error(StatusCode::NOT_FOUND, format!("no campaign {id:?}"))))
}

pub async fn list<S: Store>(State(web): State<Arc<Web<S>>>) -> Response {
    let campaigns = match web.store.campaigns(200).await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let mut out = Vec::with_capacity(campaigns.len());
    for c in campaigns {
        match campaign_report(&web.store, c.id, false).await {
            Ok(Some(r)) => {
                out.push(serde_json::json!({"campaign": r.campaign, "counts": r.counts}))
            }
            Ok(None) => {}
            Err(e) => return internal(e),
        }
    }
    Json(serde_json::json!({ "campaigns": out })).into_response()
}

pub async fn show<S: Store>(State(web): State<Arc<Web<S>>>, Path(id): Path<String>) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    match campaign_report(&web.store, id, false).await {
        Ok(Some(r)) => Json(r).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no campaign {id}")),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
pub struct RecipientsQuery {
    pub tab: Option<String>,
    pub q: Option<String>,
    pub after: Option<i64>,
    pub limit: Option<u32>,
}

/// The performance page's tabs, by name.
pub fn tab_filter(tab: &str) -> Option<RecipientFilter> {
    use herald_domain::DeliveryState as D;
    Some(match tab {
        "all" => RecipientFilter::All,
        "sent" => RecipientFilter::Sent,
        "delivered" => RecipientFilter::State(D::Delivered),
        "deferred" => RecipientFilter::State(D::Deferred),
        "bounced" => RecipientFilter::State(D::Bounced),
        "expired" => RecipientFilter::State(D::Expired),
        "failed" => RecipientFilter::State(D::Failed),
        "queued" => RecipientFilter::State(D::Queued),
        "not_sent" => RecipientFilter::State(D::NotSent),
        "opened" => RecipientFilter::Event("open".into()),
        "clicked" => RecipientFilter::Event("click".into()),
        "unsubscribed" => RecipientFilter::Event("unsubscribe".into()),
        "complained" => RecipientFilter::Event("complaint".into()),
        _ => return None,
    })
}

/// A page of recipients with their events; `next_after` continues it.
pub async fn page<S: Store>(
    store: &S,
    id: CampaignId,
    filter: &RecipientFilter,
    q: Option<&str>,
    after: i64,
    limit: u32,
) -> Result<(Vec<RecipientReport>, Option<i64>), herald_store::StoreError> {
    let rows = store
        .recipients_filtered(id, filter, q.filter(|q| !q.is_empty()), after, limit)
        .await?;
    let next = (rows.len() as u32 == limit)
        .then(|| rows.last().map(|r| r.id.0))
        .flatten();
    let ids: Vec<_> = rows.iter().map(|r| r.id).collect();
    let mut events = store.events(&ids).await?.into_iter().peekable();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let rid = row.id;
        let mut r = RecipientReport::from(row);
        while let Some((_, e)) = events.next_if(|(d, _)| *d == rid) {
            r.events.push(serde_json::json!({
                "kind": e.kind, "at": ms_to_rfc3339(e.at_ms),
                "detail": serde_json::from_str::<serde_json::Value>(&e.detail).unwrap_or_default(),
            }));
        }
        out.push(r);
    }
    Ok((out, next))
}

pub async fn recipients<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(id): Path<String>,
    Query(q): Query<RecipientsQuery>,
) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let tab = q.tab.as_deref().unwrap_or("all");
    let Some(filter) = tab_filter(tab) else {
        return error(StatusCode::BAD_REQUEST, format!("unknown tab {tab:?}"));
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    match page(
        &web.store,
        id,
        &filter,
        q.q.as_deref(),
        q.after.unwrap_or(0),
        limit,
    )
    .await
    {
        Ok((rows, next)) => {
            Json(serde_json::json!({"recipients": rows, "next_after": next})).into_response()
        }
        Err(e) => internal(e),
    }
}

pub async fn why<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path((id, email)): Path<(String, String)>,
) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    match web.actions.why(id, email.clone()).await {
        Ok(Some(d)) => Json(d).into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            format!("{email} is not a recipient of campaign {id}"),
        ),
        Err(f) => failure(f),
    }
}

pub async fn send<S: Store>(State(web): State<Arc<Web<S>>>, Path(id): Path<String>) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    match web.actions.send(id).await {
        Ok(()) => (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({"campaign": id.to_string(), "status": "sending"})),
        )
            .into_response(),
        Err(f) => failure(f),
    }
}

#[derive(Deserialize)]
pub struct TestBody {
    to: String,
}

pub async fn test<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(id): Path<String>,
    Json(body): Json<TestBody>,
) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    match web.actions.test_send(id, body.to).await {
        Ok(v) => Json(v).into_response(),
        Err(f) => failure(f),
    }
}
