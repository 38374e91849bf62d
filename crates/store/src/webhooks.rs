//! Outbound webhooks: endpoints, and the durable outbox their events wait in.
//!
//! An event enters the outbox in the same transaction as the change it reports (an attempt's
//! outcome, a bounce, a complaint, an open…), once per endpoint subscribed to it at that
//! moment, so nothing that happened can be missed and nothing is posted that did not happen.
//! Senders claim due rows with a lease (as deliveries are claimed), so several nodes post each
//! event once; a result is recorded only by the lease's holder.
//!
//! Its trait is [`crate::WebhookStore`] (in [`crate::areas`]), implemented once for both
//! backends by `shared::webhooks`.

use crate::DeliveryId;

/// An endpoint to create.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub url: String,
    /// The stored subscription (`herald_domain::webhook::Subscription::stored`).
    pub events: String,
    /// The signing secret (the HMAC key), shown to its creator once.
    pub secret: String,
    pub description: String,
    pub created_by: String,
    pub created_at_ms: i64,
}

/// An endpoint with what its outbox holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    pub events: String,
    pub secret: String,
    pub description: String,
    pub created_by: String,
    pub created_at_ms: i64,
    /// Events waiting (new or to be retried), posted, and given up on.
    pub pending: u64,
    pub delivered: u64,
    pub failed: u64,
    /// The last post's time, HTTP status (None: no answer) and error.
    pub last_attempt_at_ms: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
}

/// A claimed event, with what its post needs.
#[derive(Debug, Clone)]
pub struct OutboxClaim {
    pub id: i64,
    pub endpoint: i64,
    pub url: String,
    pub secret: String,
    /// The event's name (`delivered`, `opened`, …).
    pub event: String,
    /// When it happened.
    pub at_ms: i64,
    /// Posts made before this one.
    pub attempts: u32,
    /// Since when it has been retried (the event's time, or its replay's): the give-up clock.
    pub retry_from_ms: i64,
    pub delivery: DeliveryId,
    pub campaign: Option<i64>,
    pub campaign_name: Option<String>,
    /// The recipient as the delivery has it now (after an erasure, its placeholder).
    pub email: Option<String>,
    pub message_id: Option<String>,
    /// JSON object: what the event recorded (the reply, the bounce's reason, the open's verdict…).
    pub detail: String,
}

/// What a post of a claimed event came to.
#[derive(Debug, Clone)]
pub struct OutboxResult {
    pub id: i64,
    pub endpoint: i64,
    /// The endpoint answered 2xx.
    pub ok: bool,
    /// Its HTTP status; None when it did not answer (connection refused, timeout, TLS).
    pub status: Option<u16>,
    pub error: Option<String>,
    /// When to post again after a failure; None: give up (`failed`).
    pub next_attempt_at_ms: Option<i64>,
    pub at_ms: i64,
}

/// One event in an endpoint's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: i64,
    pub event: String,
    pub delivery: DeliveryId,
    pub email: Option<String>,
    pub at_ms: i64,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at_ms: Option<i64>,
    pub last_attempt_at_ms: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at_ms: Option<i64>,
}

/// Which of an endpoint's events a replay posts again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// Those given up on (`failed`).
    Failed,
    /// Every event that happened at or after this time, posted or not.
    Since(i64),
    /// This one event.
    One(i64),
}
