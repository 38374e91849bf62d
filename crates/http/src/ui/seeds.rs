//! `GET /seeds` (the seed mailboxes with their last poll and error) and the admins'
//! `POST /seeds` (add: the login is tried first, the password is never shown again),
//! `POST /seeds/test` (log in now), `POST /seeds/remove`.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Form};
use herald_domain::EmailAddress;
use herald_engine::api_types::SeedView;
use herald_store::Store;
use serde::Deserialize;

use super::session::{csrf_form, flashed, redirect_with};
use super::{Session, failed, flash, render};
use crate::auth::Role;
use crate::{Failure, SeedRequest, Web};

/// What the add form posts (the password is never put back on the page, nor printed).
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub struct SeedForm {
    csrf: Option<String>,
    provider: String,
    address: String,
    imap: String,
    user: String,
    password: String,
    security: String,
}

#[derive(Template)]
#[template(path = "seeds.html")]
struct SeedsPage {
    user: Option<String>,
    csrf: String,
    admin: bool,
    seeds: Vec<SeedView>,
    form: SeedForm,
    problem: Option<String>,
    notice: Option<String>,
}

async fn page<S: Store>(
    web: &Web<S>,
    s: Session,
    form: SeedForm,
    (problem, notice): (Option<String>, Option<String>),
    status: StatusCode,
) -> Response {
    let seeds = match web.store.seeds().await {
        Ok(v) => v,
        Err(e) => return failed(e, "listing seeds", "The seeds could not be read."),
    };
    let mut r = render(&SeedsPage {
        admin: s.user.role >= Role::Admin,
        user: Some(s.user.email),
        csrf: s.csrf,
        seeds: seeds.into_iter().map(SeedView::from).collect(),
        form: SeedForm {
            password: String::new(),
            ..form
        },
        problem,
        notice,
    });
    *r.status_mut() = status;
    r
}

pub async fn show<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Query(q): Query<super::FlashQuery>,
) -> Response {
    let said = flashed(&s, q.flash.as_deref());
    let form = SeedForm {
        security: "tls".into(),
        ..SeedForm::default()
    };
    page(&web, s, form, said, StatusCode::OK).await
}

pub async fn add<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<SeedForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let request = SeedRequest {
        provider: f.provider.clone(),
        imap: f.imap.clone(),
        user: f.user.clone(),
        password: f.password.clone(),
        address: Some(f.address.trim().to_string()).filter(|a| !a.is_empty()),
        security: f.security.clone(),
    };
    match web.actions.add_seed(request).await {
        Ok(address) => redirect_with(
            &s,
            "/seeds",
            flash::Kind::Notice,
            &format!(
                "Logged in and added {address}: every new campaign sends it a copy, and its placement shows on the campaign's page."
            ),
        ),
        Err(e @ (Failure::BadInput(_) | Failure::NotFound(_) | Failure::Conflict(_))) => {
            let status = e.status();
            page(&web, s, f, (Some(e.to_string()), None), status).await
        }
        Err(e) => failed(e, "adding a seed", "The seed could not be added."),
    }
}

#[derive(Deserialize)]
pub struct AddressForm {
    csrf: Option<String>,
    #[serde(default)]
    address: String,
}

pub async fn test<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<AddressForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    match web.actions.test_seed(f.address.clone()).await {
        Ok(Ok(())) => redirect_with(
            &s,
            "/seeds",
            flash::Kind::Notice,
            &format!("The login to {} works.", f.address),
        ),
        Ok(Err(why)) => redirect_with(
            &s,
            "/seeds",
            flash::Kind::Problem,
            &format!("The login to {} failed: {why}", f.address),
        ),
        Err(e @ (Failure::BadInput(_) | Failure::NotFound(_))) => {
            redirect_with(&s, "/seeds", flash::Kind::Problem, &e.to_string())
        }
        Err(e) => failed(e, "testing a seed", "The seed could not be tested."),
    }
}

pub async fn remove<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<AddressForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let Ok(key) = EmailAddress::parse(f.address.trim()).map(|a| a.key()) else {
        return redirect_with(&s, "/seeds", flash::Kind::Problem, "No such seed.");
    };
    match web.store.remove_seed(&key).await {
        Ok(true) => redirect_with(
            &s,
            "/seeds",
            flash::Kind::Notice,
            &format!(
                "Removed {key}: new campaigns no longer send it a copy (its past placements stay)."
            ),
        ),
        Ok(false) => redirect_with(&s, "/seeds", flash::Kind::Problem, "No such seed."),
        Err(e) => failed(e, "removing a seed", "The seed could not be removed."),
    }
}
