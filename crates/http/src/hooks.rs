//! `POST /hooks/{provider}`: sending providers' event webhooks (Mailgun, Postmark, SendGrid,
//! Brevo, Amazon SES through SNS). Public (the provider cannot log in) but authenticated the way each provider signs
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
use herald_engine::feedback::sns::Sns;
use herald_engine::feedback::webhooks::ingest;
use herald_mail::webhooks::ses::{self, Envelope, MessageType};
use herald_mail::webhooks::{
    HookError, HookRequest, HookSecret, Provider, ProviderEvent, verify_and_parse,
};
use herald_store::Store;

/// The webhook endpoints' state: the providers configured in `[hooks.*]`.
pub struct Hooks<S: Store> {
    pub store: S,
    pub secrets: HashMap<Provider, HookSecret>,
    pub policy: FeedbackPolicy,
    /// Amazon SNS's certificates and confirmations (with `[hooks.ses]`).
    pub sns: Option<Sns>,
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
    if let HookSecret::Sns { topic_arns, pinned } = secret {
        return sns(&state, topic_arns, pinned, &body, now_ms).await;
    }
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
            let mut r = refused(p, why);
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
    record(&state, p, &events, &body, now_ms).await
}

fn refused(p: Provider, why: String) -> Response {
    tracing::warn!(provider = %p, %why, "webhook refused");
    answer(StatusCode::UNAUTHORIZED, serde_json::json!({"error": why}))
}

/// Amazon SES through SNS: the message's signature checked against the pinned certificates
/// or the one it names at Amazon (fetched), then a notification's events recorded or a
/// subscription to a configured topic confirmed.
async fn sns<S: Store>(
    state: &Hooks<S>,
    topic_arns: &[String],
    pinned: &[Vec<u8>],
    body: &[u8],
    now_ms: i64,
) -> Response {
    let p = Provider::Ses;
    let env = match Envelope::parse(body) {
        Ok(e) => e,
        Err(e) => return refused(p, e.to_string()),
    };
    let Some(client) = &state.sns else {
        return refused(p, "no [hooks.ses] client".into());
    };
    let now_s = time::OffsetDateTime::now_utc().unix_timestamp();
    // Before anything is fetched: a topic of this installation, and a certificate address of
    // Amazon SNS in that topic's region.
    if !topic_arns.contains(&env.topic_arn) {
        return refused(p, "a topic this installation does not subscribe to".into());
    }
    let verified = if pinned.is_empty() {
        if !ses::certificate_url_ok(&env.signing_cert_url, &env.topic_arn) {
            return refused(
                p,
                format!(
                    "SigningCertURL {:?} is not an Amazon SNS certificate address in the topic's region",
                    env.signing_cert_url
                ),
            );
        }
        match client
            .certificates(&env.signing_cert_url, &env.topic_arn)
            .await
        {
            Ok(certs) => env.verify(topic_arns, &certs, now_s),
            // Amazon could not be asked: SNS retries a 5xx (per its delivery policy).
            Err(why) => {
                tracing::warn!(provider = %p, %why, "SNS signing certificate not fetched");
                return answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    serde_json::json!({"error": format!("the signing certificate could not be fetched: {why}")}),
                );
            }
        }
    } else {
        env.verify(topic_arns, pinned, now_s)
    };
    if let Err(e) = verified {
        if !pinned.is_empty() {
            // After Amazon rotates its key, every post fails here until the new certificate
            // is pinned: say where it is.
            tracing::warn!(provider = %p, url = ?env.signing_cert_url, "SNS message not signed by a pinned certificate (if Amazon rotated its key, pin the certificate at this URL)");
        }
        return refused(p, e.to_string());
    }
    match env.kind {
        MessageType::Notification => match ses::events(&env, now_ms) {
            Ok(events) => record(state, p, &events, body, now_ms).await,
            Err(e) => answer(
                StatusCode::BAD_REQUEST,
                serde_json::json!({"error": e.to_string()}),
            ),
        },
        MessageType::SubscriptionConfirmation => {
            let url = env.subscribe_url.as_deref().unwrap_or("");
            match client.confirm(url, &env.topic_arn).await {
                Ok(()) => {
                    tracing::info!(topic = %env.topic_arn, "SNS subscription confirmed");
                    answer(
                        StatusCode::OK,
                        serde_json::json!({"confirmed": env.topic_arn}),
                    )
                }
                Err(why) => {
                    tracing::warn!(topic = %env.topic_arn, ?url, %why, "SNS subscription not confirmed: visit the URL to confirm it by hand");
                    let status = if ses::subscribe_url_ok(url, &env.topic_arn) {
                        StatusCode::BAD_GATEWAY
                    } else {
                        StatusCode::BAD_REQUEST
                    };
                    answer(
                        status,
                        serde_json::json!({"error": format!("subscription not confirmed: {why}")}),
                    )
                }
            }
        }
        MessageType::UnsubscribeConfirmation => {
            tracing::warn!(topic = %env.topic_arn, "SNS says this endpoint was unsubscribed from the topic");
            answer(
                StatusCode::OK,
                serde_json::json!({"unsubscribed": env.topic_arn}),
            )
        }
    }
}

/// Record a verified post's events and answer with what they did.
async fn record<S: Store>(
    state: &Hooks<S>,
    p: Provider,
    events: &[ProviderEvent],
    body: &[u8],
    now_ms: i64,
) -> Response {
    match ingest(&state.store, p, events, body, &state.policy, now_ms).await {
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
