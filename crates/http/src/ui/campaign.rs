//! `GET /campaigns/{id}`: the post-send performance page (numbers with their definitions,
//! See details, seed placement, tabs of recipients); `POST /campaigns/{id}/send`.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use herald_engine::api_types::{CampaignDetails, Counts, DkimStatus, PlacementTally};
use herald_engine::campaign::Control;
use herald_engine::reports::{
    CampaignReport, campaign_report, placement_tally, recipients_page, tab_filter,
};
use herald_store::{CampaignId, RecipientFilter, Store};
use serde::Deserialize;

use super::{
    CsrfForm, PAGE_SIZE, Session, chart, csrf_form, flash, flashed, problem, redirect_with, render,
};
use crate::Web;

/// The performance page's numbers, in the order of the headline: key (also the tab's name),
/// label, definition. Each is one figure of [`Counts`] ([`count`]).
const FIGURES: &[(&str, &str, &str)] = &[
    (
        "sent",
        "Sent",
        "Herald tried to deliver it (everyone but Not sent).",
    ),
    (
        "delivered",
        "Delivered",
        "Delivered: the recipient's server accepted the message. It may still be in Junk or held by a security filter.",
    ),
    (
        "relayed",
        "Relayed",
        "Your relay accepted it; the recipient's server has not been heard from. The relay's report that it was delivered moves it to Delivered, its bounce to Bounced.",
    ),
    (
        "bounced",
        "Bounced",
        "Refused by the receiving server, at once or by a bounce message later.",
    ),
    (
        "deferred",
        "Deferred",
        "Not accepted yet (a temporary refusal); Herald keeps retrying.",
    ),
    (
        "opened",
        "Opened",
        "A person opened it (machine opens such as Apple Mail Privacy Protection are not counted).",
    ),
    (
        "clicked",
        "Clicked",
        "A person clicked a link (security scanners are not counted).",
    ),
    (
        "unsubscribed",
        "Unsubscribed",
        "Asked to receive no more; suppressed at once.",
    ),
    (
        "complained",
        "Spam reports",
        "Reported as spam through a feedback loop; suppressed.",
    ),
    (
        "not_sent",
        "Not sent",
        "Never attempted: suppressed, bounced before, unsubscribed, invalid or missing data.",
    ),
];

/// The tabs of recipients, in their order (keys of [`FIGURES`]).
const TABS: &[&str] = &[
    "sent",
    "delivered",
    "relayed",
    "deferred",
    "bounced",
    "opened",
    "clicked",
    "unsubscribed",
    "complained",
    "not_sent",
];

/// The figure `key` of [`FIGURES`].
fn count(k: &Counts, key: &str) -> u64 {
    match key {
        "sent" => k.recipients - k.not_sent,
        "delivered" => k.delivered,
        "relayed" => k.relayed,
        "bounced" => k.bounced,
        "deferred" => k.deferred,
        "opened" => k.opened,
        "clicked" => k.clicked,
        "unsubscribed" => k.unsubscribed,
        "complained" => k.complained,
        "not_sent" => k.not_sent,
        _ => 0,
    }
}

struct Figure {
    key: &'static str,
    label: &'static str,
    value: u64,
    definition: &'static str,
}

struct Tab {
    key: &'static str,
    label: &'static str,
    count: u64,
}

struct Row {
    email: String,
    email_path: String,
    state: String,
    reason: String,
    evidence: String,
}

#[derive(Template)]
#[template(path = "campaign.html")]
struct CampaignPage {
    user: Option<String>,
    csrf: String,
    /// The actions (send, test, duplicate, delete) are shown to admins only.
    admin: bool,
    id: String,
    name: String,
    subject: String,
    status: String,
    message: Option<String>,
    headline: Vec<Figure>,
    details: Vec<(String, String)>,
    tabs: Vec<Tab>,
    tab: String,
    q: String,
    rows: Vec<Row>,
    next: Option<i64>,
    placement: Vec<PlacementTally>,
    chart: Option<chart::Chart>,
    notice: Option<String>,
    /// A scheduled campaign's start, in the zone it was given in.
    scheduled: Option<String>,
    /// Why its scheduled start was refused, if it was.
    schedule_error: Option<String>,
    /// The last pre-send check.
    check: Option<herald_engine::api_types::CampaignCheck>,
    /// The last check found a spam-complaint rate past 0.3 %: the send form asks for a reason.
    complaints_block: bool,
    /// Its segment and exclusion (names), if given.
    segment: Option<String>,
    exclude: Option<String>,
    /// Its own list, the other lists it goes to and those it keeps out (names).
    list: String,
    also_lists: Vec<String>,
    exclude_lists: Vec<String>,
    /// Saved segments and every list, for the audience form.
    segment_names: Vec<String>,
    list_names: Vec<String>,
    /// Its A/B test: the variants' figures and the winner.
    ab: Option<herald_engine::campaign::ab::AbReport>,
    /// Its public archive page, while published.
    archive_url: Option<String>,
    /// Its files, whether drafts may carry files here, and their cap (KB).
    attachments: Vec<herald_engine::campaign::attachments::AttachmentView>,
    attachments_enabled: bool,
    attachments_max_kb: u64,
}

