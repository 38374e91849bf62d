//! Providers' webhook events into the ledger: the same effects as Herald's own evidence. A
//! provider's `delivered` moves a `relayed` recipient to `delivered` with the receiving
//! server's reply; its bounce is a late bounce (suppressing a bad address), its complaint and
//! unsubscribe suppress, its deferral is kept as an event. Opens and clicks are Herald's own
//! (its tracking links and pixel), so the provider's are not counted twice.
//!
//! Input: events already authenticated and read (`herald_mail::webhooks`).
//! Output: one [`WebhookPost`] recorded in one transaction; each event applied once.

use std::collections::HashMap;

use herald_domain::BounceReason;
use herald_mail::webhooks::{EventKind, Provider, ProviderEvent};
use herald_store::{
    DeliveryId, DeliveryRef, FeedbackEffect, Store, StoreError, WebhookEvent, WebhookIngest,
    WebhookPost,
};

use super::FeedbackPolicy;

/// What a post did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ingested {
    pub events: u64,
    pub applied: u64,
    pub duplicates: u64,
    /// Events naming no delivery of this installation (no or an unknown `herald_delivery`, or
    /// another recipient than that delivery's, or none).
    pub unmatched: u64,
}

/// Record a provider's post (`raw`, its body) and apply its events.
pub async fn ingest<S: Store>(
    store: &S,
    provider: Provider,
    events: &[ProviderEvent],
    raw: &[u8],
    policy: &FeedbackPolicy,
    received_at_ms: i64,
) -> Result<Ingested, StoreError> {
    let ids: Vec<DeliveryId> = events
        .iter()
        .filter_map(|e| e.delivery)
        .map(DeliveryId)
        .collect();
    let refs: HashMap<i64, DeliveryRef> = store
        .delivery_refs(&ids)
        .await?
        .into_iter()
        .map(|d| (d.id.0, d))
        .collect();
    let mut out = Ingested {
        events: events.len() as u64,
        ..Default::default()
    };
    let mut kinds: HashMap<&'static str, u64> = HashMap::new();
    let mut post_events = Vec::with_capacity(events.len());
    for e in events {
        // The recipient must be named and match: a metadata value copied onto another message
        // (or guessed: ids are sequential) does not move someone else's delivery.
        let d = e.delivery.and_then(|id| refs.get(&id)).filter(|d| {
            e.recipient
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(&d.email))
        });
        let effects = match d {
            Some(d) => effects(provider, d, e, policy),
            None => {
                out.unmatched += 1;
                Vec::new()
            }
        };
        for f in &effects {
            *kinds.entry(f.kind.as_str()).or_default() += 1;
        }
        // Kept even without effect: a verified key is spent (Mailgun signs the token, not the
        // event, so a captured signature must not carry another event later).
        post_events.push((
            d.map_or(i64::MAX, |d| d.id.0),
            WebhookEvent {
                key: e.key.clone(),
                effects,
            },
        ));
    }
    // In delivery order (stable: one delivery's events keep theirs), so two posts applied at
    // once lock their deliveries in the same order.
    post_events.sort_by_key(|(id, _)| *id);
    let post_events: Vec<WebhookEvent> = post_events.into_iter().map(|(_, e)| e).collect();
    let summary = serde_json::json!({
        "provider": provider.as_str(),
        "events": out.events,
        "unmatched": out.unmatched,
        "effects": kinds,
    });
    let WebhookIngest {
        applied,
        duplicates,
    } = store
        .record_webhook(&WebhookPost {
            received_at_ms,
            provider: provider.as_str().to_string(),
            summary: summary.to_string(),
            raw: raw.to_vec(),
            events: post_events,
        })
        .await?;
    out.applied = applied;
    out.duplicates = duplicates;
    Ok(out)
}

