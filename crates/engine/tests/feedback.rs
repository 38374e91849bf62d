//! Feedback effects through the real spool and store: soft bounces in a row suppress, a hard
//! one at once; a report to a shared feedback address takes effect only when the returned
//! original carries Herald's signed return path (a bare Message-ID changes nothing); a message
//! that cannot be classified in time is quarantined, not retried for ever.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;
use std::time::Duration;

use herald_engine::campaign::{self, CampaignInput};
use herald_engine::contacts::import_csv;
use herald_engine::deliver::MxAnswer;
use herald_engine::feedback::{FeedbackPolicy, ReturnPath, process_once};
use herald_engine::queue::Until;
use herald_engine::reports::campaign_report;
use herald_inbound::Handler;
use herald_mail::verp::VerpKey;
use herald_store::prelude::*;
use herald_store::{CampaignId, SqliteStore};
use herald_testkit::{ScriptedPeer, loopback, start_peer, test_queue, test_store};

async fn send_one(store: &SqliteStore, port: u16, name: &str) -> CampaignId {
    let id = campaign::create(
        store,
        &CampaignInput {
            name: name.into(),
            list: "l".into(),
            from: "Ann <ann@sender.test>".into(),
            subject: "Hi".into(),
            html: "<p>Hi</p>".into(),
            text: None,
            gate_override: None,
            reply_to: None,
            tracking: Default::default(),
        },
        herald_testkit::now_ms(),
    )
    .await
    .unwrap();
    campaign::snapshot(store, id, herald_testkit::now_ms())
        .await
        .unwrap();
    let q = test_queue(
        store.clone(),
        vec![("x.test", MxAnswer::Hosts(vec![loopback("mx.x.test", 10)]))],
        port,
        Duration::from_secs(5),
    );
    q.run(Some(id), Until::Drained, None, std::future::pending())
        .await
        .unwrap();
    id
}