#[derive(Deserialize)]
pub(super) struct CampaignQuery {
    tab: Option<String>,
    q: Option<String>,
    after: Option<i64>,
    flash: Option<String>,
}

fn unavailable() -> Response {
    problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "The database did not answer. Try again.",
    )
}

pub(super) async fn campaign<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(s): axum::Extension<Session>,
    Path(id): Path<String>,
    Query(q): Query<CampaignQuery>,
) -> Response {
    let Ok(id) = id.parse::<CampaignId>() else {
        return problem(StatusCode::NOT_FOUND, "No such campaign.");
    };
    let (message, notice) = flashed(&s, q.flash.as_deref());
    let report = match campaign_report(&web.store, id, false).await {
        Ok(Some(r)) => r,
        Ok(None) => return problem(StatusCode::NOT_FOUND, "No such campaign."),
        Err(_) => return unavailable(),
    };
    let (headline, tabs) = headline_and_tabs(&report.counts);
    let tab = q
        .tab
        .clone()
        .filter(|t| tab_filter(t).is_some())
        .unwrap_or_else(|| "sent".into());
    let filter = tab_filter(&tab).unwrap_or(RecipientFilter::Sent);
    let search = q.q.clone().unwrap_or_default();
    let page = match recipients_page(
        &web.store,
        id,
        &filter,
        Some(search.as_str()),
        q.after.unwrap_or(0),
        PAGE_SIZE,
    )
    .await
    {
        Ok(p) => p,
        Err(_) => return unavailable(),
    };
    let rows = page.recipients.into_iter().map(row).collect();
    let mut details = basic_details(&report);
    let mut check = None;
    let mut archive_url = None;
    let mut attachments = Vec::new();
    if let Ok(Some(d)) = web.actions.details(id).await {
        details.extend(sending_rows(&d));
        check = d.check;
        archive_url = d.archive_url;
        attachments = d.attachments;
    }
    let placement = placement_tally(&web.store, id).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "reading seed placements");
        Vec::new()
    });
    let chart = match web.store.timeline(id).await {
        Ok(points) => chart::build(&points),
        Err(e) => {
            tracing::warn!(error = %e, "reading the chart");
            None
        }
    };
    let names = |l: Vec<(herald_store::ListId, String)>| l.into_iter().map(|(_, n)| n).collect();
    let (segment, exclude, also_lists, exclude_lists) = match web.store.campaign(id).await {
        Ok(Some(stored)) => (
            stored.segment.map(|s| s.0),
            stored.exclude.map(|s| s.0),
            names(stored.also_lists),
            names(stored.exclude_lists),
        ),
        _ => (None, None, Vec::new(), Vec::new()),
    };
    // For a menu: an unreadable list of lists shows none (the form then leaves them alone).
    let list_names = web.store.list_names().await.unwrap_or_default();
    let segment_names = web
        .store
        .segment_records()
        .await
        .map(|all| all.into_iter().map(|g| g.name).collect())
        .unwrap_or_default();
    let c = report.campaign;
    let scheduled = scheduled_text(&c);
    render(&CampaignPage {
        ab: report.ab,
        archive_url,
        attachments,
        attachments_enabled: web.attachments.enabled,
        attachments_max_kb: web.attachments.max_bytes.div_ceil(1024),
        segment,
        exclude,
        list: c.list.clone(),
        also_lists,
        exclude_lists,
        segment_names,
        list_names,
        complaints_block: check.as_ref().is_some_and(|k| {
            k.findings
                .iter()
                .any(|f| herald_engine::campaign::check::BLOCKING_CODES.contains(&f.code.as_str()))
        }),
        check,
        scheduled,
        schedule_error: c.schedule_error.clone(),
        admin: s.user.role >= crate::auth::Role::Admin,
        notice,
        chart,
        placement,
        user: Some(s.user.email),
        csrf: s.csrf,
        id: c.id,
        name: c.name,
        subject: c.subject,
        status: c.status.to_string(),
        message,
        headline,
        details,
        tabs,
        tab,
        q: search,
        rows,
        next: page.next_after,
    })
}

