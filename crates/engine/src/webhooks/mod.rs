//! Outbound webhooks: endpoints other systems register to hear what happened to each message
//! (delivered, bounced, complained, opened…), and the sender that posts the durable outbox's
//! events to them, signed (`herald_mail::webhook_signature`), at least once, with retries.
//!
//! Events enter the outbox in the store, in the transaction of the change they report. Here
//! they are claimed with a lease (several nodes never post the same event at once), posted
//! concurrently over kept-alive connections, and their results recorded: 2xx is done; anything
//! else (a status, a refused connection, a timeout) is retried on the schedule until
//! `[webhooks] expiry` after the event, then given up (`failed`, replayable).

pub(crate) mod post;

use std::time::Duration;

use futures_util::StreamExt;
use herald_domain::webhook::Subscription;
use herald_domain::{RetryDecision, RetrySchedule};
use herald_store::{
    Endpoint, NewEndpoint, OutboxClaim, OutboxEntry, OutboxResult, Replay, StoreError, WebhookStore,
};
use time::OffsetDateTime;

pub use post::Poster;

/// What a webhook operation refused, or why it failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The request names something wrong (the URL, an event): the text says what.
    #[error("{0}")]
    BadInput(String),
    #[error("there is no webhook endpoint {0}")]
    NotFound(i64),
    #[error("the system's random source failed")]
    Random,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How the sender works (`[webhooks]`).
#[derive(Debug, Clone)]
pub struct SenderSettings {
    /// One post's whole time: connect, TLS, request and the answer's status.
    pub timeout: Duration,
    /// Posts in flight at once, per node.
    pub max_in_flight: usize,
    /// Events claimed per round.
    pub batch: u32,
    /// Waits between posts of one event after it failed; `expiry` after the event (or its
    /// replay) it is given up.
    pub retry: RetrySchedule,
    /// How long posted and given-up events stay in the log.
    pub retention: Duration,
    /// How often an idle sender looks for new events.
    pub idle_poll: Duration,
    /// The time of day for due times, leases and the log.
    pub clock: crate::Clock,
}

impl Default for SenderSettings {
    fn default() -> Self {
        let m = |n: u64| Duration::from_secs(60 * n);
        Self {
            timeout: Duration::from_secs(10),
            max_in_flight: 32,
            batch: 256,
            retry: RetrySchedule {
                intervals: vec![
                    Duration::from_secs(10),
                    m(1),
                    m(5),
                    m(30),
                    m(60),
                    m(120),
                    m(240),
                    m(480),
                ],
                expiry: m(60 * 72),
            },
            retention: m(60 * 24 * 30),
            idle_poll: Duration::from_secs(1),
            clock: crate::Clock::system(),
        }
    }
}

impl SenderSettings {
    /// A claimed batch's lease: long enough for every post of it to time out in turn, and
    /// the results to be written. (A node that dies mid-batch leaves its events to the others
    /// after this long.)
    pub fn lease(&self) -> Duration {
        let rounds = (self.batch as usize).div_ceil(self.max_in_flight.max(1)) as u32;
        self.timeout * (rounds + 1) + Duration::from_secs(5)
    }
}

/// An endpoint as users see it (the CLI's `--json`, the API, the UI); its secret only at creation.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct EndpointView {
    pub id: i64,
    pub url: String,
    /// `["all"]` or the event names.
    pub events: Vec<String>,
    pub description: String,
    pub created_by: String,
    pub created_at: String,
    /// Events waiting to be posted (new or to be retried), posted, and given up on.
    pub pending: u64,
    pub delivered: u64,
    pub failed: u64,
    pub last_attempt_at: Option<String>,
    /// The last post's HTTP status (null: no answer, or none yet).
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    /// The signing secret: shown once, when the endpoint is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl EndpointView {
    pub fn of(e: &Endpoint) -> Self {
        Self {
            id: e.id,
            url: e.url.clone(),
            events: Subscription::from_stored(&e.events)
                .map(|s| s.names().into_iter().map(String::from).collect())
                .unwrap_or_else(|_| vec![e.events.clone()]),
            description: e.description.clone(),
            created_by: e.created_by.clone(),
            created_at: rfc3339(e.created_at_ms),
            pending: e.pending,
            delivered: e.delivered,
            failed: e.failed,
            last_attempt_at: e.last_attempt_at_ms.map(rfc3339),
            last_status: e.last_status,
            last_error: e.last_error.clone(),
            secret: None,
        }
    }
}

