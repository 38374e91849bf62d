//! `GET /contacts?q=`, `POST /contacts/import`, `GET /contacts/{email}`: lists, search, a CSV
//! upload with the rejected rows, and one contact's timeline across campaigns.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Multipart, Path, Query, State};
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
    query: String,
    found: Vec<FoundRow>,
    more: bool,
}

struct FoundRow {
    email: String,
    lists: String,
}

#[derive(serde::Deserialize)]
pub struct ContactsQuery {
    q: Option<String>,
}

/// Search results shown at most.
const FOUND_MAX: u32 = 200;

async fn page<S: Store>(
    web: &Web<S>,
    s: Session,
    result: Option<ImportReport>,
    message: Option<String>,
    status: StatusCode,
) -> Response {
    search_page(web, s, result, message, status, String::new()).await
}

async fn search_page<S: Store>(
    web: &Web<S>,
    s: Session,
    result: Option<ImportReport>,
    message: Option<String>,
    status: StatusCode,
    query: String,
) -> Response {
    let lists = web.store.lists().await.unwrap_or_default();
    let found = if query.is_empty() {
        Vec::new()
    } else {
        web.store
            .search_contacts(&query, "", FOUND_MAX + 1)
            .await
            .unwrap_or_default()
    };
    let more = found.len() as u32 > FOUND_MAX;
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
        query,
        found: found
            .into_iter()
            .take(FOUND_MAX as usize)
            .map(|c| FoundRow {
                email: c.email,
                lists: c.lists.join(", "),
            })
            .collect(),
        more,
    });
    *r.status_mut() = status;
    r
}

pub async fn show<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Query(q): Query<ContactsQuery>,
) -> Response {
    let query: String = q.q.unwrap_or_default().trim().chars().take(320).collect();
    search_page(&web, s, None, None, StatusCode::OK, query).await
}

struct DeliveryRow {
    campaign: String,
    campaign_name: String,
    subject: String,
    state: String,
    reason: String,
    attempts: u32,
    at: String,
    events: String,
    email: String,
}

#[derive(Template)]
#[template(path = "contact.html")]
struct ContactPage {
    user: Option<String>,
    csrf: String,
    email: String,
    /// (list, standing) per list.
    lists: Vec<(String, String)>,
    fields: Vec<(String, String)>,
    consents: Vec<herald_engine::api_types::ConsentView>,
    deliveries: Vec<DeliveryRow>,
}

pub async fn timeline<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Path(email): Path<String>,
) -> Response {
    let t = match herald_engine::reports::contact_timeline(&web.store, &email).await {
        Ok(Some(t)) => t,
        Ok(None) => return super::problem(StatusCode::NOT_FOUND, "No such contact."),
        Err(e) => {
            return super::failed(e, "reading a contact", "The contact could not be read.");
        }
    };
    let (fields, lists) = match &t.contact {
        Some(c) => (
            c.fields
                .iter()
                .map(|(k, v)| (k.clone(), v.text()))
                .collect(),
            c.memberships
                .iter()
                .map(|m| (m.list.clone(), m.status.clone()))
                .collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let consents = t.consents;
    let email = t.email;
    let deliveries = t
        .deliveries
        .into_iter()
        .map(|d| DeliveryRow {
            campaign: d.campaign.id,
            campaign_name: d.campaign.name,
            subject: d.subject,
            state: d.state,
            reason: d.reason.unwrap_or_default(),
            attempts: d.attempts,
            at: d.updated_at,
            events: d
                .events
                .iter()
                .map(|e| e.summary())
                .collect::<Vec<_>>()
                .join("; "),
            email: email.clone(),
        })
        .collect();
    render(&ContactPage {
        user: Some(s.user.email),
        csrf: s.csrf,
        email,
        lists,
        fields,
        consents,
        deliveries,
    })
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
