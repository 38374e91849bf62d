//! The deliverability health rollup: outcomes per day, campaign and receiving provider, kept by
//! the triggers of both dialects (their provider rules are written twice: this checks each).

use super::*;
use herald_domain::{DeliveryState, EventKind};
use herald_store::*;

const DAY: i64 = 86_400_000;

/// An address, the MX host its attempt reached (or none), the route, the outcome and its
/// reason, and the provider that must be counted.
type Case = (
    &'static str,
    Option<&'static str>,
    &'static str,
    DeliveryState,
    Option<&'static str>,
    &'static str,
);

async fn health_scenario(store: AnyStore) {
    let backend = store.backend();
    let list = store.ensure_list("h", now()).await.unwrap();
    let campaign = store
        .create_campaign(&campaign_of(list, "Health"))
        .await
        .unwrap();
    // (address, the MX host reached or none, route, outcome, reason): what the provider is.
    let cases: [Case; 9] = [
        (
            "a@gmail.com",
            Some("gmail-smtp-in.l.google.com."),
            "mx",
            DeliveryState::Delivered,
            None,
            "gmail",
        ),
        (
            "b@corp.example",
            Some("corp-example.mail.protection.outlook.com"),
            "mx",
            DeliveryState::Bounced,
            Some("userunknown"),
            "microsoft",
        ),
        (
            "c@yahoo.com",
            Some("MTA5.am0.yahoodns.net"),
            "mx",
            DeliveryState::Deferred,
            Some("speeding"),
            "yahoo",
        ),
        (
            "d@icloud.com",
            None,
            "mx",
            DeliveryState::Deferred,
            Some("networkerror"),
            "apple",
        ),
        (
            "e@hotmail.co.uk",
            None,
            "mx",
            DeliveryState::Deferred,
            Some("networkerror"),
            "microsoft",
        ),
        (
            "f@other.example",
            Some("mx.other.example"),
            "mx",
            DeliveryState::Delivered,
            None,
            "other",
        ),
        (
            "g@notgoogle.com",
            Some("mx.notgoogle.com"),
            "mx",
            DeliveryState::Delivered,
            None,
            "other",
        ),
        (
            "h@gmail.com",
            Some("smtp.relay.example"),
            "relay:generic",
            DeliveryState::Relayed,
            None,
            "relay",
        ),
        (
            "i@example.org",
            Some("127.0.0.1"),
            "sandbox",
            DeliveryState::Delivered,
            None,
            "sandbox",
        ),
    ];
    let batch: Vec<NewDelivery> = cases
        .iter()
        .enumerate()
        .map(|(i, (email, ..))| NewDelivery {
            campaign,
            contact_id: None,
            email: email.to_string(),
            email_key: email.to_string(),
            domain: herald_domain::address::domain_part(email).to_string(),
            state: DeliveryState::Queued,
            reason: None,
            message_id: format!("<h{i}@sender.example>"),
            next_attempt_at_ms: Some(0),
            updated_at_ms: now(),
            seed_id: None,
        })
        .collect();
    store.insert_deliveries(&batch).await.unwrap();
    let rows = store.recipients(campaign, 0, 20).await.unwrap();
    let id_of = |email: &str| rows.iter().find(|r| r.email == email).unwrap().id;
    let t = now();
    let outcomes: Vec<OutcomeRecord> = cases
        .iter()
        .map(|(email, mx, route, state, reason, _)| {
            let mut ev = evidence("<m>", 250);
            ev.mx = mx.map(str::to_string);
            ev.route = route.to_string();
            OutcomeRecord {
                delivery: id_of(email),
                campaign,
                state: *state,
                reason: reason.map(str::to_string),
                hard: *state == DeliveryState::Bounced,
                next_attempt_at_ms: None,
                attempt: Some((AttemptOutcome::of(*state).unwrap(), ev)),
                at_ms: t,
            }
        })
        .collect();
    store.record_outcomes(&outcomes).await.unwrap();
    // Gmail's recipient complains; a seed copy at Yahoo lands in Junk.
    let seed = store
        .add_seed(&NewSeed {
            provider: "Yahoo".into(),
            address: "seed@yahoo.example".into(),
            imap_host: "127.0.0.1".into(),
            imap_port: 993,
            username: "seed".into(),
            security: "tls".into(),
            created_at_ms: t,
        })
        .await
        .unwrap();
    store
        .insert_deliveries(&[NewDelivery {
            campaign,
            contact_id: None,
            email: "seed@yahoo.example".into(),
            email_key: "seed@yahoo.example".into(),
            domain: "yahoo.example".into(),
            state: DeliveryState::Delivered,
            reason: None,
            message_id: "<seed@sender.example>".into(),
            next_attempt_at_ms: None,
            updated_at_ms: t,
            seed_id: Some(seed),
        }])
        .await
        .unwrap();
    let seed_delivery = store
        .delivery_by_message_id("<seed@sender.example>")
        .await
        .unwrap()
        .unwrap()
        .id;
    // The seed copy's own attempt is not counted among the campaign's.
    let mut ev = evidence("<seed>", 250);
    ev.mx = Some("mta5.am0.yahoodns.net".into());
    store
        .record_outcomes(&[OutcomeRecord {
            delivery: seed_delivery,
            campaign,
            state: DeliveryState::Delivered,
            reason: None,
            hard: false,
            next_attempt_at_ms: None,
            attempt: Some((AttemptOutcome::Delivered, ev)),
            at_ms: t,
        }])
        .await
        .unwrap();
    let event = |email: &str, kind| EngagementRecord {
        delivery: id_of(email),
        kind,
        at_ms: t,
        detail: "{}".into(),
    };
    // Gmail's recipient complains twice (a feedback loop and a provider's event: one
    // complaint); a late bounce at other.example; a complaint about the relayed copy.
    store
        .record_engagement(&[event("a@gmail.com", EventKind::Complaint)])
        .await
        .unwrap();
    store
        .record_engagement(&[
            event("a@gmail.com", EventKind::Complaint),
            event("f@other.example", EventKind::AsyncBounce),
            event("h@gmail.com", EventKind::Complaint),
            EngagementRecord {
                delivery: seed_delivery,
                kind: EventKind::Placement,
                at_ms: t,
                detail: r#"{"placement": "junk", "folder": "Bulk"}"#.into(),
            },
        ])
        .await
        .unwrap();

    let mut got: Vec<(String, String, u64)> = store
        .health_rows(t / DAY)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            assert_eq!(
                (r.day, r.campaign, r.from_address.as_str()),
                (t / DAY, campaign, "ann@sender.example")
            );
            (r.provider, r.kind, r.n)
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String, u64)> = cases
        .iter()
        .map(|(.., state, _, provider)| {
            (
                provider.to_string(),
                AttemptOutcome::of(*state).unwrap().as_str().to_string(),
                1,
            )
        })
        .collect();
    want.push(("yahoo".into(), "throttled".into(), 1));
    want.push(("gmail".into(), "complaint".into(), 1));
    want.push(("other".into(), "async_bounce".into(), 1));
    want.push(("relay".into(), "complaint".into(), 1));
    want.push(("yahoo".into(), "seed:junk".into(), 1));
    want.sort();
    want.dedup();
    // The two deliveries at `other` are one row of 2.
    want.retain(|w| w != &("other".to_string(), "delivered".to_string(), 1));
    want.push(("other".into(), "delivered".into(), 2));
    want.sort();
    assert_eq!(got, want, "{backend}");
    assert!(
        store.health_rows(t / DAY + 1).await.unwrap().is_empty(),
        "{backend}: nothing from tomorrow on"
    );
}

#[tokio::test]
async fn health_rollups_behave_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = herald_store::open(&format!("sqlite://{}", dir.path().join("h.db").display()))
        .await
        .unwrap();
    health_scenario(sqlite).await;
    let db = PgDb::create().await;
    health_scenario(herald_store::open(&db.url).await.unwrap()).await;
}
