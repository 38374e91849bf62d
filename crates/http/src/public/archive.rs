//! `GET /a/{token}`: a campaign's public archive page, at the signed address `campaign archive`
//! (the API, the campaign's page) gives out. Its HTML for no one in particular — no contact's
//! fields, no unsubscribe or tracking links — shown while the campaign is published and once
//! its send started; a draft, an unpublished campaign or a tampered address is a 404.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_engine::render::web::archive_copy;
use herald_mail::tracking::TokenKind;
use herald_store::{CampaignId, CampaignStatus, Store};

use super::web_copy::render_page;

/// Archive pages rendered at once: apart from the recipients' web copies, so a crawler on a
/// public link never turns them away.
static RENDERING: std::sync::LazyLock<Arc<tokio::sync::Semaphore>> =
    std::sync::LazyLock::new(|| Arc::new(tokio::sync::Semaphore::new(2)));
use super::{Public, not_found};

pub(super) async fn page<S: Store>(
    State(p): State<Arc<Public<S>>>,
    Path(token): Path<String>,
) -> Response {
    let now = p.clock.now_ms();
    let Some(t) = p.keys.verify(TokenKind::Archive, &token, "", now) else {
        return not_found();
    };
    let c = match p.store.campaign(CampaignId(t.delivery)).await {
        Ok(Some(c)) => c,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "reading an archived campaign");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let started = !matches!(c.status, CampaignStatus::Draft | CampaignStatus::Scheduled);
    if !c.archive || !started || c.kind != herald_domain::CampaignKind::Campaign {
        return not_found();
    }
    // The same for everyone: a shared cache may keep it a few minutes.
    let id = c.id.0;
    render_page(
        &RENDERING,
        "campaign",
        id,
        "public, max-age=300",
        false,
        move || archive_copy(&c),
    )
    .await
}
