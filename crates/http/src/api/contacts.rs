//! `/api/v1/contacts…`: search, and one contact's timeline across campaigns.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_domain::EmailAddress;
use herald_engine::reports::ms_to_rfc3339;
use herald_store::{ContactDelivery, ContactRow, Store};
use serde::Deserialize;

use super::{error, internal};
use crate::Web;

#[derive(Deserialize)]
pub struct SearchQuery {
    pub q: Option<String>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

pub fn contact_json(c: &ContactRow) -> serde_json::Value {
    serde_json::json!({
        "email": c.email,
        "fields": serde_json::from_str::<serde_json::Value>(&c.fields).unwrap_or_default(),
        "lists": c.lists,
        "created_at": ms_to_rfc3339(c.created_at_ms),
    })
}

pub fn delivery_json(d: &ContactDelivery, events: Vec<serde_json::Value>) -> serde_json::Value {
    serde_json::json!({
        "campaign": {"id": d.campaign.to_string(), "name": d.campaign_name, "subject": d.subject},
        "state": d.state.as_str(),
        "reason": d.reason,
        "attempts": d.attempts,
        "updated_at": ms_to_rfc3339(d.updated_at_ms),
        "events": events,
    })
}

pub async fn search<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Query(q): Query<SearchQuery>,
) -> Response {
    let query = q.q.unwrap_or_default();
    if query.len() > 320 {
        return error(StatusCode::BAD_REQUEST, "q: at most 320 characters");
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    match web
        .store
        .search_contacts(&query, q.after.as_deref().unwrap_or(""), limit)
        .await
    {
        Ok(rows) => {
            let next = (rows.len() as u32 == limit)
                .then(|| rows.last().map(|r| r.email_key.clone()))
                .flatten();
            Json(serde_json::json!({
                "contacts": rows.iter().map(contact_json).collect::<Vec<_>>(),
                "next": next,
            }))
            .into_response()
        }
        Err(e) => internal(e),
    }
}

/// A contact's deliveries across campaigns, each with its events, newest campaign first.
pub async fn timeline_json<S: Store>(
    store: &S,
    email: &str,
) -> Result<Option<serde_json::Value>, herald_store::StoreError> {
    let Ok(address) = EmailAddress::parse(email) else {
        return Ok(None);
    };
    let key = address.key();
    let contact = store.contact(&key).await?;
    let deliveries = store.contact_deliveries(&key).await?;
    if contact.is_none() && deliveries.is_empty() {
        return Ok(None);
    }
    let ids: Vec<_> = deliveries.iter().map(|d| d.delivery).collect();
    let events = store.events(&ids).await?;
    let out: Vec<serde_json::Value> = deliveries
        .iter()
        .map(|d| {
            let ev = events
                .iter()
                .filter(|(id, _)| *id == d.delivery)
                .map(|(_, e)| {
                    serde_json::json!({
                        "kind": e.kind,
                        "at": ms_to_rfc3339(e.at_ms),
                        "detail": serde_json::from_str::<serde_json::Value>(&e.detail).unwrap_or_default(),
                    })
                })
                .collect();
            delivery_json(d, ev)
        })
        .collect();
    Ok(Some(serde_json::json!({
        "email": contact.as_ref().map_or(key.clone(), |c| c.email.clone()),
        "contact": contact.as_ref().map(contact_json),
        "deliveries": out,
    })))
}

pub async fn show<S: Store>(State(web): State<Arc<Web<S>>>, Path(email): Path<String>) -> Response {
    match timeline_json(&web.store, &email).await {
        Ok(Some(v)) => Json(v).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no contact {email:?}")),
        Err(e) => internal(e),
    }
}
