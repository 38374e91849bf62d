//! Closed vocabularies: a stored event kind, attempt outcome, suppression reason or seed
//! placement outside its vocabulary is a corrupt record when read, never a string passed along.

use super::*;
use herald_domain::{DeliveryState, Placement};
use herald_store::*;

/// Run one statement on the store's database.
async fn execute(url: &str, sql: &'static str) {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{path}"))
            .await
            .unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
}

fn corrupt<T: std::fmt::Debug>(r: Result<T, StoreError>, what: &str, backend: &str) {
    match r {
        Err(StoreError::Corrupt(m)) => assert!(m.contains(what), "{backend}: {m}"),
        other => panic!("{backend}: expected a corrupt {what}, got {other:?}"),
    }
}

async fn vocabulary_scenario(store: AnyStore, url: &str) {
    let backend = store.backend();
    let list = store.ensure_list("v", now()).await.unwrap();
    let contact = NewContact {
        email: "v@example.com".into(),
        email_key: "v@example.com".into(),
        fields: "{}".into(),
        erased_token: None,
    };
    store
        .upsert_contacts(list, &[contact], now())
        .await
        .unwrap();
    let campaign = store
        .create_campaign(&campaign_of(list, "V"))
        .await
        .unwrap();
    let m = &store.audience_page(list, 0, 10).await.unwrap()[0];
    let seed = store
        .add_seed(&NewSeed {
            provider: "gmail".into(),
            address: "seed@seeds.example".into(),
            imap_host: "127.0.0.1".into(),
            imap_port: 993,
            username: "seed".into(),
            security: "tls".into(),
            created_at_ms: now(),
        })
        .await
        .unwrap();
    store
        .insert_deliveries(&[
            NewDelivery {
                campaign,
                contact_id: Some(m.contact_id),
                email: m.email.clone(),
                email_key: m.email_key.clone(),
                domain: "example.com".into(),
                state: DeliveryState::Queued,
                reason: None,
                message_id: "<v@sender.example>".into(),
                next_attempt_at_ms: Some(0),
                updated_at_ms: now(),
                seed_id: None,
            },
            NewDelivery {
                campaign,
                contact_id: None,
                email: "seed@seeds.example".into(),
                email_key: "seed@seeds.example".into(),
                domain: "seeds.example".into(),
                state: DeliveryState::Delivered,
                reason: None,
                message_id: "<seed@sender.example>".into(),
                next_attempt_at_ms: None,
                updated_at_ms: now(),
                seed_id: Some(seed),
            },
        ])
        .await
        .unwrap();
    let t = now();
    let d = store
        .claim(&ClaimRequest {
            owner: "A",
            now_ms: t,
            lease_until_ms: t + 60_000,
            limit: 10,
            campaign: None,
        })
        .await
        .unwrap()
        .remove(0);
    let seed_copy = store
        .delivery_by_message_id("<seed@sender.example>")
        .await
        .unwrap()
        .unwrap();
    store
        .record_outcomes(&[OutcomeRecord {
            delivery: d.id,
            campaign,
            state: DeliveryState::Delivered,
            reason: None,
            hard: false,
            next_attempt_at_ms: None,
            attempt: Some((AttemptOutcome::Delivered, evidence(&d.message_id, 250))),
            at_ms: t,
        }])
        .await
        .unwrap();
    store
        .record_engagement(&[EngagementRecord {
            delivery: d.id,
            kind: EventKind::Open,
            at_ms: t + 1,
            detail: r#"{"verdict":"human"}"#.into(),
        }])
        .await
        .unwrap();
    store
        .record_engagement(&[EngagementRecord {
            delivery: seed_copy.id,
            kind: EventKind::Placement,
            at_ms: t + 2,
            detail: r#"{"placement":"other:Promotions","folder":"Promotions"}"#.into(),
        }])
        .await
        .unwrap();
    store
        .add_suppression(&Suppression {
            email_key: "s@example.com".into(),
            reason: SuppressionReason::Complained,
            source: "test".into(),
            created_at_ms: t,
        })
        .await
        .unwrap();
    // What was written reads back as the same values.
    let events = store.events(&[d.id]).await.unwrap();
    assert_eq!(events[0].1.kind, EventKind::Open, "{backend}");
    let detail = store
        .delivery_detail(campaign, "v@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        detail.attempts[0].outcome,
        AttemptOutcome::Delivered,
        "{backend}"
    );
    let s = store.suppressions("", 10).await.unwrap();
    assert_eq!(s[0].reason, SuppressionReason::Complained, "{backend}");
    let placed = store.placements(campaign).await.unwrap();
    assert_eq!(
        placed[0].placement,
        Some(Placement::Other("Promotions".into())),
        "{backend}"
    );

    // Names outside the vocabularies, as an older or a foreign writer might leave them.
    execute(
        url,
        "UPDATE events SET detail = '{\"placement\":\"spam\"}' WHERE kind = 'placement'",
    )
    .await;
    corrupt(store.placements(campaign).await, "placement", backend);
    execute(url, "UPDATE events SET kind = 'opened'").await;
    execute(url, "UPDATE attempts SET outcome = 'none'").await;
    execute(url, "UPDATE suppressions SET reason = 'graymail'").await;
    corrupt(store.events(&[d.id]).await, "events.kind", backend);
    corrupt(
        store.delivery_detail(campaign, "v@example.com").await,
        "attempts.outcome",
        backend,
    );
    corrupt(
        store.suppressions("", 10).await,
        "suppressions.reason",
        backend,
    );

    // A reason an operator could once give (any not-sent reason, which every send treated as
    // `suppressed`) is stored as `suppressed` by the migration that closed the vocabulary.
    execute(
        url,
        if backend == "sqlite" {
            "DELETE FROM herald_migrations WHERE version = 25"
        } else {
            "DELETE FROM herald_migrations WHERE version = 16"
        },
    )
    .await;
    let reopened = herald_store::open(url).await.unwrap();
    let s = reopened.suppressions("", 10).await.unwrap();
    assert_eq!(s[0].reason, SuppressionReason::Suppressed, "{backend}");
}

#[tokio::test]
async fn names_outside_the_vocabularies_are_corrupt_records() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("v.db").display());
    let sqlite = herald_store::open(&url).await.unwrap();
    vocabulary_scenario(sqlite, &url).await;

    let db = PgDb::create().await;
    let pg = herald_store::open(&db.url).await.unwrap();
    vocabulary_scenario(pg, &db.url).await;
}
