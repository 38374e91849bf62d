//! Lists, sign-ups, confirmations, preferences, segments.

use super::*;
use herald_store::*;

async fn audience_scenario(store: AnyStore) {
    use herald_domain::{CampaignKind, MemberStatus, OptIn};
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
        confirmation: Some(ListMessage {
            subject: "One click to join {{ list.name }}".into(),
            html: "<p><a href=\"{{ confirm_url }}\">Join</a></p>".into(),
            text: None,
        }),
        welcome: Some(ListMessage {
            subject: "Welcome to {{ list.name }}".into(),
            html: "<p>Hello {{ contact.first_name | default(\"there\") }}</p>".into(),
            text: Some("Hello".into()),
        }),
    };
    let list = store.create_list(&news, t0).await.unwrap();
    let rec = store.list_record("news", true).await.unwrap().unwrap();
    assert_eq!((rec.id, &rec.list), (list, &news), "{backend}");
    assert!(store.list_record("news", false).await.unwrap().is_none());
    // An existing contact (from an import to another list) signs up with another name.
    let other = store.ensure_list("customers", now()).await.unwrap();
    store
        .upsert_contacts(
            other,
            &[NewContact {
                email: "eve@example.com".into(),
                email_key: "eve@example.com".into(),
                fields: r#"{"first_name":"Evelyn"}"#.into(),
                erased_token: None,
            }],
            now(),
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
    let message = |kind, not_since: i64, max_in_window: u32| NewListMessage {
        kind,
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
            track_opens: kind == CampaignKind::Welcome,
            track_clicks: kind == CampaignKind::Welcome,
            send_to_seeds: false,
        },
        consent: s.consent.filter(|_| kind == CampaignKind::Confirmation),
        not_since_ms: not_since,
        window_since_ms: t0 - 600_000,
        max_in_window,
        at_ms: t0,
    };
    let confirmation = |not_since, max| message(CampaignKind::Confirmation, not_since, max);
    let first = store
        .queue_list_message(&confirmation(t0 - 600_000, 3))
        .await
        .unwrap()
        .expect("queued");
    assert_eq!(
        store
            .queue_list_message(&confirmation(t0 - 600_000, 3))
            .await
            .unwrap(),
        None,
        "{backend}: no second message within the resend window"
    );
    let second = store
        .queue_list_message(&confirmation(t0 + 1, 3))
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
        k.kind == CampaignKind::Confirmation && k.status == CampaignStatus::Sending,
        "{backend}"
    );
    // A welcome is counted apart from the confirmations (one just went out) and carried by a
    // campaign of its own kind, with the campaign's tracking switches.
    let welcome = store
        .queue_list_message(&message(CampaignKind::Welcome, t0 - 600_000, 3))
        .await
        .unwrap()
        .expect("a welcome is not held back by a confirmation");
    assert_eq!(
        store
            .queue_list_message(&message(CampaignKind::Welcome, t0 - 600_000, 3))
            .await
            .unwrap(),
        None,
        "{backend}: no second welcome within the resend window"
    );
    let w = store
        .campaign(store.delivery_ref(welcome).await.unwrap().unwrap().campaign)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (w.kind, w.track_opens, w.track_clicks),
        (CampaignKind::Welcome, true, true),
        "{backend}"
    );
    assert!(
        store.campaigns(None, None, 10).await.unwrap().is_empty(),
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
            reason: herald_domain::SuppressionReason::Unsubscribed,
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
            now(),
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
            now(),
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

/// A campaign over several lists (each person once, their best standing), an excluded list,
/// and the `placement` condition (the seed copy at the person's domain), the same on both.
async fn several_lists_scenario(store: AnyStore) {
    use herald_domain::segment::parse;
    use herald_domain::{DeliveryState, EventKind, MemberStatus};
    let backend = store.backend();
    let t = now();
    let contact = |email: &str| NewContact {
        email: email.into(),
        email_key: email.into(),
        fields: "{}".into(),
        erased_token: None,
    };
    let news = store.ensure_list("news", t).await.unwrap();
    let shop = store.ensure_list("shop", t).await.unwrap();
    let press = store.ensure_list("press", t).await.unwrap();
    for (list, people) in [
        (news, &["a@gmail.test", "b@b.test"][..]),
        (shop, &["b@b.test", "c@gmail.test", "d@d.test"][..]),
        (press, &["d@d.test"][..]),
    ] {
        let batch: Vec<_> = people.iter().map(|e| contact(e)).collect();
        store.upsert_contacts(list, &batch, t).await.unwrap();
    }
    // Bob left news (shop keeps him); Cy left shop, his only list.
    store
        .set_member_status(news, "b@b.test", MemberStatus::Unsubscribed, t)
        .await
        .unwrap();
    store
        .set_member_status(shop, "c@gmail.test", MemberStatus::Unsubscribed, t)
        .await
        .unwrap();
    let campaign = store
        .create_campaign(&campaign_of(news, "Both"))
        .await
        .unwrap();
    let setting = AudienceSetting {
        also_lists: &[shop, news],
        exclude_lists: &[press],
        ..AudienceSetting::default()
    };
    assert!(
        store
            .set_campaign_audience(campaign, &setting, t)
            .await
            .unwrap()
    );
    let c = store.campaign(campaign).await.unwrap().unwrap();
    assert_eq!(
        (c.also_lists, c.exclude_lists),
        (vec![(shop, "shop".into())], vec![(press, "press".into())]),
        "{backend}: its own list is not among the others"
    );
    assert!(!store.delete_list(shop).await.unwrap(), "{backend}: in use");
    assert!(
        !store.delete_list(press).await.unwrap(),
        "{backend}: in use"
    );
    let filter = AudienceFilter {
        lists: vec![shop],
        exclude_lists: vec![press],
        now_ms: t,
        ..AudienceFilter::default()
    };
    let page = store.audience_page_for(news, 0, 10, &filter).await.unwrap();
    let got: Vec<(String, MemberStatus, bool)> = page
        .iter()
        .map(|m| (m.email.clone(), m.status, m.excluded))
        .collect();
    assert_eq!(
        got,
        vec![
            ("a@gmail.test".into(), MemberStatus::Subscribed, false),
            ("b@b.test".into(), MemberStatus::Subscribed, false),
            ("c@gmail.test".into(), MemberStatus::Unsubscribed, false),
            ("d@d.test".into(), MemberStatus::Subscribed, true),
        ],
        "{backend}"
    );
    // Paged: one at a time, nobody twice.
    let first = store.audience_page_for(news, 0, 1, &filter).await.unwrap();
    let second = store
        .audience_page_for(news, first[0].contact_id, 1, &filter)
        .await
        .unwrap();
    assert_eq!(second[0].email, "b@b.test", "{backend}");
    // Counted: subscribed on news or shop, not on press.
    let counted = AudienceFilter {
        lists: vec![news, shop],
        ..filter.clone()
    };
    assert_eq!(store.segment_count(&counted).await.unwrap(), 2, "{backend}");

    // Placement: Ann's copy went out with a campaign whose gmail.test seed landed in Junk.
    let seed = store
        .add_seed(&NewSeed {
            provider: "gmail".into(),
            address: "seed@gmail.test".into(),
            imap_host: "127.0.0.1".into(),
            imap_port: 993,
            username: "seed".into(),
            security: "tls".into(),
            created_at_ms: t,
        })
        .await
        .unwrap();
    let delivery = |email: &str, seed_id: Option<i64>, state| NewDelivery {
        campaign,
        contact_id: None,
        email: email.into(),
        email_key: email.into(),
        domain: herald_domain::address::domain_part(email).to_string(),
        state,
        reason: None,
        message_id: format!("<{email}>"),
        next_attempt_at_ms: None,
        updated_at_ms: t,
        seed_id,
    };
    store
        .insert_deliveries(&[
            delivery("a@gmail.test", None, DeliveryState::Delivered),
            delivery("b@b.test", None, DeliveryState::Delivered),
            delivery("c@gmail.test", None, DeliveryState::Bounced),
            delivery("seed@gmail.test", Some(seed), DeliveryState::Delivered),
        ])
        .await
        .unwrap();
    let seed_copy = store
        .delivery_by_message_id("<seed@gmail.test>")
        .await
        .unwrap()
        .unwrap();
    store
        .record_engagement(&[EngagementRecord {
            delivery: seed_copy.id,
            kind: EventKind::Placement,
            at_ms: t,
            detail: r#"{"placement":"junk","folder":"[Gmail]/Spam"}"#.into(),
        }])
        .await
        .unwrap();
    let count = |rule: &str, at: i64| {
        let filter = AudienceFilter {
            include: Some(parse(rule).unwrap()),
            now_ms: at,
            ..AudienceFilter::default()
        };
        let store = &store;
        async move { store.segment_count(&filter).await.unwrap() }
    };
    // Ann only: Bob's domain has no seed, Cy's copy bounced.
    assert_eq!(count("placement junk", t).await, 1, "{backend}");
    assert_eq!(count("placement junk within 1d", t).await, 1, "{backend}");
    assert_eq!(
        count("placement junk within 1d", t + 3 * 86_400_000).await,
        0,
        "{backend}: too long ago"
    );
    assert_eq!(count("placement inbox", t).await, 0, "{backend}");
    assert_eq!(count("not placement junk", t).await, 3, "{backend}");
}

#[tokio::test]
async fn several_lists_and_placement_behave_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = herald_store::open(&format!("sqlite://{}", dir.path().join("h.db").display()))
        .await
        .unwrap();
    several_lists_scenario(sqlite).await;
    let db = PgDb::create().await;
    several_lists_scenario(herald_store::open(&db.url).await.unwrap()).await;
}
