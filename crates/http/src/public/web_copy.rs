//! `GET /v/{token}`: the web copy of one delivery's message, reached by the signed
//! `{{ view_in_browser_url }}` in it. Personalised as the recipient got it (their fields now),
//! with tracking off: no open pixel, links straight to their destinations, nothing recorded.
//! A GET changes nothing; a contact who was deleted or erased has no web copy any more.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use herald_engine::render::Links;
use herald_engine::render::web::{WebCopyError, web_copy};
use herald_mail::tracking::TokenKind;
use herald_store::{DeliveryId, Store};

use super::{Public, not_found};

/// The marketer's HTML on Herald's own origin: no scripts at all, and a sandbox (an opaque
/// origin: no cookies, no session) whatever the HTML holds.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline' https:; img-src https: http: data:; \
font-src https:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'; \
sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation";

/// The longest one web copy may take to render.
const RENDER_LIMIT: Duration = Duration::from_secs(5);

/// Web copies rendered at once (each compiles its campaign's templates): a flood of requests
/// for valid links gets 503s, not a queue of CPU work that outlives the clients.
static RENDERING: std::sync::LazyLock<Arc<tokio::sync::Semaphore>> =
    std::sync::LazyLock::new(|| Arc::new(tokio::sync::Semaphore::new(4)));

pub(super) async fn page<S: Store>(
    State(p): State<Arc<Public<S>>>,
    Path(token): Path<String>,
) -> Response {
    let now = p.clock.now_ms();
    let Some(t) = p.keys.verify(TokenKind::View, &token, "", now) else {
        return not_found();
    };
    let id = DeliveryId(t.delivery);
    let found = async {
        let Some(r) = p.store.delivery_ref(id).await? else {
            return Ok(None);
        };
        let Some(c) = p.store.campaign(r.campaign).await? else {
            return Ok(None);
        };
        // A list's confirmation message has no web copy: its link is the action itself.
        if c.kind == herald_domain::CampaignKind::Confirmation {
            return Ok(None);
        }
        let fields = p
            .store
            .delivery_detail(r.campaign, &r.email_key)
            .await?
            .and_then(|d| d.fields);
        // A/B: the variant this person got (the winner for the rest).
        let c = match herald_engine::campaign::ab::AbTest::of(&c) {
            Some(t) => {
                let v = r.variant.or(c.ab_winner).unwrap_or(0);
                t.apply(&c, v)
            }
            None => c,
        };
        Ok::<_, herald_store::StoreError>(Some((r, c, fields)))
    };
    let (r, c, fields) = match found.await {
        Ok(Some(x)) => x,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "reading a web copy");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    // Its own links, relative: the page is served from where they point.
    let unsubscribe = format!(
        "/u/{}",
        p.keys.sign(TokenKind::Unsubscribe, id.0, t.sent_at, "")
    );
    let preferences = format!(
        "/p/{}",
        p.keys.sign(TokenKind::Preferences, id.0, t.sent_at, "")
    );
    let view = format!("/v/{token}");
    render_page(
        &RENDERING,
        "message",
        id.0,
        "private, no-store",
        true,
        move || {
            web_copy(
                &c,
                &r.email,
                fields.as_deref(),
                r.seed,
                Links {
                    unsubscribe_url: Some(&unsubscribe),
                    preferences_url: Some(&preferences),
                    confirm_url: None,
                    view_url: Some(&view),
                },
            )
        },
    )
    .await
}

/// Render `job` (the marketer's HTML) off the async workers — at most `slots` at once (503
/// past that), within [`RENDER_LIMIT`] — and answer it under the sandboxing [`CSP`] with
/// `cache` (and `noindex`); `what` (`message`, `campaign`) and `id` name it in answers and logs.
pub(super) async fn render_page<F>(
    slots: &Arc<tokio::sync::Semaphore>,
    what: &'static str,
    id: i64,
    cache: &'static str,
    noindex: bool,
    job: F,
) -> Response
where
    F: FnOnce() -> Result<String, WebCopyError> + Send + 'static,
{
    let Ok(permit) = slots.clone().try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (header::RETRY_AFTER, "2"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            "Busy: try again in a moment.\n",
        )
            .into_response();
    };
    let rendered = tokio::time::timeout(
        RENDER_LIMIT,
        tokio::task::spawn_blocking(move || {
            // Held until the work ends, also when the client has gone.
            let _permit = permit;
            job()
        }),
    )
    .await;
    match rendered {
        Ok(Ok(Ok(html))) => {
            let mut r = (
                [
                    (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                    (header::CONTENT_SECURITY_POLICY, CSP),
                    (header::CACHE_CONTROL, cache),
                ],
                html,
            )
                .into_response();
            if noindex {
                r.headers_mut().insert(
                    header::HeaderName::from_static("x-robots-tag"),
                    header::HeaderValue::from_static("noindex, nofollow"),
                );
            }
            r
        }
        Ok(Ok(Err(WebCopyError::ContactGone))) => (
            StatusCode::GONE,
            [(header::CACHE_CONTROL, "no-store")],
            format!("This {what} is no longer available.\n"),
        )
            .into_response(),
        Ok(Ok(Err(e))) => {
            tracing::warn!(what, id, error = %e, "a page could not be rendered");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CACHE_CONTROL, "no-store")],
                format!("This {what} could not be shown.\n"),
            )
                .into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(what, id, error = %e, "rendering a page");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(_) => {
            tracing::warn!(what, id, "a page took too long to render");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
