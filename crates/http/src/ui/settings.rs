//! The set-up pages: `GET /domains` (records to publish with copy buttons, re-verification
//! state, `POST /domains/{domain}/verify`), `GET /ips`, and `GET/POST /suppressions`
//! (`POST /suppressions/remove`). The data is what `domain list`, `domain verify`, `ips` and
//! `suppressions list` print with `--json`.

use std::sync::Arc;

use crate::Failure;
use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use herald_domain::EmailAddress;
use herald_engine::api_types::{DomainStatus, Verification};
use herald_engine::reports::ms_to_rfc3339;
use herald_store::{Store, Suppression};
use serde::Deserialize;

use super::{Session, failed, problem, render};
use crate::Web;
use crate::auth::Role;

struct RecordRow {
    kind: String,
    rtype: String,
    name: String,
    value: String,
}

struct CheckRow {
    status: String,
    kind: String,
    name: String,
    expected: String,
    found: String,
    why: String,
    required: bool,
}

struct VerificationView {
    ok: bool,
    checks: Vec<CheckRow>,
}

struct StatusView {
    ok: bool,
    at: String,
    since: String,
    problems: String,
}

struct ChangeRow {
    at: String,
    ok: bool,
    problems: String,
}

struct DomainView {
    domain: String,
    selector: String,
    pending: Option<String>,
    status: Option<StatusView>,
    records: Vec<RecordRow>,
    changes: Vec<ChangeRow>,
    verification: Option<VerificationView>,
}

#[derive(Template)]
#[template(path = "domains.html")]
struct DomainsPage {
    user: Option<String>,
    csrf: String,
    admin: bool,
    domains: Vec<DomainView>,
    /// What the add form had (kept when it is refused).
    typed: String,
    problem: Option<String>,
    notice: Option<String>,
}

fn domain_view(d: &DomainStatus) -> DomainView {
    DomainView {
        domain: d.domain.clone(),
        selector: d.selector.clone(),
        pending: d.pending_selector.clone(),
        status: d.last_check.as_ref().map(|c| StatusView {
            ok: c.ok,
            at: c.at.clone(),
            since: c.since.clone(),
            problems: c.problems.clone(),
        }),
        records: d
            .records
            .iter()
            .map(|r| RecordRow {
                kind: r.kind.to_string(),
                rtype: r.rtype.to_string(),
                name: r.name.clone(),
                value: r.value.clone(),
            })
            .collect(),
        changes: d
            .changes
            .iter()
            .map(|c| ChangeRow {
                at: c.at.clone(),
                ok: c.ok,
                problems: c.problems.clone(),
            })
            .collect(),
        verification: None,
    }
}

fn verification_view(v: &Verification) -> VerificationView {
    VerificationView {
        ok: v.ok,
        checks: v
            .records
            .iter()
            .map(|c| CheckRow {
                status: c.status.as_str().into(),
                kind: c.kind.to_string(),
                name: c.name.clone(),
                expected: c.expected.clone(),
                found: c.found.clone().unwrap_or_default(),
                why: c.why.clone(),
                required: c.required,
            })
            .collect(),
    }
}

/// What the domains page says besides the domains: a verification just made, what the add
/// form had, a problem or a notice.
#[derive(Default)]
struct DomainsShown {
    verified: Option<(String, Verification)>,
    typed: String,
    problem: Option<String>,
    notice: Option<String>,
}

async fn domains_page<S: Store>(
    web: &Web<S>,
    s: Session,
    shown: DomainsShown,
    status: StatusCode,
) -> Response {
    let verified = shown.verified;
    let list = match web.actions.domains().await {
        Ok(v) => v,
        Err(e) => {
            return failed(e, "listing domains", "The domains could not be read.");
        }
    };
    let mut domains: Vec<DomainView> = list.iter().map(domain_view).collect();
    if let Some((name, v)) = verified
        && let Some(d) = domains.iter_mut().find(|d| d.domain == name)
    {
        d.verification = Some(verification_view(&v));
    }
    let mut r = render(&DomainsPage {
        admin: s.user.role >= Role::Admin,
        user: Some(s.user.email),
        csrf: s.csrf,
        domains,
        typed: shown.typed,
        problem: shown.problem,
        notice: shown.notice,
    });
    *r.status_mut() = status;
    r
}

