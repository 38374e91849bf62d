//! `GET /lists` (every list with its members by standing; a new list), `GET /lists/{name}` (its
//! settings, sign-up form and snippet, members page by page), and the admins' `POST /lists`,
//! `POST /lists/{name}` (change, its confirmation and welcome messages included),
//! `POST /lists/{name}/delete`, `POST /lists/{name}/members` (add a person),
//! `POST /lists/{name}/remove` (take one off). The same checks as `lists create|update` and
//! `contacts add|remove`, the same From gate for the list's sender.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Form};
use herald_engine::audience::{self, AudienceError, ListInput, ListView, MessageParts};
use herald_store::{ExportRow, ListRecord, Store};
use serde::Deserialize;

use super::session::{csrf_form, flashed, redirect_with};
use super::{Session, failed, flash, problem, render, segment};
use crate::Web;
use crate::auth::Role;

/// Members shown per page.
const MEMBERS_PAGE: u32 = 50;

/// What the list forms post (and show again when a change is refused). Every box is text: an
/// empty one means "none" (no slug, the built-in confirmation, no welcome).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ListForm {
    csrf: Option<String>,
    name: String,
    slug: String,
    opt_in: String,
    fields: String,
    from: String,
    description: String,
    confirm_subject: String,
    confirm_html: String,
    confirm_text: String,
    welcome_subject: String,
    welcome_html: String,
    welcome_text: String,
}

impl ListForm {
    /// The form as the list is now (to change it).
    fn of(v: &ListView) -> Self {
        Self {
            csrf: None,
            name: v.name.clone(),
            slug: v.slug.clone().unwrap_or_default(),
            opt_in: v.opt_in.clone(),
            fields: v.fields.join(","),
            from: v.from.clone().unwrap_or_default(),
            description: v.description.clone(),
            confirm_subject: v.confirm_subject.clone().unwrap_or_default(),
            confirm_html: v.confirm_html.clone().unwrap_or_default(),
            confirm_text: v.confirm_text.clone().unwrap_or_default(),
            welcome_subject: v.welcome_subject.clone().unwrap_or_default(),
            welcome_html: v.welcome_html.clone().unwrap_or_default(),
            welcome_text: v.welcome_text.clone().unwrap_or_default(),
        }
    }

    fn opt_in(&self) -> Result<Option<herald_domain::OptIn>, String> {
        match self.opt_in.trim() {
            "" => Ok(None),
            o => o
                .parse()
                .map(Some)
                .map_err(|_| format!("opt-in {o:?}: single or double")),
        }
    }

    /// What `lists create` would be given.
    fn create_input(&self) -> Result<ListInput, String> {
        let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(ListInput {
            name: Some(self.name.clone()),
            slug: some(&self.slug),
            description: Some(self.description.clone()),
            opt_in: self.opt_in()?,
            fields: Some(self.fields.split(',').map(str::to_string).collect()),
            from: some(&self.from),
            ..ListInput::default()
        })
    }

    /// What `lists update` would be given: the whole form, as it is now.
    fn update_input(&self) -> Result<ListInput, String> {
        let text = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
        let confirmation = MessageParts {
            subject: text(&self.confirm_subject),
            html: text(&self.confirm_html),
            // An empty box: derived from the HTML.
            text: Some(self.confirm_text.clone()),
        };
        let welcome = MessageParts {
            subject: text(&self.welcome_subject),
            html: text(&self.welcome_html),
            text: Some(self.welcome_text.clone()),
        };
        let slug = self.slug.trim();
        Ok(ListInput {
            name: Some(self.name.clone()),
            slug: Some(slug.to_string()).filter(|s| !s.is_empty()),
            no_slug: slug.is_empty(),
            description: Some(self.description.clone()),
            opt_in: self.opt_in()?,
            fields: Some(self.fields.split(',').map(str::to_string).collect()),
            from: Some(self.from.trim().to_string()),
            // Subject and HTML both empty: the built-in confirmation; no welcome.
            default_confirmation: confirmation.subject.is_none() && confirmation.html.is_none(),
            confirmation: if confirmation.subject.is_none() && confirmation.html.is_none() {
                MessageParts::default()
            } else {
                confirmation
            },
            no_welcome: welcome.subject.is_none() && welcome.html.is_none(),
            welcome: if welcome.subject.is_none() && welcome.html.is_none() {
                MessageParts::default()
            } else {
                welcome
            },
        })
    }
}

