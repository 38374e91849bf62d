//! The same scenario through the `Store` trait on both backends: SQLite in a temporary file
//! and PostgreSQL in a database created for this test and dropped after it (the server at
//! `HERALD_TEST_POSTGRES`, default `postgres://postgres@127.0.0.1:5432`; `scripts/test` starts
//! one). What one backend does, the other must do the same way.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use herald_domain::{DeliveryState, Evidence};
use herald_store::*;
use time::OffsetDateTime;

/// A fresh PostgreSQL database, dropped when this is dropped.
pub struct PgDb {
    admin: String,
    name: String,
    pub url: String,
}

impl PgDb {
    pub async fn create() -> PgDb {
        use sqlx::Connection;
        let server = std::env::var("HERALD_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let admin = format!("{server}/postgres");
        let name = format!("herald_test_{}", uuid::Uuid::now_v7().simple());
        let mut c = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {server} ({e}); scripts/test starts one"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut c)
            .await
            .unwrap();
        PgDb {
            url: format!("{server}/{name}"),
            admin,
            name,
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop from a thread of its own: this may run inside a runtime that is shutting down.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut c)
                    .await;
                }
            });
        })
        .join();
    }
}

fn evidence(message_id: &str, code: u16) -> Evidence {
    let now = OffsetDateTime::now_utc();
    Evidence {
        started_at: now,
        ended_at: now,
        mx: Some("mx.example.net".into()),
        mx_preference: Some(10),
        remote_ip: Some("192.0.2.1".into()),
        local_ip: None,
        tls: None,
        reply: Some(herald_domain::Reply {
            code,
            enhanced: None,
            lines: vec!["ok".into()],
        }),
        stage: Some("data".into()),
        error: None,
        remote_queue_id: Some("Q1".into()),
        message_id: message_id.into(),
        bytes: 100,
        route: "mx".into(),
        node: None,
        sent: None,
    }
}

fn now() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

