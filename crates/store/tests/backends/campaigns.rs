//! Pause, resume, cancel and scheduled starts.

use super::*;
use herald_domain::DeliveryState;
use herald_store::*;

/// Pause, resume and cancel: what claims see, what a give-back restores, and how cancelled
/// deliveries settle (at once when unleased, after their lease otherwise).
async fn pause_scenario(store: AnyStore) {
    let backend = store.backend();
    let list = store.ensure_list("p", now()).await.unwrap();
    let contacts: Vec<NewContact> = (0..4)
        .map(|i| NewContact {
            email: format!("p{i}@example.com"),
            email_key: format!("p{i}@example.com"),
            fields: "{}".into(),
            erased_token: None,
        })
        .collect();
    store.upsert_contacts(list, &contacts, now()).await.unwrap();
    let campaign = store
        .create_campaign(&campaign_of(list, "P"))
        .await
        .unwrap();
    assert!(
        !store.pause_campaign(campaign, 0).await.unwrap(),
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

    assert!(
        store.pause_campaign(campaign, 0).await.unwrap(),
        "{backend}"
    );
    assert!(
        !store.pause_campaign(campaign, 0).await.unwrap(),
        "{backend}"
    );
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

    assert!(
        store.resume_campaign(campaign, 0).await.unwrap(),
        "{backend}"
    );
    assert!(
        !store.resume_campaign(campaign, 0).await.unwrap(),
        "{backend}"
    );
    // Unsubscribed while the campaign was paused: the claim says so.
    store
        .add_suppression(&Suppression {
            email_key: "p2@example.com".into(),
            reason: herald_domain::SuppressionReason::Unsubscribed,
            source: "manual".into(),
            created_at_ms: now(),
        })
        .await
        .unwrap();
    let all = store.claim(&req("A", t, 10)).await.unwrap();
    let flagged: Vec<(&str, Option<&str>)> = all
        .iter()
        .map(|d| (d.email.as_str(), d.suppressed.map(|r| r.as_str())))
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
    assert!(
        !store.pause_campaign(campaign, 0).await.unwrap(),
        "{backend}"
    );
    assert!(
        !store.resume_campaign(campaign, 0).await.unwrap(),
        "{backend}"
    );
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
    let list = store.ensure_list("s", now()).await.unwrap();
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
            .schedule_campaign(id, t - 1, Some("UTC"), Some("2026-12-10T09:00"), now())
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
    assert!(
        !store.unschedule_campaign(id, now()).await.unwrap(),
        "{backend}"
    );
    assert!(
        !store.update_draft(id, &new, now()).await.unwrap(),
        "{backend}"
    );
    assert!(!store.delete_draft(id, now()).await.unwrap(), "{backend}");
    // The lease is judged by the caller's clock: at a time after it ran out, the draft can be
    // changed again (a node that died while starting it holds it no longer).
    assert!(
        store.update_draft(id, &new, t + 60_001).await.unwrap(),
        "{backend}: the lease ran out"
    );
    assert!(
        !store
            .schedule_campaign(id, t + 5_000, None, None, now())
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
    assert!(store.delete_draft(id, now()).await.unwrap(), "{backend}");
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

/// An A/B test: the test group drawn exactly (rounded down), the rest waiting unclaimable;
/// the test fixed once deliveries exist; a pause moving the decision on; one decision.
async fn ab_scenario(store: AnyStore) {
    let backend = store.backend();
    let list = store.ensure_list("ab", now()).await.unwrap();
    let contacts: Vec<NewContact> = (0..7)
        .map(|i| NewContact {
            email: format!("ab{i}@example.com"),
            email_key: format!("ab{i}@example.com"),
            fields: "{}".into(),
            erased_token: None,
        })
        .collect();
    store.upsert_contacts(list, &contacts, now()).await.unwrap();
    let campaign = store
        .create_campaign(&campaign_of(list, "AB"))
        .await
        .unwrap();
    assert!(store.set_campaign_ab(campaign, Some("{}")).await.unwrap());
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
            message_id: format!("<{}@sender.example>", m.email_key),
            next_attempt_at_ms: None,
            updated_at_ms: now(),
            seed_id: None,
        })
        .collect();
    store.insert_deliveries(&batch).await.unwrap();
    assert!(
        !store.set_campaign_ab(campaign, None).await.unwrap(),
        "{backend}: fixed once its deliveries exist"
    );
    let t = now();
    // 20 % of 7 is 1.4: one each, five wait.
    let started = store
        .start_ab(campaign, 20, 2, t + 60_000, "waiting", t)
        .await
        .unwrap();
    assert_eq!(started, Some((2, 5)), "{backend}");
    assert_eq!(
        store
            .start_ab(campaign, 20, 2, t, "waiting", t)
            .await
            .unwrap(),
        None,
        "{backend}: once"
    );
    store
        .set_campaign_status(campaign, CampaignStatus::Sending, t)
        .await
        .unwrap();
    let req = ClaimRequest {
        owner: "A",
        now_ms: t + 1,
        lease_until_ms: t + 60_000,
        limit: 100,
        campaign: None,
    };
    let claimed = store.claim(&req).await.unwrap();
    let mut variants: Vec<Option<u32>> = claimed.iter().map(|d| d.variant).collect();
    variants.sort();
    assert_eq!(
        variants,
        [Some(0), Some(1)],
        "{backend}: only the test group"
    );
    // Paused for 30 s: the decision moves on by as much.
    assert!(store.pause_campaign(campaign, t + 10_000).await.unwrap());
    assert!(store.resume_campaign(campaign, t + 40_000).await.unwrap());
    let c = store.campaign(campaign).await.unwrap().unwrap();
    assert_eq!(c.ab_decide_at_ms, Some(t + 90_000), "{backend}");
    assert!(
        store.ab_due(t + 80_000).await.unwrap().is_empty(),
        "{backend}"
    );
    assert_eq!(
        store.ab_due(t + 90_000).await.unwrap(),
        [campaign],
        "{backend}"
    );
    assert!(
        store
            .decide_ab(campaign, 1, "{}", t + 90_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .decide_ab(campaign, 0, "{}", t + 90_000)
            .await
            .unwrap(),
        "{backend}: once"
    );
    // (The test group's leases ran out meanwhile: claimed again too.)
    let again = store
        .claim(&ClaimRequest {
            owner: "B",
            now_ms: t + 90_001,
            ..req
        })
        .await
        .unwrap();
    let rest: Vec<_> = again.iter().filter(|d| d.variant.is_none()).collect();
    assert_eq!(rest.len(), 5, "{backend}: the rest, due now");
    assert!(rest.iter().all(|d| d.reason.is_none()), "{backend}");
}

#[tokio::test]
async fn ab_tests_behave_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = herald_store::open(&format!("sqlite://{}", dir.path().join("h.db").display()))
        .await
        .unwrap();
    ab_scenario(sqlite).await;
    let db = PgDb::create().await;
    ab_scenario(herald_store::open(&db.url).await.unwrap()).await;
}

/// A draft's attachments: added, replaced by name, refused past the cap and once the send
/// started (nothing changed), copied to a duplicate, gone with a deleted draft.
async fn attachments_scenario(store: AnyStore) {
    let backend = store.backend();
    let list = store.ensure_list("a", now()).await.unwrap();
    let campaign = store
        .create_campaign(&campaign_of(list, "A"))
        .await
        .unwrap();
    let file = |name: &str, content: &[u8]| Attachment {
        meta: AttachmentMeta {
            name: name.into(),
            content_type: "application/pdf".into(),
            size: content.len() as i64,
            sha256: format!("{:x}", content.len()),
            created_at_ms: now(),
        },
        content: content.to_vec(),
    };
    let bytes: Vec<u8> = (0..=255u8).cycle().take(600).collect();
    let add = |a: Attachment| {
        let store = store.clone();
        async move {
            store
                .add_attachment(campaign, &a, 1000, now())
                .await
                .unwrap()
        }
    };
    assert_eq!(
        add(file("a.pdf", &bytes)).await,
        Attached::Added,
        "{backend}"
    );
    assert_eq!(
        add(file("b.pdf", &bytes)).await,
        Attached::OverCap { total: 1200 },
        "{backend}"
    );
    // Replacing counts the new size, not both.
    assert_eq!(
        add(file("a.pdf", &bytes[..300])).await,
        Attached::Replaced,
        "{backend}"
    );
    assert_eq!(
        add(file("b.pdf", &bytes)).await,
        Attached::Added,
        "{backend}"
    );
    let listed = store.attachments(campaign).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|a| (a.name.as_str(), a.size))
            .collect::<Vec<_>>(),
        [("a.pdf", 300), ("b.pdf", 600)],
        "{backend}"
    );
    let full = store.attachment_contents(campaign).await.unwrap();
    assert_eq!(full[1].content, bytes, "{backend}: the bytes as given");
    assert_eq!(
        store
            .remove_attachment(campaign, "nope.pdf", now())
            .await
            .unwrap(),
        Some(false),
        "{backend}"
    );

    let copy = store
        .create_campaign(&campaign_of(list, "A copy"))
        .await
        .unwrap();
    assert_eq!(
        store.copy_attachments(campaign, copy, now()).await.unwrap(),
        2,
        "{backend}"
    );
    assert_eq!(
        store.attachment_contents(copy).await.unwrap()[1].content,
        bytes
    );

    // Once its send started, nothing changes.
    store
        .set_campaign_status(campaign, CampaignStatus::Sending, now())
        .await
        .unwrap();
    assert_eq!(
        add(file("c.pdf", b"x")).await,
        Attached::NotDraft,
        "{backend}"
    );
    assert_eq!(
        store
            .remove_attachment(campaign, "a.pdf", now())
            .await
            .unwrap(),
        None,
        "{backend}"
    );
    assert_eq!(store.attachments(campaign).await.unwrap().len(), 2);

    // A deleted draft takes its files with it.
    assert!(store.delete_draft(copy, now()).await.unwrap(), "{backend}");
    assert!(
        store.attachments(copy).await.unwrap().is_empty(),
        "{backend}"
    );
}

#[tokio::test]
async fn attachments_behave_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = herald_store::open(&format!("sqlite://{}", dir.path().join("h.db").display()))
        .await
        .unwrap();
    attachments_scenario(sqlite).await;
    let db = PgDb::create().await;
    attachments_scenario(herald_store::open(&db.url).await.unwrap()).await;
}
