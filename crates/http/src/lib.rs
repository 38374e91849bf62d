//! Herald over HTTP (axum):
//! - `public/` — the open pixel, the click redirect, the unsubscribe page and RFC 8058
//!   one-click: signed tokens, no login (a bad token is a 404 that redirects nowhere);
//! - `api/` — `/api/v1`, Bearer tokens, every route and its role in one table;
//! - `ui/` — server-rendered pages (askama), session cookies, CSRF on every form.

pub mod accounts;
pub mod api;
pub mod auth;
pub mod client;
pub mod hooks;
pub mod preview;
pub mod public;
pub mod redirect;
pub mod server;
pub mod throttle;
pub mod ui;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::future::BoxFuture;
use herald_engine::api_types::{
    CampaignDetails, Diagnosis, DomainStatus, IpsReport, TestSend, Verification,
};
use herald_store::{CampaignId, Store};

pub use client::ClientIp;
pub use server::{ServerLimits, serve};
pub use throttle::{LoginGuard, LoginLimits};

/// Why an action failed, in terms a caller can act on, with one HTTP mapping
/// ([`Failure::status`]). The cause of `Unavailable` and `Internal` is logged where it
/// happened and never sent to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// What the request names does not exist (an unknown campaign).
    #[error("{0}")]
    NotFound(String),
    /// The request itself is wrong (an address that is not one); the text says what.
    #[error("{0}")]
    BadInput(String),
    /// The request is fine but the state refuses it now (the From domain does not verify).
    #[error("{0}")]
    Conflict(String),
    /// The database or another service did not answer: try again.
    #[error("the database did not answer; try again")]
    Unavailable,
    #[error("internal error")]
    Internal,
}

impl Failure {
    pub fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            Failure::NotFound(_) => StatusCode::NOT_FOUND,
            Failure::BadInput(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Failure::Conflict(_) => StatusCode::CONFLICT,
            Failure::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Failure::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// When a draft starts, as `campaign schedule` takes it: `at` an RFC 3339 time with its
/// offset, or a local date and time read in `tz` (default UTC); with `local_time` (`HH:MM`),
/// `at`'s date at that time in each recipient's own zone (`tz` for those without one).
#[derive(Debug, Clone, Default)]
pub struct ScheduleRequest {
    pub at: String,
    pub tz: Option<String>,
    pub local_time: Option<String>,
}

/// A seed mailbox to add from the web UI (the password is used and stored, never shown again:
/// not even by `Debug`).
#[derive(Clone)]
pub struct SeedRequest {
    pub provider: String,
    /// `HOST:PORT`.
    pub imap: String,
    pub user: String,
    pub password: String,
    pub address: Option<String>,
    /// `tls`, `starttls` or `plain`.
    pub security: String,
}

impl std::fmt::Debug for SeedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedRequest")
            .field("provider", &self.provider)
            .field("imap", &self.imap)
            .field("user", &self.user)
            .field("password", &"[hidden]")
            .field("address", &self.address)
            .field("security", &self.security)
            .finish()
    }
}