/// One event in an endpoint's log.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct LogEntry {
    /// The event's id as posted (`evt_<n>`).
    pub id: String,
    pub event: String,
    pub delivery_id: i64,
    pub email: Option<String>,
    pub occurred_at: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
}

impl LogEntry {
    pub fn of(e: &OutboxEntry) -> Self {
        Self {
            id: format!("evt_{}", e.id),
            event: e.event.clone(),
            delivery_id: e.delivery.0,
            email: e.email.clone(),
            occurred_at: rfc3339(e.at_ms),
            state: e.state.clone(),
            attempts: e.attempts,
            next_attempt_at: e
                .next_attempt_at_ms
                .filter(|_| e.state == "pending")
                .map(rfc3339),
            last_attempt_at: e.last_attempt_at_ms.map(rfc3339),
            last_status: e.last_status,
            last_error: e.last_error.clone(),
            delivered_at: e.delivered_at_ms.map(rfc3339),
        }
    }
}

fn rfc3339(ms: i64) -> String {
    crate::reports::ms_to_rfc3339(ms)
}

/// The longest URL accepted.
const MAX_URL: usize = 2000;

/// An endpoint URL Herald will post to: `http://` or `https://` with a host, no credentials
/// (the signature is what authenticates Herald; a password in the URL would be shown in every
/// list), no whitespace or control characters.
pub fn check_url(url: &str) -> Result<hyper::Uri, WebhookError> {
    let bad = |why: &str| WebhookError::BadInput(format!("webhook URL {url:?}: {why}"));
    if url.len() > MAX_URL {
        return Err(bad(&format!("longer than {MAX_URL} characters")));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("it contains whitespace or control characters"));
    }
    let uri: hyper::Uri = url.parse().map_err(|e| {
        bad(&format!(
            "not a URL like https://hooks.example.com/herald ({e})"
        ))
    })?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(bad("it must start with https:// (or http://)")),
    }
    let Some(authority) = uri.authority() else {
        return Err(bad("it has no host"));
    };
    if authority.as_str().contains('@') {
        return Err(bad(
            "put no user name or password in it: each post is signed with the endpoint's secret",
        ));
    }
    if authority.host().is_empty() {
        return Err(bad("it has no host"));
    }
    Ok(uri)
}

/// Register an endpoint; returns it with its secret (shown this once).
pub async fn add_endpoint<S: WebhookStore>(
    store: &S,
    url: &str,
    events: &str,
    description: &str,
    created_by: &str,
    now_ms: i64,
) -> Result<EndpointView, WebhookError> {
    check_url(url)?;
    let subscription = Subscription::parse(events).map_err(WebhookError::BadInput)?;
    if description.chars().count() > 200 || description.chars().any(char::is_control) {
        return Err(WebhookError::BadInput(
            "the description must be one line of at most 200 characters".into(),
        ));
    }
    let secret = herald_mail::webhook_signature::new_secret().ok_or(WebhookError::Random)?;
    let id = store
        .add_endpoint(&NewEndpoint {
            url: url.to_string(),
            events: subscription.stored(),
            secret: secret.clone(),
            description: description.to_string(),
            created_by: created_by.to_string(),
            created_at_ms: now_ms,
        })
        .await?;
    let e = store
        .endpoint(id)
        .await?
        .ok_or(WebhookError::NotFound(id))?;
    let mut view = EndpointView::of(&e);
    view.secret = Some(secret);
    Ok(view)
}

pub async fn endpoints<S: WebhookStore>(store: &S) -> Result<Vec<EndpointView>, WebhookError> {
    Ok(store
        .endpoints()
        .await?
        .iter()
        .map(EndpointView::of)
        .collect())
}