/// One recipient as a row of the tab: the last attempt's time, reply and MX.
fn row(r: herald_engine::api_types::RecipientReport) -> Row {
    let evidence = r
        .evidence
        .as_ref()
        .map(|e| {
            format!(
                "{} · {}{}",
                e.at,
                e.reply
                    .clone()
                    .or_else(|| e.error.clone())
                    .unwrap_or_default(),
                e.mx.as_deref()
                    .map(|m| format!(" · {m}"))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_default();
    Row {
        email_path: super::segment(&r.email),
        evidence,
        email: r.email,
        state: r.state.to_string(),
        reason: r.reason.unwrap_or_default(),
    }
}

/// The headline figures and the recipient tabs, each with its count (relayed only where there
/// is something relayed: a campaign sent direct has none).
fn headline_and_tabs(counts: &Counts) -> (Vec<Figure>, Vec<Tab>) {
    let figure = |key: &str| FIGURES.iter().find(|(k, _, _)| *k == key);
    let shown = |key: &str| key != "relayed" || counts.relayed > 0;
    let headline: Vec<Figure> = FIGURES
        .iter()
        .filter(|(key, _, _)| shown(key))
        .map(|&(key, label, definition)| Figure {
            key,
            label,
            value: count(counts, key),
            definition,
        })
        .collect();
    let tabs: Vec<Tab> = TABS
        .iter()
        .filter(|t| shown(t))
        .filter_map(|t| figure(t))
        .map(|&(key, label, _)| Tab {
            key,
            label,
            count: count(counts, key),
        })
        .collect();
    (headline, tabs)
}

/// When a scheduled campaign starts, in the zone it was scheduled in.
fn scheduled_text(c: &herald_engine::reports::CampaignSummary) -> Option<String> {
    (c.status == "scheduled")
        .then(|| {
            let at = c.scheduled_at.as_deref()?;
            let ms =
                time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                    .ok()?
                    .unix_timestamp_nanos()
                    / 1_000_000;
            herald_engine::campaign::schedule_local(ms as i64, c.schedule_tz.as_deref()).map(
                |local| match &c.schedule_tz {
                    Some(z) => format!("{local} ({z})"),
                    None => format!("{local} (UTC)"),
                },
            )
        })
        .flatten()
}

/// "See details" of every campaign: its subject, From and times (the report's summary).
fn basic_details(r: &CampaignReport) -> Vec<(String, String)> {
    let c = &r.campaign;
    let not_yet = |t: &Option<String>| t.clone().unwrap_or_else(|| "not yet".into());
    vec![
        ("Subject".into(), c.subject.clone()),
        (
            "From".into(),
            format!(
                "{} <{}>",
                c.from.name.clone().unwrap_or_default(),
                c.from.address
            ),
        ),
        ("Created".into(), c.created_at.clone()),
        ("Started".into(), not_yet(&c.started_at)),
        ("Finished".into(), not_yet(&c.finished_at)),
    ]
}

/// How the campaign is sent, in words (after [`basic_details`]).
fn sending_rows(d: &CampaignDetails) -> Vec<(String, String)> {
    let mut rows = vec![("Sending domain".into(), d.sending_domain.clone())];
    if let Some(r) = &d.reply_to {
        rows.push(("Reply-To".into(), r.clone()));
    }
    rows.push(("List-Id".into(), d.list_id.clone()));
    let dkim = match (&d.dkim.status, &d.dkim.d) {
        (DkimStatus::Signing, Some(dom)) => {
            format!(
                "signed as d={dom} (selectors {})",
                d.dkim.selectors.join(", ")
            )
        }
        (DkimStatus::KeysUnusable, _) => format!(
            "not signed: the domain's keys cannot be used ({})",
            d.dkim.error.as_deref().unwrap_or("")
        ),
        _ => "not signed: the From domain is not connected".to_string(),
    };
    rows.push(("DKIM".into(), dkim));
    let authentication = match &d.gate_override {
        None => "the domain passed Herald's checks when the campaign was created".to_string(),
        Some(o) => format!("NOT verified: {o}"),
    };
    rows.push(("Authentication".into(), authentication));
    if let Some(o) = &d.complaint_override {
        rows.push((
            "Complaint rate".into(),
            format!("sent despite a rate past 0.3 %: {o}"),
        ));
    }
    let return_path = match &d.return_path_domain {
        None => "the From address (no return-path domain: bounces are not collected)".to_string(),
        Some(dom) => format!("b+<token>@{dom}"),
    };
    rows.push(("Return path".into(), return_path));
    let ips = if d.sending_ips.is_empty() {
        "chosen by the system per connection ([delivery] source_ips is empty)".to_string()
    } else {
        d.sending_ips.join(", ")
    };
    rows.push(("Sending IPs".into(), ips));
    rows
}

#[derive(Deserialize)]
pub(super) struct SendForm {
    csrf: Option<String>,
    /// Why it goes although the spam-complaint rate is past 0.3 % (when the page asked).
    despite: Option<String>,
}

pub(super) async fn send<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(s): axum::Extension<Session>,
    Path(id): Path<String>,
    Form(f): Form<SendForm>,
) -> Response {
    let cid = match posted(&s, &id, f.csrf.as_deref()) {
        Ok(cid) => cid,
        Err(r) => return *r,
    };
    let despite = f.despite.filter(|w| !w.trim().is_empty()).map(|why| {
        format!(
            "sent despite the complaint rate from its page by {}: {why}",
            s.user.email
        )
    });
    match web.actions.send(cid, despite).await {
        Ok(()) => Redirect::to(&format!("/campaigns/{cid}")).into_response(),
        Err(e) => redirect_with(
            &s,
            &format!("/campaigns/{cid}"),
            flash::Kind::Problem,
            &e.to_string(),
        ),
    }
}

/// `POST /campaigns/{id}/duplicate`: a new draft with the same content, then its page.
pub(super) async fn duplicate<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(s): axum::Extension<Session>,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let cid = match posted(&s, &id, f.csrf.as_deref()) {
        Ok(cid) => cid,
        Err(r) => return *r,
    };
    match web.actions.duplicate(cid, None).await {
        Ok(new) => redirect_with(
            &s,
            &format!("/campaigns/{new}"),
            flash::Kind::Notice,
            &format!("A copy of campaign {cid}: this draft."),
        ),
        Err(e) => redirect_with(
            &s,
            &format!("/campaigns/{cid}"),
            flash::Kind::Problem,
            &e.to_string(),
        ),
    }
}

/// `POST /campaigns/{id}/delete`: delete a draft, back to the campaigns.
pub(super) async fn delete<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(s): axum::Extension<Session>,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let cid = match posted(&s, &id, f.csrf.as_deref()) {
        Ok(cid) => cid,
        Err(r) => return *r,
    };
    match web.actions.delete_draft(cid).await {
        Ok(()) => redirect_with(
            &s,
            "/",
            flash::Kind::Notice,
            &format!("Deleted draft {cid}."),
        ),
        Err(e) => redirect_with(
            &s,
            &format!("/campaigns/{cid}"),
            flash::Kind::Problem,
            &e.to_string(),
        ),
    }
}

