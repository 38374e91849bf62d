//! What waits to be sent, per destination domain, and why (`herald queue`).

use std::collections::BTreeMap;

use herald_domain::DeliveryState;
use herald_store::{Store, StoreError, WaitingGroup};
use schemars::JsonSchema;
use serde::Serialize;

use super::ms_to_rfc3339;

#[derive(Debug, Serialize, JsonSchema)]
pub struct QueueReport {
    /// Queued and deferred deliveries in all.
    pub waiting: u64,
    /// Of them, being sent now (a node holds their lease).
    pub in_flight: u64,
    /// Destination domains, the most waiting first.
    pub destinations: Vec<Destination>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Destination {
    pub domain: String,
    pub queued: u64,
    pub deferred: u64,
    pub in_flight: u64,
    /// The earliest next attempt (UTC).
    pub next_attempt_at: Option<String>,
    /// Why they wait, one line per cause.
    pub why: Vec<WaitReason>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WaitReason {
    pub count: u64,
    pub state: DeliveryState,
    /// The last attempt's reason, if any (`greylisted`, `authfailure`, …).
    pub reason: Option<String>,
    pub campaign_status: String,
    /// The same in words.
    pub text: String,
}

/// The queue now (`now_ms`), grouped by destination.
pub async fn queue_report<S: Store>(store: &S, now_ms: i64) -> Result<QueueReport, StoreError> {
    let groups = store.waiting(now_ms).await?;
    let mut by_domain: BTreeMap<String, Destination> = BTreeMap::new();
    for g in groups {
        let d = by_domain
            .entry(g.domain.clone())
            .or_insert_with(|| Destination {
                domain: g.domain.clone(),
                queued: 0,
                deferred: 0,
                in_flight: 0,
                next_attempt_at: None,
                why: Vec::new(),
            });
        match g.state {
            DeliveryState::Deferred => d.deferred += g.count,
            _ => d.queued += g.count,
        }
        d.in_flight += g.in_flight;
        if let Some(next) = g
            .next_attempt_at_ms
            .filter(|_| g.campaign_status == "sending")
        {
            let next = ms_to_rfc3339(next);
            if d.next_attempt_at.as_ref().is_none_or(|n| next < *n) {
                d.next_attempt_at = Some(next);
            }
        }
        d.why.push(WaitReason {
            text: words(&g, now_ms),
            count: g.count,
            state: g.state,
            reason: g.reason,
            campaign_status: g.campaign_status,
        });
    }
    let mut destinations: Vec<Destination> = by_domain.into_values().collect();
    destinations.sort_by_key(|d| std::cmp::Reverse(d.queued + d.deferred));
    Ok(QueueReport {
        waiting: destinations.iter().map(|d| d.queued + d.deferred).sum(),
        in_flight: destinations.iter().map(|d| d.in_flight).sum(),
        destinations,
    })
}

fn words(g: &WaitingGroup, now_ms: i64) -> String {
    let when = |ms: Option<i64>| {
        ms.map(|m| {
            if m <= now_ms {
                "now".to_string()
            } else {
                format!("at {}", ms_to_rfc3339(m))
            }
        })
        .unwrap_or_else(|| "when its campaign goes on".into())
    };
    match (g.campaign_status.as_str(), g.state) {
        ("paused", _) => "its campaign is paused".into(),
        ("cancelled", _) => "its campaign was cancelled; these are being closed".into(),
        (_, DeliveryState::Deferred) => format!(
            "refused for now ({}); tried again {}",
            g.reason.as_deref().unwrap_or("no reason recorded"),
            when(g.next_attempt_at_ms)
        ),
        // Held back with a reason of its own (a receiver's slow-down, a domain that stopped
        // verifying): the reason says when.
        (_, DeliveryState::Queued) if g.reason.is_some() => {
            format!("not tried yet: {}", g.reason.as_deref().unwrap_or_default())
        }
        _ if g.next_attempt_at_ms.is_some_and(|m| m > now_ms) => format!(
            "not tried yet: due {} (the recipient's local time, or a start that was held)",
            when(g.next_attempt_at_ms)
        ),
        _ => "not tried yet: due now".into(),
    }
}
