//! `/api/v1/campaigns…`

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_engine::api_types::{Created, SendStarted};
use herald_engine::campaign::Control;
use herald_engine::reports::{campaign_list, campaign_report, recipients_page, tab_filter};
use herald_store::{CampaignId, CampaignStatus, Store};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Body, Params, error, failure, internal};
use crate::Web;

pub(super) fn campaign_id(id: &str) -> Result<CampaignId, Box<Response>> {
    id.parse()
        .map_err(|_| Box::new(error(StatusCode::NOT_FOUND, format!("no campaign {id:?}"))))
}

/// `GET /api/v1/campaigns`.
#[derive(Deserialize, JsonSchema)]
pub struct ListQuery {
    /// Only the campaigns in this state.
    #[schemars(extend("enum" = ["draft", "scheduled", "sending", "paused", "sent", "cancelled"]))]
    pub status: Option<String>,
    /// The previous page's `next` (a campaign id: the campaigns older than it).
    #[schemars(extend("pattern" = "^[1-9][0-9]{0,17}$"))]
    pub after: Option<String>,
    /// At most this many (default 100; more than 1000 returns 1000).
    #[schemars(range(min = 1, max = u32::MAX))]
    pub limit: Option<u32>,
}

pub async fn list<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Params(q): Params<ListQuery>,
) -> Response {
    let status = match q.status.as_deref().map(CampaignStatus::parse) {
        None => None,
        Some(Some(s)) => Some(s),
        Some(None) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "status: expected draft, scheduled, sending, paused, sent or cancelled",
            );
        }
    };
    let limit = match super::paging::page_size(q.limit) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let before = match super::paging::id_cursor(q.after.as_deref(), 1) {
        Ok(id) => id.map(herald_store::CampaignId),
        Err(r) => return *r,
    };
    match campaign_list(&web.store, before, status, limit).await {
        Ok(page) => Json(page).into_response(),
        Err(e) => internal(e),
    }
}

/// `GET /api/v1/campaigns/{id}/details`: how it is (or will be) sent, as `campaign show
/// --json` and the page's "See details".
pub async fn details<S: Store>(State(web): State<Arc<Web<S>>>, Path(id): Path<String>) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    match web.actions.details(id).await {
        Ok(Some(d)) => Json(d).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no campaign {id}")),
        Err(f) => failure(f),
    }
}

pub async fn show<S: Store>(State(web): State<Arc<Web<S>>>, Path(id): Path<String>) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    match campaign_report(&web.store, id, false).await {
        Ok(Some(r)) => Json(r).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no campaign {id}")),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize, JsonSchema)]
pub struct RecipientsQuery {
    /// Which recipients (default `all`).
    #[schemars(extend("enum" = herald_engine::reports::TAB_NAMES))]
    pub tab: Option<String>,
    /// Only addresses containing this.
    pub q: Option<String>,
    /// The previous page's `next_after`.
    #[schemars(range(min = i64::MIN, max = i64::MAX))]
    pub after: Option<i64>,
    /// At most this many (default 100; more than 500 returns 500).
    #[schemars(range(min = 1, max = u32::MAX))]
    pub limit: Option<u32>,
}

pub async fn recipients<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(id): Path<String>,
    Params(q): Params<RecipientsQuery>,
) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    // An unknown (or deleted) campaign has no recipients page, not an empty one.
    match web.store.campaign(id).await {
        Ok(Some(_)) => {}
        Ok(None) => return error(StatusCode::NOT_FOUND, format!("no campaign {id}")),
        Err(e) => return internal(e),
    }
    let tab = q.tab.as_deref().unwrap_or("all");
    let Some(filter) = tab_filter(tab) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("tab: unknown tab {tab:?}"),
        );
    };
    if q.limit == Some(0) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "limit: at least 1");
    }
    let limit = q.limit.unwrap_or(100).min(500);
    match recipients_page(
        &web.store,
        id,
        &filter,
        q.q.as_deref(),
        q.after.unwrap_or(0),
        limit,
    )
    .await
    {
        Ok(page) => Json(page).into_response(),
        Err(e) => internal(e),
    }
}

pub async fn why<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path((id, email)): Path<(String, String)>,
) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    // A path that is not an address names no recipient: 404, saying why.
    if let Err(e) = herald_domain::EmailAddress::parse(&email) {
        return error(
            StatusCode::NOT_FOUND,
            format!("{email:?} is not a recipient of campaign {id}: {e}"),
        );
    }
    match web.actions.why(id, email.clone()).await {
        Ok(Some(d)) => Json(d).into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            format!("{email} is not a recipient of campaign {id}"),
        ),
        Err(f) => failure(f),
    }
}