pub async fn domains<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    axum::extract::Query(q): axum::extract::Query<super::FlashQuery>,
) -> Response {
    let (problem, notice) = super::flashed(&s, q.flash.as_deref());
    let shown = DomainsShown {
        problem,
        notice,
        ..DomainsShown::default()
    };
    domains_page(&web, s, shown, StatusCode::OK).await
}

#[derive(serde::Deserialize)]
pub struct AddDomainForm {
    csrf: Option<String>,
    #[serde(default)]
    domain: String,
}

/// `POST /domains` (admins, in `WRITES`): connect a domain, as `domain add` does; the page then
/// shows its records to publish.
pub async fn add_domain<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<AddDomainForm>,
) -> Response {
    if let Err(r) = super::csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    match web
        .actions
        .add_domain(f.domain.trim().to_string(), None)
        .await
    {
        Ok((c, notes)) => {
            let mut text = format!(
                "Connected {} (DKIM selector {}): publish its records below, then Verify now.",
                c.domain, c.selector
            );
            for n in notes {
                text.push_str(&format!(" Note: {n}."));
            }
            super::redirect_with(&s, "/domains", super::flash::Kind::Notice, &text)
        }
        Err(e @ (Failure::BadInput(_) | Failure::Conflict(_) | Failure::NotFound(_))) => {
            let shown = DomainsShown {
                typed: f.domain,
                problem: Some(e.to_string()),
                ..DomainsShown::default()
            };
            domains_page(&web, s, shown, e.status()).await
        }
        Err(e) => failed(
            e,
            "connecting a domain",
            "The domain could not be connected.",
        ),
    }
}

/// `POST /domains/{domain}/rotate` (admins, in `WRITES`): new DKIM keys, as `domain rotate`
/// does; signing switches once their records are found.
pub async fn rotate<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Path(domain): Path<String>,
    Form(f): Form<super::CsrfForm>,
) -> Response {
    if let Err(r) = super::csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    let Ok(domain) = herald_domain::address::normalise_domain(&domain) else {
        return problem(StatusCode::NOT_FOUND, "No such connected domain.");
    };
    match web.actions.rotate_domain(domain).await {
        Ok(r) => super::redirect_with(
            &s,
            "/domains",
            super::flash::Kind::Notice,
            &format!(
                "New DKIM keys for {} under selector {}: publish its records (shown below, beside the current ones); {} keeps signing until they are found.",
                r.domain, r.next, r.active
            ),
        ),
        Err(e @ (Failure::BadInput(_) | Failure::NotFound(_) | Failure::Conflict(_))) => {
            super::redirect_with(&s, "/domains", super::flash::Kind::Problem, &e.to_string())
        }
        Err(e) => failed(e, "rotating keys", "The keys could not be rotated."),
    }
}

pub async fn verify<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Path(domain): Path<String>,
    Form(f): Form<super::CsrfForm>,
) -> Response {
    if let Err(r) = super::csrf_form(&s, f.csrf.as_deref()) {
        return *r;
    }
    // Parsed at the edge: only a host name goes further (never a path).
    let Ok(domain) = herald_domain::address::normalise_domain(&domain) else {
        return problem(StatusCode::NOT_FOUND, "No such connected domain.");
    };
    match web.actions.verify_domain(domain.clone()).await {
        Ok(Some(v)) => {
            let shown = DomainsShown {
                verified: Some((domain, v)),
                ..DomainsShown::default()
            };
            domains_page(&web, s, shown, StatusCode::OK).await
        }
        Ok(None) => problem(StatusCode::NOT_FOUND, "No such connected domain."),
        Err(e) => failed(e, "verifying a domain", "The domain could not be verified."),
    }
}

