//! `/api/v1/campaigns/{id}/attachments…`: a draft's files, as `campaign attach|detach` and
//! `campaign show --json`'s `attachments`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use herald_engine::campaign::attachments::{self, AttachmentError, AttachmentView, MAX_CAP};
use herald_store::Store;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::campaigns::campaign_id;
use super::paging::{PageQuery, page_of};
use super::{Body, Params, error, internal};
use crate::Web;

/// The largest body `PUT …/attachments/{name}` reads: the largest cap, base64, and room for
/// the JSON around it.
pub const BODY_LIMIT: usize = (MAX_CAP as usize).div_ceil(3) * 4 + 64 * 1024;

fn refused(e: AttachmentError) -> Response {
    match e {
        AttachmentError::UnknownCampaign(_) | AttachmentError::NotFound(..) => {
            error(StatusCode::NOT_FOUND, e.to_string())
        }
        AttachmentError::Off | AttachmentError::NotDraft(..) | AttachmentError::TooBig { .. } => {
            error(StatusCode::CONFLICT, e.to_string())
        }
        AttachmentError::Store(e) => internal(e),
        e => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}

#[derive(Serialize, JsonSchema)]
pub struct AttachmentsPage {
    pub attachments: Vec<AttachmentView>,
    /// Pass as `?after=` for the next page; null on the last one.
    pub next: Option<String>,
}

pub async fn list<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(id): Path<String>,
    Params(q): Params<PageQuery>,
) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let limit = match q.size() {
        Ok(n) => n,
        Err(r) => return *r,
    };
    match attachments::list(&web.store, id).await {
        Ok(all) => {
            let (attachments, next) = page_of(all, q.after.as_deref(), limit, |a| a.name.clone());
            Json(AttachmentsPage { attachments, next }).into_response()
        }
        Err(e) => refused(e),
    }
}

/// `PUT /api/v1/campaigns/{id}/attachments/{name}`.
#[derive(Deserialize, JsonSchema)]
pub struct AttachmentBody {
    /// The file's bytes, base64 (standard alphabet, padded).
    #[schemars(extend("minLength" = 4))]
    pub content_base64: String,
    /// Its MIME type (default: from the name's extension, else application/octet-stream).
    #[schemars(extend("maxLength" = 255))]
    pub content_type: Option<String>,
}

pub async fn put<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path((id, name)): Path<(String, String)>,
    Body(b): Body<AttachmentBody>,
) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    if b.content_type.as_deref().is_some_and(|t| t.len() > 255) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "content_type: at most 255 characters",
        );
    }
    let content = match base64::engine::general_purpose::STANDARD.decode(b.content_base64.trim()) {
        Ok(c) => c,
        Err(e) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("content_base64: not base64 ({e})"),
            );
        }
    };
    drop(b.content_base64);
    match attachments::attach(
        &web.store,
        web.attachments,
        id,
        &name,
        b.content_type.as_deref(),
        content,
        web.clock.now_ms(),
    )
    .await
    {
        // A PUT: 200 whether it added the file or replaced one of the same name.
        Ok((view, _)) => Json(view).into_response(),
        Err(e) => refused(e),
    }
}

pub async fn delete<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path((id, name)): Path<(String, String)>,
) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    match attachments::remove(&web.store, id, &name, web.clock.now_ms()).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(e),
    }
}
