//! `POST /hooks/{provider}`: sending providers' event webhooks (Mailgun, Postmark, SendGrid,
//! Brevo). Public (the provider cannot log in) but authenticated the way each provider signs
//! or authenticates its requests; a request that fails that is 401 and changes nothing. A
//! batch is applied in one transaction, each event once (a retry or a replay changes nothing).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use herald_engine::feedback::FeedbackPolicy;
use herald_engine::feedback::webhooks::ingest;
use herald_mail::webhooks::{HookError, HookRequest, HookSecret, Provider, verify_and_parse};
use herald_store::Store;

/// The webhook endpoints' state: the providers configured in `[hooks.*]`.
pub struct Hooks<S: Store> {
    pub store: S,
    pub secrets: HashMap<Provider, HookSecret>,
    pub policy: FeedbackPolicy,
}

/// Largest post accepted (SendGrid batches up to 768 KB; a 10,000-event batch is ~4 MB).
const MAX_BODY: usize = 16 * 1024 * 1024;

pub fn router<S: Store>(state: Arc<Hooks<S>>) -> Router {
    Router::new()
        .route("/hooks/{provider}", post(hook::<S>))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response()
}

async fn hook<S: Store>(
    State(state): State<Arc<Hooks<S>>>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((p, secret)) =
        Provider::parse(&provider).and_then(|p| state.secrets.get(&p).map(|s| (p, s)))
    else {
        return answer(
            StatusCode::NOT_FOUND,
            serde_json::json!({"error": "no such webhook (is its [hooks.<provider>] section set?)"}),
        );
    };
    let now_ms = state.policy.clock.now_ms();
    // Checked and read before any await (the request borrows a non-Send closure).
    let verified = {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        verify_and_parse(
            p,
            secret,
            &HookRequest {
                header: &header,
                body: &body,
                // The provider signed with its clock: the replay window is on the system's.
                now_s: time::OffsetDateTime::now_utc().unix_timestamp(),
            },
        )
    };
    let events = match verified {
        Ok(e) => e,
        Err(HookError::Unauthorized(why)) => {
            tracing::warn!(provider = %p, %why, "webhook refused");
            let mut r = answer(StatusCode::UNAUTHORIZED, serde_json::json!({"error": why}));
            if matches!(secret, HookSecret::Basic { .. }) {
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Basic realm=\"herald hooks\""),
                );
            }
            return r;
        }
        Err(HookError::Malformed(why)) => {
            return answer(StatusCode::BAD_REQUEST, serde_json::json!({"error": why}));
        }
    };
    match ingest(&state.store, p, &events, &body, &state.policy, now_ms).await {
        Ok(n) => {
            tracing::info!(provider = %p, events = n.events, applied = n.applied, duplicates = n.duplicates, unmatched = n.unmatched, "webhook");
            answer(
                StatusCode::OK,
                serde_json::json!({
                    "events": n.events, "applied": n.applied,
                    "duplicates": n.duplicates, "unmatched": n.unmatched,
                }),
            )
        }
        // The provider retries what was not taken.
        Err(e) => {
            tracing::error!(provider = %p, error = %e, "webhook not recorded");
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({"error": "the database did not answer; retry"}),
            )
        }
    }
}
