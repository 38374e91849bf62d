//! `GET /contacts?q=`, `POST /contacts/import`, `GET /contacts/{email}`: lists, search, a CSV
//! upload with the rejected rows, and one contact's timeline across campaigns.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use herald_engine::audience::{self, AudienceError, privacy};
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
    notice: Option<String>,
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
    flash: Option<String>,
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
    search_page(web, s, result, message, None, status, String::new()).await
}

async fn search_page<S: Store>(
    web: &Web<S>,
    s: Session,
    result: Option<ImportReport>,
    message: Option<String>,
    notice: Option<String>,
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
        notice,
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
    let (problem, notice) = super::flashed(&s, q.flash.as_deref());
    search_page(&web, s, None, problem, notice, StatusCode::OK, query).await
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
    /// Admins see the export and the erase button.
    admin: bool,
    problem: Option<String>,
    /// (list, standing) per list.
    lists: Vec<(String, String)>,
    fields: Vec<(String, String)>,
    /// Every list's name (to add the contact to one).
    all_lists: Vec<String>,
    notice: Option<String>,
    /// The edit box: the fields as `name=value` lines (as typed, when a save was refused).
    typed_fields: String,
    /// A save was refused: the edit box is open.
    editing: bool,
    consents: Vec<herald_engine::api_types::ConsentView>,
    deliveries: Vec<DeliveryRow>,
}

pub async fn timeline<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Path(email): Path<String>,
    Query(q): Query<super::FlashQuery>,
) -> Response {
    let said = super::flashed(&s, q.flash.as_deref());
    contact_page(&web, s, &email, said, None, StatusCode::OK).await
}

/// A contact's page with what was said, and (a refused edit) the fields as typed.
async fn contact_page<S: Store>(
    web: &Web<S>,
    s: Session,
    email: &str,
    (problem, notice): (Option<String>, Option<String>),
    typed_fields: Option<String>,
    status: StatusCode,
) -> Response {
    let all_lists = match web.store.lists().await {
        Ok(l) => l.into_iter().map(|(name, _)| name).collect(),
        Err(e) => return super::failed(e, "listing lists", "The lists could not be read."),
    };
    let t = match herald_engine::reports::contact_timeline(&web.store, email).await {
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
    let editing = typed_fields.is_some();
    let typed_fields = typed_fields.unwrap_or_else(|| {
        fields
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect::<String>()
    });
    let mut r = render(&ContactPage {
        admin: s.user.role >= crate::auth::Role::Admin,
        problem,
        notice,
        typed_fields,
        editing,
        user: Some(s.user.email),
        csrf: s.csrf,
        email,
        lists,
        fields,
        all_lists,
        consents,
        deliveries,
    });
    *r.status_mut() = status;
    r
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
        web.erasure.clone(),
        Box::new(std::io::Cursor::new(bytes)),
        &list,
        |_| {},
        web.clock.now_ms(),
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

/// `GET /contacts/{email}/export`: everything held on one person, as a JSON download (admins).
pub async fn export_person<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Path(email): Path<String>,
) -> Response {
    use axum::response::IntoResponse;
    if s.user.role < crate::auth::Role::Admin {
        return super::problem(
            StatusCode::FORBIDDEN,
            "Only an admin can export a person's data.",
        );
    }
    match privacy::export_person(&web.store, &email, web.clock.now_ms()).await {
        Ok(Some(p)) => match serde_json::to_vec_pretty(&p) {
            Ok(body) => (
                [
                    (
                        axum::http::header::CONTENT_TYPE,
                        "application/json".to_string(),
                    ),
                    (
                        axum::http::header::CONTENT_DISPOSITION,
                        "attachment; filename=\"person.json\"".to_string(),
                    ),
                ],
                body,
            )
                .into_response(),
            Err(_) => super::problem(StatusCode::INTERNAL_SERVER_ERROR, "The export failed."),
        },
        Ok(None) => super::problem(
            StatusCode::NOT_FOUND,
            "Herald holds nothing on this address.",
        ),
        Err(e) => super::failed(
            e,
            "exporting a person",
            "The person's data could not be read.",
        ),
    }
}

/// `POST /contacts/{email}/erase` (admins, in `WRITES`): erase the person, back to Contacts.
pub async fn erase<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Path(email): Path<String>,
    axum::Form(f): axum::Form<super::session::CsrfForm>,
) -> Response {
    if let Err(r) = super::session::csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let source = format!("ui:{}", s.user.email);
    match privacy::erase(
        &web.store,
        &web.erasure,
        &email,
        &source,
        web.clock.now_ms(),
    )
    .await
    {
        Ok(done) => super::session::redirect_with(
            &s,
            "/contacts",
            super::flash::Kind::Notice,
            &format!(
                "The person was erased: {} deliveries kept for the counts without the address; the address stays suppressed.",
                done.deliveries
            ),
        ),
        Err(AudienceError::Store(e)) => {
            super::failed(e, "erasing a person", "The person could not be erased.")
        }
        Err(e) => super::session::redirect_with(
            &s,
            &format!("/contacts/{}", super::segment(&email)),
            super::flash::Kind::Problem,
            &e.to_string(),
        ),
    }
}

