//! `GET /campaigns/new`, `POST /campaigns/preview`, `POST /campaigns`: compose with a live preview.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use herald_engine::api_types::BodyFormat;
use herald_engine::campaign::{self, CampaignError, CampaignInput, TrackingSwitches};
use herald_store::{CampaignId, CampaignStatus, Store};
use serde::Deserialize;

use super::{Session, render, same};
use crate::Web;

#[derive(Deserialize, Default, Clone)]
pub struct ComposeForm {
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    list: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    reply_to: String,
    #[serde(default)]
    html: String,
    /// `mjml`: the body is MJML, rendered to HTML when the form is saved (and for the preview).
    #[serde(default)]
    format: String,
    /// The plain-text part; empty: derived from the HTML.
    #[serde(default)]
    text: String,
    allow_unverified: Option<String>,
}

struct FormView {
    name: String,
    list: String,
    from: String,
    subject: String,
    reply_to: String,
    html: String,
    mjml: bool,
    text: String,
    allow_unverified: bool,
}

impl ComposeForm {
    fn format(&self) -> BodyFormat {
        if self.format == "mjml" {
            BodyFormat::Mjml
        } else {
            BodyFormat::Html
        }
    }
}

#[derive(Template)]
#[template(path = "compose.html")]
struct ComposePage {
    user: Option<String>,
    csrf: String,
    lists: Vec<(String, u64)>,
    form: FormView,
    message: Option<String>,
    /// The draft being edited (`/campaigns/{id}/edit`); None for a new campaign.
    editing: Option<String>,
    /// Saved templates to start from (names), on a new campaign's page.
    templates: Vec<String>,
}

async fn page<S: Store>(
    web: &Web<S>,
    s: Session,
    f: &ComposeForm,
    message: Option<String>,
    status: StatusCode,
) -> Response {
    page_for(web, s, f, message, status, None).await
}

async fn page_for<S: Store>(
    web: &Web<S>,
    s: Session,
    f: &ComposeForm,
    message: Option<String>,
    status: StatusCode,
    editing: Option<CampaignId>,
) -> Response {
    let lists = web.store.lists().await.unwrap_or_default();
    let templates = if editing.is_none() {
        web.store
            .templates()
            .await
            .map(|all| all.into_iter().map(|t| t.name).collect())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut r = render(&ComposePage {
        templates,
        user: Some(s.user.email),
        csrf: s.csrf,
        lists,
        form: FormView {
            name: f.name.clone(),
            list: f.list.clone(),
            from: f.from.clone(),
            subject: f.subject.clone(),
            reply_to: f.reply_to.clone(),
            html: if f.html.is_empty() {
                "<p>Hello {{ contact.first_name | default(\"there\") }},</p>\n<p>…</p>\n<p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>".into()
            } else {
                f.html.clone()
            },
            mjml: f.format() == BodyFormat::Mjml,
            text: f.text.clone(),
            allow_unverified: f.allow_unverified.is_some(),
        },
        message,
        editing: editing.map(|id| id.to_string()),
    });
    *r.status_mut() = status;
    r
}

#[derive(Deserialize)]
pub struct NewQuery {
    /// Start from this saved template: its subject, HTML (a layout with a stand-in for the
    /// content) and text fill the form.
    template: Option<String>,
}

pub async fn new<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    axum::extract::Query(q): axum::extract::Query<NewQuery>,
) -> Response {
    let mut f = ComposeForm::default();
    if let Some(name) = q.template.as_deref().filter(|n| !n.trim().is_empty()) {
        use herald_engine::campaign::templates;
        let stand_in = "<p>Hello {{ contact.first_name | default(\"there\") }},</p>\n<p>…</p>";
        match templates::show(&web.store, name).await {
            Ok(t) => {
                f.subject = t.subject.unwrap_or_default();
                f.html = templates::fill(&t.html, stand_in);
                f.text = t.text.unwrap_or_default();
            }
            Err(e) => {
                let msg = Some(e.to_string());
                return page(&web, s, &f, msg, StatusCode::NOT_FOUND).await;
            }
        }
    }
    page(&web, s, &f, None, StatusCode::OK).await
}

/// The message as the list's first contact would get it (JSON for the page's script).
pub async fn preview<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<ComposeForm>,
) -> Response {
    if !f.csrf.as_deref().is_some_and(|c| same(c, &s.csrf)) {
        return (
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({"error": "CSRF token missing or wrong: reload the page"})),
        )
            .into_response();
    }
    let format = f.format();
    match crate::preview::render(&web.store, &f.list, f.subject, f.html, format).await {
        Ok(p) => Json(p).into_response(),
        Err(e) => Json(serde_json::json!({ "error": e })).into_response(),
    }
}