/// `POST /api/v1/campaigns/{id}/send?despite_complaints=…`.
#[derive(Deserialize, JsonSchema)]
pub struct SendQuery {
    /// Why it goes although its spam-complaint rate is past 0.3 % (recorded with the caller).
    #[schemars(extend("maxLength" = 500))]
    pub despite_complaints: Option<String>,
}

pub async fn send<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(super::Caller(user)): axum::Extension<super::Caller>,
    Path(id): Path<String>,
    super::Params(q): super::Params<SendQuery>,
) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    if q.despite_complaints
        .as_ref()
        .is_some_and(|w| w.chars().count() > 500)
    {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "despite_complaints: at most 500 characters",
        );
    }
    let despite = q
        .despite_complaints
        .filter(|w| !w.trim().is_empty())
        .map(|why| format!("despite_complaints in the API by {}: {why}", user.email));
    match web.actions.send(id, despite).await {
        Ok(()) => (
            StatusCode::ACCEPTED,
            Json(SendStarted {
                campaign: id.to_string(),
                status: "sending".into(),
            }),
        )
            .into_response(),
        Err(f) => failure(f),
    }
}

/// `POST /api/v1/campaigns/{id}/test`.
#[derive(Deserialize, JsonSchema)]
pub struct TestBody {
    /// Where to send the test copy.
    #[schemars(extend("pattern" = super::EMAIL_PATTERN, "maxLength" = 254))]
    pub to: String,
}

pub async fn test<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(id): Path<String>,
    Body(body): Body<TestBody>,
) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    match web.actions.test_send(id, body.to).await {
        Ok(v) => Json(v).into_response(),
        Err(f) => failure(f),
    }
}

/// `POST /api/v1/campaigns/{id}/duplicate`.
#[derive(Deserialize, JsonSchema)]
pub struct DuplicateBody {
    /// The new draft's name (default: "<name> (copy)").
    #[schemars(extend("pattern" = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$", "maxLength" = 200))]
    pub name: Option<String>,
}

pub async fn duplicate<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(id): Path<String>,
    Body(body): Body<DuplicateBody>,
) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    match web.actions.duplicate(id, body.name).await {
        Ok(new) => (
            StatusCode::CREATED,
            Json(Created {
                id: new.to_string(),
            }),
        )
            .into_response(),
        Err(f) => failure(f),
    }
}

pub async fn delete<S: Store>(State(web): State<Arc<Web<S>>>, Path(id): Path<String>) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    match web.actions.delete_draft(id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(f) => failure(f),
    }
}

/// `POST /api/v1/campaigns/{id}/pause|resume|cancel`.
async fn control<S: Store>(web: &Web<S>, id: &str, what: Control) -> Response {
    let id = match campaign_id(id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    match web.actions.control(id, what).await {
        Ok(done) => Json(done).into_response(),
        Err(f) => failure(f),
    }
}

pub async fn pause<S: Store>(State(web): State<Arc<Web<S>>>, Path(id): Path<String>) -> Response {
    control(&web, &id, Control::Pause).await
}

pub async fn resume<S: Store>(State(web): State<Arc<Web<S>>>, Path(id): Path<String>) -> Response {
    control(&web, &id, Control::Resume).await
}

pub async fn cancel<S: Store>(State(web): State<Arc<Web<S>>>, Path(id): Path<String>) -> Response {
    control(&web, &id, Control::Cancel).await
}

/// `POST /api/v1/campaigns/{id}/schedule`, as `campaign schedule --at T [--tz Z]
/// [--local-time HH:MM]` takes it.
#[derive(Deserialize, JsonSchema)]
pub struct ScheduleBody {
    /// When the send starts: an RFC 3339 date-time with its offset
    /// (`2026-12-10T09:00:00+01:00`), or a local date and time (`2026-12-10T09:00`) read in
    /// `tz`; with `local_time`, the date (`2026-12-10`). At most a year ahead.
    #[schemars(extend("minLength" = 1, "maxLength" = 64))]
    pub at: String,
    /// The IANA zone `at` is read and shown in (`Europe/Warsaw`; default UTC); with
    /// `local_time`, the zone of recipients whose own zone is not known.
    #[schemars(extend("maxLength" = 64))]
    pub tz: Option<String>,
    /// `HH:MM`: each recipient gets it at this time in their own zone (a contact's `timezone`
    /// or `utc_offset` field) on `at`'s date.
    #[schemars(extend("maxLength" = 5))]
    pub local_time: Option<String>,
}

pub async fn schedule<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(id): Path<String>,
    Body(body): Body<ScheduleBody>,
) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let when = crate::ScheduleRequest {
        at: body.at,
        tz: body.tz,
        local_time: body.local_time,
    };
    match web.actions.schedule(id, when).await {
        Ok(done) => Json(done).into_response(),
        Err(f) => failure(f),
    }
}

pub async fn unschedule<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(id): Path<String>,
) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    match web.actions.unschedule(id).await {
        Ok(done) => Json(done).into_response(),
        Err(f) => failure(f),
    }
}

