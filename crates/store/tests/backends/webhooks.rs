//! The outbound webhooks' outbox.

use super::*;
use herald_domain::DeliveryState;
use herald_store::*;

async fn webhook_scenario(store: AnyStore) {
    let backend = store.backend();
    let list = store.ensure_list("w", now()).await.unwrap();
    let contacts: Vec<NewContact> = (0..4)
        .map(|i| NewContact {
            email: format!("w{i}@example.com"),
            email_key: format!("w{i}@example.com"),
            fields: "{}".into(),
            erased_token: None,
        })
        .collect();
    store.upsert_contacts(list, &contacts, now()).await.unwrap();
    let campaign = store
        .create_campaign(&campaign_of(list, "W"))
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
            message_id: format!("<w{i}@sender.example>"),
            next_attempt_at_ms: Some(0),
            updated_at_ms: now(),
            seed_id: None,
        })
        .collect();
    store.insert_deliveries(&batch).await.unwrap();
    let t = now();
    let claimed = store
        .claim(&ClaimRequest {
            owner: "A",
            now_ms: t,
            lease_until_ms: t + 60_000,
            limit: 10,
            campaign: None,
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 4, "{backend}");
    let outcome = |d: &ClaimedDelivery, state: DeliveryState, code: u16| OutcomeRecord {
        delivery: d.id,
        campaign: d.campaign,
        state,
        reason: (code >= 500).then(|| "userunknown".to_string()),
        hard: code >= 500,
        next_attempt_at_ms: None,
        attempt: AttemptOutcome::of(state).map(|o| (o, evidence(&d.message_id, code))),
        at_ms: t,
    };
    // No endpoint yet: the first outcome makes no event.
    store
        .record_outcomes(&[outcome(&claimed[0], DeliveryState::Delivered, 250)])
        .await
        .unwrap();
    assert_eq!(store.next_webhook_due().await.unwrap(), None, "{backend}");
    let endpoint = |url: &str, events: &str| NewEndpoint {
        url: url.into(),
        events: events.into(),
        secret: "whsec_x".into(),
        description: String::new(),
        created_by: "test".into(),
        created_at_ms: t,
    };
    let all = store
        .add_endpoint(&endpoint("https://a.example/", "*"))
        .await
        .unwrap();
    let bounces = store
        .add_endpoint(&endpoint("https://b.example/", ",bounced,"))
        .await
        .unwrap();
    // A delivered and a bounced outcome, a give-back without an attempt (no event), an open.
    let mut back = outcome(&claimed[3], DeliveryState::Queued, 0);
    back.attempt = None;
    store
        .record_outcomes(&[
            outcome(&claimed[1], DeliveryState::Delivered, 250),
            outcome(&claimed[2], DeliveryState::Bounced, 550),
            back,
        ])
        .await
        .unwrap();
    store
        .record_engagement(&[EngagementRecord {
            delivery: claimed[1].id,
            kind: herald_domain::EventKind::Open,
            at_ms: t + 1,
            detail: r#"{"verdict":"human","ip":"203.0.113.0"}"#.into(),
        }])
        .await
        .unwrap();
    // Leaving the list by its link (`[lists] unsubscribe = "list"`).
    assert!(
        store
            .leave_list(claimed[3].id, t + 2, r#"{"method":"link"}"#)
            .await
            .unwrap()
    );
    // Two owners claim at once: each event once.
    let (a, b) = tokio::join!(
        store.claim_webhooks("A", t + 10, t + 60_000, 2),
        store.claim_webhooks("B", t + 10, t + 60_000, 10)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut ids: Vec<i64> = a.iter().chain(&b).map(|c| c.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        a.len() + b.len(),
        "a claim leased twice ({backend})"
    );
    let claims: Vec<&OutboxClaim> = a.iter().chain(&b).collect();
    let got: Vec<(i64, &str)> = {
        let mut v: Vec<(i64, &str)> = claims
            .iter()
            .map(|c| (c.endpoint, c.event.as_str()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        got,
        vec![
            (all, "bounced"),
            (all, "delivered"),
            (all, "opened"),
            (all, "unsubscribed"),
            (bounces, "bounced")
        ],
        "{backend}"
    );
    let bounced = claims.iter().find(|c| c.endpoint == bounces).unwrap();
    assert_eq!(
        bounced.email.as_deref(),
        Some("w2@example.com"),
        "{backend}"
    );
    assert_eq!(bounced.campaign_name.as_deref(), Some("W"));
    let detail: serde_json::Value = serde_json::from_str(&bounced.detail).unwrap();
    assert_eq!(detail["code"], 550, "{backend}: {detail}");
    assert_eq!(detail["reason"], "userunknown");
    let opened = claims.iter().find(|c| c.event == "opened").unwrap();
    let detail: serde_json::Value = serde_json::from_str(&opened.detail).unwrap();
    assert_eq!(
        (&detail["verdict"], &detail["source"]),
        (&"human".into(), &"open".into())
    );
    // Leased: nothing more is due.
    assert!(
        store
            .claim_webhooks("C", t + 20, t + 60_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Results: only the lease holder's count; a failure with a retry time stays pending.
    let result = |c: &OutboxClaim, ok: bool, next: Option<i64>| OutboxResult {
        id: c.id,
        endpoint: c.endpoint,
        ok,
        status: Some(if ok { 200 } else { 503 }),
        error: (!ok).then(|| "HTTP 503".to_string()),
        next_attempt_at_ms: next,
        at_ms: t + 30,
    };
    let owner_of = |c: &OutboxClaim| {
        if a.iter().any(|x| x.id == c.id) {
            "A"
        } else {
            "B"
        }
    };
    let mut recorded = 0;
    for c in &claims {
        let (ok, next) = match (c.endpoint == bounces, c.event.as_str()) {
            (true, _) => (false, None),                  // given up
            (false, "opened") => (false, Some(t + 100)), // retried later
            _ => (true, None),
        };
        assert_eq!(
            store
                .finish_webhooks("somebody else", &[result(c, ok, next)])
                .await
                .unwrap(),
            0,
            "{backend}"
        );
        recorded += store
            .finish_webhooks(owner_of(c), &[result(c, ok, next)])
            .await
            .unwrap();
    }
    assert_eq!(recorded, 5, "{backend}");
    // A late result of a lease no longer held changes neither the event nor its endpoint.
    let mut stale = result(bounced, true, None);
    (stale.status, stale.at_ms) = (Some(418), t + 40);
    assert_eq!(
        store.finish_webhooks("A", &[stale.clone()]).await.unwrap(),
        0
    );
    assert_eq!(store.finish_webhooks("B", &[stale]).await.unwrap(), 0);
    assert_eq!(
        store.next_webhook_due().await.unwrap(),
        Some(t + 100),
        "{backend}"
    );
    // An event leased by a node is due for the others only when the lease ends.
    let leased = store
        .claim_webhooks("A", t + 100, t + 5_000, 10)
        .await
        .unwrap();
    assert_eq!(leased.len(), 1);
    assert_eq!(
        store.next_webhook_due().await.unwrap(),
        Some(t + 5_000),
        "{backend}"
    );
    store
        .finish_webhooks("A", &[result(&leased[0], false, Some(t + 100))])
        .await
        .unwrap();
    let eps = store.endpoints().await.unwrap();
    let ep_all = eps.iter().find(|e| e.id == all).unwrap();
    assert_eq!(
        (ep_all.pending, ep_all.delivered, ep_all.failed),
        (1, 3, 0),
        "{backend}"
    );
    let ep_b = eps.iter().find(|e| e.id == bounces).unwrap();
    assert_eq!(
        (ep_b.pending, ep_b.delivered, ep_b.failed),
        (0, 0, 1),
        "{backend}"
    );
    assert_eq!(ep_b.last_status, Some(503));
    let log = store.webhook_log(bounces, None, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].state.as_str(), log[0].attempts),
        ("failed", 1),
        "{backend}"
    );
    // The retry is due later, not now.
    assert!(
        store
            .claim_webhooks("A", t + 50, t + 60_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let retry = store
        .claim_webhooks("A", t + 100, t + 60_000, 10)
        .await
        .unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!((retry[0].event.as_str(), retry[0].attempts), ("opened", 2));
    // Replaying the failed one makes it due again, attempts counted afresh.
    assert_eq!(
        store
            .replay_webhooks(bounces, Replay::Failed, t + 200)
            .await
            .unwrap(),
        1,
        "{backend}"
    );
    let again = store
        .claim_webhooks("B", t + 200, t + 60_000, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "{backend}");
    assert_eq!(
        (again[0].endpoint, again[0].attempts, again[0].retry_from_ms),
        (bounces, 0, t + 200)
    );
    // Page through the log; remove an endpoint with its outbox.
    let log = store.webhook_log(all, None, 2).await.unwrap();
    assert_eq!(log.len(), 2);
    let older = store.webhook_log(all, Some(log[1].id), 2).await.unwrap();
    assert_eq!(older.len(), 2);
    assert!(older[0].id < log[1].id);
    assert!(store.remove_endpoint(all).await.unwrap());
    assert!(!store.remove_endpoint(all).await.unwrap());
    assert!(store.webhook_log(all, None, 10).await.unwrap().is_empty());
    assert_eq!(store.endpoints().await.unwrap().len(), 1, "{backend}");
}

#[tokio::test]
async fn webhook_outboxes_behave_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = herald_store::open(&format!("sqlite://{}", dir.path().join("h.db").display()))
        .await
        .unwrap();
    webhook_scenario(sqlite).await;
    let db = PgDb::create().await;
    webhook_scenario(herald_store::open(&db.url).await.unwrap()).await;
}
