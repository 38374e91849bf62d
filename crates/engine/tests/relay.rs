//! Through a relay, against a scripted SMTP peer on loopback: what a relay's answers mean,
//! and the sessions a relay setting refuses to open. (The real thing — Postfix submission
//! with TLS and SASL — is crates/app/tests/relay.rs.)

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;
use std::time::Duration;

use herald_domain::DeliveryState;
use herald_engine::campaign::{self, CampaignInput};
use herald_engine::contacts::import_csv;
use herald_engine::deliver::smtp::SourceIps;
use herald_engine::deliver::{
    Credentials, Rate, Session, SessionConfig, SmtpStage, Target, Timeouts, TlsMode, tls,
};
use herald_engine::queue::Until;
use herald_engine::reports::campaign_report;
use herald_testkit::{
    Script, ScriptedPeer, start_peer, start_peer_with, test_relay_queue, test_store,
};

async fn campaign_to(t: &herald_testkit::TestStore, csv: &str) -> herald_store::CampaignId {
    import_csv(
        &t.store,
        std::sync::Arc::new(herald_mail::erasure::ErasureKey::new(&[7; 32])),
        Box::new(std::io::Cursor::new(csv.to_string())),
        "l",
        |_| {},
        herald_testkit::now_ms(),
    )
    .await
    .unwrap();
    let id = campaign::create(
        &t.store,
        &CampaignInput {
            name: "c".into(),
            list: "l".into(),
            from: "Ann Sender <ann@sender.test>".into(),
            subject: "Hi".into(),
            html: "<p>x</p>".into(),
            text: None,
            gate_override: None,
            reply_to: None,
            tracking: Default::default(),
        },
        herald_testkit::now_ms(),
    )
    .await
    .unwrap();
    campaign::snapshot(&t.store, id, herald_testkit::now_ms())
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn a_relays_250_is_relayed_and_its_refusal_of_our_account_bounces_nobody() {
    let t = test_store().await;
    let peer = Arc::new(ScriptedPeer::default());
    peer.script(
        "denied@y.test",
        Script::Rcpt(554, "5.7.1", "<denied@y.test>: Relay access denied"),
    );
    peer.script(
        "gone@y.test",
        Script::Rcpt(
            550,
            "5.1.1",
            "<gone@y.test>: Recipient address rejected: User unknown",
        ),
    );
    let (addr, _stop) = start_peer(peer.clone()).await;
    let id = campaign_to(&t, "email\nann@x.test\ndenied@y.test\ngone@y.test\n").await;
    test_relay_queue(t.store.clone(), addr, None)
        .run(Some(id), Until::Drained, None, std::future::pending())
        .await
        .unwrap();
    let r = campaign_report(&t.store, id, true).await.unwrap().unwrap();
    let row = |e: &str| {
        r.recipients
            .as_ref()
            .unwrap()
            .iter()
            .find(|x| x.email == e)
            .unwrap()
    };
    let ann = row("ann@x.test");
    assert_eq!(ann.state, DeliveryState::Relayed);
    let ev = ann.evidence.as_ref().unwrap();
    assert_eq!((ev.route.as_str(), ev.code), ("relay:generic", Some(250)));
    assert_eq!(peer.count_for("ann@x.test"), 1);
    // The relay will not relay for us: our account's problem, retried, nobody suppressed.
    let denied = row("denied@y.test");
    assert_eq!(
        (denied.state, denied.hard),
        (DeliveryState::Deferred, false)
    );
    // The relay knows this address does not exist: that is about the recipient.
    let gone = row("gone@y.test");
    assert_eq!(
        (gone.state, gone.reason.as_deref(), gone.hard),
        (DeliveryState::Bounced, Some("userunknown"), true)
    );
    assert_eq!(
        (r.counts.relayed, r.counts.delivered),
        (1, 0),
        "a relay's 250 is never counted delivered"
    );
}

fn session_config(tls: TlsMode, auth: Option<Credentials>) -> SessionConfig {
    SessionConfig {
        helo_name: "sender.test".into(),
        source_ips: SourceIps::default(),
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            command: Duration::from_secs(5),
            data: Duration::from_secs(5),
        },
        tls,
        auth: auth.map(Arc::new),
        request_dsn: false,
    }
}