async fn scenario(store: AnyStore) {
    let backend = store.backend();
    // Contacts: a duplicate merges; fields merge, newer values win.
    let list = store.ensure_list("news").await.unwrap();
    assert_eq!(store.ensure_list("news").await.unwrap(), list, "{backend}");
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
        )
        .await
        .unwrap();
    assert_eq!((counts.inserted, counts.updated), (3, 0), "{backend}");
    let counts = store
        .upsert_contacts(list, &[c("ann@example.com", r#"{"city":"Oslo"}"#)])
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
        store.update_draft(campaign, &draft).await.unwrap(),
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
        !store.update_draft(campaign, &draft).await.unwrap(),
        "{backend}"
    );
    assert!(!store.delete_draft(campaign).await.unwrap(), "{backend}");
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
        attempt: Some((state.as_str().to_string(), evidence(&c.message_id, code))),
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
                kind: "open",
                at_ms: now(),
                detail: r#"{"verdict":"human"}"#.into(),
            },
            EngagementRecord {
                delivery: delivered,
                kind: "open",
                at_ms: now(),
                detail: r#"{"verdict":"machine","why":"proxy"}"#.into(),
            },
            EngagementRecord {
                delivery: DeliveryId(999_999),
                kind: "open",
                at_ms: now(),
                detail: "{}".into(),
            },
            EngagementRecord {
                delivery: delivered,
                kind: "unsubscribe",
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
    assert_eq!(supp[0].reason, "unsubscribed", "{backend}");

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
                kind: "async_bounce",
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
            .any(|e| e.kind == "async_bounce" && e.detail.contains("inbound_message"))
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
    assert_eq!(store.campaigns(10).await.unwrap().len(), 1);

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
    assert_eq!(again.campaigns(10).await.unwrap().len(), 1);
}

/// Pause, resume and cancel: what claims see, what a give-back restores, and how cancelled
/// deliveries settle (at once when unleased, after their lease otherwise).
async fn pause_scenario(store: AnyStore) {
    let backend = store.backend();
    let list = store.ensure_list("p").await.unwrap();
    let contacts: Vec<NewContact> = (0..4)
        .map(|i| NewContact {
            email: format!("p{i}@example.com"),
            email_key: format!("p{i}@example.com"),
            fields: "{}".into(),
            erased_token: None,
        })
        .collect();
    store.upsert_contacts(list, &contacts).await.unwrap();
    let campaign = store
        .create_campaign(&NewCampaign {
            name: "P".into(),
            list,
            from_name: None,
            from_address: "ann@sender.example".into(),
            subject: "S".into(),
            html: "<p>x</p>".into(),
            text: None,
            created_at_ms: now(),
            gate_override: None,
            reply_to: None,
            track_opens: true,
            track_clicks: true,
            send_to_seeds: false,
        })
        .await
        .unwrap();
    assert!(
        !store.pause_campaign(campaign).await.unwrap(),
        "{backend}: a draft is not paused"
    );
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
            // One waits for a retry after a temporary failure.
            state: if i == 3 {
                DeliveryState::Deferred
            } else {
                DeliveryState::Queued
            },
            reason: (i == 3).then(|| "greylisted".to_string()),
            message_id: format!("<p{i}@sender.example>"),
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
    let req = |owner: &'static str, at: i64, limit: u32| ClaimRequest {
        owner,
        now_ms: at,
        lease_until_ms: at + 60_000,
        limit,
        campaign: None,
    };
    let held = store.claim(&req("A", t, 1)).await.unwrap();
    assert_eq!(held.len(), 1, "{backend}");

    assert!(store.pause_campaign(campaign).await.unwrap(), "{backend}");
    assert!(!store.pause_campaign(campaign).await.unwrap(), "{backend}");
    // A second start of the same send (a double click finishing late) leaves the pause alone.
    store
        .set_campaign_status(campaign, CampaignStatus::Sending, now())
        .await
        .unwrap();
    let c = store.campaign(campaign).await.unwrap().unwrap();
    assert_eq!(c.status, CampaignStatus::Paused, "{backend}");
    assert!(
        store.claim(&req("B", t, 10)).await.unwrap().is_empty(),
        "{backend}: nothing of a paused campaign is claimed"
    );
    assert_eq!(store.next_due(None).await.unwrap(), None, "{backend}");
    assert_eq!(
        store.halted_campaigns().await.unwrap(),
        vec![(campaign, CampaignStatus::Paused)],
        "{backend}"
    );
    // A's claim is given back unattempted: state and reason kept, nothing counted twice.
    let give_back = |d: &ClaimedDelivery, next: Option<i64>| OutcomeRecord {
        delivery: d.id,
        campaign,
        state: d.state,
        reason: d.reason.clone(),
        hard: false,
        next_attempt_at_ms: next,
        attempt: None,
        at_ms: now(),
    };
    store
        .record_outcomes(&[give_back(&held[0], Some(t + PAUSE_SHIFT_MS))])
        .await
        .unwrap();
    let k = store.counts(campaign).await.unwrap();
    assert_eq!(
        (k.get(DeliveryState::Queued), k.get(DeliveryState::Deferred)),
        (3, 1),
        "{backend}: {k:?}"
    );

    assert!(store.resume_campaign(campaign).await.unwrap(), "{backend}");
    assert!(!store.resume_campaign(campaign).await.unwrap(), "{backend}");
    // Unsubscribed while the campaign was paused: the claim says so.
    store
        .add_suppression(&Suppression {
            email_key: "p2@example.com".into(),
            reason: "unsubscribed".into(),
            source: "manual".into(),
            created_at_ms: now(),
        })
        .await
        .unwrap();
    let all = store.claim(&req("A", t, 10)).await.unwrap();
    let flagged: Vec<(&str, Option<&str>)> = all
        .iter()
        .map(|d| (d.email.as_str(), d.suppressed.as_deref()))
        .filter(|(_, s)| s.is_some())
        .collect();
    assert_eq!(
        flagged,
        vec![("p2@example.com", Some("unsubscribed"))],
        "{backend}"
    );
    assert_eq!(all.len(), 4, "{backend}: every delivery is due again");
    let deferred = all
        .iter()
        .find(|d| d.state == DeliveryState::Deferred)
        .unwrap();
    assert_eq!(deferred.reason.as_deref(), Some("greylisted"), "{backend}");
    // Two are given back; two stay leased (in flight) when the campaign is cancelled.
    store
        .record_outcomes(&[give_back(&all[0], Some(t)), give_back(&all[1], Some(t))])
        .await
        .unwrap();
    assert_eq!(
        store.cancel_campaign(campaign, now()).await.unwrap(),
        Some(2),
        "{backend}: the two no lease holds settle at once"
    );
    assert_eq!(store.cancel_campaign(campaign, now()).await.unwrap(), None);
    assert!(!store.pause_campaign(campaign).await.unwrap(), "{backend}");
    assert!(!store.resume_campaign(campaign).await.unwrap(), "{backend}");
    assert_eq!(
        store.halted_campaigns().await.unwrap(),
        vec![(campaign, CampaignStatus::Cancelled)],
        "{backend}: deliveries still wait"
    );
    assert_eq!(store.settle_cancelled(now()).await.unwrap(), 0, "{backend}");
    // The holder died: once the leases run out the rest settle too.
    assert_eq!(
        store.settle_cancelled(t + 61_000).await.unwrap(),
        2,
        "{backend}"
    );
    let k = store.counts(campaign).await.unwrap();
    assert_eq!(
        (k.get(DeliveryState::NotSent), k.unfinished()),
        (4, 0),
        "{backend}: {k:?}"
    );
    assert_eq!(k.not_sent_reasons, vec![("cancelled".to_string(), 4)]);
    let flagged = store
        .recipients_filtered(campaign, &RecipientFilter::All, None, 0, 10)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.possible_duplicate)
        .count();
    assert_eq!(
        flagged, 2,
        "{backend}: the two whose holder died may have been sent"
    );
    store.finish_campaigns(now()).await.unwrap();
    let c = store.campaign(campaign).await.unwrap().unwrap();
    assert_eq!(
        c.status,
        CampaignStatus::Cancelled,
        "{backend}: stays cancelled"
    );
    assert!(c.finished_at_ms.is_some(), "{backend}");
    assert!(
        store.halted_campaigns().await.unwrap().is_empty(),
        "{backend}"
    );

    // A NUL cannot be stored in PostgreSQL text: lookups and searches with one match nothing
    // (they used to fail as a database error on PostgreSQL only).
    assert!(
        store
            .search_contacts("p\0", "", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .search_contacts("p", "\0", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .recipients_filtered(campaign, &RecipientFilter::All, Some("p0\0"), 0, 10)
            .await
            .unwrap()
            .is_empty(),
        "{backend}"
    );
    assert!(store.contact("p0@example.com\0").await.unwrap().is_none());
    assert!(store.suppressions("\0", 10).await.unwrap().is_empty());
    assert!(store.user_by_email("a\0@b.test").await.unwrap().is_none());
    assert!(
        store
            .delivery_by_message_id("<p0@sender.example>\0")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn pause_resume_and_cancel_behave_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = herald_store::open(&format!("sqlite://{}", dir.path().join("h.db").display()))
        .await
        .unwrap();
    pause_scenario(sqlite).await;
    let db = PgDb::create().await;
    pause_scenario(herald_store::open(&db.url).await.unwrap()).await;
}

/// A scheduled start's lease: one taker; while it is held the campaign cannot be edited,
/// unscheduled or deleted under the starting node; a refused start makes it a draft again.
async fn schedule_scenario(store: AnyStore) {
    let backend = store.backend();
    let list = store.ensure_list("s").await.unwrap();
    let new = NewCampaign {
        name: "S".into(),
        list,
        from_name: None,
        from_address: "ann@sender.example".into(),
        subject: "S".into(),
        html: "<p>x</p>".into(),
        text: None,
        created_at_ms: now(),
        gate_override: None,
        reply_to: None,
        track_opens: true,
        track_clicks: true,
        send_to_seeds: false,
    };
    let id = store.create_campaign(&new).await.unwrap();
    let t = now();
    assert!(
        store
            .schedule_campaign(id, t - 1, Some("UTC"), Some("2026-12-10T09:00"))
            .await
            .unwrap()
    );
    assert_eq!(
        store.take_due_schedules(t, t + 60_000).await.unwrap(),
        vec![id],
        "{backend}"
    );
    assert!(
        store
            .take_due_schedules(t, t + 60_000)
            .await
            .unwrap()
            .is_empty(),
        "{backend}: leased"
    );
    assert!(!store.unschedule_campaign(id).await.unwrap(), "{backend}");
    assert!(!store.update_draft(id, &new).await.unwrap(), "{backend}");
    assert!(!store.delete_draft(id).await.unwrap(), "{backend}");
    assert!(
        !store
            .schedule_campaign(id, t + 5_000, None, None)
            .await
            .unwrap(),
        "{backend}: not moved while starting"
    );
    store.schedule_failed(id, "the gate said no").await.unwrap();
    let c = store.campaign(id).await.unwrap().unwrap();
    assert_eq!(
        (
            c.status,
            c.schedule_error.as_deref(),
            c.local_time.as_deref()
        ),
        (CampaignStatus::Draft, Some("the gate said no"), None),
        "{backend}"
    );
    assert!(store.delete_draft(id).await.unwrap(), "{backend}");
}

#[tokio::test]
async fn scheduled_starts_behave_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = herald_store::open(&format!("sqlite://{}", dir.path().join("h.db").display()))
        .await
        .unwrap();
    schedule_scenario(sqlite).await;
    let db = PgDb::create().await;
    schedule_scenario(herald_store::open(&db.url).await.unwrap()).await;
}

/// Through a relay: a `relayed` delivery becomes `delivered` when the relay's success DSN comes
/// back, and `bounced` on its failure DSN; a success DSN that overtakes the write of the
/// relay's 250 (the relay delivers within milliseconds) is not lost.
async fn relay_scenario(store: AnyStore) {
    let backend = store.backend();
    let list = store.ensure_list("r").await.unwrap();
    let contacts: Vec<NewContact> = (0..3)
        .map(|i| NewContact {
            email: format!("r{i}@example.com"),
            email_key: format!("r{i}@example.com"),
            fields: "{}".into(),
            erased_token: None,
        })
        .collect();
    store.upsert_contacts(list, &contacts).await.unwrap();
    let campaign = store
        .create_campaign(&NewCampaign {
            name: "R".into(),
            list,
            from_name: None,
            from_address: "ann@sender.example".into(),
            subject: "S".into(),
            html: "<p>x</p>".into(),
            text: None,
            created_at_ms: now(),
            gate_override: None,
            reply_to: None,
            track_opens: true,
            track_clicks: true,
            send_to_seeds: false,
        })
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
    let effect = |d: &ClaimedDelivery, kind: &'static str| FeedbackEffect {
        delivery: d.id,
        campaign,
        email_key: d.email.clone(),
        kind,
        at_ms: now(),
        detail: r#"{"action":"delivered","remote_mta":"mx.example.net"}"#.into(),
        bounce: (kind == "async_bounce").then(|| ("userunknown".to_string(), true)),
        suppress: None,
        soft_bounce_limit: None,
        delivered: kind == "dsn_delivered",
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
        .record_inbound(&inbound(effect(&held[2], "dsn_delivered")))
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
            attempt: Some(("relayed".into(), ev)),
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
        .record_inbound(&inbound(effect(&held[0], "dsn_delivered")))
        .await
        .unwrap();
    store
        .record_inbound(&inbound(effect(&held[1], "async_bounce")))
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
        .record_inbound(&inbound(effect(&held[1], "dsn_delivered")))
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

async fn audience_scenario(store: AnyStore) {
    use herald_domain::{MemberStatus, OptIn};
    let backend = store.backend();
    let t0 = now();
    let news = NewList {
        name: "News".into(),
        slug: Some("news".into()),
        description: "Weekly".into(),
        opt_in: OptIn::Double,
        form_fields: vec!["first_name".into()],
        from_name: Some("The News".into()),
        from_address: Some("news@sender.test".into()),
    };
    let list = store.create_list(&news, t0).await.unwrap();
    let rec = store.list_record("news", true).await.unwrap().unwrap();
    assert_eq!((rec.id, &rec.list), (list, &news), "{backend}");
    assert!(store.list_record("news", false).await.unwrap().is_none());
    // An existing contact (from an import to another list) signs up with another name.
    let other = store.ensure_list("customers").await.unwrap();
    store
        .upsert_contacts(
            other,
            &[NewContact {
                email: "eve@example.com".into(),
                email_key: "eve@example.com".into(),
                fields: r#"{"first_name":"Evelyn"}"#.into(),
                erased_token: None,
            }],
        )
        .await
        .unwrap();
    let sign = |email: &str, at: i64| SignUp {
        list,
        email: email.into(),
        email_key: email.into(),
        fields: r#"{"first_name":"Eve"}"#.into(),
        source: "form:news".into(),
        ip: Some("192.0.2.1".into()),
        user_agent: Some("test".into()),
        form_text: "Weekly news".into(),
        erased_token: None,
        status: MemberStatus::Pending,
        at_ms: at,
    };
    let s = store.sign_up(&sign("eve@example.com", t0)).await.unwrap();
    assert_eq!(
        (s.before, s.now),
        (None, MemberStatus::Pending),
        "{backend}"
    );
    let page = store.audience_page(list, 0, 10).await.unwrap();
    assert_eq!(page[0].status, MemberStatus::Pending, "{backend}");
    assert!(
        page[0].fields.contains("Evelyn"),
        "{backend}: a sign-up does not change an existing contact's fields before it is confirmed"
    );
    let confirmation = |not_since: i64, max_in_window: u32| NewConfirmation {
        list,
        contact_id: s.contact_id,
        email: "eve@example.com".into(),
        email_key: "eve@example.com".into(),
        domain: "example.com".into(),
        message_id: format!("<{}@sender.test>", uuid::Uuid::now_v7().simple()),
        campaign: NewCampaign {
            name: "Confirmations: News".into(),
            list,
            from_name: Some("The News".into()),
            from_address: "news@sender.test".into(),
            subject: "Confirm".into(),
            html: "<a href=\"{{ confirm_url }}\">yes</a>".into(),
            text: None,
            created_at_ms: t0,
            gate_override: None,
            reply_to: None,
            track_opens: false,
            track_clicks: false,
            send_to_seeds: false,
        },
        consent: s.consent,
        not_since_ms: not_since,
        window_since_ms: t0 - 600_000,
        max_in_window,
        at_ms: t0,
    };
    let first = store
        .queue_confirmation(&confirmation(t0 - 600_000, 3))
        .await
        .unwrap()
        .expect("queued");
    assert_eq!(
        store
            .queue_confirmation(&confirmation(t0 - 600_000, 3))
            .await
            .unwrap(),
        None,
        "{backend}: no second message within the resend window"
    );
    let second = store
        .queue_confirmation(&confirmation(t0 + 1, 3))
        .await
        .unwrap()
        .expect("a later resend");
    let (c1, c2) = (
        store.delivery_ref(first).await.unwrap().unwrap().campaign,
        store.delivery_ref(second).await.unwrap().unwrap().campaign,
    );
    assert_ne!(c1, c2, "{backend}: one message per address and campaign");
    let k = store.campaign(c2).await.unwrap().unwrap();
    assert!(
        k.confirmation && k.status == CampaignStatus::Sending,
        "{backend}"
    );
    assert!(
        store.campaigns(10).await.unwrap().is_empty(),
        "{backend}: confirmations are not listed among campaigns"
    );
    store.finish_campaigns(t0 + 10).await.unwrap();
    assert_eq!(
        store.campaign(c1).await.unwrap().unwrap().status,
        CampaignStatus::Sending,
        "{backend}: a confirmation campaign never finishes"
    );

    // Eve had unsubscribed from everything; confirming lifts that for this list only.
    store
        .add_suppression(&Suppression {
            email_key: "eve@example.com".into(),
            reason: "unsubscribed".into(),
            source: "manual".into(),
            created_at_ms: t0,
        })
        .await
        .unwrap();
    let done = store
        .confirm_member(second, t0 + 20, Some("192.0.2.9"))
        .await
        .unwrap()
        .unwrap();
    assert!(done.newly && done.list == list, "{backend}");
    assert!(
        !store
            .confirm_member(second, t0 + 30, None)
            .await
            .unwrap()
            .unwrap()
            .newly
    );
    let page = store.audience_page(list, 0, 10).await.unwrap();
    assert_eq!(page[0].status, MemberStatus::Subscribed, "{backend}");
    assert_eq!(page[0].suppression, None, "{backend}");
    assert!(
        page[0].fields.contains("\"Eve\""),
        "{backend}: fields applied"
    );
    let others = store.audience_page(other, 0, 10).await.unwrap();
    assert_eq!(
        others[0].status,
        MemberStatus::Unsubscribed,
        "{backend}: still out of the lists left before"
    );
    let consents = store.consents("eve@example.com").await.unwrap();
    assert_eq!(consents.len(), 1, "{backend}");
    assert_eq!(
        (
            consents[0].confirmed_at_ms,
            consents[0].confirm_ip.as_deref()
        ),
        (Some(t0 + 20), Some("192.0.2.9")),
        "{backend}"
    );
    // A subscribed member signing up again changes nothing.
    let again = store
        .sign_up(&sign("eve@example.com", t0 + 40))
        .await
        .unwrap();
    assert_eq!(again.now, MemberStatus::Subscribed, "{backend}");
    assert_eq!(store.consents("eve@example.com").await.unwrap().len(), 1);
    // A campaign's delivery is not a confirmation message.
    assert_eq!(
        store
            .confirm_member(DeliveryId(i64::MAX), t0, None)
            .await
            .unwrap(),
        None
    );

    // A pending sign-up's new contact has none of the typed fields until confirmed.
    let zed = store.sign_up(&sign("zed@example.com", t0)).await.unwrap();
    assert!(zed.consent.is_some());
    let page = store.audience_page(list, 0, 10).await.unwrap();
    let z = page.iter().find(|m| m.email == "zed@example.com").unwrap();
    assert_eq!(
        (z.status, z.fields.as_str()),
        (MemberStatus::Pending, "{}"),
        "{backend}"
    );
    // An import vouches for a pending sign-up; it never brings back someone who left.
    let pat = store.sign_up(&sign("pat@example.com", t0)).await.unwrap();
    assert_eq!(pat.now, MemberStatus::Pending);
    store
        .upsert_contacts(
            list,
            &[NewContact {
                email: "pat@example.com".into(),
                email_key: "pat@example.com".into(),
                fields: "{}".into(),
                erased_token: None,
            }],
        )
        .await
        .unwrap();
    let page = store.audience_page(list, 0, 10).await.unwrap();
    let p = page.iter().find(|m| m.email == "pat@example.com").unwrap();
    assert_eq!(p.status, MemberStatus::Subscribed, "{backend}");
    store
        .upsert_contacts(
            other,
            &[NewContact {
                email: "eve@example.com".into(),
                email_key: "eve@example.com".into(),
                fields: "{}".into(),
                erased_token: None,
            }],
        )
        .await
        .unwrap();
    let others = store.audience_page(other, 0, 10).await.unwrap();
    assert_eq!(others[0].status, MemberStatus::Unsubscribed, "{backend}");
    // A single opt-in form does not bring back someone who left either.
    let single = SignUp {
        list: other,
        status: MemberStatus::Subscribed,
        ..sign("eve@example.com", t0 + 50)
    };
    let back = store.sign_up(&single).await.unwrap();
    assert_eq!(
        (back.now, back.consent),
        (MemberStatus::Unsubscribed, None),
        "{backend}"
    );

    // Unconfirmed sign-ups go after the window; confirmed members stay.
    assert_eq!(store.purge_pending(t0 + 1).await.unwrap(), 1, "{backend}");
    let rec = store.list_record("News", false).await.unwrap().unwrap();
    assert_eq!(
        (rec.subscribed, rec.pending, rec.unsubscribed),
        (2, 0, 0),
        "{backend}"
    );
    assert!(store.consents("zed@example.com").await.unwrap().is_empty());

    // An old confirmation link does not bring back someone who left the list since.
    assert!(store.leave_list(second, t0 + 60, "{}").await.unwrap());
    assert_eq!(
        store.confirm_member(second, t0 + 70, None).await.unwrap(),
        None,
        "{backend}"
    );
    let rec = store.list_record("News", false).await.unwrap().unwrap();
    assert_eq!((rec.subscribed, rec.unsubscribed), (1, 1), "{backend}");

    // A list a campaign used is kept; an unused one goes.
    assert!(!store.delete_list(list).await.unwrap(), "{backend}");
    let spare = store
        .create_list(
            &NewList {
                name: "Spare".into(),
                slug: None,
                opt_in: OptIn::Single,
                ..news.clone()
            },
            t0,
        )
        .await
        .unwrap();
    let mut renamed = news.clone();
    renamed.name = "News weekly".into();
    assert!(store.update_list(list, &renamed).await.unwrap());
    assert!(store.delete_list(spare).await.unwrap(), "{backend}");
    let names: Vec<String> = store
        .list_records()
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.list.name)
        .collect();
    assert_eq!(names, vec!["News weekly", "customers"], "{backend}");
}

#[tokio::test]
async fn the_audience_behaves_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = herald_store::open(&format!("sqlite://{}", dir.path().join("h.db").display()))
        .await
        .unwrap();
    audience_scenario(sqlite).await;
    let db = PgDb::create().await;
    audience_scenario(herald_store::open(&db.url).await.unwrap()).await;
}

