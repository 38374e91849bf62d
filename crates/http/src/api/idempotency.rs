//! `Idempotency-Key` on the API's POSTs: a client that did not hear the answer (a timeout, a
//! dropped connection) sends the request again with the same key and gets the first answer
//! again — one campaign, one list, one token — instead of a second one. Keys are per user, kept
//! 24 hours; the same key with a different request is refused (422), and one whose first request
//! is still running answers 409. Answers of our own failures (5xx) are not kept: a retry runs
//! again; nor are answers holding a secret shown once (`Cache-Control: no-store`, a new token):
//! a retry is told the request was answered. The request runs to its end even if the client
//! leaves. Without the header nothing changes.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use herald_store::{IdempotentClaim, Store};

use super::{Caller, error, internal};
use crate::Web;

/// The header, as Stripe and the IETF draft name it.
pub const HEADER: &str = "idempotency-key";
/// Set on an answer given again.
const REPLAYED: &str = "idempotent-replayed";
/// The largest request and answer bodies kept (above every route's own body limit: the CSV
/// imports take the most).
const MAX_BODY: usize = super::members::IMPORT_BODY_LIMIT + 1024 * 1024;
const MAX_ANSWER: usize = 64 * 1024 * 1024;
/// What a retry gets for a request whose answer held a secret shown once.
const SECRET_NOT_KEPT: &str = "{\"error\": \"this request was answered already; its answer held a secret shown once, which is not kept: list what exists (GET) instead\"}";

pub async fn layer<S: Store>(State(web): State<Arc<Web<S>>>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get(HEADER).cloned() else {
        return next.run(req).await;
    };
    let key = match key.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()) => {
            k.to_string()
        }
        _ => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Idempotency-Key: 1 to 255 visible ASCII characters (a UUID is a good one)",
            );
        }
    };
    let Some(Caller(user)) = req.extensions().get::<Caller>().cloned() else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is too large",
        );
    };
    let mut seen = Vec::with_capacity(bytes.len() + 256);
    seen.extend_from_slice(parts.method.as_str().as_bytes());
    seen.push(b' ');
    seen.extend_from_slice(parts.uri.to_string().as_bytes());
    seen.push(b'\n');
    seen.extend_from_slice(&bytes);
    let hash = herald_mail::sha256_hex(&seen);
    let now = web.clock.now_ms();
    match web
        .store
        .claim_idempotency(&user.email, &key, &hash, now)
        .await
    {
        Err(e) => internal(e),
        Ok(IdempotentClaim::OtherRequest) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Idempotency-Key was used for a different request: use a new key for a new request",
        ),
        Ok(IdempotentClaim::InProgress) => error(
            StatusCode::CONFLICT,
            "a request with this Idempotency-Key is still running: ask again in a moment",
        ),
        Ok(IdempotentClaim::Answered { status, body }) => {
            let mut r = Response::new(Body::from(body));
            *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let h = r.headers_mut();
            h.insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h.insert(REPLAYED, HeaderValue::from_static("true"));
            r
        }
        Ok(IdempotentClaim::New) => {
            // Run to the end even if the client goes away meanwhile: the answer is kept for
            // its retry, and the key is never left "still running".
            let req = Request::from_parts(parts, Body::from(bytes));
            let task = tokio::spawn(async move {
                let r = next.run(req).await;
                let (rparts, rbody) = r.into_parts();
                let Ok(rbytes) = to_bytes(rbody, MAX_ANSWER).await else {
                    let _ = web.store.answer_idempotency(&user.email, &key, None).await;
                    tracing::error!("an API answer too large to keep for its Idempotency-Key");
                    return error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "the answer could not be kept for the Idempotency-Key",
                    );
                };
                let secret = rparts
                    .headers
                    .get(axum::http::header::CACHE_CONTROL)
                    .is_some_and(|v| v.as_bytes().windows(8).any(|w| w == b"no-store"));
                let body = String::from_utf8_lossy(&rbytes);
                let answer = if rparts.status.is_server_error() {
                    // Our failure: a retry runs again.
                    None
                } else if secret {
                    // A secret shown once (a new token) is not kept: a retry is told so.
                    Some((StatusCode::CONFLICT.as_u16(), SECRET_NOT_KEPT))
                } else {
                    Some((rparts.status.as_u16(), body.as_ref()))
                };
                if let Err(e) = web
                    .store
                    .answer_idempotency(&user.email, &key, answer)
                    .await
                {
                    tracing::warn!(error = %e, "keeping an idempotent answer");
                }
                Response::from_parts(rparts, Body::from(rbytes))
            });
            task.await.unwrap_or_else(|e| {
                tracing::error!(error = %e, "an idempotent request's task failed");
                error(StatusCode::INTERNAL_SERVER_ERROR, "the request failed")
            })
        }
    }
}