#[derive(Template)]
#[template(path = "lists.html")]
struct ListsPage {
    user: Option<String>,
    csrf: String,
    admin: bool,
    lists: Vec<ListView>,
    form: ListForm,
    problem: Option<String>,
    notice: Option<String>,
}

/// One member on a list's page.
struct MemberRow {
    email: String,
    status: String,
    /// How and when they came (the newest consent record), if known.
    consent: String,
    suppressed: String,
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    user: Option<String>,
    csrf: String,
    admin: bool,
    list: ListView,
    embed: String,
    form: ListForm,
    members: Vec<MemberRow>,
    /// The next page's `after`, when there is one.
    next: Option<i64>,
    /// What the add form had (kept when it is refused).
    add_email: String,
    add_fields: String,
    problem: Option<String>,
    notice: Option<String>,
}

fn status_of(e: &AudienceError) -> StatusCode {
    match e {
        AudienceError::UnknownList(_) => StatusCode::NOT_FOUND,
        AudienceError::NameTaken(_)
        | AudienceError::SlugTaken(..)
        | AudienceError::ListInUse(_)
        | AudienceError::LeftList(..)
        | AudienceError::Erased(_) => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

#[derive(Deserialize)]
pub struct FlashQuery {
    flash: Option<String>,
    after: Option<i64>,
}

async fn lists_page<S: Store>(
    web: &Web<S>,
    s: Session,
    form: ListForm,
    (problem, notice): (Option<String>, Option<String>),
    status: StatusCode,
) -> Response {
    let lists = match web.store.list_records().await {
        Ok(l) => l,
        Err(e) => return failed(e, "listing lists", "The lists could not be read."),
    };
    let mut r = render(&ListsPage {
        admin: s.user.role >= Role::Admin,
        user: Some(s.user.email),
        csrf: s.csrf,
        lists: lists
            .iter()
            .map(|l| ListView::of(l, &web.public_url))
            .collect(),
        form,
        problem,
        notice,
    });
    *r.status_mut() = status;
    r
}

pub async fn show_lists<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Query(q): Query<FlashQuery>,
) -> Response {
    let said = flashed(&s, q.flash.as_deref());
    let form = ListForm {
        opt_in: "double".into(),
        ..ListForm::default()
    };
    lists_page(&web, s, form, said, StatusCode::OK).await
}

/// The From gate for a list's sender, as `lists create|update` holds it (`None`: passes).
async fn gate<S: Store>(web: &Web<S>, from: &str) -> Option<(String, StatusCode)> {
    let from = from.trim();
    if from.is_empty() {
        return None;
    }
    let addr = match herald_engine::campaign::parse_from(from) {
        Ok((_, a)) => a,
        Err(e) => {
            return Some((
                format!("From {from:?}: {e}"),
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    match web.actions.check_from(addr.to_string()).await {
        Ok(()) => None,
        Err(e) => Some((e.to_string(), e.status())),
    }
}

pub async fn create_list<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<ListForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let input = match f.create_input() {
        Ok(i) => i,
        Err(why) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return lists_page(&web, s, f, (Some(why), None), status).await;
        }
    };
    if let Some((why, status)) = gate(&web, &f.from).await {
        return lists_page(&web, s, f, (Some(why), None), status).await;
    }
    match audience::create_list(&web.store, input, web.clock.now_ms()).await {
        Ok(l) => redirect_with(
            &s,
            &format!("/lists/{}", segment(&l.list.name)),
            flash::Kind::Notice,
            &format!("Created the list {:?}.", l.list.name),
        ),
        Err(AudienceError::Store(e)) => {
            failed(e, "creating a list", "The list could not be created.")
        }
        Err(e) => {
            let status = status_of(&e);
            lists_page(&web, s, f, (Some(e.to_string()), None), status).await
        }
    }
}

/// The members page of `list` after contact `after`, and the next page's start.
async fn members<S: Store>(
    web: &Web<S>,
    list: &ListRecord,
    after: i64,
) -> Result<(Vec<MemberRow>, Option<i64>), herald_store::StoreError> {
    let page = web
        .store
        .export_page(Some(list.id), after, MEMBERS_PAGE)
        .await?;
    let next = (page.len() as u32 == MEMBERS_PAGE)
        .then(|| page.last().map(|r| r.contact_id))
        .flatten();
    let row = |r: ExportRow| MemberRow {
        status: r
            .memberships
            .first()
            .map(|(_, st)| st.as_str().to_string())
            .unwrap_or_default(),
        consent: r
            .consent
            .map(|(source, at, confirmed)| {
                let at = herald_engine::reports::ms_to_rfc3339(at);
                match confirmed {
                    Some(c) => format!(
                        "{source}, {at}; confirmed {}",
                        herald_engine::reports::ms_to_rfc3339(c)
                    ),
                    None => format!("{source}, {at}"),
                }
            })
            .unwrap_or_default(),
        suppressed: r.suppression.unwrap_or_default(),
        email: r.email,
    };
    Ok((page.into_iter().map(row).collect(), next))
}

/// What the list page shows around its forms.
struct Shown {
    form: Option<ListForm>,
    add: (String, String),
    said: (Option<String>, Option<String>),
    after: i64,
}

async fn list_page<S: Store>(
    web: &Web<S>,
    s: Session,
    key: &str,
    shown: Shown,
    status: StatusCode,
) -> Response {
    let l = match audience::find(&web.store, key).await {
        Ok(l) => l,
        Err(AudienceError::Store(e)) => {
            return failed(e, "reading a list", "The list could not be read.");
        }
        Err(_) => return problem(StatusCode::NOT_FOUND, "No such list."),
    };
    let (members, next) = match members(web, &l, shown.after).await {
        Ok(m) => m,
        Err(e) => {
            return failed(
                e,
                "reading a list's members",
                "The members could not be read.",
            );
        }
    };
    let list = ListView::of(&l, &web.public_url);
    let mut r = render(&ListPage {
        admin: s.user.role >= Role::Admin,
        user: Some(s.user.email),
        csrf: s.csrf,
        embed: list.embed_html().unwrap_or_default(),
        form: shown.form.unwrap_or_else(|| ListForm::of(&list)),
        list,
        members,
        next,
        add_email: shown.add.0,
        add_fields: shown.add.1,
        problem: shown.said.0,
        notice: shown.said.1,
    });
    *r.status_mut() = status;
    r
}

pub async fn show_list<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Path(name): Path<String>,
    Query(q): Query<FlashQuery>,
) -> Response {
    let shown = Shown {
        form: None,
        add: Default::default(),
        said: flashed(&s, q.flash.as_deref()),
        after: q.after.unwrap_or(0).max(0),
    };
    list_page(&web, s, &name, shown, StatusCode::OK).await
}

pub async fn update_list<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Path(name): Path<String>,
    Form(f): Form<ListForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let refused = |f: ListForm, why: String| Shown {
        form: Some(f),
        add: Default::default(),
        said: (Some(why), None),
        after: 0,
    };
    let input = match f.update_input() {
        Ok(i) => i,
        Err(why) => {
            let shown = refused(f, why);
            return list_page(&web, s, &name, shown, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    // The gate holds a new sender; an unchanged one is not looked up again.
    let current = audience::find(&web.store, &name)
        .await
        .ok()
        .map(|l| ListView::of(&l, &web.public_url).from.unwrap_or_default());
    if current.as_deref() != Some(f.from.trim())
        && let Some((why, status)) = gate(&web, &f.from).await
    {
        return list_page(&web, s, &name, refused(f, why), status).await;
    }
    match audience::update_list(&web.store, &name, input).await {
        Ok(l) => redirect_with(
            &s,
            &format!("/lists/{}", segment(&l.list.name)),
            flash::Kind::Notice,
            "Saved.",
        ),
        Err(AudienceError::Store(e)) => {
            failed(e, "changing a list", "The list could not be changed.")
        }
        Err(e) => {
            let status = status_of(&e);
            list_page(&web, s, &name, refused(f, e.to_string()), status).await
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: Option<String>,
}

pub async fn delete_list<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Path(name): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    match audience::delete_list(&web.store, &name).await {
        Ok(()) => redirect_with(
            &s,
            "/lists",
            flash::Kind::Notice,
            &format!("Deleted the list {name:?} (its contacts stay)."),
        ),
        Err(AudienceError::Store(e)) => {
            failed(e, "deleting a list", "The list could not be deleted.")
        }
        Err(e) => redirect_with(
            &s,
            &format!("/lists/{}", segment(&name)),
            flash::Kind::Problem,
            &e.to_string(),
        ),
    }
}

/// The add-a-person form: an address, fields as `name=value` lines, and whether to ask them to
/// confirm first.
#[derive(Deserialize)]
pub struct MemberForm {
    csrf: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    fields: String,
    confirm: Option<String>,
}

/// `name=value` lines (blank lines skipped), or the line that is not one.
pub(super) fn field_lines(text: &str) -> Result<Vec<(String, String)>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            l.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| format!("fields, line {}: expected name=value", i + 1))
        })
        .collect()
}

pub async fn add_member<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Path(name): Path<String>,
    Form(f): Form<MemberForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let refused = |f: MemberForm, why: String| Shown {
        form: None,
        add: (f.email, f.fields),
        said: (Some(why), None),
        after: 0,
    };
    let fields = match field_lines(&f.fields) {
        Ok(v) => v,
        Err(why) => {
            let shown = refused(f, why);
            return list_page(&web, s, &name, shown, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let list = match audience::find(&web.store, &name).await {
        Ok(l) => l,
        Err(AudienceError::Store(e)) => {
            return failed(e, "reading a list", "The list could not be read.");
        }
        Err(_) => return problem(StatusCode::NOT_FOUND, "No such list."),
    };
    let source = format!("ui:{}", s.user.email);
    let confirm = f.confirm.is_some();
    match audience::add_contact(
        &web.store,
        &web.erasure,
        &list,
        (&f.email, &fields),
        confirm,
        &source,
        web.clock.now_ms(),
    )
    .await
    {
        Ok(added) => {
            let what = match (added.before.as_deref(), added.confirmation_queued) {
                (_, true) => format!("Sent {} a confirmation message.", added.email),
                (Some("subscribed"), _) => format!("{} was already subscribed.", added.email),
                _ => format!("Added {}.", added.email),
            };
            redirect_with(
                &s,
                &format!("/lists/{}", segment(&list.list.name)),
                flash::Kind::Notice,
                &what,
            )
        }
        Err(AudienceError::Store(e)) => {
            failed(e, "adding a contact", "The contact could not be added.")
        }
        Err(e) => {
            let status = status_of(&e);
            list_page(&web, s, &name, refused(f, e.to_string()), status).await
        }
    }
}

#[derive(Deserialize)]
pub struct RemoveForm {
    csrf: Option<String>,
    #[serde(default)]
    email: String,
}

pub async fn remove_member<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Path(name): Path<String>,
    Form(f): Form<RemoveForm>,
) -> Response {
    if let Err(r) = csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let back = format!("/lists/{}", segment(&name));
    let list = match audience::find(&web.store, &name).await {
        Ok(l) => l,
        Err(AudienceError::Store(e)) => {
            return failed(e, "reading a list", "The list could not be read.");
        }
        Err(_) => return problem(StatusCode::NOT_FOUND, "No such list."),
    };
    match audience::remove_from_list(&web.store, &list, &f.email, web.clock.now_ms()).await {
        Ok(()) => redirect_with(
            &s,
            &back,
            flash::Kind::Notice,
            &format!(
                "Took {} off {:?}: campaigns to it now record them as not sent (unsubscribed).",
                f.email, list.list.name
            ),
        ),
        Err(AudienceError::Store(e)) => failed(
            e,
            "taking a contact off a list",
            "The contact could not be taken off.",
        ),
        Err(e) => redirect_with(&s, &back, flash::Kind::Problem, &e.to_string()),
    }
}
