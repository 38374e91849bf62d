//! `/api/v1/segments…` and a campaign's audience (design §6b): saved rules, counts before
//! sending, a draft narrowed by a segment and minus another.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_engine::audience::AudienceError;
use herald_engine::audience::segments::{self, AudienceChange, SegmentView};
use herald_store::{CampaignId, Store};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::paging::PageQuery;
use super::{Body, Params, error, internal};
use crate::Web;

#[derive(Serialize, JsonSchema)]
pub struct SegmentsPage {
    pub segments: Vec<SegmentView>,
    /// Pass as `?after=` for the next page; null on the last one.
    pub next: Option<String>,
}

/// `POST /api/v1/segments`.
#[derive(Deserialize, JsonSchema)]
pub struct NewSegment {
    #[schemars(extend("minLength" = 1, "maxLength" = 100))]
    pub name: String,
    /// The rule, e.g. `field city = "Berlin" and opened by a person within 90d`.
    #[schemars(extend("minLength" = 1, "maxLength" = 4096))]
    pub rule: String,
}

/// `POST /api/v1/segments/count`.
#[derive(Deserialize, JsonSchema)]
pub struct RuleBody {
    #[schemars(extend("minLength" = 1, "maxLength" = 4096))]
    pub rule: String,
}

/// `PUT /api/v1/campaigns/{id}/audience`: each of `segment` and `exclude` a saved segment's
/// name, `null` to clear it, or absent to keep it; `also_lists` (the other lists it goes to,
/// each person once) and `exclude_lists` (lists whose subscribed members it keeps out) replace
/// what the campaign had (`[]`: none), absent keeps it.
#[derive(Deserialize, JsonSchema)]
pub struct AudienceBody {
    #[serde(default, deserialize_with = "some")]
    pub segment: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    pub exclude: Option<Option<String>>,
    #[schemars(extend("maxItems" = 50))]
    pub also_lists: Option<Vec<String>>,
    #[schemars(extend("maxItems" = 50))]
    pub exclude_lists: Option<Vec<String>>,
}

/// A present field (even `null`) is `Some`.
fn some<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn refused(e: AudienceError) -> Response {
    match e {
        AudienceError::Store(e) => internal(e),
        AudienceError::UnknownCampaign(_) => error(StatusCode::NOT_FOUND, e.to_string()),
        AudienceError::SegmentTaken(_) | AudienceError::CampaignStarted(_) => {
            error(StatusCode::CONFLICT, e.to_string())
        }
        e => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}

pub async fn list<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Params(q): Params<PageQuery>,
) -> Response {
    let limit = match q.size() {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let now = web.clock.now_ms();
    match segments::page(&web.store, q.after.as_deref(), limit as usize, now).await {
        Ok((segments, next)) => Json(SegmentsPage { segments, next }).into_response(),
        Err(e) => refused(e),
    }
}

pub async fn create<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Body(b): Body<NewSegment>,
) -> Response {
    match segments::create(&web.store, &b.name, &b.rule, web.clock.now_ms()).await {
        Ok(s) => (StatusCode::CREATED, Json(s)).into_response(),
        Err(e) => refused(e),
    }
}

pub async fn count<S: Store>(State(web): State<Arc<Web<S>>>, Body(b): Body<RuleBody>) -> Response {
    match segments::count(&web.store, &b.rule, web.clock.now_ms()).await {
        Ok(c) => Json(c).into_response(),
        Err(e) => refused(e),
    }
}

pub async fn audience<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(id): Path<String>,
    Body(b): Body<AudienceBody>,
) -> Response {
    let Ok(id) = id.parse::<CampaignId>() else {
        return error(StatusCode::NOT_FOUND, format!("unknown campaign {id:?}"));
    };
    let change = AudienceChange {
        segment: b.segment,
        exclude: b.exclude,
        also_lists: b.also_lists,
        exclude_lists: b.exclude_lists,
    };
    match segments::set_campaign_audience(&web.store, id, &change, web.clock.now_ms()).await {
        Ok(a) => Json(a).into_response(),
        Err(e) => refused(e),
    }
}

/// `PATCH /api/v1/segments/{name}`: what is given is replaced (as `segments update`).
#[derive(Deserialize, JsonSchema)]
pub struct SegmentPatch {
    /// A new name.
    #[schemars(extend("minLength" = 1, "maxLength" = 100))]
    pub name: Option<String>,
    /// A new rule.
    #[schemars(extend("minLength" = 1, "maxLength" = 4096))]
    pub rule: Option<String>,
}

pub async fn update<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(name): Path<String>,
    Body(b): Body<SegmentPatch>,
) -> Response {
    let now = web.clock.now_ms();
    match segments::update(&web.store, &name, b.rule.as_deref(), b.name.as_deref(), now).await {
        Ok(s) => Json(s).into_response(),
        Err(e) => super::members::refused(e),
    }
}

/// `DELETE /api/v1/segments/{name}` (as `segments delete`).
pub async fn delete<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(name): Path<String>,
) -> Response {
    match segments::delete(&web.store, &name).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => super::members::refused(e),
    }
}
