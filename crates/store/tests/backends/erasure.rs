//! Erasure and right of access.

use super::*;
use herald_domain::DeliveryState;
use herald_store::*;

/// Erasing a person (GDPR): the address leaves every table, the counts stay, and the token
/// keeps them out of imports and sign-ups; a message in flight holds the erasure off.
async fn erasure_scenario(store: AnyStore) {
    let backend = store.backend();
    let list = store.ensure_list("e", now()).await.unwrap();
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
        .upsert_contacts(list, std::slice::from_ref(&bob), now())
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
                attempt: Some((herald_domain::AttemptOutcome::Delivered, ev)),
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
            kind: herald_domain::EventKind::Open,
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
            kind: herald_domain::EventKind::Click,
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
    let c = store
        .upsert_contacts(list, &[again, bob], now())
        .await
        .unwrap();
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