/// `POST /campaigns/{id}/pause|resume|cancel`: back to the campaign's page with what happened.
async fn control<S: Store>(
    web: &Web<S>,
    s: &Session,
    id: &str,
    csrf: Option<&str>,
    what: Control,
) -> Response {
    let cid = match posted(s, id, csrf) {
        Ok(cid) => cid,
        Err(r) => return *r,
    };
    let done = web.actions.control(cid, what).await.map(|done| match what {
        Control::Pause => {
            "Paused: no new messages go out; those already on their way finish and are recorded."
                .to_string()
        }
        Control::Resume => "Resumed: sending continues where it stopped.".to_string(),
        Control::Cancel => format!(
            "Cancelled: {} recipients will not be sent this campaign.",
            done.cancelled.unwrap_or(0)
        ),
    });
    back(s, cid, done)
}

pub(super) async fn pause<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(s): axum::Extension<Session>,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    control(&web, &s, &id, f.csrf.as_deref(), Control::Pause).await
}

pub(super) async fn resume<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(s): axum::Extension<Session>,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    control(&web, &s, &id, f.csrf.as_deref(), Control::Resume).await
}

pub(super) async fn cancel<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(s): axum::Extension<Session>,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    control(&web, &s, &id, f.csrf.as_deref(), Control::Cancel).await
}

/// `POST /campaigns/{id}/schedule`: the form's local date and time in its zone.
#[derive(Deserialize)]
pub(super) struct ScheduleForm {
    csrf: Option<String>,
    at: Option<String>,
    tz: Option<String>,
    /// Ticked: the time of `at` in each recipient's own zone (`tz` for those without one).
    local: Option<String>,
}

