//! Seed copies: a claim says which deliveries are seed copies (rendered without a contact), and
//! a pending placement says whether the sandbox took the copy (its simulated receiver places it)
//! or a real server did (searched over IMAP) — the same on both backends.

use super::*;
use herald_domain::DeliveryState;
use herald_store::*;

async fn seed_scenario(store: AnyStore) {
    let backend = store.backend();
    let list = store.ensure_list("s", now()).await.unwrap();
    store
        .upsert_contacts(
            list,
            &[NewContact {
                email: "ann@example.com".into(),
                email_key: "ann@example.com".into(),
                fields: r#"{"first_name":"Ann"}"#.into(),
                erased_token: None,
            }],
            now(),
        )
        .await
        .unwrap();
    let campaign = store
        .create_campaign(&campaign_of(list, "S"))
        .await
        .unwrap();
    let m = &store.audience_page(list, 0, 10).await.unwrap()[0];
    let mut seeds = Vec::new();
    for address in ["seed@sandboxed.example", "seed@real.example"] {
        seeds.push(
            store
                .add_seed(&NewSeed {
                    provider: "p".into(),
                    address: address.into(),
                    imap_host: "127.0.0.1".into(),
                    imap_port: 993,
                    username: address.into(),
                    security: "tls".into(),
                    created_at_ms: now(),
                })
                .await
                .unwrap(),
        );
    }
    let delivery = |email: &str, seed_id: Option<i64>| NewDelivery {
        campaign,
        contact_id: seed_id.is_none().then_some(m.contact_id),
        email: email.into(),
        email_key: email.into(),
        domain: herald_domain::address::domain_part(email).into(),
        state: DeliveryState::Queued,
        reason: None,
        message_id: format!("<{email}>"),
        next_attempt_at_ms: Some(0),
        updated_at_ms: now(),
        seed_id,
    };
    store
        .insert_deliveries(&[
            delivery("ann@example.com", None),
            delivery("seed@sandboxed.example", Some(seeds[0])),
            delivery("seed@real.example", Some(seeds[1])),
        ])
        .await
        .unwrap();
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
    let flags: Vec<(String, bool, String)> = {
        let mut f: Vec<_> = claimed
            .iter()
            .map(|d| (d.email.clone(), d.seed, d.fields.clone()))
            .collect();
        f.sort();
        f
    };
    assert_eq!(
        flags,
        [
            (
                "ann@example.com".to_string(),
                false,
                r#"{"first_name":"Ann"}"#.to_string()
            ),
            ("seed@real.example".to_string(), true, "{}".to_string()),
            ("seed@sandboxed.example".to_string(), true, "{}".to_string()),
        ],
        "{backend}"
    );
    let outcomes: Vec<OutcomeRecord> = claimed
        .iter()
        .map(|d| {
            let mut ev = evidence(&d.message_id, 250);
            if d.email == "seed@sandboxed.example" {
                ev.route = "sandbox".into();
            }
            OutcomeRecord {
                delivery: d.id,
                campaign,
                state: DeliveryState::Delivered,
                reason: None,
                hard: false,
                next_attempt_at_ms: None,
                attempt: Some((AttemptOutcome::Delivered, ev)),
                at_ms: t,
            }
        })
        .collect();
    store.record_outcomes(&outcomes).await.unwrap();
    let mut pending: Vec<(String, bool)> = store
        .pending_placements()
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.seed.address, p.sandboxed))
        .collect();
    pending.sort();
    assert_eq!(
        pending,
        [
            ("seed@real.example".to_string(), false),
            ("seed@sandboxed.example".to_string(), true),
        ],
        "{backend}"
    );
}

#[tokio::test]
async fn seed_copies_are_marked_and_the_sandbox_s_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    seed_scenario(herald_store::open(&url).await.unwrap()).await;
    let db = PgDb::create().await;
    seed_scenario(herald_store::open(&db.url).await.unwrap()).await;
}