/// What one event does to its delivery (pure: table-tested below).
pub fn effects(
    provider: Provider,
    d: &DeliveryRef,
    e: &ProviderEvent,
    policy: &FeedbackPolicy,
) -> Vec<FeedbackEffect> {
    let detail = serde_json::json!({
        "provider": provider.as_str(),
        "reply": e.reply,
        "remote_mta": e.remote_mta,
        "remote_queue_id": e.reply.as_deref().and_then(herald_mail::remote_queue_id),
        "provider_message_id": e.provider_message_id,
        "description": e.description,
    });
    let effect = |kind: herald_domain::EventKind, detail: serde_json::Value| FeedbackEffect {
        delivery: d.id,
        campaign: d.campaign,
        email_key: d.email_key.clone(),
        kind,
        at_ms: e.at_ms,
        detail: detail.to_string(),
        bounce: None,
        suppress: None,
        soft_bounce_limit: None,
        delivered: false,
    };
    match &e.kind {
        EventKind::Delivered => {
            let mut f = effect(herald_domain::EventKind::ProviderDelivered, detail);
            f.delivered = true;
            vec![f]
        }
        EventKind::Bounced { hard } => {
            let reason = e
                .reply
                .as_deref()
                .and_then(|r| {
                    herald_mail::classify_text(r)
                        .recipients
                        .first()
                        .map(|v| v.reason)
                })
                .filter(|r| !matches!(r, BounceReason::Delivered | BounceReason::Undefined))
                .unwrap_or(if *hard {
                    BounceReason::UserUnknown
                } else {
                    BounceReason::OnHold
                });
            let mut detail = detail;
            detail["reason"] = reason.as_str().into();
            detail["hard"] = (*hard).into();
            let mut f = effect(herald_domain::EventKind::AsyncBounce, detail);
            f.bounce = Some((reason.as_str().to_string(), *hard));
            if *hard {
                f.suppress = Some(herald_domain::SuppressionReason::PreviouslyBounced);
            } else if policy.soft_bounce_limit > 0 {
                f.soft_bounce_limit = Some(policy.soft_bounce_limit);
            }
            vec![f]
        }
        EventKind::Deferred => vec![effect(herald_domain::EventKind::Delayed, detail)],
        EventKind::Complaint => {
            let mut f = effect(
                herald_domain::EventKind::Complaint,
                serde_json::json!({"provider": provider.as_str()}),
            );
            f.suppress = Some(herald_domain::SuppressionReason::Complained);
            vec![f]
        }
        EventKind::Unsubscribe => {
            let mut f = effect(
                herald_domain::EventKind::Unsubscribe,
                serde_json::json!({"provider": provider.as_str(), "verdict": "human"}),
            );
            f.suppress = Some(herald_domain::SuppressionReason::Unsubscribed);
            vec![f]
        }
        EventKind::Open | EventKind::Click | EventKind::Other(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_domain::DeliveryState;
    use herald_store::CampaignId;

    fn d() -> DeliveryRef {
        DeliveryRef {
            id: DeliveryId(7),
            campaign: CampaignId(1),
            email: "ann@x.test".into(),
            email_key: "ann@x.test".into(),
            state: DeliveryState::Relayed,
            seed: false,
            variant: None,
        }
    }

    fn ev(kind: EventKind, reply: Option<&str>) -> ProviderEvent {
        ProviderEvent {
            key: "k".into(),
            delivery: Some(7),
            recipient: Some("ann@x.test".into()),
            provider_message_id: None,
            at_ms: 1,
            kind,
            reply: reply.map(str::to_string),
            remote_mta: Some("mx.x.test".into()),
            description: None,
        }
    }

    #[test]
    fn effect_table() {
        let p = FeedbackPolicy::default();
        let m = Provider::Mailgun;
        let f = effects(
            m,
            &d(),
            &ev(EventKind::Delivered, Some("250 2.0.0 OK queued as Q9")),
            &p,
        );
        assert_eq!(
            (f[0].kind.as_str(), f[0].delivered),
            ("provider_delivered", true)
        );
        assert!(
            f[0].detail.contains("\"remote_mta\":\"mx.x.test\""),
            "{}",
            f[0].detail
        );

        let hard = ev(
            EventKind::Bounced { hard: true },
            Some("550 5.1.1 The email account that you tried to reach does not exist"),
        );
        let f = effects(m, &d(), &hard, &p);
        assert_eq!(f[0].bounce, Some(("userunknown".into(), true)));
        assert_eq!(
            f[0].suppress.map(|r| r.as_str()),
            Some("previously_bounced")
        );

        let f = effects(
            m,
            &d(),
            &ev(
                EventKind::Bounced { hard: false },
                Some("452 4.2.2 Mailbox full"),
            ),
            &p,
        );
        assert_eq!(f[0].bounce, Some(("mailboxfull".into(), false)));
        assert_eq!(f[0].suppress, None);

        let f = effects(m, &d(), &ev(EventKind::Complaint, None), &p);
        assert_eq!(f[0].suppress.map(|r| r.as_str()), Some("complained"));
        let f = effects(m, &d(), &ev(EventKind::Deferred, Some("421 try later")), &p);
        assert_eq!((f[0].kind.as_str(), &f[0].bounce), ("delayed", &None));
        assert!(effects(m, &d(), &ev(EventKind::Open, None), &p).is_empty());
    }
}