/// `POST /api/v1/campaigns/{id}/check`.
pub async fn check<S: Store>(State(web): State<Arc<Web<S>>>, Path(id): Path<String>) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    match web.actions.check(id, "check").await {
        Ok(c) => Json(c).into_response(),
        Err(f) => failure(f),
    }
}

/// `PATCH /api/v1/campaigns/{id}`.
pub async fn edit<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(super::Caller(user)): axum::Extension<super::Caller>,
    Path(id): Path<String>,
    Body(patch): Body<herald_engine::api_types::CampaignPatch>,
) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let how = format!("allow_unverified in the API by {}", user.email);
    match web.actions.edit(id, patch, how).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(f) => failure(f),
    }
}

/// `POST /api/v1/campaigns`: a new draft, checked as `campaign create` checks it.
#[derive(Deserialize, JsonSchema)]
pub struct NewCampaignBody {
    #[schemars(extend("pattern" = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$", "maxLength" = 200))]
    pub name: String,
    /// The list's name.
    #[schemars(extend("minLength" = 1, "maxLength" = 200))]
    pub list: String,
    /// Other lists it also goes to (each person once), by name.
    #[serde(default)]
    #[schemars(extend("maxItems" = 50))]
    pub also_lists: Vec<String>,
    /// Lists whose subscribed members it keeps out (`not_sent: excluded`), by name.
    #[serde(default)]
    #[schemars(extend("maxItems" = 50))]
    pub exclude_lists: Vec<String>,
    /// `Name <address@domain>` or `address@domain`: its domain must be connected (422) and
    /// verify (409 says which record fails) unless `allow_unverified` (recorded on the campaign).
    #[schemars(extend("minLength" = 3, "maxLength" = 400))]
    pub from: String,
    /// Subject template (required unless `template` has one).
    #[schemars(extend("minLength" = 1, "maxLength" = 2000))]
    pub subject: Option<String>,
    /// HTML body template (or, with `format: mjml`, an MJML document): required unless
    /// `template` is a whole message; with a layout, its `{{ content }}` takes this.
    #[schemars(extend("minLength" = 1))]
    pub html: Option<String>,
    /// Start from this saved template (`GET /api/v1/templates`).
    #[schemars(extend("minLength" = 1, "maxLength" = 100))]
    pub template: Option<String>,
    /// `html` (default) or `mjml`: `html` holds an MJML document, rendered to responsive HTML
    /// now; a mistake is a 422 naming its line.
    pub format: Option<herald_engine::api_types::BodyFormat>,
    /// Text body template (derived from the HTML when absent).
    pub text: Option<String>,
    #[schemars(extend("maxLength" = 400))]
    pub reply_to: Option<String>,
    #[serde(default)]
    pub allow_unverified: bool,
    /// Open and click tracking (both on by default) and copies to the seed mailboxes.
    pub track_opens: Option<bool>,
    pub track_clicks: Option<bool>,
    pub send_to_seeds: Option<bool>,
}