#[tokio::test]
async fn no_plaintext_fallback_when_tls_is_required_and_no_login_without_auth() {
    // The scripted peer offers neither STARTTLS nor AUTH.
    let (addr, _stop) = start_peer(Arc::new(ScriptedPeer::default())).await;
    let target = Target {
        host: "127.0.0.1".into(),
        preference: None,
        addr,
    };
    tls::install_crypto_provider();
    let verified = tls::verified_config(None).unwrap();
    let Err(e) = Session::open(&target, &session_config(TlsMode::Required(verified), None)).await
    else {
        panic!("opened a plaintext session although STARTTLS is required")
    };
    assert_eq!(e.stage, SmtpStage::StartTls);
    assert!(
        e.message.contains("does not offer STARTTLS"),
        "{}",
        e.message
    );

    let login = Credentials::new("user".into(), "s3cret".into());
    assert!(
        !format!("{login:?}").contains("s3cret"),
        "Debug hides the password"
    );
    let Err(e) = Session::open(&target, &session_config(TlsMode::Off, Some(login))).await else {
        panic!("sent mail without the login it was told to use")
    };
    assert_eq!(e.stage, SmtpStage::Auth);
    assert!(e.message.contains("offers no AUTH at all"), "{}", e.message);
}

#[test]
fn a_ca_file_that_holds_no_certificate_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ca.pem");
    std::fs::write(&p, "not a certificate\n").unwrap();
    let e = tls::verified_config(Some(&p)).unwrap_err().to_string();
    assert!(
        e.contains("ca.pem") && e.contains("no CA certificate"),
        "{e}"
    );
    let e = tls::verified_config(Some(&dir.path().join("missing.pem")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.pem"), "{e}");
}

/// With a rate, each message waits for its slot; a session that would sit idle longer than
/// `pace_idle` is closed and a new one opened when the slot comes, so a server that drops idle
/// sessions (here after 150 ms) loses nothing. Held open instead, it breaks.
#[tokio::test]
async fn a_slow_rate_spaces_messages_and_does_not_hold_sessions_open() {
    let limits = || herald_inbound::Limits {
        timeout: Duration::from_millis(150),
        ..Default::default()
    };
    let rate: Rate = "4/s".parse().unwrap();
    let send = |idle: Duration| async move {
        let t = test_store().await;
        let peer = Arc::new(ScriptedPeer::default());
        let (addr, _stop) = start_peer_with(peer.clone(), limits()).await;
        let id = campaign_to(&t, "email\na@x.test\nb@x.test\nc@x.test\n").await;
        let t0 = std::time::Instant::now();
        test_relay_queue(t.store.clone(), addr, Some((rate, idle)))
            .run(Some(id), Until::Drained, None, std::future::pending())
            .await
            .unwrap();
        let elapsed = t0.elapsed();
        let r = campaign_report(&t.store, id, true).await.unwrap().unwrap();
        let attempts: Vec<u32> = r.recipients.unwrap().iter().map(|x| x.attempts).collect();
        (
            r.counts,
            elapsed,
            peer.received.lock().unwrap().len(),
            attempts,
        )
    };
    let (k, elapsed, received, attempts) = send(Duration::from_millis(100)).await;
    assert_eq!((k.relayed, received), (3, 3), "{k:?}");
    assert_eq!(attempts, [1, 1, 1], "each went on its first attempt");
    // Three slots 250 ms apart.
    assert!(elapsed >= Duration::from_millis(500), "{elapsed:?}");
    // The same with sessions held through the wait: the server dropped them, and what was to
    // go on them had to be tried again.
    let (_, _, _, attempts) = send(Duration::from_secs(30)).await;
    assert!(attempts.iter().any(|n| *n > 1), "{attempts:?}");
}
