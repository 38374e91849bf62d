//! `/api/v1/templates…`: saved templates, as `herald templates list|show|save|delete --json`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_engine::campaign::templates::{self, TemplateError, TemplateView};
use herald_store::Store;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::paging::{PageQuery, page_of};
use super::{Body, Params, error, internal};
use crate::Web;

#[derive(Serialize, JsonSchema)]
pub struct TemplatesPage {
    pub templates: Vec<TemplateView>,
    /// Pass as `?after=` for the next page; null on the last one.
    pub next: Option<String>,
}

fn refused(e: TemplateError) -> Response {
    match e {
        TemplateError::NotFound(_) => error(StatusCode::NOT_FOUND, e.to_string()),
        TemplateError::Store(e) => internal(e),
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
    match templates::list(&web.store).await {
        Ok(all) => {
            let (templates, next) = page_of(all, q.after.as_deref(), limit, |t| t.name.clone());
            Json(TemplatesPage { templates, next }).into_response()
        }
        Err(e) => refused(e),
    }
}

pub async fn show<S: Store>(State(web): State<Arc<Web<S>>>, Path(name): Path<String>) -> Response {
    match templates::show(&web.store, &name).await {
        Ok(t) => Json(t).into_response(),
        Err(e) => refused(e),
    }
}

/// `PUT /api/v1/templates/{name}`.
#[derive(Deserialize, JsonSchema)]
pub struct TemplateBody {
    /// A subject campaigns made from it start with.
    #[schemars(extend("maxLength" = 2000))]
    pub subject: Option<String>,
    /// The HTML: a layout whose `{{ content }}` takes a campaign's own content, or a whole
    /// message (with `format: mjml`, an MJML document).
    #[schemars(extend("minLength" = 1))]
    pub html: String,
    pub format: Option<herald_engine::api_types::BodyFormat>,
    /// A text part (derived from the HTML when absent).
    pub text: Option<String>,
}

pub async fn save<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(name): Path<String>,
    Body(b): Body<TemplateBody>,
) -> Response {
    let html = match b.format.unwrap_or_default().to_html(b.html) {
        Ok(h) => h,
        Err(e) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("html (MJML): {e}"),
            );
        }
    };
    let now = web.clock.now_ms();
    match templates::save(
        &web.store,
        &name,
        b.subject.as_deref(),
        &html,
        b.text.as_deref(),
        now,
    )
    .await
    {
        // A PUT: 200 whether it made the template or replaced it.
        Ok((t, _)) => Json(t).into_response(),
        Err(e) => refused(e),
    }
}

pub async fn delete<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(name): Path<String>,
) -> Response {
    match templates::delete(&web.store, &name).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(e),
    }
}