#[derive(serde::Deserialize)]
pub struct FieldsForm {
    csrf: Option<String>,
    #[serde(default)]
    fields: String,
}

/// Back to the contact's page with a message.
fn back(s: &Session, email: &str, kind: super::flash::Kind, text: &str) -> Response {
    let path = format!("/contacts/{}", super::segment(email));
    super::session::redirect_with(s, &path, kind, text)
}

/// `POST /contacts/{email}/fields` (admins, in `WRITES`): the contact's fields as `name=value`
/// lines; a field whose line was removed is removed. A refusal shows the page again with the
/// text as typed.
pub async fn edit_fields<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Path(email): Path<String>,
    axum::Form(f): axum::Form<FieldsForm>,
) -> Response {
    use super::flash::Kind;
    if let Err(r) = super::session::csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let refused = |why: String| (Some(why), None);
    let set = match super::lists::field_lines(&f.fields) {
        Ok(set) => set,
        Err(why) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return contact_page(&web, s, &email, refused(why), Some(f.fields), status).await;
        }
    };
    match audience::replace_fields(&web.store, &email, &set, web.clock.now_ms()).await {
        Ok(now) => back(
            &s,
            &email,
            Kind::Notice,
            &format!("Saved: {} fields.", now.len()),
        ),
        Err(AudienceError::Store(e)) => {
            super::failed(e, "changing a contact", "The contact could not be changed.")
        }
        Err(AudienceError::UnknownContact(_)) => {
            super::problem(StatusCode::NOT_FOUND, "No such contact.")
        }
        Err(e) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            contact_page(
                &web,
                s,
                &email,
                refused(e.to_string()),
                Some(f.fields),
                status,
            )
            .await
        }
    }
}

#[derive(serde::Deserialize)]
pub struct JoinForm {
    csrf: Option<String>,
    #[serde(default)]
    list: String,
    confirm: Option<String>,
}

/// `POST /contacts/{email}/lists` (admins, in `WRITES`): put the contact on a list, at once or
/// asked to confirm first, as `contacts add` does.
pub async fn join_list<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Path(email): Path<String>,
    axum::Form(f): axum::Form<JoinForm>,
) -> Response {
    use super::flash::Kind;
    if let Err(r) = super::session::csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let list = match audience::find(&web.store, &f.list).await {
        Ok(l) => l,
        Err(AudienceError::Store(e)) => {
            return super::failed(e, "reading a list", "The list could not be read.");
        }
        Err(e) => return back(&s, &email, Kind::Problem, &e.to_string()),
    };
    let source = format!("ui:{}", s.user.email);
    let added = audience::add_contact(
        &web.store,
        &web.erasure,
        &list,
        (&email, &[]),
        f.confirm.is_some(),
        &source,
        web.clock.now_ms(),
    )
    .await;
    match added {
        Ok(a) if a.confirmation_queued => back(
            &s,
            &email,
            Kind::Notice,
            &format!("Sent a confirmation message for the list {}.", a.list),
        ),
        Ok(a) => back(
            &s,
            &email,
            Kind::Notice,
            &format!("On the list {}: {}.", a.list, a.status),
        ),
        Err(AudienceError::Store(e)) => {
            super::failed(e, "adding a contact", "The contact could not be added.")
        }
        Err(e) => back(&s, &email, Kind::Problem, &e.to_string()),
    }
}