pub async fn endpoint<S: WebhookStore>(store: &S, id: i64) -> Result<EndpointView, WebhookError> {
    let e = store
        .endpoint(id)
        .await?
        .ok_or(WebhookError::NotFound(id))?;
    Ok(EndpointView::of(&e))
}

pub async fn remove_endpoint<S: WebhookStore>(store: &S, id: i64) -> Result<(), WebhookError> {
    if store.remove_endpoint(id).await? {
        Ok(())
    } else {
        Err(WebhookError::NotFound(id))
    }
}

/// An endpoint's events, newest first (`before`: an event id, for the next page).
pub async fn log<S: WebhookStore>(
    store: &S,
    id: i64,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<LogEntry>, WebhookError> {
    store
        .endpoint(id)
        .await?
        .ok_or(WebhookError::NotFound(id))?;
    Ok(store
        .webhook_log(id, before, limit.clamp(1, 1000))
        .await?
        .iter()
        .map(LogEntry::of)
        .collect())
}

/// Post events again (see [`Replay`]); how many will be.
pub async fn replay<S: WebhookStore>(
    store: &S,
    id: i64,
    which: Replay,
    now_ms: i64,
) -> Result<u64, WebhookError> {
    store
        .endpoint(id)
        .await?
        .ok_or(WebhookError::NotFound(id))?;
    Ok(store.replay_webhooks(id, which, now_ms).await?)
}

/// `evt_<n>` (or the bare number) as an event id.
pub fn parse_event_id(s: &str) -> Result<i64, WebhookError> {
    s.trim()
        .trim_start_matches("evt_")
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| WebhookError::BadInput(format!("{s:?} is not an event id (evt_<number>)")))
}

/// The body posted for a claimed event.
pub fn payload(c: &OutboxClaim) -> Vec<u8> {
    let detail: serde_json::Value =
        serde_json::from_str(&c.detail).unwrap_or_else(|_| serde_json::json!({}));
    serde_json::json!({
        "id": format!("evt_{}", c.id),
        "type": c.event,
        "occurred_at": rfc3339(c.at_ms),
        "attempt": c.attempts + 1,
        "data": {
            "delivery_id": c.delivery.0,
            "campaign_id": c.campaign,
            "campaign": c.campaign_name,
            "email": c.email,
            "message_id": c.message_id,
            "detail": detail,
        }
    })
    .to_string()
    .into_bytes()
}

/// What one round of [`send_due`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub claimed: usize,
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// Claim the due events (one batch), post them, record the results.
pub async fn send_due<S: WebhookStore>(
    store: &S,
    poster: &Poster,
    owner: &str,
    s: &SenderSettings,
    now_ms: i64,
) -> Result<Round, WebhookError> {
    let lease_until = now_ms + s.lease().as_millis() as i64;
    let claims = store
        .claim_webhooks(owner, now_ms, lease_until, s.batch)
        .await?;
    let mut round = Round {
        claimed: claims.len(),
        ..Round::default()
    };
    if claims.is_empty() {
        return Ok(round);
    }
    // Each post owns what it uses (a handle on the shared pool, the schedule), so the stream's
    // futures borrow nothing and the sender can run as a spawned task.
    let results: Vec<OutboxResult> = futures_util::stream::iter(claims)
        .map(|c| {
            let (poster, retry, clock) = (poster.clone(), s.retry.clone(), s.clock.clone());
            post_one(poster, retry, c, clock)
        })
        .buffer_unordered(s.max_in_flight.max(1))
        .collect()
        .await;
    for r in &results {
        match (r.ok, r.next_attempt_at_ms) {
            (true, _) => round.delivered += 1,
            (false, Some(_)) => round.retrying += 1,
            (false, None) => round.failed += 1,
        }
    }
    store.finish_webhooks(owner, &results).await?;
    Ok(round)
}

