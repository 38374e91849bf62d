//! `GET /contacts`, `POST /contacts/import`: lists, and a CSV upload with the rejected rows.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use herald_engine::contacts::{ImportReport, import_csv};
use herald_store::Store;

use super::{Session, render, same};
use crate::Web;

/// Largest upload accepted.
pub const MAX_UPLOAD: usize = 50 * 1024 * 1024;

#[derive(Template)]
#[template(path = "contacts.html")]
struct ContactsPage {
    user: Option<String>,
    csrf: String,
    lists: Vec<(String, u64)>,
    default_list: String,
    max_mb: usize,
    result: Option<ImportReport>,
    message: Option<String>,
}

async fn page<S: Store>(
    web: &Web<S>,
    s: Session,
    result: Option<ImportReport>,
    message: Option<String>,
    status: StatusCode,
) -> Response {
    let lists = web.store.lists().await.unwrap_or_default();
    let mut r = render(&ContactsPage {
        user: Some(s.user.email),
        csrf: s.csrf,
        default_list: lists
            .first()
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| "newsletter".into()),
        lists,
        max_mb: MAX_UPLOAD / (1024 * 1024),
        result,
        message,
    });
    *r.status_mut() = status;
    r
}

pub async fn show<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
) -> Response {
    page(&web, s, None, None, StatusCode::OK).await
}

pub async fn import<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    mut form: Multipart,
) -> Response {
    let mut csrf = None;
    let mut list = None;
    let mut file: Option<Vec<u8>> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                let msg = format!(
                    "The upload could not be read: {e}. Files up to {} MB are accepted.",
                    MAX_UPLOAD / (1024 * 1024)
                );
                return page(&web, s, None, Some(msg), StatusCode::PAYLOAD_TOO_LARGE).await;
            }
        };
        match field.name() {
            Some("csrf") => csrf = field.text().await.ok(),
            Some("list") => list = field.text().await.ok(),
            Some("file") => match field.bytes().await {
                Ok(b) => file = Some(b.to_vec()),
                Err(e) => {
                    let msg = format!(
                        "The file could not be read: {e}. Files up to {} MB are accepted.",
                        MAX_UPLOAD / (1024 * 1024)
                    );
                    return page(&web, s, None, Some(msg), StatusCode::PAYLOAD_TOO_LARGE).await;
                }
            },
            _ => {}
        }
    }
    if !csrf.as_deref().is_some_and(|c| same(c, &s.csrf)) {
        return super::problem(
            StatusCode::FORBIDDEN,
            "This form expired (missing or wrong CSRF token). Reload the page.",
        );
    }
    let list = list.unwrap_or_default().trim().to_string();
    if list.is_empty() || list.len() > 200 {
        return page(
            &web,
            s,
            None,
            Some("Give the list a name (up to 200 characters).".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        return page(
            &web,
            s,
            None,
            Some("Choose a CSV file to import.".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    // A CSV is text: a NUL byte in the first KB means a spreadsheet or an image, not a CSV.
    if bytes.iter().take(1024).any(|b| *b == 0) {
        return page(
            &web,
            s,
            None,
            Some("This is not a CSV file (it contains binary data). Export the sheet as CSV (UTF-8) and upload that.".into()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        )
        .await;
    }
    match import_csv(
        &web.store,
        Box::new(std::io::Cursor::new(bytes)),
        &list,
        |_| {},
    )
    .await
    {
        Ok(report) => page(&web, s, Some(report), None, StatusCode::OK).await,
        Err(e) => {
            page(
                &web,
                s,
                None,
                Some(format!(
                    "The import stopped: {e}. Rows before the problem were kept."
                )),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
