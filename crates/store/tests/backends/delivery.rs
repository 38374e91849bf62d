//! The delivery life cycle: contacts, snapshot, claims, outcomes, reports, feedback.

use super::*;
use herald_domain::DeliveryState;
use herald_store::*;

async fn scenario(store: AnyStore) {
    let backend = store.backend();
    // Contacts: a duplicate merges; fields merge, newer values win.
    let list = store.ensure_list("news", now()).await.unwrap();
    assert_eq!(
        store.ensure_list("news", now()).await.unwrap(),
        list,
        "{backend}"
    );
    let c = |email: &str, fields: &str| NewContact {
        email: email.into(),
        email_key: email.to_lowercase(),
        fields: fields.into(),
        erased_token: None,
    };
    let counts = store
        .upsert_contacts(
            list,
            &[
                c("Ann@example.com", r#"{"first_name":"Ann"}"#),
                c("bob@example.com", "{}"),
                c("carl_x@example.com", "{}"),
            ],
            now(),
        )
        .await
        .unwrap();
    assert_eq!((counts.inserted, counts.updated), (3, 0), "{backend}");
    let counts = store
        .upsert_contacts(list, &[c("ann@example.com", r#"{"city":"Oslo"}"#)], now())
        .await
        .unwrap();
    assert_eq!((counts.inserted, counts.updated), (0, 1), "{backend}");
    assert_eq!(store.lists().await.unwrap(), vec![("news".to_string(), 3)]);
    let page = store.audience_page(list, 0, 10).await.unwrap();
    assert_eq!(page.len(), 3);
    assert_eq!(
        page[0].email, "Ann@example.com",
        "first spelling kept ({backend})"
    );
    let fields: serde_json::Value = serde_json::from_str(&page[0].fields).unwrap();
    assert_eq!(
        (&fields["first_name"], &fields["city"]),
        (&"Ann".into(), &"Oslo".into())
    );
    let found = store.search_contacts("L_X", "", 10).await.unwrap();
    assert_eq!(found.len(), 1, "_ is literal ({backend})");
    assert_eq!(found[0].lists, vec!["news".to_string()]);
    let exact = store.contact("ann@example.com").await.unwrap().unwrap();
    assert_eq!(exact.email, "Ann@example.com", "{backend}");
    assert!(
        store.contact("nn@example.com").await.unwrap().is_none(),
        "exact, not contained"
    );

    // A campaign and its deliveries; one not sent.
    let campaign = store
        .create_campaign(&NewCampaign {
            name: "N".into(),
            list,
            from_name: Some("Ann".into()),
            from_address: "ann@sender.example".into(),
            subject: "S".into(),
            html: "<p>x</p>".into(),
            text: None,
            created_at_ms: now(),
            gate_override: None,
            reply_to: None,
            track_opens: true,
            track_clicks: false,
            send_to_seeds: true,
        })
        .await
        .unwrap();
    let c2 = store.campaign(campaign).await.unwrap().unwrap();
    assert!(c2.track_opens && !c2.track_clicks, "{backend}");
    // A draft can be changed until its audience snapshot begins.
    let mut draft = NewCampaign {
        name: "N2".into(),
        list,
        from_name: c2.from_name.clone(),
        from_address: c2.from_address.clone(),
        subject: "S".into(),
        html: c2.html.clone(),
        text: None,
        created_at_ms: 0,
        gate_override: None,
        reply_to: None,
        track_opens: true,
        track_clicks: false,
        send_to_seeds: true,
    };
    assert!(
        store.update_draft(campaign, &draft, now()).await.unwrap(),
        "{backend}"
    );
    let c2 = store.campaign(campaign).await.unwrap().unwrap();
    assert_eq!(
        (c2.name.as_str(), c2.created_at_ms > 0),
        ("N2", true),
        "{backend}"
    );
    let d = |m: &AudienceMember, state: DeliveryState, reason: Option<&str>| NewDelivery {
        campaign,
        contact_id: Some(m.contact_id),
        email: m.email.clone(),
        email_key: m.email_key.clone(),
        domain: "example.com".into(),
        state,
        reason: reason.map(str::to_string),
        message_id: format!("<{}@sender.example>", m.email_key),
        next_attempt_at_ms: Some(0),
        updated_at_ms: now(),
        seed_id: None,
    };
    let batch = vec![
        d(&page[0], DeliveryState::Queued, None),
        d(&page[1], DeliveryState::Queued, None),
        d(&page[2], DeliveryState::NotSent, Some("suppressed")),
    ];
    assert_eq!(store.insert_deliveries(&batch).await.unwrap(), 3);
    // Still marked draft, but its deliveries exist: the send has begun, nothing changes it.
    draft.name = "N3".into();
    assert!(
        !store.update_draft(campaign, &draft, now()).await.unwrap(),
        "{backend}"
    );
    assert!(
        !store.delete_draft(campaign, now()).await.unwrap(),
        "{backend}"
    );
    assert_eq!(store.campaign(campaign).await.unwrap().unwrap().name, "N2");
    assert_eq!(
        store.insert_deliveries(&batch).await.unwrap(),
        0,
        "{backend}"
    );
    store
        .set_campaign_status(campaign, CampaignStatus::Sending, now())
        .await
        .unwrap();

    // Two owners claiming at once never get the same delivery.
    let t = now();
    let req = |owner: &'static str, at: i64| ClaimRequest {
        owner,
        now_ms: at,
        lease_until_ms: at + 60_000,
        limit: 1,
        campaign: Some(campaign),
    };
    let (ra, rb) = (req("A", t), req("B", t));
    let (a, b) = tokio::join!(store.claim(&ra), store.claim(&rb));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.len(), b.len()), (1, 1), "{backend}");
    assert_ne!(a[0].id, b[0].id, "{backend}");
    assert!(store.claim(&req("C", t)).await.unwrap().is_empty());
    // Renewal names the deliveries; only the owner's own lease is extended.
    assert_eq!(
        store
            .renew_leases("A", &[a[0].id, b[0].id], t + 120_000)
            .await
            .unwrap(),
        1
    );
    // B's lease runs out without an outcome: claimed again and flagged.
    let again = store.claim(&req("C", t + 61_000)).await.unwrap();
    assert_eq!(again.len(), 1, "{backend}");
    assert_eq!(again[0].id, b[0].id);
    assert!(again[0].possible_duplicate, "{backend}");

    // Outcomes with evidence; counts follow; the campaign finishes.
    let outcome = |c: &ClaimedDelivery, state: DeliveryState, code: u16| OutcomeRecord {
        delivery: c.id,
        campaign,
        state,
        reason: (state == DeliveryState::Bounced).then(|| "userunknown".to_string()),
        hard: state == DeliveryState::Bounced,
        next_attempt_at_ms: None,
        attempt: Some((
            AttemptOutcome::of(state).unwrap(),
            evidence(&c.message_id, code),
        )),
        at_ms: now(),
    };
    store
        .record_outcomes(&[
            outcome(&a[0], DeliveryState::Delivered, 250),
            outcome(&again[0], DeliveryState::Bounced, 550),
        ])
        .await
        .unwrap();
    let k = store.counts(campaign).await.unwrap();
    assert_eq!(
        (
            k.get(DeliveryState::Delivered),
            k.get(DeliveryState::Bounced),
            k.get(DeliveryState::NotSent),
            k.get(DeliveryState::Queued)
        ),
        (1, 1, 1, 0),
        "{backend}: {k:?}"
    );
    assert_eq!(k.not_sent_reasons, vec![("suppressed".to_string(), 1)]);
    assert_eq!(store.next_due(Some(campaign)).await.unwrap(), None);
    assert_eq!(store.finish_campaigns(now()).await.unwrap(), 1);
    let bounced = store
        .recipients_filtered(
            campaign,
            &RecipientFilter::State(DeliveryState::Bounced),
            None,
            0,
            10,
        )
        .await
        .unwrap();
    assert_eq!(bounced.len(), 1, "{backend}");
    let all = store
        .recipients_filtered(campaign, &RecipientFilter::All, Some("ANN"), 0, 10)
        .await
        .unwrap();
    assert_eq!(all.len(), 1, "{backend}");

    // Engagement: a human and a machine open, an unsubscribe that suppresses.
    let delivered = a[0].id;
    let n = store
        .record_engagement(&[
            EngagementRecord {
                delivery: delivered,
                kind: herald_domain::EventKind::Open,
                at_ms: now(),
                detail: r#"{"verdict":"human"}"#.into(),
            },
            EngagementRecord {
                delivery: delivered,
                kind: herald_domain::EventKind::Open,
                at_ms: now(),
                detail: r#"{"verdict":"machine","why":"proxy"}"#.into(),
            },
            EngagementRecord {
                delivery: DeliveryId(999_999),
                kind: herald_domain::EventKind::Open,
                at_ms: now(),
                detail: "{}".into(),
            },
            EngagementRecord {
                delivery: delivered,
                kind: herald_domain::EventKind::Unsubscribe,
                at_ms: now(),
                detail: "{}".into(),
            },
        ])
        .await
        .unwrap();
    assert_eq!(n, 3, "unknown deliveries are dropped ({backend})");
    let k = store.counts(campaign).await.unwrap();
    assert_eq!(
        (
            k.with_event("open"),
            k.with_event("open:machine"),
            k.with_event("unsubscribe")
        ),
        (1, 1, 1),
        "{backend}: {k:?}"
    );
    let timeline = store.timeline(campaign).await.unwrap();
    let kinds: Vec<&str> = timeline.iter().map(|p| p.kind.as_str()).collect();
    for kind in [
        "delivered",
        "bounced",
        "open",
        "open:machine",
        "unsubscribe",
    ] {
        assert!(kinds.contains(&kind), "{backend}: {kind} in {timeline:?}");
    }
    let supp = store.suppressions("", 10).await.unwrap();
    assert_eq!(supp[0].reason, SuppressionReason::Unsubscribed, "{backend}");

    // A late bounce arrives over SMTP: kept with its effects.
    let r = store
        .delivery_by_message_id(&a[0].message_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.id, delivered);
    store
        .record_inbound(&InboundRecord {
            received_at_ms: now(),
            mail_from: "".into(),
            rcpt_to: "b+x@bounces.sender.example".into(),
            delivery: Some(delivered),
            kind: "dsn".into(),
            summary: "{}".into(),
            raw: b"raw \xff bytes".to_vec(),
            effects: vec![FeedbackEffect {
                delivery: delivered,
                campaign,
                email_key: r.email_key.clone(),
                kind: herald_domain::EventKind::AsyncBounce,
                at_ms: now(),
                detail: r#"{"reason":"mailboxfull"}"#.into(),
                bounce: Some(("mailboxfull".into(), false)),
                suppress: None,
                soft_bounce_limit: Some(1),
                delivered: false,
            }],
        })
        .await
        .unwrap();
    // Retention: raw text older than the cut-off is dropped once; newer is kept.
    assert_eq!(
        store.prune_inbound_raw(now() - 3_600_000).await.unwrap(),
        0,
        "{backend}: nothing is that old"
    );
    assert_eq!(
        store.prune_inbound_raw(now() + 1).await.unwrap(),
        1,
        "{backend}"
    );
    assert_eq!(
        store.prune_inbound_raw(now() + 1).await.unwrap(),
        0,
        "{backend}"
    );
    let detail = store
        .delivery_detail(campaign, &r.email_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(detail.row.state, DeliveryState::Bounced, "{backend}");
    assert_eq!(detail.attempts.len(), 1);
    assert!(
        detail
            .events
            .iter()
            .any(|e| e.kind == herald_domain::EventKind::AsyncBounce
                && e.detail.contains("inbound_message"))
    );
    let history = store.contact_deliveries(&r.email_key).await.unwrap();
    assert_eq!(history[0].state, DeliveryState::Bounced, "{backend}");
    assert!(
        store
            .remove_suppression(&r.email_key, "test", now())
            .await
            .unwrap()
    );
    assert!(
        !store
            .remove_suppression(&r.email_key, "test", now())
            .await
            .unwrap()
    );

    // Users, sessions and tokens.
    let user = store
        .add_user(&NewUser {
            email: "u@example.com".into(),
            password_hash: "h".into(),
            role: herald_domain::Role::Admin,
            created_at_ms: now(),
        })
        .await
        .unwrap();
    store
        .create_session(&NewSession {
            token_hash: "t".into(),
            user,
            csrf: "c".into(),
            created_at_ms: now(),
            expires_at_ms: now() + 60_000,
        })
        .await
        .unwrap();
    let (u, csrf) = store.session("t", now()).await.unwrap().unwrap();
    assert_eq!((u.email.as_str(), csrf.as_str()), ("u@example.com", "c"));
    assert!(store.session("t", now() + 120_000).await.unwrap().is_none());
    store
        .create_api_token("k", user, "ci", now(), None)
        .await
        .unwrap();
    assert!(store.user_by_api_token("k", now()).await.unwrap().is_some());
    // Credentials end: an expiring token after its time, a revoked one, sessions on reset.
    let soon = now() + 60_000;
    store
        .create_api_token("k2", user, "temp", now(), Some(soon))
        .await
        .unwrap();
    assert!(
        store
            .user_by_api_token("k2", soon - 1)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store.user_by_api_token("k2", soon).await.unwrap().is_none(),
        "{backend}"
    );
    let listed = store.api_tokens(Some("u@example.com")).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|t| (t.name.as_str(), t.expires_at_ms))
            .collect::<Vec<_>>(),
        [("ci", None), ("temp", Some(soon))],
        "{backend}"
    );
    assert_eq!(store.api_tokens(None).await.unwrap().len(), 2);
    assert_eq!(
        store.api_tokens(Some("x@example.com")).await.unwrap().len(),
        0
    );
    assert_eq!(store.revoke_api_tokens(user, "temp").await.unwrap(), 1);
    assert_eq!(store.revoke_api_tokens(user, "temp").await.unwrap(), 0);
    assert_eq!(store.end_sessions(user).await.unwrap(), 1, "{backend}");
    assert!(store.session("t", now()).await.unwrap().is_none());
    assert_eq!(store.users().await.unwrap().len(), 1);
    assert_eq!(store.campaigns(None, None, 10).await.unwrap().len(), 1);

    // Domain re-verification: only changes become events.
    let check = |at: i64, ok: bool| DomainCheck {
        domain: "sender.example".into(),
        checked_at_ms: at,
        ok,
        problems: if ok {
            String::new()
        } else {
            "dkim missing".into()
        },
        changed_at_ms: 0,
    };
    assert!(store.record_domain_check(&check(1, true)).await.unwrap());
    assert!(!store.record_domain_check(&check(2, true)).await.unwrap());
    assert!(store.record_domain_check(&check(3, false)).await.unwrap());
    assert_eq!(
        store
            .domain_events("sender.example", 10)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(store.domain_checks().await.unwrap()[0].changed_at_ms, 3);

    // Nodes: a live name cannot be taken by another process; a stale one can.
    let node = |owner: &str, at: i64| NodeRecord {
        name: "mx1".into(),
        owner: owner.into(),
        helo_name: "mx1.sender.example".into(),
        source_ips: r#"["192.0.2.10"]"#.into(),
        started_at_ms: at,
        heartbeat_at_ms: at,
        sandbox: owner == "p2",
    };
    assert_eq!(
        store.register_node(&node("p1", 1000), 0).await.unwrap(),
        None
    );
    assert!(store.node_heartbeat("mx1", "p1", 2000).await.unwrap());
    let live = store.register_node(&node("p2", 2500), 1500).await.unwrap();
    assert_eq!(live.map(|n| n.owner).as_deref(), Some("p1"), "{backend}");
    assert_eq!(
        store.register_node(&node("p1", 2600), 1500).await.unwrap(),
        None,
        "a restart of the same process"
    );
    assert_eq!(
        store.register_node(&node("p2", 9000), 5000).await.unwrap(),
        None,
        "stale: taken over"
    );
    assert!(
        !store.node_heartbeat("mx1", "p1", 9100).await.unwrap(),
        "{backend}"
    );
    assert_eq!(store.nodes().await.unwrap()[0].owner, "p2");
    assert!(
        store.nodes().await.unwrap()[0].sandbox,
        "{backend}: the mode is kept"
    );
}

#[tokio::test]
async fn sqlite_and_postgres_behave_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = herald_store::open(&format!("sqlite://{}", dir.path().join("h.db").display()))
        .await
        .unwrap();
    assert_eq!(sqlite.backend(), "sqlite");
    scenario(sqlite).await;

    let db = PgDb::create().await;
    let pg = herald_store::open(&db.url).await.unwrap();
    assert_eq!(pg.backend(), "postgres");
    scenario(pg).await;
    // Opening again (a second node, a restart) finds the schema in place.
    let again = herald_store::open(&db.url).await.unwrap();
    assert_eq!(again.campaigns(None, None, 10).await.unwrap().len(), 1);
}
