//! `GET /segments`, `POST /segments`, `POST /segments/delete`: saved segments with their counts
//! now, a rule tried out before it is saved (its count and the first addresses, or the column
//! where it stops parsing), the rule language at hand, and a builder that writes rules from
//! menus (`segment_builder`).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Form};
use herald_engine::audience::AudienceError;
use herald_engine::audience::segments::{self, RuleCount, SegmentView};
use herald_store::Store;
use serde::Deserialize;

use super::segment_builder::{self, KINDS, Row};
use super::session::{csrf_form, flashed, redirect_with};
use super::{Session, failed, flash, render};
use crate::Web;
use crate::auth::Role;

#[derive(Template)]
#[template(path = "segments.html")]
struct SegmentsPage {
    user: Option<String>,
    csrf: String,
    admin: bool,
    segments: Vec<SegmentView>,
    /// The rule being tried, its name (to save it), and what it selects or why it does not parse.
    rule: String,
    name: String,
    tried: Option<RuleCount>,
    problem: Option<String>,
    notice: Option<String>,
    /// The builder: its rows as last sent, the conditions it offers, and the lists to pick.
    rows: Vec<Row>,
    builder_open: bool,
    kinds: &'static [(&'static str, &'static str)],
    lists: Vec<String>,
}

#[allow(clippy::too_many_arguments)]
async fn page<S: Store>(
    web: &Web<S>,
    s: Session,
    rule: String,
    name: String,
    mut problem: Option<String>,
    notice: Option<String>,
    rows: Vec<Row>,
    status: StatusCode,
) -> Response {
    let list = match segments::list(&web.store, web.clock.now_ms()).await {
        Ok(l) => l,
        Err(e) => return failed(e, "listing segments", "The segments could not be read."),
    };
    let mut tried = None;
    if !rule.trim().is_empty() && problem.is_none() {
        match segments::count(&web.store, &rule, web.clock.now_ms()).await {
            Ok(c) => tried = Some(c),
            Err(AudienceError::Store(e)) => {
                return failed(e, "counting a rule", "The rule could not be counted.");
            }
            Err(e) => problem = Some(e.to_string()),
        }
    }
    // The builder's menu: an unreadable list of lists offers none.
    let lists = web.store.list_names().await.unwrap_or_default();
    let mut r = render(&SegmentsPage {
        builder_open: rows.iter().any(|r| !r.kind.is_empty()),
        rows,
        kinds: KINDS,
        lists,
        admin: s.user.role >= Role::Admin,
        user: Some(s.user.email),
        csrf: s.csrf,
        segments: list,
        rule,
        name,
        tried,
        problem,
        notice,
    });
    *r.status_mut() = status;
    r
}

/// `GET /segments`: the page; with `rule`, that rule counted; with builder rows (`b0_kind`, …),
/// the rule they make, counted and put in the rule box.
pub async fn show<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let value = |key: &str| {
        q.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (mut problem, notice) = flashed(
        &s,
        Some(value("flash")).filter(|f| !f.is_empty()).as_deref(),
    );
    let mut rule: String = value("rule").chars().take(4096).collect();
    let name: String = value("name").chars().take(100).collect();
    let rows = segment_builder::rows_from(&q);
    match segment_builder::compose(&rows) {
        Ok(Some(built)) => rule = built.chars().take(4096).collect(),
        Ok(None) => {}
        Err(e) => problem = Some(e),
    }
    page(&web, s, rule, name, problem, notice, rows, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct SegmentForm {
    csrf: Option<String>,
    name: Option<String>,
    rule: Option<String>,
}

/// Save the tried rule under a name (admins, in `WRITES`); a refusal keeps what was typed.
pub async fn create<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<SegmentForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let (name, rule) = (f.name.unwrap_or_default(), f.rule.unwrap_or_default());
    match segments::create(&web.store, &name, &rule, web.clock.now_ms()).await {
        Ok(v) => redirect_with(
            &s,
            "/segments",
            flash::Kind::Notice,
            &format!("Saved {:?}: {} contacts now.", v.name, v.count),
        ),
        Err(AudienceError::Store(e)) => {
            failed(e, "saving a segment", "The segment could not be saved.")
        }
        Err(e) => {
            page(
                &web,
                s,
                rule,
                name,
                Some(e.to_string()),
                None,
                segment_builder::rows_from(&[]),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// Delete a segment (admins, in `WRITES`).
pub async fn delete<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<SegmentForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let name = f.name.unwrap_or_default();
    match segments::delete(&web.store, &name).await {
        Ok(()) => redirect_with(
            &s,
            "/segments",
            flash::Kind::Notice,
            &format!("Deleted {name:?} (campaigns given it keep the rule they were given)."),
        ),
        Err(AudienceError::Store(e)) => {
            failed(e, "deleting a segment", "The segment could not be deleted.")
        }
        Err(e) => redirect_with(&s, "/segments", flash::Kind::Problem, &e.to_string()),
    }
}