struct IpRow {
    ip: String,
    ptr: String,
    fcrdns: bool,
    listed: String,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "ips.html")]
struct IpsPage {
    user: Option<String>,
    csrf: String,
    note: Option<String>,
    blocklists: Vec<String>,
    ips: Vec<IpRow>,
}

pub async fn ips<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
) -> Response {
    let r = match web.actions.ips().await {
        Ok(v) => v,
        Err(e) => {
            return failed(
                e,
                "checking the sending IPs",
                "The sending IPs could not be checked.",
            );
        }
    };
    let ips = r
        .ips
        .iter()
        .map(|ip| IpRow {
            ip: ip.ip.to_string(),
            ptr: if ip.ptr.is_empty() {
                "no PTR".into()
            } else {
                ip.ptr.join(", ")
            },
            fcrdns: ip.fcrdns,
            listed: ip.listed_on.join(", "),
            errors: ip.errors.clone(),
        })
        .collect();
    render(&IpsPage {
        user: Some(s.user.email),
        csrf: s.csrf,
        note: r.note,
        blocklists: r.blocklists,
        ips,
    })
}

struct SuppressionRow {
    email: String,
    reason: String,
    source: String,
    at: String,
}

#[derive(Template)]
#[template(path = "suppressions.html")]
struct SuppressionsPage {
    user: Option<String>,
    csrf: String,
    admin: bool,
    rows: Vec<SuppressionRow>,
    next: Option<String>,
    message: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct SuppressionsQuery {
    after: Option<String>,
    flash: Option<String>,
}

const PAGE: u32 = 100;

pub async fn suppressions<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Query(q): Query<SuppressionsQuery>,
) -> Response {
    let after = q.after.unwrap_or_default();
    let (message, notice) = super::flashed(&s, q.flash.as_deref());
    let page = match web.store.suppressions(&after, PAGE).await {
        Ok(p) => p,
        Err(e) => {
            return failed(
                e,
                "listing suppressions",
                "The suppression list could not be read.",
            );
        }
    };
    let next = (page.len() as u32 == PAGE)
        .then(|| page.last().map(|p| p.email_key.clone()))
        .flatten();
    render(&SuppressionsPage {
        admin: s.user.role >= Role::Admin,
        user: Some(s.user.email),
        csrf: s.csrf,
        rows: page
            .into_iter()
            .map(|p| SuppressionRow {
                email: p.email_key,
                reason: p.reason.to_string(),
                source: p.source,
                at: ms_to_rfc3339(p.created_at_ms),
            })
            .collect(),
        next,
        message,
        notice,
    })
}

#[derive(Deserialize)]
pub struct SuppressionForm {
    csrf: Option<String>,
    email: Option<String>,
}

/// Check the form and the role; the parsed address's key, or the page to answer with.
fn suppression_form(s: &Session, f: SuppressionForm) -> Result<String, Box<Response>> {
    super::csrf_form(s, f.csrf.as_deref())?;
    let email = f.email.unwrap_or_default();
    EmailAddress::parse(email.trim())
        .map(|e| e.key())
        .map_err(|e| {
            Box::new(super::redirect_with(
                s,
                "/suppressions",
                super::flash::Kind::Problem,
                &format!("{email:?} is not an email address: {e}"),
            ))
        })
}

pub async fn suppress<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<SuppressionForm>,
) -> Response {
    let key = match suppression_form(&s, f) {
        Ok(k) => k,
        Err(r) => return *r,
    };
    let added = web
        .store
        .add_suppression(&Suppression {
            email_key: key,
            reason: herald_domain::SuppressionReason::Suppressed,
            source: format!("ui:{}", s.user.email),
            created_at_ms: web.clock.now_ms(),
        })
        .await;
    match added {
        Ok(_) => Redirect::to("/suppressions").into_response(),
        Err(e) => failed(
            e,
            "adding a suppression",
            "The address could not be suppressed.",
        ),
    }
}

