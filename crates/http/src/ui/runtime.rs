//! `GET /settings`: the settings that can change while Herald runs — each one's value in
//! force, herald.toml's, and who changed it — and the admins' `POST /settings` (change one on
//! every node) and `POST /settings/reset` (back to the file's value). The rest of herald.toml
//! needs a restart; the page says so.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::{Extension, Form};
use herald_engine::runtime::{self, SettingError, SettingView};
use herald_store::Store;
use serde::Deserialize;

use super::session::{csrf_form, flashed, redirect_with};
use super::{Session, failed, flash, render};
use crate::Web;
use crate::auth::Role;

#[derive(Template)]
#[template(path = "runtime.html")]
struct SettingsPage {
    user: Option<String>,
    csrf: String,
    admin: bool,
    settings: Vec<SettingView>,
    problem: Option<String>,
    notice: Option<String>,
}

pub async fn show<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Query(q): Query<super::FlashQuery>,
) -> Response {
    let (problem, notice) = flashed(&s, q.flash.as_deref());
    match runtime::list(&web.store, &web.runtime_base).await {
        Ok(l) => render(&SettingsPage {
            admin: s.user.role >= Role::Admin,
            user: Some(s.user.email),
            csrf: s.csrf,
            settings: l.settings,
            problem,
            notice,
        }),
        Err(e) => failed(e, "reading the settings", "The settings could not be read."),
    }
}

#[derive(Deserialize)]
pub struct SettingForm {
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    value: String,
}

fn done(s: &Session, r: Result<SettingView, SettingError>, what: &str) -> Response {
    match r {
        Ok(v) => redirect_with(
            s,
            "/settings",
            flash::Kind::Notice,
            &format!(
                "{} {what} {:?}: every node uses it within seconds.",
                v.name, v.value
            ),
        ),
        Err(SettingError::Store(e)) => {
            failed(e, "changing a setting", "The setting was not changed.")
        }
        Err(e) => redirect_with(s, "/settings", flash::Kind::Problem, &e.to_string()),
    }
}

pub async fn set<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<SettingForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let by = s.user.email.clone();
    let now = web.clock.now_ms();
    let r = runtime::set(&web.store, &web.runtime_base, &f.name, &f.value, &by, now).await;
    done(&s, r, "is now")
}

pub async fn reset<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<SettingForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let r = runtime::reset(&web.store, &web.runtime_base, &f.name).await;
    done(&s, r, "is back to herald.toml's value,")
}
