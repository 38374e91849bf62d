//! Herald over HTTP (axum):
//! - `public/` — the open pixel, the click redirect, the unsubscribe page and RFC 8058
//!   one-click: signed tokens, no login (a bad token is a 404 that redirects nowhere);
//! - `api/` — `/api/v1`, Bearer tokens, every route and its role in one table;
//! - `ui/` — server-rendered pages (askama), session cookies, CSRF on every form.

pub mod api;
pub mod auth;
pub mod public;
pub mod ui;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use futures_util::future::BoxFuture;
use herald_engine::diagnose::Diagnosis;
use herald_store::{CampaignId, Store};
use tokio::net::TcpListener;

/// What the web layer asks the application to do (it owns the keys, DNS and the gate).
pub trait Actions: Send + Sync + 'static {
    /// The diagnosis of one recipient; None when the address is not a recipient.
    fn why(
        &self,
        campaign: CampaignId,
        email: String,
    ) -> BoxFuture<'static, Result<Option<Diagnosis>, String>>;
    /// Send a draft campaign (check the gate, snapshot, mark it sending). Idempotent.
    fn send(&self, campaign: CampaignId) -> BoxFuture<'static, Result<(), String>>;
    /// The From-alignment gate (design §5): Ok, or why the From address may not be used.
    fn check_from(&self, from_address: String) -> BoxFuture<'static, Result<(), String>>;
    /// The "See details" data (`campaign show --json`).
    fn details(
        &self,
        campaign: CampaignId,
    ) -> BoxFuture<'static, Result<Option<serde_json::Value>, String>>;
    /// Connected domains with their records and re-verification state (`domain list --json`).
    fn domains(&self) -> BoxFuture<'static, Result<serde_json::Value, String>>;
    /// Verify one connected domain through DNS now (`domain verify --json`); None when it is
    /// not connected.
    fn verify_domain(
        &self,
        domain: String,
    ) -> BoxFuture<'static, Result<Option<serde_json::Value>, String>>;
    /// The sending IPs with PTR, forward confirmation and blocklist listings (`ips --json`).
    fn ips(&self) -> BoxFuture<'static, Result<serde_json::Value, String>>;
    /// Send one test copy of a campaign to `to` (`campaign test --json`); recorded nowhere.
    fn test_send(
        &self,
        campaign: CampaignId,
        to: String,
    ) -> BoxFuture<'static, Result<serde_json::Value, String>>;
}

/// The state of the authenticated UI and API.
pub struct Web<S: Store> {
    pub store: S,
    pub actions: Arc<dyn Actions>,
    /// Mark cookies `Secure` (the public URL is https).
    pub secure_cookies: bool,
    /// How long a login lasts.
    pub session_ttl_ms: i64,
}

/// Everything served on `[http] listen`: the UI, `/api/v1`, and the public signed routes.
pub fn app<S: Store>(web: Arc<Web<S>>, public: Arc<public::Public<S>>) -> Router {
    Router::new()
        .merge(api::router(web.clone()))
        .merge(ui::router(web))
        .merge(public::router(public))
}

/// Serve `router` on `listener` until `shutdown` resolves; requests in flight finish first.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