/// Post one claimed event; its result.
async fn post_one(
    poster: Poster,
    retry: RetrySchedule,
    c: OutboxClaim,
    clock: crate::Clock,
) -> OutboxResult {
    let body = payload(&c);
    let outcome = poster
        .post(&c.url, &c.secret, &format!("evt_{}", c.id), &c.event, body)
        .await;
    let at_ms = clock.now_ms();
    let (ok, status, error) = match outcome {
        Ok(status) if (200..300).contains(&status) => (true, Some(status), None),
        Ok(status) => (false, Some(status), Some(format!("HTTP {status}"))),
        Err(e) => (false, None, Some(e)),
    };
    let next_attempt_at_ms = if ok {
        None
    } else {
        retry_at(&retry, c.attempts + 1, c.retry_from_ms, at_ms)
    };
    OutboxResult {
        id: c.id,
        endpoint: c.endpoint,
        ok,
        status,
        error,
        next_attempt_at_ms,
        at_ms,
    }
}

fn retry_at(schedule: &RetrySchedule, attempts: u32, from_ms: i64, now_ms: i64) -> Option<i64> {
    let t = |ms: i64| {
        OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    };
    match schedule.decide(attempts, t(from_ms), t(now_ms)) {
        RetryDecision::RetryAt(at) => Some(crate::ms(at)),
        RetryDecision::Expire => None,
    }
}

/// Post the outbox's events until `stop` resolves: a full batch is followed at once by the
/// next; otherwise the sender waits for the next due event, at most `idle_poll`. Posted and
/// given-up events older than `retention` are pruned once an hour.
pub async fn run<S: WebhookStore>(
    store: S,
    poster: Poster,
    owner: String,
    s: SenderSettings,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    let mut pruned_at = 0i64;
    loop {
        let now = s.clock.now_ms();
        if now - pruned_at > 3_600_000 {
            pruned_at = now;
            match store
                .prune_webhooks(now - s.retention.as_millis() as i64)
                .await
            {
                Ok(n) if n > 0 => tracing::info!(pruned = n, "old webhook events pruned"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "pruning webhook events"),
            }
        }
        // Again: the prune may have taken a while, and the lease counts from now.
        let now = s.clock.now_ms();
        let wait = match send_due(&store, &poster, &owner, &s, now).await {
            Ok(r) if r.claimed as u32 >= s.batch => Duration::ZERO,
            Ok(r) => {
                if r.failed > 0 {
                    tracing::warn!(failed = r.failed, "webhook events given up after retries");
                }
                // At least a moment between rounds that found less than a batch (never a tight
                // loop on the database), at most `idle_poll`.
                match store.next_webhook_due().await {
                    Ok(Some(due)) => Duration::from_millis((due - s.clock.now_ms()).max(0) as u64)
                        .max(Duration::from_millis(50))
                        .min(s.idle_poll),
                    _ => s.idle_poll,
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "posting webhook events");
                s.idle_poll.max(Duration::from_secs(5))
            }
        };
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert!(check_url("https://hooks.example.com/herald?x=1").is_ok());
        assert!(check_url("http://127.0.0.1:8080/in").is_ok());
        for (bad, why) in [
            ("ftp://example.com/", "https://"),
            ("https://user:pw@example.com/", "password"),
            ("https://example.com/a b", "whitespace"),
            ("https://example.com/\r\nX: y", "control"),
            ("example.com/hook", "https://"),
            ("", "https://"),
        ] {
            let e = check_url(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        assert!(check_url(&format!("https://e.com/{}", "a".repeat(2001))).is_err());
    }

    #[test]
    fn retries_follow_the_schedule_and_give_up_after_expiry() {
        let s = SenderSettings::default();
        let t0 = 1_764_000_000_000;
        assert_eq!(retry_at(&s.retry, 1, t0, t0), Some(t0 + 10_000));
        assert_eq!(retry_at(&s.retry, 2, t0, t0 + 10_000), Some(t0 + 70_000));
        assert_eq!(retry_at(&s.retry, 20, t0, t0 + 73 * 3_600_000), None);
        // The lease covers a whole batch of timeouts.
        assert!(s.lease() >= s.timeout * (s.batch / s.max_in_flight as u32));
    }

    #[test]
    fn event_ids() {
        assert_eq!(parse_event_id("evt_42").unwrap(), 42);
        assert_eq!(parse_event_id("42").unwrap(), 42);
        assert!(parse_event_id("evt_x").is_err() && parse_event_id("0").is_err());
    }
}