fn dsn(to: &str, rcpt: &str, status: &str, diag: &str, original_headers: Option<&str>) -> Vec<u8> {
    let original = original_headers
        .map(|h| format!("--b\r\nContent-Type: text/rfc822-headers\r\n\r\n{h}Subject: Hi\r\n\r\n"))
        .unwrap_or_default();
    format!(
        "From: MAILER-DAEMON@mx.x.test\r\nTo: {to}\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\
         --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.x.test\r\n\r\n\
         Final-Recipient: rfc822; {rcpt}\r\nAction: failed\r\nStatus: {status}\r\n\
         Diagnostic-Code: smtp; {diag}\r\n\r\n{original}--b--\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soft_bounces_in_a_row_suppress_and_only_signed_reports_take_effect() {
    let t = test_store().await;
    let (addr, _stop) = start_peer(Arc::new(ScriptedPeer::default())).await;
    import_csv(
        &t.store,
        std::sync::Arc::new(herald_mail::erasure::ErasureKey::new(&[7; 32])),
        Box::new(std::io::Cursor::new(
            "email\nsoft@x.test\nhard@x.test\nok@x.test\n".to_string(),
        )),
        "l",
        |_| {},
        herald_testkit::now_ms(),
    )
    .await
    .unwrap();
    let key = VerpKey::new(&[9u8; 32]);
    let spool = tempfile::tempdir().unwrap();
    let handler = ReturnPath::new(
        Arc::new(VerpKey::new(&[9u8; 32])),
        Some("bounces.sender.test".into()),
        herald_engine::domains::Keyring::new(spool.path().join("no-keys")),
        spool.path().into(),
        Arc::new(tokio::sync::Notify::new()),
    )
    .unwrap();
    let policy = FeedbackPolicy {
        soft_bounce_limit: 2,
        ..FeedbackPolicy::default()
    };
    let suppressed = |store: SqliteStore| async move {
        store
            .suppressions("", 100)
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.email_key, s.reason.to_string()))
            .collect::<Vec<_>>()
    };

    let mut campaigns = Vec::new();
    for round in 0..2 {
        let id = send_one(&t.store, addr.port(), &format!("c{round}")).await;
        campaigns.push(id);
        let r = campaign_report(&t.store, id, true).await.unwrap().unwrap();
        let rows = r.recipients.unwrap();
        let soft = rows.iter().find(|x| x.email == "soft@x.test").unwrap();
        // The bounce comes back to the delivery's own signed return path.
        let delivery_id = t
            .store
            .delivery_by_message_id(&soft.message_id)
            .await
            .unwrap()
            .unwrap()
            .id;
        let rp = key.address(delivery_id.0, "bounces.sender.test");
        assert_eq!(handler.rcpt("", &rp).code, 250);
        let reply = handler.data(
            "",
            std::slice::from_ref(&rp),
            &dsn(&rp, "soft@x.test", "4.2.2", "452 4.2.2 Mailbox full", None),
        );
        assert_eq!(reply.code, 250);
        assert_eq!(
            process_once(&t.store, &key, spool.path(), &policy)
                .await
                .unwrap(),
            1
        );
        let r = campaign_report(&t.store, id, true).await.unwrap().unwrap();
        let soft = r
            .recipients
            .unwrap()
            .into_iter()
            .find(|x| x.email == "soft@x.test")
            .unwrap();
        assert_eq!(soft.state, herald_domain::DeliveryState::Bounced);
        assert_eq!(soft.reason.as_deref(), Some("mailboxfull"));
        assert!(!soft.hard);
        let list = suppressed(t.store.clone()).await;
        if round == 0 {
            assert!(
                list.is_empty(),
                "one soft bounce does not suppress: {list:?}"
            );
        } else {
            assert_eq!(
                list,
                vec![("soft@x.test".to_string(), "previously_bounced".to_string())]
            );
        }
    }

    // A report sent to the shared feedback address naming only the Message-ID (which anyone
    // with a copy knows): kept, but nobody is suppressed.
    let r = campaign_report(&t.store, campaigns[1], true)
        .await
        .unwrap()
        .unwrap();
    let hard = r
        .recipients
        .unwrap()
        .into_iter()
        .find(|x| x.email == "hard@x.test")
        .unwrap();
    let fbl = "fbl@bounces.sender.test".to_string();
    assert_eq!(handler.rcpt("", &fbl).code, 250);
    let unsigned = dsn(
        &fbl,
        "hard@x.test",
        "5.1.1",
        "550 5.1.1 User unknown",
        Some(&format!("Message-ID: {}\r\n", hard.message_id)),
    );
    handler.data("", std::slice::from_ref(&fbl), &unsigned);
    assert_eq!(
        process_once(&t.store, &key, spool.path(), &policy)
            .await
            .unwrap(),
        1,
        "recorded"
    );
    let list = suppressed(t.store.clone()).await;
    assert!(
        !list.iter().any(|(e, _)| e == "hard@x.test"),
        "a Message-ID alone changed something: {list:?}"
    );

    // The same report whose returned headers carry the delivery's signed Return-Path counts.
    let hard_id = t
        .store
        .delivery_by_message_id(&hard.message_id)
        .await
        .unwrap()
        .unwrap()
        .id;
    let signed = dsn(
        &fbl,
        "hard@x.test",
        "5.1.1",
        "550 5.1.1 User unknown",
        Some(&format!(
            "Return-Path: <{}>\r\nMessage-ID: {}\r\n",
            key.address(hard_id.0, "bounces.sender.test"),
            hard.message_id
        )),
    );
    handler.data("", std::slice::from_ref(&fbl), &signed);
    process_once(&t.store, &key, spool.path(), &policy)
        .await
        .unwrap();
    let list = suppressed(t.store.clone()).await;
    assert!(
        list.contains(&("hard@x.test".to_string(), "previously_bounced".to_string())),
        "{list:?}"
    );
    // The spool is empty once everything is recorded.
    assert_eq!(
        std::fs::read_dir(spool.path())
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "msg"))
            .count(),
        0
    );
}

/// A message the classifier cannot finish in time is moved aside, once, and the loop goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_times_out_is_quarantined() {
    use std::io::Write;
    let t = test_store().await;
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    let key = Arc::new(VerpKey::new(&[9u8; 32]));
    let handler = ReturnPath::new(
        key.clone(),
        Some("bounces.sender.test".into()),
        herald_engine::domains::Keyring::new(dir.path().join("dkim")),
        spool.clone(),
        Arc::new(tokio::sync::Notify::new()),
    )
    .unwrap();
    // A gzip report of 30 MiB of spaces: within the decompression budget, slow to inflate.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&vec![b' '; 30 << 20]).unwrap();
    let gz = gz.finish().unwrap();
    let dmarc = "dmarc@bounces.sender.test".to_string();
    assert_eq!(
        handler.data("", std::slice::from_ref(&dmarc), &gz).code,
        250
    );
    let policy = FeedbackPolicy {
        classify_timeout: Duration::from_millis(1),
        ..FeedbackPolicy::default()
    };
    assert_eq!(
        process_once(&t.store, &key, &spool, &policy).await.unwrap(),
        0
    );
    let quarantined: Vec<_> = std::fs::read_dir(herald_engine::feedback::quarantine_dir(&spool))
        .unwrap()
        .collect();
    assert_eq!(quarantined.len(), 1);
    assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 0, "not retried");
    // With time enough, the same kind of message goes through.
    assert_eq!(
        handler.data("", std::slice::from_ref(&dmarc), &gz).code,
        250
    );
    let policy = FeedbackPolicy::default();
    assert_eq!(
        process_once(&t.store, &key, &spool, &policy).await.unwrap(),
        1
    );
}
