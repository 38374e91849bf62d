//! A list's members and a contact's fields in the API: `GET /api/v1/lists/{name}/members`,
//! `DELETE /api/v1/lists/{name}/members/{email}` (as `contacts remove`), `PATCH
//! /api/v1/contacts/{email}` (as `contacts edit`) and `POST /api/v1/contacts/import` (as
//! `contacts import --json`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_engine::api_types::{ContactFields, MemberView, MembersPage};
use herald_engine::audience::{self, AudienceError};
use herald_engine::contacts::import_csv;
use herald_store::Store;
use schemars::JsonSchema;
use serde::Deserialize;

use super::paging::{id_cursor, next_cursor, page_size};
use super::{Body, Params, error, internal};
use crate::Web;

/// What an audience refusal is in HTTP: what the path names does not exist 404, the
/// installation's state refuses it 409, the request is wrong 422.
pub fn refused(e: AudienceError) -> Response {
    match e {
        AudienceError::Store(e) => internal(e),
        AudienceError::UnknownList(_)
        | AudienceError::UnknownContact(_)
        | AudienceError::UnknownSegment(_)
        | AudienceError::UnknownCampaign(_)
        | AudienceError::NotMember(..) => error(StatusCode::NOT_FOUND, e.to_string()),
        AudienceError::NameTaken(_)
        | AudienceError::SlugTaken(..)
        | AudienceError::ListInUse(_)
        | AudienceError::SegmentTaken(_)
        | AudienceError::CampaignStarted(_)
        | AudienceError::LeftList(..)
        | AudienceError::Erased(_)
        | AudienceError::EraseInFlight(_) => error(StatusCode::CONFLICT, e.to_string()),
        e => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}

/// `GET /api/v1/lists/{name}/members?after=&limit=`.
#[derive(Deserialize, JsonSchema)]
pub struct MembersQuery {
    /// The previous page's `next` (a contact id: members come in the order they became
    /// contacts).
    #[schemars(extend("pattern" = "^[0-9]{1,18}$"))]
    pub after: Option<String>,
    /// At most this many (default 100; more than 1000 returns 1000).
    #[schemars(range(min = 1, max = u32::MAX))]
    pub limit: Option<u32>,
}

pub async fn list_members<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(name): Path<String>,
    Params(q): Params<MembersQuery>,
) -> Response {
    let limit = match page_size(q.limit) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let after = match id_cursor(q.after.as_deref(), 0) {
        Ok(n) => n.unwrap_or(0),
        Err(r) => return *r,
    };
    let list = match audience::find(&web.store, &name).await {
        Ok(l) => l,
        Err(e) => return refused(e),
    };
    match web.store.export_page(Some(list.id), after, limit).await {
        Ok(rows) => Json(MembersPage {
            next: next_cursor(&rows, limit, |r| r.contact_id.to_string()),
            members: rows.into_iter().map(MemberView::from).collect(),
        })
        .into_response(),
        Err(e) => internal(e),
    }
}

pub async fn remove_member<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path((name, email)): Path<(String, String)>,
) -> Response {
    let list = match audience::find(&web.store, &name).await {
        Ok(l) => l,
        Err(e) => return refused(e),
    };
    match audience::remove_from_list(&web.store, &list, &email, web.clock.now_ms()).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        // A path segment that is not an address names no member.
        Err(AudienceError::BadEmail(why)) => error(
            StatusCode::NOT_FOUND,
            format!("{email:?} is not on list {:?}: {why}", list.list.name),
        ),
        Err(e) => refused(e),
    }
}

/// `PATCH /api/v1/contacts/{email}`.
#[derive(Deserialize, JsonSchema)]
pub struct FieldsPatch {
    /// Fields to set (names: letters, digits and `_`, starting with a letter).
    #[serde(default)]
    #[schemars(extend(
        "propertyNames" = {"pattern": "^[A-Za-z][A-Za-z0-9_]{0,39}$"},
        "additionalProperties" = {"type": "string", "maxLength": 256}
    ))]
    pub set: BTreeMap<String, String>,
    /// Fields to remove.
    #[serde(default)]
    #[schemars(extend("maxItems" = 100, "items" = {"type": "string", "maxLength": 40}))]
    pub unset: Vec<String>,
}

pub async fn edit_contact<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(email): Path<String>,
    Body(b): Body<FieldsPatch>,
) -> Response {
    if b.unset.len() > 100 || b.unset.iter().any(|k| k.chars().count() > 40) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unset: at most 100 field names of at most 40 characters",
        );
    }
    let set: Vec<(String, String)> = b.set.into_iter().collect();
    match audience::edit_contact(&web.store, &email, &set, &b.unset, web.clock.now_ms()).await {
        Ok(fields) => Json(ContactFields {
            email: email.trim().to_ascii_lowercase(),
            fields,
        })
        .into_response(),
        Err(AudienceError::BadEmail(why)) => error(
            StatusCode::NOT_FOUND,
            format!("no contact {email:?}: {why}"),
        ),
        Err(e) => refused(e),
    }
}

/// The most a CSV given in one request holds (characters); the route takes bodies up to
/// [`IMPORT_BODY_LIMIT`] so that many escaped ones fit.
pub const MAX_CSV: usize = 500_000;
/// The body limit of the routes that take a CSV (JSON escapes a character in up to 12 bytes).
pub const IMPORT_BODY_LIMIT: usize = 6 * 1024 * 1024 + 4096;

/// `POST /api/v1/contacts/import`: a CSV as `contacts import` reads a file.
#[derive(Deserialize, JsonSchema)]
pub struct ImportBody {
    /// The list the rows join (made when it does not exist).
    #[schemars(extend("minLength" = 1, "maxLength" = 200, "pattern" = "^[^\\u0000-\\u001f\\u007f]*$"))]
    pub list: String,
    /// The file's text: a header row with an `email` column; other columns become fields
    /// (`status` and the consent columns as `contacts import` reads them). At most 500,000
    /// characters a request: send a larger file in parts, or upload it on the Contacts page.
    #[schemars(extend("maxLength" = 500_000))]
    pub csv: String,
}

pub async fn import<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Body(b): Body<ImportBody>,
) -> Response {
    let list = b.list.trim().to_string();
    if list.is_empty() || list.len() > 200 || list.chars().any(char::is_control) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "list: 1–200 characters, without control characters",
        );
    }
    if b.csv.chars().count() > MAX_CSV {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "csv: at most 500,000 characters a request; send a larger file in parts",
        );
    }
    let input = Box::new(std::io::Cursor::new(b.csv.into_bytes()));
    let now = web.clock.now_ms();
    match import_csv(&web.store, web.erasure.clone(), input, &list, |_| {}, now).await {
        Ok(report) => Json(report).into_response(),
        Err(herald_engine::contacts::ImportError::Store(e)) => internal(e),
        // Rows before the problem were kept; the message names its line.
        Err(e) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the import stopped: {e} (rows before it were kept)"),
        ),
    }
}
