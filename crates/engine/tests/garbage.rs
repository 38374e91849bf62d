//! Untrusted input never panics: SMTP replies, CSV files, DNS that does not answer.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use herald_engine::contacts::import_csv;
use herald_engine::deliver::smtp::parse_reply;
use herald_engine::deliver::{DnsMx, MxAnswer, MxResolver};
use herald_testkit::noise::Noise;
use herald_testkit::test_store;

#[test]
fn smtp_replies_from_noise_parse_or_are_refused_without_panicking() {
    let mut n = Noise::new(0x5eed);
    let mut parsed = 0;
    for _ in 0..50_000 {
        let b = n.bytes(120);
        if let Some(r) = parse_reply(&b) {
            parsed += 1;
            assert!(r.code <= 999);
            let _ = herald_mail::classify_reply(&r);
            let _ = herald_mail::remote_queue_id(&r.text());
        }
    }
    assert!(parsed > 0, "the noise should sometimes look like a reply");
}

#[tokio::test]
async fn csv_noise_imports_what_it_can_and_accounts_for_every_row() {
    let t = test_store().await;
    let mut n = Noise::new(42);
    for round in 0..200 {
        let mut data = b"email,first_name\n".to_vec();
        data.extend(n.bytes(600));
        let r = import_csv(
            &t.store,
            std::sync::Arc::new(herald_mail::erasure::ErasureKey::new(&[7; 32])),
            Box::new(std::io::Cursor::new(data)),
            &format!("l{round}"),
            |_| {},
            herald_engine::Clock::system().now_ms(),
        )
        .await
        .unwrap();
        assert!(r.rejected.iter().all(|x| x.line >= 2), "{r:?}");
        assert_eq!(r.rejected_count, r.rejected.len() as u64);
    }
}

#[tokio::test]
async fn an_unreachable_nameserver_is_a_temporary_failure() {
    // Nothing listens on this loopback port: queries fail, which must mean "try later".
    let dns = DnsMx::new(
        &["127.0.0.1:9".parse().unwrap()],
        Duration::from_millis(300),
    )
    .unwrap();
    match dns.resolve("example.test").await {
        MxAnswer::TempFail(msg) => assert!(!msg.is_empty()),
        other => panic!("expected a temporary failure, got {other:?}"),
    }
}