/// What the web layer asks the application to do (it owns the keys, DNS and the gate). Every
/// answer is a type from [`herald_engine::api_types`], the same the CLI prints with `--json`.
pub trait Actions: Send + Sync + 'static {
    /// The diagnosis of one recipient; None when the address is not a recipient.
    fn why(
        &self,
        campaign: CampaignId,
        email: String,
    ) -> BoxFuture<'static, Result<Option<Diagnosis>, Failure>>;
    /// Send a draft campaign (check the gate, snapshot, mark it sending). Idempotent.
    /// Start a campaign's send; `despite`: why it goes although its spam-complaint rate is past
    /// 0.3 % (recorded on the campaign; without it such a send is refused).
    fn send(
        &self,
        campaign: CampaignId,
        despite: Option<String>,
    ) -> BoxFuture<'static, Result<(), Failure>>;
    /// The From-alignment gate (design §5): Ok, or why the From address may not be used.
    fn check_from(&self, from_address: String) -> BoxFuture<'static, Result<(), Failure>>;
    /// The "See details" data (`campaign show --json`).
    fn details(
        &self,
        campaign: CampaignId,
    ) -> BoxFuture<'static, Result<Option<CampaignDetails>, Failure>>;
    /// Connected domains with their records and re-verification state (`domain list --json`).
    fn domains(&self) -> BoxFuture<'static, Result<Vec<DomainStatus>, Failure>>;
    /// Verify one connected domain through DNS now (`domain verify --json`); None when it is
    /// not connected.
    fn verify_domain(
        &self,
        domain: String,
    ) -> BoxFuture<'static, Result<Option<Verification>, Failure>>;
    /// Connect a domain (`domain add`): its DKIM keys made, the records to publish, and notes
    /// for whoever publishes them.
    fn add_domain(
        &self,
        domain: String,
        selector: Option<String>,
    ) -> BoxFuture<'static, Result<(herald_engine::domains::ConnectedDomain, Vec<String>), Failure>>;
    /// New DKIM keys for a connected domain (`domain rotate`); signing switches once their
    /// records are found.
    fn rotate_domain(
        &self,
        domain: String,
    ) -> BoxFuture<'static, Result<herald_engine::domains::Rotation, Failure>>;
    /// Add a seed mailbox after trying its login (nothing is kept when it fails); its address.
    fn add_seed(&self, seed: SeedRequest) -> BoxFuture<'static, Result<String, Failure>>;
    /// Log in to a seed now with its stored password: Ok(Ok) when it works, Ok(Err(why))
    /// when it does not.
    fn test_seed(&self, address: String)
    -> BoxFuture<'static, Result<Result<(), String>, Failure>>;
    /// The sending IPs with PTR, forward confirmation and blocklist listings (`ips --json`).
    fn ips(&self) -> BoxFuture<'static, Result<IpsReport, Failure>>;
    /// The DMARC aggregate reports of the last `days` days (`dmarc report --json`), for one
    /// domain or all.
    fn dmarc(
        &self,
        domain: Option<String>,
        days: u32,
    ) -> BoxFuture<'static, Result<herald_engine::reports::dmarc::DmarcView, Failure>>;
    /// A new draft with the same content (`campaign duplicate`), named `name` or "… (copy)".
    fn duplicate(
        &self,
        campaign: CampaignId,
        name: Option<String>,
    ) -> BoxFuture<'static, Result<CampaignId, Failure>>;
    /// Delete a draft (`campaign delete`); Conflict once its send started.
    fn delete_draft(&self, campaign: CampaignId) -> BoxFuture<'static, Result<(), Failure>>;
    /// Schedule a draft (`campaign schedule --at T [--tz Z] [--local-time HH:MM] --json`).
    /// BadInput for a time or zone that cannot be read, Conflict for a time that has passed
    /// or a campaign that started.
    fn schedule(
        &self,
        campaign: CampaignId,
        when: ScheduleRequest,
    ) -> BoxFuture<'static, Result<herald_engine::api_types::CampaignScheduled, Failure>>;
    /// Give a draft its A/B test, or take it away (`campaign ab`): the test as the report
    /// shows it. BadInput for a test that cannot run (saying why), Conflict once it started.
    fn set_ab(
        &self,
        campaign: CampaignId,
        test: Option<herald_engine::campaign::ab::AbTest>,
    ) -> BoxFuture<'static, Result<Option<herald_engine::campaign::ab::AbReport>, Failure>>;
    /// Publish a campaign on its public archive page, or stop (`campaign archive --json`).
    fn archive(
        &self,
        campaign: CampaignId,
        on: bool,
    ) -> BoxFuture<'static, Result<herald_engine::api_types::ArchiveState, Failure>>;
    /// Call off a scheduled start (`campaign unschedule --json`).
    fn unschedule(
        &self,
        campaign: CampaignId,
    ) -> BoxFuture<'static, Result<herald_engine::api_types::CampaignScheduled, Failure>>;
    /// Change a draft (`campaign edit`); `how` prefixes a recorded gate override. NotFound,
    /// BadInput (what is wrong, the From gate's refusal too), Conflict (its send started).
    fn edit(
        &self,
        campaign: CampaignId,
        patch: herald_engine::api_types::CampaignPatch,
        how: String,
    ) -> BoxFuture<'static, Result<(), Failure>>;
    /// Run the pre-send check of a campaign now and keep it (`campaign check --json`); `at`
    /// says why (`check`, `create`).
    fn check(
        &self,
        campaign: CampaignId,
        at: &'static str,
    ) -> BoxFuture<'static, Result<herald_engine::api_types::CampaignCheck, Failure>>;
    /// Pause, resume or cancel a campaign (`campaign pause|resume|cancel`); Conflict when its
    /// status does not allow it.
    fn control(
        &self,
        campaign: CampaignId,
        what: herald_engine::campaign::Control,
    ) -> BoxFuture<'static, Result<herald_engine::api_types::CampaignControlled, Failure>>;
    /// Send one test copy of a campaign to `to` (`campaign test --json`); recorded nowhere.
    fn test_send(
        &self,
        campaign: CampaignId,
        to: String,
    ) -> BoxFuture<'static, Result<TestSend, Failure>>;
}

