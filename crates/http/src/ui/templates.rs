//! `GET /templates`: the saved templates (a layout's `{{ content }}` takes a campaign's own
//! content), each with a link to start a campaign from it; the admins' `POST /templates` (save,
//! replacing one of the same name) and `POST /templates/delete`.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::{Extension, Form};
use herald_engine::campaign::templates::{self, TemplateError, TemplateView};
use herald_store::Store;
use serde::Deserialize;

use super::session::{csrf_form, flashed, redirect_with};
use super::{Session, failed, flash, render};
use crate::Web;
use crate::auth::Role;

#[derive(Template)]
#[template(path = "templates.html")]
struct TemplatesPage {
    user: Option<String>,
    csrf: String,
    admin: bool,
    templates: Vec<TemplateView>,
    problem: Option<String>,
    notice: Option<String>,
}

pub async fn show<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Query(q): Query<super::FlashQuery>,
) -> Response {
    let (problem, notice) = flashed(&s, q.flash.as_deref());
    match templates::list(&web.store).await {
        Ok(all) => render(&TemplatesPage {
            admin: s.user.role >= Role::Admin,
            user: Some(s.user.email),
            csrf: s.csrf,
            templates: all,
            problem,
            notice,
        }),
        Err(e) => failed(e, "listing templates", "The templates could not be read."),
    }
}

#[derive(Deserialize)]
pub struct TemplateForm {
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    html: String,
}

fn done(s: &Session, r: Result<String, TemplateError>) -> Response {
    match r {
        Ok(said) => redirect_with(s, "/templates", flash::Kind::Notice, &said),
        Err(TemplateError::Store(e)) => {
            failed(e, "saving a template", "The template was not saved.")
        }
        Err(e) => redirect_with(s, "/templates", flash::Kind::Problem, &e.to_string()),
    }
}

pub async fn save<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<TemplateForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let subject = Some(f.subject.as_str()).filter(|v| !v.trim().is_empty());
    let now = web.clock.now_ms();
    let r = templates::save(&web.store, &f.name, subject, &f.html, None, now)
        .await
        .map(|(t, new)| {
            format!(
                "Template {} {}.",
                t.name,
                if new { "saved" } else { "replaced" }
            )
        });
    done(&s, r)
}

pub async fn delete<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<TemplateForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let r = templates::delete(&web.store, &f.name).await.map(|()| {
        format!(
            "Template {} deleted (campaigns made from it keep their content).",
            f.name.trim()
        )
    });
    done(&s, r)
}
