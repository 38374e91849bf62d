//! `/api/v1/lists` and `POST /api/v1/contacts` (the audience, design §6b).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use herald_engine::audience::{self, AudienceError, ListView};
use herald_store::Store;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Body, Caller, error, internal};
use crate::Web;

#[derive(Serialize, JsonSchema)]
pub struct ListsPage {
    pub lists: Vec<ListView>,
}

pub async fn list<S: Store>(State(web): State<Arc<Web<S>>>) -> Response {
    match web.store.list_records().await {
        Ok(lists) => Json(ListsPage {
            lists: lists
                .iter()
                .map(|l| ListView::of(l, &web.public_url))
                .collect(),
        })
        .into_response(),
        Err(e) => internal(e),
    }
}

/// `POST /api/v1/contacts`.
#[derive(Deserialize, JsonSchema)]
pub struct AddContact {
    #[schemars(extend("pattern" = super::EMAIL_PATTERN, "maxLength" = 254))]
    pub email: String,
    /// The list's name.
    #[schemars(extend("minLength" = 1, "maxLength" = 200))]
    pub list: String,
    /// Fields to set (names: letters, digits and `_`, starting with a letter).
    #[serde(default)]
    #[schemars(extend(
        "propertyNames" = {"pattern": "^[A-Za-z][A-Za-z0-9_]{0,39}$"},
        "additionalProperties" = {"type": "string", "maxLength": 256}
    ))]
    pub fields: BTreeMap<String, String>,
    /// Send the list's confirmation message first (double opt-in) instead of subscribing at once.
    #[serde(default)]
    pub confirm: bool,
}

pub async fn add_contact<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(Caller(user)): Extension<Caller>,
    Body(a): Body<AddContact>,
) -> Response {
    let list = match audience::find(&web.store, &a.list).await {
        Ok(l) => l,
        Err(AudienceError::Store(e)) => return internal(e),
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, format!("list: {e}")),
    };
    let fields: Vec<(String, String)> = a.fields.into_iter().collect();
    let source = format!("api:{}", user.email);
    match audience::add_contact(
        &web.store,
        &web.erasure,
        &list,
        &a.email,
        &fields,
        a.confirm,
        &source,
    )
    .await
    {
        Ok(added) => (
            if added.before.as_deref() == Some("subscribed") {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            },
            Json(added),
        )
            .into_response(),
        Err(AudienceError::Store(e)) => internal(e),
        Err(e @ (AudienceError::LeftList(..) | AudienceError::Erased(_))) => {
            error(StatusCode::CONFLICT, e.to_string())
        }
        Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}
