//! Relayed deliveries and what confirms them.

use super::*;
use herald_domain::DeliveryState;
use herald_store::*;

/// Through a relay: a `relayed` delivery becomes `delivered` when the relay's success DSN comes
/// back, and `bounced` on its failure DSN; a success DSN that overtakes the write of the
/// relay's 250 (the relay delivers within milliseconds) is not lost.
async fn relay_scenario(store: AnyStore) {
    let backend = store.backend();
    let list = store.ensure_list("r", now()).await.unwrap();
    let contacts: Vec<NewContact> = (0..3)
        .map(|i| NewContact {
            email: format!("r{i}@example.com"),
            email_key: format!("r{i}@example.com"),
            fields: "{}".into(),
            erased_token: None,
        })
        .collect();
    store.upsert_contacts(list, &contacts, now()).await.unwrap();
    let campaign = store
        .create_campaign(&campaign_of(list, "R"))
        .await
        .unwrap();
    let members = store.audience_page(list, 0, 10).await.unwrap();
    let batch: Vec<NewDelivery> = members
        .iter()
        .enumerate()
        .map(|(i, m)| NewDelivery {
            campaign,
            contact_id: Some(m.contact_id),
            email: m.email.clone(),
            email_key: m.email_key.clone(),
            domain: "example.com".into(),
            state: DeliveryState::Queued,
            reason: None,
            message_id: format!("<r{i}@sender.example>"),
            next_attempt_at_ms: Some(0),
            updated_at_ms: now(),
            seed_id: None,
        })
        .collect();
    store.insert_deliveries(&batch).await.unwrap();
    store
        .set_campaign_status(campaign, CampaignStatus::Sending, now())
        .await
        .unwrap();
    let t = now();
    let mut held = store
        .claim(&ClaimRequest {
            owner: "A",
            now_ms: t,
            lease_until_ms: t + 60_000,
            limit: 10,
            campaign: None,
        })
        .await
        .unwrap();
    held.sort_by_key(|d| d.email.clone());
    assert_eq!(held.len(), 3, "{backend}");
    let effect = |d: &ClaimedDelivery, kind: EventKind| FeedbackEffect {
        delivery: d.id,
        campaign,
        email_key: d.email.clone(),
        kind,
        at_ms: now(),
        detail: r#"{"action":"delivered","remote_mta":"mx.example.net"}"#.into(),
        bounce: (kind == EventKind::AsyncBounce).then(|| ("userunknown".to_string(), true)),
        suppress: None,
        soft_bounce_limit: None,
        delivered: kind == EventKind::DsnDelivered,
    };
    let inbound = |e: FeedbackEffect| InboundRecord {
        received_at_ms: now(),
        mail_from: "".into(),
        rcpt_to: "b+x@bounces.sender.example".into(),
        delivery: Some(e.delivery),
        kind: "dsn".into(),
        summary: "{}".into(),
        raw: b"dsn".to_vec(),
        effects: vec![e],
    };
    // r2's success DSN arrives before its 250 is written.
    store
        .record_inbound(&inbound(effect(&held[2], EventKind::DsnDelivered)))
        .await
        .unwrap();
    let relayed = |d: &ClaimedDelivery| {
        let mut ev = evidence(&d.message_id, 250);
        ev.route = "relay:generic".into();
        OutcomeRecord {
            delivery: d.id,
            campaign,
            state: DeliveryState::Relayed,
            reason: None,
            hard: false,
            next_attempt_at_ms: None,
            attempt: Some((herald_domain::AttemptOutcome::Relayed, ev)),
            at_ms: now(),
        }
    };
    store
        .record_outcomes(&held.iter().map(relayed).collect::<Vec<_>>())
        .await
        .unwrap();
    let k = store.counts(campaign).await.unwrap();
    assert_eq!(
        (
            k.get(DeliveryState::Relayed),
            k.get(DeliveryState::Delivered)
        ),
        (2, 1),
        "{backend}: the overtaking DSN counts: {k:?}"
    );
    assert_eq!(
        k.unfinished(),
        0,
        "{backend}: relayed is final for the queue"
    );
    store
        .record_inbound(&inbound(effect(&held[0], EventKind::DsnDelivered)))
        .await
        .unwrap();
    store
        .record_inbound(&inbound(effect(&held[1], EventKind::AsyncBounce)))
        .await
        .unwrap();
    let k = store.counts(campaign).await.unwrap();
    assert_eq!(
        (
            k.get(DeliveryState::Relayed),
            k.get(DeliveryState::Delivered),
            k.get(DeliveryState::Bounced)
        ),
        (0, 2, 1),
        "{backend}: {k:?}"
    );
    // A success DSN never turns a bounce back into a delivery.
    store
        .record_inbound(&inbound(effect(&held[1], EventKind::DsnDelivered)))
        .await
        .unwrap();
    let k = store.counts(campaign).await.unwrap();
    assert_eq!(k.get(DeliveryState::Bounced), 1, "{backend}: {k:?}");
    let detail = store
        .delivery_detail(campaign, &held[0].email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (detail.attempts[0].outcome.as_str(), detail.row.state),
        ("relayed", DeliveryState::Delivered),
        "{backend}: the relay's 250 stays the attempt's outcome"
    );
}

#[tokio::test]
async fn relayed_deliveries_behave_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = herald_store::open(&format!("sqlite://{}", dir.path().join("h.db").display()))
        .await
        .unwrap();
    relay_scenario(sqlite).await;
    let db = PgDb::create().await;
    relay_scenario(herald_store::open(&db.url).await.unwrap()).await;
}
