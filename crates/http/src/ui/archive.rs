//! `POST /campaigns/{id}/archive` (admins): publish a campaign on its public archive page
//! (`public=1`) or stop (`public=0`), as `campaign archive`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Extension, Form};
use herald_store::Store;
use serde::Deserialize;

use super::Session;
use super::campaign::{back, posted};
use crate::Web;

#[derive(Deserialize)]
pub struct ArchiveForm {
    csrf: Option<String>,
    #[serde(default)]
    public: String,
}

pub async fn set<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Path(id): Path<String>,
    Form(f): Form<ArchiveForm>,
) -> Response {
    let cid = match posted(&s, &id, f.csrf.as_deref()) {
        Ok(cid) => cid,
        Err(r) => return *r,
    };
    let done = web
        .actions
        .archive(cid, f.public == "1")
        .await
        .map(|a| match a.url {
            Some(url) => format!(
                "On its public archive page (without anyone's data, once its send started): {url}"
            ),
            None => "Taken off its public archive page.".into(),
        });
    back(&s, cid, done)
}