pub async fn create<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(super::Caller(user)): axum::Extension<super::Caller>,
    Body(b): Body<NewCampaignBody>,
) -> Response {
    use herald_engine::campaign::{self, CampaignError, CampaignInput, TrackingSwitches};
    let from = match campaign::parse_from(&b.from) {
        Ok((_, from)) => from,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, format!("from: {e}")),
    };
    // The From gate, as for the CLI and the compose page.
    let gate_override = match web.actions.check_from(from.to_string()).await {
        Ok(()) => None,
        Err(f @ (crate::Failure::BadInput(_) | crate::Failure::Conflict(_)))
            if b.allow_unverified =>
        {
            Some(format!(
                "allow_unverified in the API by {}: {f}",
                user.email
            ))
        }
        Err(f) => return failure(f),
    };
    let html = match b
        .html
        .map(|h| b.format.unwrap_or_default().to_html(h))
        .transpose()
    {
        Ok(h) => h,
        Err(e) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("html (MJML): {e}"),
            );
        }
    };
    let text = b.text.filter(|t| !t.trim().is_empty());
    let (subject, html, text) = match &b.template {
        Some(t) => match herald_engine::campaign::templates::apply(
            &web.store,
            t,
            b.subject.as_deref(),
            html.as_deref(),
            text.as_deref(),
        )
        .await
        {
            Ok(parts) => parts,
            Err(herald_engine::campaign::templates::TemplateError::Store(e)) => {
                return internal(e);
            }
            Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        },
        None => match (b.subject, html) {
            (Some(s), Some(h)) => (s, h, text),
            (None, _) => return error(StatusCode::UNPROCESSABLE_ENTITY, "subject: required"),
            (_, None) => return error(StatusCode::UNPROCESSABLE_ENTITY, "html: required"),
        },
    };
    let defaults = TrackingSwitches::default();
    let input = CampaignInput {
        name: b.name,
        list: b.list,
        from: b.from,
        subject,
        html,
        text,
        gate_override,
        reply_to: b.reply_to.filter(|r| !r.trim().is_empty()),
        tracking: TrackingSwitches {
            opens: b.track_opens.unwrap_or(defaults.opens),
            clicks: b.track_clicks.unwrap_or(defaults.clicks),
            seeds: b.send_to_seeds.unwrap_or(defaults.seeds),
        },
    };
    use herald_engine::audience::{AudienceError, segments};
    // Its other lists are checked before anything is created.
    let lists =
        match segments::lists_for_new(&web.store, &input, &b.also_lists, &b.exclude_lists).await {
            Ok(l) => l,
            Err(AudienceError::Store(e)) => return internal(e),
            Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        };
    let created = match campaign::create(&web.store, &input, web.clock.now_ms()).await {
        Ok(id) => id,
        Err(CampaignError::Store(e)) => return internal(e),
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    let attached = segments::attach_lists(&web.store, created, &lists, web.clock.now_ms()).await;
    match attached.map(|()| created) {
        Ok(id) => {
            if let Err(e) = web.actions.check(id, "create").await {
                tracing::warn!(campaign = id.0, error = %e, "the pre-send check did not run");
            }
            (StatusCode::CREATED, Json(Created { id: id.to_string() })).into_response()
        }
        Err(AudienceError::Store(e)) => internal(e),
        Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}

/// `PUT /api/v1/campaigns/{id}/ab`: a draft's A/B test, as `campaign ab`.
#[derive(Deserialize, JsonSchema)]
pub struct AbBody {
    /// The variants besides the campaign's own content (A): B, then C, D (1 to 3), each
    /// changing its subject, HTML or text.
    #[schemars(extend("minItems" = 1, "maxItems" = 3))]
    pub variants: Vec<herald_engine::campaign::ab::AbVariant>,
    /// Percent of the audience each variant gets in the test (default 20).
    #[schemars(range(min = 1, max = 50))]
    pub share_pct: Option<u32>,
    /// What picks the winner: `opens` (default) or `clicks`, by a person.
    #[schemars(extend("enum" = ["opens", "clicks", null]))]
    pub metric: Option<String>,
    /// How long after the start the winner is picked (`4h`, the default; 1s to 30d).
    #[schemars(extend("maxLength" = 40))]
    pub wait: Option<String>,
}

pub async fn set_ab<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(id): Path<String>,
    Body(b): Body<AbBody>,
) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    if b.variants.is_empty() || b.variants.len() > 3 {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "variants: 1 to 3");
    }
    if b.share_pct.is_some_and(|s| !(1..=50).contains(&s)) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "share_pct: 1 to 50");
    }
    let test = match herald_engine::campaign::ab::AbTest::from_parts(
        b.variants,
        b.share_pct,
        b.metric.as_deref(),
        b.wait.as_deref(),
    ) {
        Ok(t) => t,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    match web.actions.set_ab(id, Some(test)).await {
        Ok(report) => Json(report).into_response(),
        Err(f) => failure(f),
    }
}

pub async fn remove_ab<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(id): Path<String>,
) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    match web.actions.set_ab(id, None).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(f) => failure(f),
    }
}

/// `PUT /api/v1/campaigns/{id}/archive`.
#[derive(Deserialize, JsonSchema)]
pub struct ArchiveBody {
    /// Shown on its public archive page (once its send started), or not.
    pub public: bool,
}

pub async fn archive<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Path(id): Path<String>,
    Body(b): Body<ArchiveBody>,
) -> Response {
    let id = match campaign_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    match web.actions.archive(id, b.public).await {
        Ok(state) => Json(state).into_response(),
        Err(f) => failure(f),
    }
}

/// `POST /api/v1/campaigns/preview`: content not saved yet, rendered as the list's first
/// contact would get it (the compose page's live preview).
#[derive(Deserialize, JsonSchema)]
pub struct PreviewBody {
    /// The list whose first contact it is rendered for (none: a stand-in address).
    #[schemars(extend("maxLength" = 200))]
    pub list: String,
    #[schemars(extend("maxLength" = 2000))]
    pub subject: String,
    pub html: String,
    pub format: Option<herald_engine::api_types::BodyFormat>,
}

pub async fn preview<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Body(b): Body<PreviewBody>,
) -> Response {
    if b.list.chars().count() > 200 || b.subject.chars().count() > 2000 {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "list: at most 200 characters; subject: at most 2000",
        );
    }
    let format = b.format.unwrap_or_default();
    match crate::preview::render(&web.store, &b.list, b.subject, b.html, format).await {
        Ok(p) => Json(p).into_response(),
        Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, e),
    }
}