/// The state of the authenticated UI and API.
pub struct Web<S: Store> {
    pub store: S,
    pub actions: Arc<dyn Actions>,
    /// Mark cookies `Secure` (the public URL is https).
    pub secure_cookies: bool,
    /// `[http] public_url`: where sign-up forms and signed links are.
    pub public_url: String,
    /// How long a login lasts.
    pub session_ttl_ms: i64,
    /// Password checks and failed-login backoff.
    pub login: LoginGuard,
    /// Who the client is (behind proxies).
    pub client_ip: ClientIp,
    /// Erasure tokens: erased people are refused by imports and `contacts`, and erased.
    pub erasure: Arc<herald_mail::erasure::ErasureKey>,
    /// What is kept of a visitor's IP address (`[tracking] ip`), for sign-ups posted by a site.
    pub ip_policy: public::IpPolicy,
    /// The time of day (sessions, tokens, the times written).
    pub clock: herald_engine::Clock,
    /// The run-time settings' values from herald.toml (the Settings page's "file value", what a
    /// reset goes back to).
    pub runtime_base: herald_engine::runtime::RuntimeValues,
    /// `[attachments]`: whether drafts may carry files, and their cap.
    pub attachments: herald_engine::campaign::attachments::Policy,
}

/// Everything served on `[http] listen`: the UI, `/api/v1`, and the public signed routes,
/// each answer with the security headers.
pub fn app<S: Store>(
    web: Arc<Web<S>>,
    public: Arc<public::Public<S>>,
    hooks: Arc<hooks::Hooks<S>>,
) -> Router {
    Router::new()
        .merge(api::router(web.clone()))
        .merge(ui::router(web))
        .merge(public::router(public))
        .merge(hooks::router(hooks))
        .layer(axum::middleware::from_fn(security_headers))
}

/// The policy of every HTML page: scripts only from `/static/herald.js`, no framing (the Send
/// button cannot be clickjacked), forms post only here. Styles may be inline because the
/// compose preview shows the user's own email HTML, which is styled inline.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: https: http:; connect-src 'self'; form-action 'self'; \
frame-ancestors 'none'; base-uri 'none'";

/// Headers on every answer (a handler's own value wins).
async fn security_headers(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    let set: [(HeaderName, &'static str); 5] = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // Tracking and unsubscribe URLs carry tokens: never hand them on as a Referer.
        (header::REFERRER_POLICY, "no-referrer"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in set {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    r
}