pub async fn create<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<ComposeForm>,
) -> Response {
    if !f.csrf.as_deref().is_some_and(|c| same(c, &s.csrf)) {
        return super::problem(
            StatusCode::FORBIDDEN,
            "This form expired (missing or wrong CSRF token). Reload the page.",
        );
    }
    let (_, from) = match campaign::parse_from(&f.from) {
        Ok(x) => x,
        Err(e) => {
            return page(
                &web,
                s,
                &f,
                Some(format!("From: {e}")),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    // The same gate as the CLI: refuse an unconnected or unverified From domain unless the
    // override is ticked, and then record why.
    let gate_override = match web.actions.check_from(from.to_string()).await {
        Ok(()) => None,
        Err(e) if f.allow_unverified.is_some() => {
            Some(format!("override in the web UI by {}: {e}", s.user.email))
        }
        Err(e) => return page(&web, s, &f, Some(e.to_string()), e.status()).await,
    };
    let html = match f.format().to_html(f.html.clone()) {
        Ok(h) => h,
        Err(e) => {
            return page(
                &web,
                s,
                &f,
                Some(format!("HTML (MJML): {e}")),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let input = CampaignInput {
        name: f.name.clone(),
        list: f.list.clone(),
        from: f.from.clone(),
        subject: f.subject.clone(),
        html,
        text: Some(f.text.clone()).filter(|t| !t.trim().is_empty()),
        gate_override,
        reply_to: Some(f.reply_to.clone()).filter(|r| !r.trim().is_empty()),
        tracking: TrackingSwitches::default(),
    };
    match campaign::create(&web.store, &input, web.clock.now_ms()).await {
        Ok(id) => {
            // The pre-send check, shown on the new draft's page (a failure to run it is logged).
            if let Err(e) = web.actions.check(id, "create").await {
                tracing::warn!(campaign = id.0, error = %e, "the pre-send check did not run");
            }
            Redirect::to(&format!("/campaigns/{id}")).into_response()
        }
        Err(CampaignError::Store(e)) => {
            tracing::error!(error = %e, "creating a campaign");
            page(
                &web,
                s,
                &f,
                Some("The database did not answer; nothing was created. Try again.".into()),
                StatusCode::SERVICE_UNAVAILABLE,
            )
            .await
        }
        Err(e) => {
            page(
                &web,
                s,
                &f,
                Some(e.to_string()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct TestForm {
    csrf: Option<String>,
    to: Option<String>,
}

/// `POST /campaigns/{id}/test`: one test copy, then back to the campaign with what the
/// receiving server said.
pub async fn test<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    axum::extract::Path(id): axum::extract::Path<String>,
    Form(f): Form<TestForm>,
) -> Response {
    if let Err(r) = super::csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let Ok(cid) = id.parse::<herald_store::CampaignId>() else {
        return super::problem(StatusCode::NOT_FOUND, "No such campaign.");
    };
    let to = f.to.unwrap_or_default();
    let (kind, text) = match web.actions.test_send(cid, to).await {
        Ok(v) if v.accepted => (
            super::flash::Kind::Notice,
            format!(
                "Test copy to {} accepted by {}: {}",
                v.to,
                v.mx.as_deref().unwrap_or("the server"),
                v.result
            ),
        ),
        Ok(v) => (
            super::flash::Kind::Problem,
            format!("Test copy to {} not accepted: {}", v.to, v.result),
        ),
        Err(e) => (super::flash::Kind::Problem, e.to_string()),
    };
    super::redirect_with(&s, &format!("/campaigns/{cid}"), kind, &text)
}

/// `GET /campaigns/{id}/edit`: the compose page with the draft's content.
pub async fn edit_page<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let Ok(cid) = id.parse::<CampaignId>() else {
        return super::problem(StatusCode::NOT_FOUND, "No such campaign.");
    };
    let c = match web.store.campaign(cid).await {
        Ok(Some(c)) => c,
        Ok(None) => return super::problem(StatusCode::NOT_FOUND, "No such campaign."),
        Err(_) => {
            return super::problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "The database did not answer. Try again.",
            );
        }
    };
    if !matches!(c.status, CampaignStatus::Draft | CampaignStatus::Scheduled) {
        return super::problem(
            StatusCode::CONFLICT,
            "Its send has started: a campaign that went out is the record of what happened. Duplicate it to send the content again.",
        );
    }
    let input = campaign::input_of(&c);
    let f = ComposeForm {
        csrf: None,
        name: input.name,
        list: input.list,
        from: input.from,
        subject: input.subject,
        reply_to: input.reply_to.unwrap_or_default(),
        html: input.html,
        // What was saved is the HTML (an MJML body was rendered when it was saved).
        format: "html".into(),
        text: input.text.unwrap_or_default(),
        allow_unverified: None,
    };
    page_for(&web, s, &f, None, StatusCode::OK, Some(cid)).await
}

/// `POST /campaigns/{id}/edit`: save the changes (checked as at creation), back to the
/// campaign; a refusal shows the form again with everything typed.
pub async fn save<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    axum::extract::Path(id): axum::extract::Path<String>,
    Form(f): Form<ComposeForm>,
) -> Response {
    if !f.csrf.as_deref().is_some_and(|c| same(c, &s.csrf)) {
        return super::problem(
            StatusCode::FORBIDDEN,
            "This form expired (missing or wrong CSRF token). Reload the page.",
        );
    }
    let Ok(cid) = id.parse::<CampaignId>() else {
        return super::problem(StatusCode::NOT_FOUND, "No such campaign.");
    };
    let patch = herald_engine::api_types::CampaignPatch {
        name: Some(f.name.clone()),
        list: Some(f.list.clone()),
        from: Some(f.from.clone()),
        subject: Some(f.subject.clone()),
        html: Some(f.html.clone()),
        format: Some(f.format()),
        // Empty: derived from the HTML again.
        text: Some(f.text.clone()),
        reply_to: Some(f.reply_to.clone()),
        allow_unverified: Some(f.allow_unverified.is_some()),
    };
    let how = format!("override in the web UI by {}", s.user.email);
    match web.actions.edit(cid, patch, how).await {
        Ok(()) => super::redirect_with(
            &s,
            &format!("/campaigns/{cid}"),
            super::flash::Kind::Notice,
            "Saved.",
        ),
        Err(e) => {
            let status = e.status();
            page_for(&web, s, &f, Some(e.to_string()), status, Some(cid)).await
        }
    }
}
