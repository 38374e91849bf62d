//! `/api/v1/settings…`: the settings that are safe to change while Herald runs, as the
//! Settings page and `herald settings list|set|reset --json` show and change them
//! ([`herald_engine::runtime`]).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use herald_engine::runtime::{self, SettingError};
use herald_store::Store;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Body, Caller, error, internal};
use crate::Web;

fn refused(e: SettingError) -> Response {
    match e {
        SettingError::Unknown(_) => error(StatusCode::NOT_FOUND, e.to_string()),
        SettingError::Bad { .. } => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        SettingError::Store(e) => internal(e),
    }
}

pub async fn list<S: Store>(State(web): State<Arc<Web<S>>>) -> Response {
    match runtime::list(&web.store, &web.runtime_base).await {
        Ok(l) => Json(l).into_response(),
        Err(e) => refused(e),
    }
}

/// `PUT /api/v1/settings/{name}`.
#[derive(Deserialize, JsonSchema)]
pub struct SettingBody {
    /// The new value, as the Settings page takes it (`20`, `list`, `50, 100, 500`, `15m`,
    /// `http://127.0.0.1:11333`; empty where the setting can be off).
    #[schemars(extend("maxLength" = 4000))]
    pub value: String,
}

pub async fn set<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(Caller(user)): Extension<Caller>,
    Path(name): Path<String>,
    Body(b): Body<SettingBody>,
) -> Response {
    if b.value.chars().count() > 4000 {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "value: at most 4000 characters",
        );
    }
    let by = format!("api:{}", user.email);
    let now = web.clock.now_ms();
    match runtime::set(&web.store, &web.runtime_base, &name, &b.value, &by, now).await {
        Ok(s) => Json(s).into_response(),
        Err(e) => refused(e),
    }
}

pub async fn reset<S: Store>(State(web): State<Arc<Web<S>>>, Path(name): Path<String>) -> Response {
    match runtime::reset(&web.store, &web.runtime_base, &name).await {
        Ok(s) => Json(s).into_response(),
        Err(e) => refused(e),
    }
}
