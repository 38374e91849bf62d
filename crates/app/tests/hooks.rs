//! Providers' event webhooks end to end: a campaign sent through a relay set up as a provider
//! (the recipient world's Postfix submission stands in for the provider's SMTP endpoint) carries
//! the delivery's id in the provider's metadata header; events posted to `herald serve`'s
//! `/hooks/{provider}`, signed or authenticated as each provider does, move the recipients
//! on: delivered with the remote reply, bounced, complained, deferred. A bad signature is 401
//! and changes nothing; a replay changes nothing.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair};
use aws_lc_rs::{hmac, rand::SecureRandom};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use common::{Herald, Serve, free_port, http, recipient, wait_for, world_env};

fn secret_file(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, format!("{text}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p.to_str().unwrap().to_string()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A Mailgun post: `event` (the event-data object) signed with `key` at `ts`.
fn mailgun(key: &str, ts: i64, event: &serde_json::Value) -> String {
    let mut t = [0u8; 25];
    SystemRandom::new().fill(&mut t).unwrap();
    mailgun_token(key, ts, &hex(&t), event)
}

/// [`mailgun`] with a given token.
fn mailgun_token(key: &str, ts: i64, token: &str, event: &serde_json::Value) -> String {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes());
    let sig = hex(hmac::sign(&k, format!("{ts}{token}").as_bytes()).as_ref());
    serde_json::json!({
        "signature": {"timestamp": ts.to_string(), "token": token, "signature": sig},
        "event-data": event,
    })
    .to_string()
}

fn post(
    port: u16,
    provider: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, serde_json::Value) {
    let mut h = vec![("Content-Type", "application/json")];
    h.extend_from_slice(headers);
    let r = http(port, "POST", &format!("/hooks/{provider}"), &h, Some(body));
    (
        r.status,
        serde_json::from_str(&r.body).unwrap_or(serde_json::Value::Null),
    )
}

/// The delivery id the message to `mailbox` carries in Mailgun's metadata header.
fn delivery_id(mail: &Path, mailbox: &str, message_id: &str) -> i64 {
    let raw = common::delivered(mail, mailbox, message_id);
    let text = String::from_utf8_lossy(&raw);
    let line = text
        .lines()
        .find(|l| l.starts_with("X-Mailgun-Variables:"))
        .unwrap_or_else(|| panic!("no metadata header in {text}"));
    let json: serde_json::Value =
        serde_json::from_str(line.trim_start_matches("X-Mailgun-Variables:").trim()).unwrap();
    json["herald_delivery"].as_str().unwrap().parse().unwrap()
}

#[test]
fn provider_events_complete_the_ledger_and_nothing_unsigned_or_replayed_counts() {
    let w = world_env();
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let (host, relay_port) = w["WORLD_SUBMISSION"].split_once(':').unwrap();
    let mailgun_key = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
    // SendGrid's verification key, as its console shows it (base64 DER).
    let rng = SystemRandom::new();
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    let sendgrid =
        EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref())
            .unwrap();
    let sendgrid_public = B64.encode(sendgrid.public_key().as_der().unwrap().as_ref());
    let inline = |k: &str, v: &str| format!("{{ {k} = \"{v}\" }}");
    let h = Herald::new(&tmp.path().join("data"))
        .web_only(port)
        .env("HERALD__DELIVERY__TRANSPORT", "relay")
        .env("HERALD__DELIVERY__HELO_NAME", "world-sender.test")
        .env("HERALD__RELAY__HOST", host)
        .env("HERALD__RELAY__PORT", relay_port)
        .env("HERALD__RELAY__USERNAME", "relay@world.test")
        .env(
            "HERALD__RELAY__PASSWORD_FILE",
            &secret_file(tmp.path(), "relay-pw", "relaypass"),
        )
        .env("HERALD__RELAY__CA_FILE", &w["WORLD_CA"])
        .env("HERALD__RELAY__PROVIDER", "mailgun")
        // The provider's events say what happened next, not the relay's DSNs.
        .env("HERALD__RELAY__REQUEST_DSN", "false")
        .env(
            "HERALD__HOOKS__MAILGUN",
            &inline(
                "signing_key_file",
                &secret_file(tmp.path(), "mg", mailgun_key),
            ),
        )
        .env(
            "HERALD__HOOKS__POSTMARK",
            &format!(
                "{{ username = \"pm\", password_file = \"{}\" }}",
                secret_file(tmp.path(), "pm", "pm-secret")
            ),
        )
        .env(
            "HERALD__HOOKS__SENDGRID",
            &inline(
                "public_key_file",
                &secret_file(tmp.path(), "sg", &sendgrid_public),
            ),
        )
        .env(
            "HERALD__HOOKS__BREVO",
            &inline(
                "token_file",
                &secret_file(tmp.path(), "brevo", "brevo-token"),
            ),
        );
    let people = [
        ("alice@inbox.test", "inbox.test/alice"),
        ("bob@inbox.test", "inbox.test/bob"),
        ("carol@inbox.test", "inbox.test/carol"),
        ("dave@inbox.test", "inbox.test/dave"),
        ("seed@inbox.test", "inbox.test/seed"),
    ];
    let csv = tmp.path().join("c.csv");
    let emails: Vec<&str> = people.iter().map(|p| p.0).collect();
    std::fs::write(&csv, format!("email\n{}\n", emails.join("\n"))).unwrap();
    let html = tmp.path().join("b.html");
    std::fs::write(&html, "<p>Through a provider</p>").unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "p"]);
    let id = h.json(&[
        "campaign",
        "create",
        "--name",
        "P",
        "--list",
        "p",
        "--from",
        "News <news@world-sender.test>",
        "--subject",
        "Provider test",
        "--html",
        html.to_str().unwrap(),
        "--allow-unverified",
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let _serve = Serve(
        h.command(&["serve"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("the HTTP server", Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    });
    let report = h.json(&[
        "campaign",
        "send",
        &id,
        "--wait",
        "--wait-timeout",
        "60s",
        "--json",
    ]);
    assert_eq!(report["counts"]["relayed"], 5, "{report:#}");
    let ev = &recipient(&report, "alice@inbox.test")["evidence"];
    assert_eq!(ev["route"], "relay:mailgun", "{ev:#}");
    // Each message carries its delivery's id to the provider.
    let mail = Path::new(&w["WORLD_MAIL"]);
    let ids: Vec<i64> = people
        .iter()
        .map(|(email, mailbox)| {
            delivery_id(
                mail,
                mailbox,
                recipient(&report, email)["message_id"].as_str().unwrap(),
            )
        })
        .collect();
    let events = |email: &str| {
        let r = h.json(&["campaign", "report", &id, "--recipients", "--json"]);
        recipient(&r, email).clone()
    };

    // Mailgun: delivered, with the receiving server's reply.
    let delivered = serde_json::json!({
        "event": "delivered", "id": "mg-ev-1", "timestamp": now() as f64,
        "recipient": "alice@inbox.test",
        "delivery-status": {"code": 250, "message": "2.0.0 OK: queued as 7F3A1", "mx-host": "mx.inbox.test"},
        "user-variables": {"herald_delivery": ids[0].to_string()},
    });
    let body = mailgun(mailgun_key, now(), &delivered);
    let (status, answer) = post(port, "mailgun", &[], &body);
    assert_eq!(
        (status, answer["applied"].as_u64()),
        (200, Some(1)),
        "{answer}"
    );
    let alice = events("alice@inbox.test");
    assert_eq!(alice["state"], "delivered", "{alice:#}");
    let e = alice["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "provider_delivered")
        .unwrap();
    assert_eq!(
        (
            e["detail"]["reply"].as_str(),
            e["detail"]["remote_mta"].as_str(),
            e["detail"]["remote_queue_id"].as_str()
        ),
        (
            Some("250 2.0.0 OK: queued as 7F3A1"),
            Some("mx.inbox.test"),
            Some("7F3A1")
        ),
        "{e:#}"
    );
    let why = h.json(&["why", &id, "alice@inbox.test", "--json"]);
    let text = why["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "relay_delivered")
        .unwrap_or_else(|| panic!("{why:#}"))["text"]
        .to_string();
    assert!(
        text.contains("mailgun") && text.contains("mx.inbox.test") && text.contains("7F3A1"),
        "{text}"
    );
    // The same post again (a retry or a replay): nothing more happens.
    let (status, answer) = post(port, "mailgun", &[], &body);
    assert_eq!(
        (status, answer["duplicates"].as_u64()),
        (200, Some(1)),
        "{answer}"
    );
    let n = |r: &serde_json::Value| r["events"].as_array().unwrap().len();
    assert_eq!(n(&events("alice@inbox.test")), n(&alice));
    // Signed with another key, or too old: 401, nothing changes.
    let bounce = serde_json::json!({
        "event": "failed", "severity": "permanent", "reason": "bounce", "id": "mg-ev-2", "timestamp": now() as f64,
        "recipient": "bob@inbox.test",
        "delivery-status": {"code": 550, "message": "5.1.1 The email account that you tried to reach does not exist", "mx-host": "mx.inbox.test"},
        "user-variables": {"herald_delivery": ids[1].to_string()},
    });
    let (status, _) = post(
        port,
        "mailgun",
        &[],
        &mailgun("another-key", now(), &bounce),
    );
    assert_eq!(status, 401);
    let (status, answer) = post(
        port,
        "mailgun",
        &[],
        &mailgun(mailgun_key, now() - 3600, &bounce),
    );
    assert_eq!(status, 401, "{answer}");
    assert_eq!(events("bob@inbox.test")["state"], "relayed");
    // Mailgun permanent failure: a late bounce, the address suppressed.
    let (status, _) = post(port, "mailgun", &[], &mailgun(mailgun_key, now(), &bounce));
    assert_eq!(status, 200);
    let bob = events("bob@inbox.test");
    assert_eq!(
        (bob["state"].as_str(), bob["reason"].as_str()),
        (Some("bounced"), Some("userunknown")),
        "{bob:#}"
    );
    let sup = h.json(&["suppressions", "list", "--json"]).to_string();
    assert!(sup.contains("bob@inbox.test"), "{sup}");

    // Postmark (basic auth): a spam complaint.
    let complaint = serde_json::json!({
        "RecordType": "SpamComplaint", "Email": "carol@inbox.test", "MessageID": "pm-1",
        "BouncedAt": "2026-12-04T10:00:00Z", "Metadata": {"herald_delivery": ids[2].to_string()},
    })
    .to_string();
    let wrong = format!("Basic {}", B64.encode("pm:wrong"));
    let (status, _) = post(port, "postmark", &[("Authorization", &wrong)], &complaint);
    assert_eq!(status, 401);
    let right = format!("Basic {}", B64.encode("pm:pm-secret"));
    let (status, _) = post(port, "postmark", &[("Authorization", &right)], &complaint);
    assert_eq!(status, 200);
    let carol = events("carol@inbox.test");
    assert!(
        carol["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "complaint"),
        "{carol:#}"
    );

    // SendGrid (ECDSA over timestamp + body): a deferral, then delivered, in one batch.
    let batch = serde_json::json!([
        {"event": "deferred", "email": "dave@inbox.test", "timestamp": now(), "sg_event_id": "sg-1",
         "response": "451 4.7.1 Try again later", "herald_delivery": ids[3].to_string()},
        {"event": "delivered", "email": "dave@inbox.test", "timestamp": now(), "sg_event_id": "sg-2",
         "response": "250 2.0.0 OK", "herald_delivery": ids[3].to_string()},
    ])
    .to_string();
    let ts = now().to_string();
    let mut signed = ts.as_bytes().to_vec();
    signed.extend_from_slice(batch.as_bytes());
    let sig = B64.encode(sendgrid.sign(&rng, &signed).unwrap().as_ref());
    let tampered = batch.replace("250 2.0.0 OK", "250 2.0.0 Ok");
    let sg_headers = [
        ("X-Twilio-Email-Event-Webhook-Signature", sig.as_str()),
        ("X-Twilio-Email-Event-Webhook-Timestamp", ts.as_str()),
    ];
    let (status, _) = post(port, "sendgrid", &sg_headers, &tampered);
    assert_eq!(status, 401);
    assert_eq!(events("dave@inbox.test")["state"], "relayed");
    let (status, answer) = post(port, "sendgrid", &sg_headers, &batch);
    assert_eq!(
        (status, answer["applied"].as_u64()),
        (200, Some(2)),
        "{answer}"
    );
    let dave = events("dave@inbox.test");
    let kinds: Vec<&str> = dave["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(dave["state"], "delivered", "{dave:#}");
    assert!(
        kinds.contains(&"delayed") && kinds.contains(&"provider_delivered"),
        "{kinds:?}"
    );

    // Brevo (bearer token): an event naming another recipient's delivery changes nothing.
    let stray = serde_json::json!({"event": "hard_bounce", "email": "mallory@inbox.test",
        "ts_epoch": now() * 1000, "reason": "550 5.1.1 no", "X-Mailin-custom": format!("herald_delivery={}", ids[4])})
    .to_string();
    let (status, answer) = post(
        port,
        "brevo",
        &[("Authorization", "Bearer brevo-token")],
        &stray,
    );
    assert_eq!(
        (status, answer["unmatched"].as_u64()),
        (200, Some(1)),
        "{answer}"
    );
    let (status, _) = post(port, "brevo", &[("Authorization", "Bearer nope")], &stray);
    assert_eq!(status, 401);
    // Nor does one naming no recipient.
    let anonymous = serde_json::json!({"event": "hard_bounce", "ts_epoch": now() * 1000,
        "X-Mailin-custom": format!("herald_delivery={}", ids[4])})
    .to_string();
    let (status, answer) = post(
        port,
        "brevo",
        &[("Authorization", "Bearer brevo-token")],
        &anonymous,
    );
    assert_eq!(
        (status, answer["unmatched"].as_u64()),
        (200, Some(1)),
        "{answer}"
    );
    assert_eq!(events("seed@inbox.test")["state"], "relayed");
    // A provider without credentials has no webhook.
    let (status, _) = post(port, "ses", &[], "{}");
    assert_eq!(status, 404);
    let report = h.json(&["campaign", "report", &id, "--json"]);
    let c = &report["counts"];
    assert_eq!(
        (
            c["delivered"].as_u64(),
            c["bounced"].as_u64(),
            c["relayed"].as_u64()
        ),
        (Some(2), Some(1), Some(2)),
        "{c:#}"
    );
}