pub(super) async fn schedule<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(s): axum::Extension<Session>,
    Path(id): Path<String>,
    Form(f): Form<ScheduleForm>,
) -> Response {
    let cid = match posted(&s, &id, f.csrf.as_deref()) {
        Ok(cid) => cid,
        Err(r) => return *r,
    };
    let tz =
        f.tz.as_deref()
            .map(str::trim)
            .filter(|z| !z.is_empty())
            .unwrap_or("UTC");
    let at = f.at.unwrap_or_default();
    // The picker gives `2026-12-10T09:00`: in local-time mode its time is each recipient's.
    let local_time = f
        .local
        .is_some()
        .then(|| at.split_once('T').map(|(_, t)| t.to_string()))
        .flatten();
    let when = crate::ScheduleRequest {
        at,
        tz: Some(tz.to_string()),
        local_time,
    };
    let done = web.actions.schedule(cid, when).await.map(|done| match done.local_time {
        Some(lt) => format!(
            "Scheduled: each recipient gets it at {lt} in their own time zone (the first zone gets there at {}) unless you unschedule it.",
            done.scheduled_at.unwrap_or_default()
        ),
        None => format!(
            "Scheduled for {}: it goes out then unless you unschedule it.",
            done.local.unwrap_or_default()
        ),
    });
    back(&s, cid, done)
}

/// `POST /campaigns/{id}/unschedule`.
pub(super) async fn unschedule<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(s): axum::Extension<Session>,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let cid = match posted(&s, &id, f.csrf.as_deref()) {
        Ok(cid) => cid,
        Err(r) => return *r,
    };
    let done = web.actions.unschedule(cid).await;
    back(
        &s,
        cid,
        done.map(|_| "Unscheduled: it is a draft again.".to_string()),
    )
}

/// `POST /campaigns/{id}/check`: run the pre-send check again, back to the campaign.
pub(super) async fn check<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(s): axum::Extension<Session>,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let cid = match posted(&s, &id, f.csrf.as_deref()) {
        Ok(cid) => cid,
        Err(r) => return *r,
    };
    let done = web.actions.check(cid, "check").await.map(|c| {
        format!(
            "Checked: {} problem(s), {} warning(s).",
            c.problems, c.warnings
        )
    });
    back(&s, cid, done)
}

/// A form posted to `/campaigns/{id}/…`: its CSRF token checked and the id read, or the answer.
pub(super) fn posted(
    s: &Session,
    id: &str,
    csrf: Option<&str>,
) -> Result<CampaignId, Box<Response>> {
    csrf_form(s, csrf)?;
    id.parse::<CampaignId>()
        .map_err(|_| Box::new(problem(StatusCode::NOT_FOUND, "No such campaign.")))
}

/// Back to the campaign's page with what an action did, or why it was refused.
pub(super) fn back<E: std::fmt::Display>(
    s: &Session,
    cid: CampaignId,
    done: Result<String, E>,
) -> Response {
    let to = format!("/campaigns/{cid}");
    match done {
        Ok(said) => redirect_with(s, &to, flash::Kind::Notice, &said),
        Err(e) => redirect_with(s, &to, flash::Kind::Problem, &e.to_string()),
    }
}

/// `POST /campaigns/{id}/audience` (admins, in `WRITES`): a draft's other lists (`also`, one
/// per ticked box, when the boxes were shown: `lists_shown`), its segment, exclusion segment
/// and excluded lists (`out`).
pub(super) async fn audience<S: Store>(
    State(web): State<Arc<Web<S>>>,
    axum::Extension(s): axum::Extension<Session>,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    use herald_engine::audience::segments::{self, AudienceChange};
    let value = |key: &str| f.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let cid = match posted(&s, &id, value("csrf").as_deref()) {
        Ok(cid) => cid,
        Err(r) => return *r,
    };
    let pick = |v: Option<String>| Some(v.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()));
    let all = |key: &str| {
        f.iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    let change = AudienceChange {
        segment: pick(value("segment")),
        exclude: pick(value("exclude")),
        // The boxes were on the form (not when the lists could not be read): what is
        // unticked is off.
        also_lists: value("lists_shown").map(|_| all("also")),
        exclude_lists: value("lists_shown").map(|_| all("out")),
    };
    let done = segments::set_campaign_audience(&web.store, cid, &change, web.clock.now_ms())
        .await
        .map(|a| {
            format!(
                "Audience: {} recipients now (before the suppression list){}.",
                a.recipients,
                if a.excluded > 0 {
                    format!(", {} excluded", a.excluded)
                } else {
                    String::new()
                }
            )
        });
    back(&s, cid, done)
}
