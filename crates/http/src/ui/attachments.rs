//! `POST /campaigns/{id}/attachments` (a file, multipart) and `POST
//! /campaigns/{id}/attachments/remove` (admins): a draft's attachments, as `campaign
//! attach|detach`.

use std::sync::Arc;

use axum::extract::{Multipart, Path, State};
use axum::response::Response;
use axum::{Extension, Form};
use herald_engine::campaign::attachments;
use herald_store::Store;
use serde::Deserialize;

use super::Session;
use super::campaign::{back, posted};
use crate::Web;

/// The largest upload read: the largest cap allows, and room for the form's other fields.
pub const MAX_UPLOAD: usize = attachments::MAX_CAP as usize + 64 * 1024;

pub async fn upload<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Path(id): Path<String>,
    mut form: Multipart,
) -> Response {
    let mut csrf = None;
    let mut file: Option<(String, Option<String>, Vec<u8>)> = None;
    let mut unreadable = None;
    loop {
        match form.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("csrf") => csrf = field.text().await.ok(),
                Some("file") => {
                    let name = field.file_name().unwrap_or_default().to_string();
                    let content_type = field.content_type().map(str::to_string);
                    match field.bytes().await {
                        Ok(b) => file = Some((name, content_type, b.to_vec())),
                        Err(e) => unreadable = Some(e.to_string()),
                    }
                }
                _ => {}
            },
            Ok(None) => break,
            Err(e) => {
                unreadable = Some(e.to_string());
                break;
            }
        }
    }
    let cid = match posted(&s, &id, csrf.as_deref()) {
        Ok(cid) => cid,
        Err(r) => return *r,
    };
    let done = match (unreadable, file) {
        (Some(e), _) => Err(format!(
            "The upload could not be read ({e}); files up to {} KB are accepted.",
            web.attachments.max_bytes.div_ceil(1024)
        )),
        (None, None) => Err("Choose a file to attach.".to_string()),
        (None, Some((name, content_type, bytes))) => {
            // A browser's guess of the type: kept when it is specific, else from the name.
            let content_type = content_type.filter(|t| t != "application/octet-stream");
            attachments::attach(
                &web.store,
                web.attachments,
                cid,
                &name,
                content_type.as_deref(),
                bytes,
                web.clock.now_ms(),
            )
            .await
            .map(|(a, replaced)| {
                format!(
                    "{} “{}” ({} KB). Bulk mail with attachments is filtered more often: a link to the file is safer.",
                    if replaced { "Replaced" } else { "Attached" },
                    a.name,
                    (a.size + 1023) / 1024
                )
            })
            .map_err(|e| e.to_string())
        }
    };
    back(&s, cid, done)
}

#[derive(Deserialize)]
pub struct RemoveForm {
    csrf: Option<String>,
    #[serde(default)]
    name: String,
}

pub async fn remove<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Path(id): Path<String>,
    Form(f): Form<RemoveForm>,
) -> Response {
    let cid = match posted(&s, &id, f.csrf.as_deref()) {
        Ok(cid) => cid,
        Err(r) => return *r,
    };
    let done = attachments::remove(&web.store, cid, &f.name, web.clock.now_ms())
        .await
        .map(|()| format!("Removed “{}”.", f.name));
    back(&s, cid, done)
}