/// Erasing a person (GDPR): the address leaves every table, the counts stay, and the token
/// keeps them out of imports and sign-ups; a message in flight holds the erasure off.
async fn erasure_scenario(store: AnyStore) {
    let backend = store.backend();
    let list = store.ensure_list("e").await.unwrap();
    let token = "erased:0123abcd".to_string();
    let signed = store
        .sign_up(&SignUp {
            list,
            email: "Eve@Example.com".into(),
            email_key: "eve@example.com".into(),
            fields: r#"{"first_name":"Evelyn"}"#.into(),
            source: "form:e".into(),
            ip: Some("192.0.2.99".into()),
            user_agent: Some("Mozilla/5.0 Eve".into()),
            form_text: "Weekly news".into(),
            status: herald_domain::MemberStatus::Subscribed,
            at_ms: now(),
            erased_token: Some(token.clone()),
        })
        .await
        .unwrap();
    assert!(signed.consent.is_some(), "{backend}");
    let bob = NewContact {
        email: "bob@example.com".into(),
        email_key: "bob@example.com".into(),
        fields: "{}".into(),
        erased_token: None,
    };
    store
        .upsert_contacts(list, std::slice::from_ref(&bob))
        .await
        .unwrap();
    let campaign = store
        .create_campaign(&NewCampaign {
            name: "E".into(),
            list,
            from_name: None,
            from_address: "ann@sender.example".into(),
            subject: "Hi {{ first_name }}".into(),
            html: "<p>x</p>".into(),
            text: None,
            created_at_ms: now(),
            gate_override: None,
            reply_to: None,
            track_opens: true,
            track_clicks: true,
            send_to_seeds: false,
        })
        .await
        .unwrap();
    let members = store.audience_page(list, 0, 10).await.unwrap();
    let batch: Vec<NewDelivery> = members
        .iter()
        .map(|m| NewDelivery {
            campaign,
            contact_id: Some(m.contact_id),
            email: m.email.clone(),
            email_key: m.email_key.clone(),
            domain: "example.com".into(),
            state: DeliveryState::Queued,
            reason: None,
            message_id: format!("<{}@sender.example>", m.contact_id),
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
    let held = store
        .claim(&ClaimRequest {
            owner: "A",
            now_ms: now(),
            lease_until_ms: now() + 60_000,
            limit: 10,
            campaign: None,
        })
        .await
        .unwrap();
    assert_eq!(held.len(), 2, "{backend}");
    let erasure = Erasure {
        email_key: "eve@example.com".into(),
        token: token.clone(),
        placeholder: "erased-0123abcd@erased.invalid".into(),
        needles: vec!["Eve@Example.com".into(), "eve%40example.com".into()],
        source: "cli".into(),
        at_ms: now(),
    };
    assert_eq!(
        store.erase_person(&erasure).await.unwrap(),
        EraseOutcome::InFlight,
        "{backend}: a message being handed over holds the erasure off"
    );
    let outcomes: Vec<OutcomeRecord> = held
        .iter()
        .map(|d| {
            let mut ev = evidence(&format!("<{}@sender.example>", d.id), 250);
            ev.reply = Some(herald_domain::Reply {
                code: 250,
                enhanced: None,
                lines: vec![format!("2.0.0 Ok: queued for <{}>", d.email.to_uppercase())],
            });
            let name = if d.email.starts_with("bob") {
                "Bob"
            } else {
                "Evelyn"
            };
            ev.sent = Some(herald_domain::SentMessage {
                subject: format!("Hi {name}"),
                from: "ann@sender.example".into(),
                sha256: "00".into(),
            });
            OutcomeRecord {
                delivery: d.id,
                campaign,
                state: DeliveryState::Delivered,
                reason: None,
                hard: false,
                next_attempt_at_ms: None,
                attempt: Some(("delivered".into(), ev)),
                at_ms: now(),
            }
        })
        .collect();
    store.record_outcomes(&outcomes).await.unwrap();
    let eve = held
        .iter()
        .find(|d| d.email.eq_ignore_ascii_case("eve@example.com"))
        .unwrap();
    store
        .record_engagement(&[EngagementRecord {
            delivery: eve.id,
            kind: "open",
            at_ms: now(),
            detail: r#"{"verdict":"human","ip":"198.51.100.7","user_agent":"Mozilla/5.0 Eve"}"#
                .into(),
        }])
        .await
        .unwrap();
    store
        .record_inbound(&InboundRecord {
            received_at_ms: now(),
            mail_from: "postmaster@example.com".into(),
            rcpt_to: "b+1.abc@bounces.sender.example".into(),
            delivery: None,
            kind: "reply".into(),
            summary: r#"{"from":"eve@example.com"}"#.into(),
            raw: b"From: Eve <eve@example.com>\r\n\r\nPlease stop.\r\n".to_vec(),
            effects: Vec::new(),
        })
        .await
        .unwrap();
    // Someone else whose address contains Eve's is not Eve.
    let genevieve = store
        .record_inbound(&InboundRecord {
            received_at_ms: now(),
            mail_from: "genevieve@example.com".into(),
            rcpt_to: "b+1.abc@bounces.sender.example".into(),
            delivery: None,
            kind: "reply".into(),
            summary: "{}".into(),
            raw: b"From: genevieve@example.com\r\n\r\nHello.\r\n".to_vec(),
            effects: Vec::new(),
        })
        .await
        .unwrap();
    let before = store.counts(campaign).await.unwrap();
    let record = store
        .person_record("eve@example.com", &erasure.needles)
        .await
        .unwrap();
    assert_eq!(
        record.attempts.len(),
        1,
        "{backend}: right of access sees the attempt"
    );

    let EraseOutcome::Erased(done) = store.erase_person(&erasure).await.unwrap() else {
        panic!("{backend}: not erased");
    };
    assert!(done.contact, "{backend}");
    assert_eq!(
        (
            done.memberships,
            done.consents,
            done.deliveries,
            done.attempts,
            done.events,
            done.inbound
        ),
        (1, 1, 1, 1, 1, 1),
        "{backend}: {done:?}"
    );
    assert_eq!(
        store.counts(campaign).await.unwrap(),
        before,
        "{backend}: counts unchanged"
    );
    assert!(
        store.contact("eve@example.com").await.unwrap().is_none(),
        "{backend}"
    );
    assert!(
        store.consents("eve@example.com").await.unwrap().is_empty(),
        "{backend}"
    );
    assert!(
        store
            .contact_deliveries("eve@example.com")
            .await
            .unwrap()
            .is_empty(),
        "{backend}"
    );
    let p = store
        .person_record("eve@example.com", &erasure.needles)
        .await
        .unwrap();
    assert!(
        p.attempts.is_empty() && p.suppression.is_none(),
        "{backend}"
    );
    let detail = store
        .delivery_detail(campaign, &token)
        .await
        .unwrap()
        .unwrap();
    let ev = serde_json::to_string(&detail.attempts[0].evidence).unwrap();
    assert!(!ev.to_lowercase().contains("eve@"), "{backend}: {ev}");
    assert!(
        !ev.contains("Evelyn"),
        "{backend}: the personalised subject goes: {ev}"
    );
    assert!(
        ev.contains("mx.example.net"),
        "{backend}: the server stays: {ev}"
    );
    let events = store.events(&[eve.id]).await.unwrap();
    assert_eq!(events.len(), 1, "{backend}: the open still counts");
    let d = format!("{:?}", events[0]);
    assert!(
        !d.contains("198.51.100.7") && !d.contains("Mozilla"),
        "{backend}: {d}"
    );
    // Feedback arriving later about Eve's message keeps its effect, not her data.
    store
        .record_engagement(&[EngagementRecord {
            delivery: eve.id,
            kind: "click",
            at_ms: now(),
            detail: r#"{"verdict":"human","ip":"198.51.100.8","user_agent":"Mozilla/5.0 Eve","url":"https://x.test/"}"#
                .into(),
        }])
        .await
        .unwrap();
    let events = store.events(&[eve.id]).await.unwrap();
    assert_eq!(events.len(), 2, "{backend}: the click counts");
    let d = format!("{events:?}");
    assert!(
        !d.contains("198.51.100.8") && !d.contains("Mozilla"),
        "{backend}: {d}"
    );
    let late = store
        .record_inbound(&InboundRecord {
            received_at_ms: now(),
            mail_from: "eve@example.com".into(),
            rcpt_to: "b+1.abc@bounces.sender.example".into(),
            delivery: Some(eve.id),
            kind: "reply".into(),
            summary: r#"{"from":"eve@example.com"}"#.into(),
            raw: b"From: Eve <eve@example.com>\r\n\r\nThanks!\r\n".to_vec(),
            effects: Vec::new(),
        })
        .await
        .unwrap();
    assert!(late > genevieve);
    // Bob is untouched.
    assert!(
        store.contact("bob@example.com").await.unwrap().is_some(),
        "{backend}"
    );
    // The token keeps Eve out: an import refuses her, a sign-up fails.
    let again = NewContact {
        email: "eve@example.com".into(),
        email_key: "eve@example.com".into(),
        fields: "{}".into(),
        erased_token: Some(token.clone()),
    };
    let c = store.upsert_contacts(list, &[again, bob]).await.unwrap();
    assert_eq!(c.refused, vec!["eve@example.com".to_string()], "{backend}");
    assert_eq!((c.inserted, c.updated), (0, 1), "{backend}");
    assert!(
        store.contact("eve@example.com").await.unwrap().is_none(),
        "{backend}"
    );
    let err = store
        .sign_up(&SignUp {
            list,
            email: "eve@example.com".into(),
            email_key: "eve@example.com".into(),
            fields: "{}".into(),
            source: "form:e".into(),
            ip: None,
            user_agent: None,
            form_text: String::new(),
            status: herald_domain::MemberStatus::Subscribed,
            at_ms: now(),
            erased_token: Some(token.clone()),
        })
        .await;
    assert!(matches!(err, Err(StoreError::Erased)), "{backend}: {err:?}");
    assert_eq!(
        store.erase_person(&erasure).await.unwrap(),
        EraseOutcome::Unknown,
        "{backend}: nothing is left to erase"
    );
}

#[tokio::test]
async fn erasure_behaves_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let sqlite = herald_store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    erasure_scenario(sqlite.clone()).await;
    // The SQLite files hold the address nowhere: deleted and overwritten content is zeroed,
    // and the write-ahead log was emptied.
    drop(sqlite);
    for f in ["h.db", "h.db-wal"] {
        let Ok(bytes) = std::fs::read(dir.path().join(f)) else {
            continue;
        };
        let lower = String::from_utf8_lossy(&bytes).to_lowercase();
        // (genevieve@example.com, someone else, is kept: only whole addresses are Eve's.)
        for needle in [
            "<eve@example.com",
            "\"eve@example.com",
            "evelyn",
            "please stop",
            "thanks!",
            "192.0.2.99",
            "198.51.100.7",
            "198.51.100.8",
        ] {
            if let Some(i) = lower.find(needle) {
                let lo = i.saturating_sub(300);
                panic!(
                    "{f} still holds {needle:?}: {:?}",
                    &lower[lo..(i + 100).min(lower.len())]
                );
            }
        }
        if f == "h.db" {
            assert!(
                lower.contains("bob@example.com"),
                "the search finds what is there"
            );
        }
    }
    let db = PgDb::create().await;
    erasure_scenario(herald_store::open(&db.url).await.unwrap()).await;
}

async fn webhook_scenario(store: AnyStore) {
    let backend = store.backend();
    let list = store.ensure_list("w").await.unwrap();
    let contacts: Vec<NewContact> = (0..4)
        .map(|i| NewContact {
            email: format!("w{i}@example.com"),
            email_key: format!("w{i}@example.com"),
            fields: "{}".into(),
            erased_token: None,
        })
        .collect();
    store.upsert_contacts(list, &contacts).await.unwrap();
    let campaign = store
        .create_campaign(&NewCampaign {
            name: "W".into(),
            list,
            from_name: None,
            from_address: "ann@sender.example".into(),
            subject: "S".into(),
            html: "<p>x</p>".into(),
            text: None,
            created_at_ms: now(),
            gate_override: None,
            reply_to: None,
            track_opens: true,
            track_clicks: true,
            send_to_seeds: false,
        })
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
        attempt: Some((state.as_str().into(), evidence(&d.message_id, code))),
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
            kind: "open",
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