pub async fn unsuppress<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    Form(f): Form<SuppressionForm>,
) -> Response {
    let key = match suppression_form(&s, f) {
        Ok(k) => k,
        Err(r) => return *r,
    };
    match web
        .store
        .remove_suppression(&key, &format!("ui:{}", s.user.email), web.clock.now_ms())
        .await
    {
        Ok(_) => Redirect::to("/suppressions").into_response(),
        Err(e) => failed(
            e,
            "removing a suppression",
            "The suppression could not be removed.",
        ),
    }
}

/// `POST /suppressions/import` (multipart: `csrf`, `action` add|remove, `reason`, `file`): add
/// or lift every address of a CSV (an `email` column, or one address per line); what it did,
/// with the lines it refused, comes back on the page.
pub async fn import_suppressions<S: Store>(
    State(web): State<Arc<Web<S>>>,
    Extension(s): Extension<Session>,
    mut form: axum::extract::Multipart,
) -> Response {
    use herald_engine::contacts::suppress::{BulkAction, suppress_csv};
    let (mut csrf, mut action, mut reason, mut file) = (None, None, None, None);
    loop {
        match form.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("csrf") => csrf = field.text().await.ok(),
                Some("action") => action = field.text().await.ok(),
                Some("reason") => reason = field.text().await.ok(),
                Some("file") => file = field.bytes().await.ok(),
                _ => {}
            },
            Ok(None) => break,
            Err(e) => {
                return super::redirect_with(
                    &s,
                    "/suppressions",
                    super::flash::Kind::Problem,
                    &format!("The upload could not be read: {e}."),
                );
            }
        }
    }
    if !csrf.as_deref().is_some_and(|c| super::same(c, &s.csrf)) {
        return problem(
            StatusCode::FORBIDDEN,
            "This form expired (missing or wrong CSRF token). Reload the page.",
        );
    }
    let back = |kind, text: &str| super::redirect_with(&s, "/suppressions", kind, text);
    let action = match (action.as_deref(), reason.as_deref()) {
        (Some("remove"), _) => BulkAction::Remove,
        (_, r) => match herald_domain::SuppressionReason::settable(r.unwrap_or("suppressed")) {
            Some(r) => BulkAction::Add(r),
            None => {
                return back(
                    super::flash::Kind::Problem,
                    "Choose a reason from the list.",
                );
            }
        },
    };
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        return back(super::flash::Kind::Problem, "Choose a CSV file.");
    };
    if bytes.iter().take(1024).any(|b| *b == 0) {
        return back(
            super::flash::Kind::Problem,
            "This is not a CSV file (it contains binary data).",
        );
    }
    let source = format!("ui:{}", s.user.email);
    let report =
        match suppress_csv(&web.store, &bytes[..], action, &source, web.clock.now_ms()).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "a bulk suppression change");
                return back(
                    super::flash::Kind::Problem,
                    &format!("Nothing more was changed: {e}"),
                );
            }
        };
    let mut text = match action {
        BulkAction::Remove => format!(
            "Lifted {}; {} were not on the list.",
            report.removed, report.not_listed
        ),
        BulkAction::Add(_) => format!(
            "Suppressed {}; {} were on the list already.",
            report.added, report.already
        ),
    };
    if report.rejected_count > 0 {
        let shown: Vec<String> = report
            .rejected
            .iter()
            .take(5)
            .map(|r| format!("line {} ({:?}): {}", r.line, r.value, r.reason))
            .collect();
        text.push_str(&format!(
            " {} line(s) refused: {}{}",
            report.rejected_count,
            shown.join("; "),
            if report.rejected_count > 5 {
                "; …"
            } else {
                ""
            }
        ));
    }
    back(super::flash::Kind::Notice, &text)
}
