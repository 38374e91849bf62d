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

/// `email`'s row of campaign `id`'s report, with its events.
fn recipient_now(h: &Herald, id: &str, email: &str) -> serde_json::Value {
    let r = h.json(&["campaign", "report", id, "--recipients", "--json"]);
    recipient(&r, email).clone()
}

/// Whether a recipient's row holds an event of `kind`.
fn has_event(row: &serde_json::Value, kind: &str) -> bool {
    row["events"]
        .as_array()
        .is_some_and(|a| a.iter().any(|e| e["kind"] == kind))
}

/// Campaign `id`'s delivered, bounced and relayed counts.
#[track_caller]
fn assert_counts(h: &Herald, id: &str, (delivered, bounced, relayed): (u64, u64, u64)) {
    let report = h.json(&["campaign", "report", id, "--json"]);
    let c = &report["counts"];
    assert_eq!(
        (
            c["delivered"].as_u64(),
            c["bounced"].as_u64(),
            c["relayed"].as_u64()
        ),
        (Some(delivered), Some(bounced), Some(relayed)),
        "{c:#}"
    );
}

/// A post answered 200 having applied `n` events.
#[track_caller]
fn assert_applied((status, answer): &(u16, serde_json::Value), n: u64) {
    assert_eq!(
        (*status, answer["applied"].as_u64()),
        (200, Some(n)),
        "{answer}"
    );
}

/// The value of the provider metadata header `name` on the message to `mailbox`.
fn metadata(mail: &Path, mailbox: &str, message_id: &str, name: &str) -> String {
    let raw = common::delivered(mail, mailbox, message_id);
    let text = String::from_utf8_lossy(&raw);
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} header in {text}"));
    line[name.len() + 1..].trim().to_string()
}

/// The delivery id the message to `mailbox` carries in Mailgun's metadata header.
fn delivery_id(mail: &Path, mailbox: &str, message_id: &str) -> i64 {
    let json: serde_json::Value =
        serde_json::from_str(&metadata(mail, mailbox, message_id, "X-Mailgun-Variables")).unwrap();
    json["herald_delivery"].as_str().unwrap().parse().unwrap()
}

/// A Herald that sends through the recipient world's submission relay (AUTH, STARTTLS) set up
/// as `provider`, its web server on `port`.
fn through_world_relay(
    w: &std::collections::HashMap<String, String>,
    dir: &Path,
    port: u16,
    provider: &str,
) -> Herald {
    let (host, relay_port) = w["WORLD_SUBMISSION"].split_once(':').unwrap();
    Herald::new(&dir.join("data"))
        .web_only(port)
        .env("HERALD__DELIVERY__TRANSPORT", "relay")
        .env("HERALD__DELIVERY__HELO_NAME", "world-sender.test")
        .env("HERALD__RELAY__HOST", host)
        .env("HERALD__RELAY__PORT", relay_port)
        .env("HERALD__RELAY__USERNAME", "relay@world.test")
        .env(
            "HERALD__RELAY__PASSWORD_FILE",
            &secret_file(dir, "relay-pw", "relaypass"),
        )
        .env("HERALD__RELAY__CA_FILE", &w["WORLD_CA"])
        .env("HERALD__RELAY__PROVIDER", provider)
        // The provider's events say what happened next, not the relay's DSNs.
        .env("HERALD__RELAY__REQUEST_DSN", "false")
}

/// A campaign to `people` sent by `h` under `herald serve` (kept running: the second value),
/// and its report once every recipient is through.
fn send_through_relay(
    h: &Herald,
    dir: &Path,
    port: u16,
    people: &[(&str, &str)],
) -> (String, serde_json::Value, Serve) {
    let csv = dir.join("c.csv");
    let emails: Vec<&str> = people.iter().map(|p| p.0).collect();
    std::fs::write(&csv, format!("email\n{}\n", emails.join("\n"))).unwrap();
    let html = dir.join("b.html");
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
    let serve = Serve(
        h.command(&["serve"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("the HTTP server", Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    });
    let report = h.sent(&id, "60s");
    (id, report, serve)
}

#[test]
fn provider_events_complete_the_ledger_and_nothing_unsigned_or_replayed_counts() {
    let w = world_env();
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
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
    let h = through_world_relay(&w, tmp.path(), port, "mailgun")
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
    let (id, report, _serve) = send_through_relay(&h, tmp.path(), port, &people);
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
    let events = |email: &str| recipient_now(&h, &id, email);

    // Mailgun: delivered, with the receiving server's reply.
    let delivered = serde_json::json!({
        "event": "delivered", "id": "mg-ev-1", "timestamp": now() as f64,
        "recipient": "alice@inbox.test",
        "delivery-status": {"code": 250, "message": "2.0.0 OK: queued as 7F3A1", "mx-host": "mx.inbox.test"},
        "user-variables": {"herald_delivery": ids[0].to_string()},
    });
    let body = mailgun(mailgun_key, now(), &delivered);
    assert_applied(&post(port, "mailgun", &[], &body), 1);
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
    assert!(has_event(&carol, "complaint"), "{carol:#}");

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
    assert_applied(&post(port, "sendgrid", &sg_headers, &batch), 2);
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
    assert_counts(&h, &id, (2, 1, 2));
}

/// A certificate and key made by `openssl req -x509` (SNS's signing certificate stands for
/// Amazon's), in `dir` as `NAME.pem` and `NAME.key`.
fn openssl_certificate(dir: &Path, name: &str) -> (String, String) {
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}.key"));
    let out = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=sns.us-east-1.amazonaws.com", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        cert.to_str().unwrap().to_string(),
        key.to_str().unwrap().to_string(),
    )
}

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:herald-ses";

/// An SNS post as Amazon makes it: `fields` (name, value) signed by `key` with openssl
/// (`version` "1": SHA-1, "2": SHA-256) over the documented text: each signed field's name and
/// value on lines of their own, in that order.
fn sns_post(dir: &Path, key: &str, version: &str, fields: &[(&str, String)]) -> String {
    let order = [
        "Message",
        "MessageId",
        "Subject",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ];
    let mut text = String::new();
    for name in order {
        if let Some((_, v)) = fields.iter().find(|(n, _)| *n == name) {
            text.push_str(&format!("{name}\n{v}\n"));
        }
    }
    let input = dir.join("to-sign");
    std::fs::write(&input, &text).unwrap();
    let digest = if version == "1" { "-sha1" } else { "-sha256" };
    let out = std::process::Command::new("openssl")
        .args(["dgst", digest, "-sign", key])
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut doc = serde_json::Map::new();
    for (n, v) in fields {
        doc.insert(n.to_string(), serde_json::Value::String(v.clone()));
    }
    doc.insert("SignatureVersion".into(), version.into());
    doc.insert("Signature".into(), B64.encode(&out.stdout).into());
    doc.insert(
        "SigningCertURL".into(),
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem".into(),
    );
    serde_json::Value::Object(doc).to_string()
}

fn sns_time(ago_s: i64) -> String {
    (time::OffsetDateTime::now_utc() - time::Duration::seconds(ago_s))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// An SES event (`message`) as an SNS notification of `TOPIC`.
fn ses_notification(
    message_id: &str,
    message: &serde_json::Value,
    ago_s: i64,
) -> Vec<(&'static str, String)> {
    vec![
        ("Type", "Notification".into()),
        ("MessageId", message_id.into()),
        ("TopicArn", TOPIC.into()),
        ("Message", message.to_string()),
        ("Timestamp", sns_time(ago_s)),
    ]
}

#[test]
fn ses_events_through_sns_are_checked_against_the_pinned_certificate() {
    let w = world_env();
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let (cert, key) = openssl_certificate(tmp.path(), "sns");
    let (_, stranger) = openssl_certificate(tmp.path(), "stranger");
    let h = through_world_relay(&w, tmp.path(), port, "ses").env(
        "HERALD__HOOKS__SES",
        &format!("{{ topic_arns = [\"{TOPIC}\"], certificate_files = [\"{cert}\"] }}"),
    );
    let people = [
        ("alice@inbox.test", "inbox.test/alice"),
        ("bob@inbox.test", "inbox.test/bob"),
        ("carol@inbox.test", "inbox.test/carol"),
        ("dave@inbox.test", "inbox.test/dave"),
    ];
    let (id, report, _serve) = send_through_relay(&h, tmp.path(), port, &people);
    assert_eq!(report["counts"]["relayed"], 4, "{report:#}");
    assert_eq!(
        recipient(&report, "alice@inbox.test")["evidence"]["route"],
        "relay:ses"
    );
    // Each message carries its delivery's id as an SES message tag.
    let mail = Path::new(&w["WORLD_MAIL"]);
    let tags: Vec<String> = people
        .iter()
        .map(|(email, mailbox)| {
            let id = recipient(&report, email)["message_id"]
                .as_str()
                .unwrap()
                .to_string();
            metadata(mail, mailbox, &id, "X-SES-MESSAGE-TAGS")
        })
        .collect();
    let ids: Vec<String> = tags
        .iter()
        .map(|t| {
            t.strip_prefix("herald_delivery=")
                .unwrap_or_else(|| panic!("{t}"))
                .to_string()
        })
        .collect();
    let events = |email: &str| recipient_now(&h, &id, email);
    let mail_of = |i: usize, to: &str| {
        serde_json::json!({"messageId": format!("0100018c-{i}"), "destination": [to],
            "tags": {"herald_delivery": [ids[i]], "ses:configuration-set": ["herald"]}})
    };
    let post_ses = |body: &str| {
        post(
            port,
            "ses",
            &[("x-amz-sns-message-type", "Notification")],
            body,
        )
    };

    // Delivered (SignatureVersion 1, SHA-1): the receiving server's reply and address.
    let delivered = serde_json::json!({"eventType": "Delivery", "mail": mail_of(0, "alice@inbox.test"),
        "delivery": {"timestamp": sns_time(1), "recipients": ["alice@inbox.test"],
            "smtpResponse": "250 2.0.0 OK: queued as 5B2C9", "remoteMtaIp": "127.0.0.1",
            "reportingMTA": "a8-30.smtp-out.amazonses.com"}});
    let body = sns_post(
        tmp.path(),
        &key,
        "1",
        &ses_notification("sns-1", &delivered, 0),
    );
    assert_applied(&post_ses(&body), 1);
    let alice = events("alice@inbox.test");
    assert_eq!(alice["state"], "delivered", "{alice:#}");
    let e = alice["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "provider_delivered")
        .unwrap_or_else(|| panic!("{alice:#}"));
    assert_eq!(
        (
            e["detail"]["reply"].as_str(),
            e["detail"]["remote_queue_id"].as_str()
        ),
        (Some("250 2.0.0 OK: queued as 5B2C9"), Some("5B2C9")),
        "{e:#}"
    );
    // The same message again (SNS retries, or a replay): nothing more.
    let (status, answer) = post_ses(&body);
    assert_eq!(
        (status, answer["duplicates"].as_u64()),
        (200, Some(1)),
        "{answer}"
    );

    // A bounce signed by a key that is not the pinned certificate's, for another topic, or
    // published two hours ago: 401, Bob stays relayed.
    let bounce = serde_json::json!({"eventType": "Bounce", "mail": mail_of(1, "bob@inbox.test"),
        "bounce": {"bounceType": "Permanent", "bounceSubType": "General", "timestamp": sns_time(1),
            "bouncedRecipients": [{"emailAddress": "bob@inbox.test", "action": "failed", "status": "5.1.1",
                "diagnosticCode": "smtp; 550 5.1.1 <bob@inbox.test>: Recipient address rejected: User unknown"}]}});
    let (status, _) = post_ses(&sns_post(
        tmp.path(),
        &stranger,
        "2",
        &ses_notification("sns-2", &bounce, 0),
    ));
    assert_eq!(status, 401);
    let mut other_topic = ses_notification("sns-3", &bounce, 0);
    other_topic[2].1 = "arn:aws:sns:us-east-1:123456789012:someone-else".into();
    let (status, _) = post_ses(&sns_post(tmp.path(), &key, "2", &other_topic));
    assert_eq!(status, 401);
    let (status, answer) = post_ses(&sns_post(
        tmp.path(),
        &key,
        "2",
        &ses_notification("sns-4", &bounce, 7200),
    ));
    assert_eq!(status, 401, "{answer}");
    // A signed message whose event was changed after signing.
    let signed = sns_post(
        tmp.path(),
        &key,
        "2",
        &ses_notification("sns-5", &bounce, 0),
    );
    let (status, _) = post_ses(&signed.replace("Permanent", "Transient"));
    assert_eq!(status, 401);
    assert_eq!(events("bob@inbox.test")["state"], "relayed");
    // Signed (SignatureVersion 2, SHA-256): a late bounce, the address suppressed.
    assert_applied(&post_ses(&signed), 1);
    let bob = events("bob@inbox.test");
    assert_eq!(
        (bob["state"].as_str(), bob["reason"].as_str()),
        (Some("bounced"), Some("userunknown")),
        "{bob:#}"
    );
    let sup = h.json(&["suppressions", "list", "--json"]).to_string();
    assert!(sup.contains("bob@inbox.test"), "{sup}");

    // SES did not send to Dave (its suppression list): he is suppressed here too.
    let suppressed = serde_json::json!({"eventType": "Bounce", "mail": mail_of(3, "dave@inbox.test"),
        "bounce": {"bounceType": "Permanent", "bounceSubType": "Suppressed", "timestamp": sns_time(1),
            "bouncedRecipients": [{"emailAddress": "dave@inbox.test", "action": "failed", "status": "5.1.1",
                "diagnosticCode": "Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address."}]}});
    assert_applied(
        &post_ses(&sns_post(
            tmp.path(),
            &key,
            "2",
            &ses_notification("sns-8", &suppressed, 0),
        )),
        1,
    );
    assert_eq!(events("dave@inbox.test")["state"], "bounced");

    // A delay (the recipient's server said "later"), then a complaint.
    let delay = serde_json::json!({"eventType": "DeliveryDelay", "mail": mail_of(2, "carol@inbox.test"),
        "deliveryDelay": {"timestamp": sns_time(2), "delayType": "MailboxFull",
            "delayedRecipients": [{"emailAddress": "carol@inbox.test", "status": "4.2.2",
                "diagnosticCode": "smtp; 452 4.2.2 Mailbox full"}]}});
    assert_applied(
        &post_ses(&sns_post(
            tmp.path(),
            &key,
            "2",
            &ses_notification("sns-9", &delay, 0),
        )),
        1,
    );
    let carol = events("carol@inbox.test");
    assert_eq!(carol["state"], "relayed", "{carol:#}");
    assert!(has_event(&carol, "delayed"), "{carol:#}");
    let complaint = serde_json::json!({"eventType": "Complaint", "mail": mail_of(2, "carol@inbox.test"),
        "complaint": {"timestamp": sns_time(1), "complaintFeedbackType": "abuse",
            "complainedRecipients": [{"emailAddress": "carol@inbox.test"}]}});
    assert_applied(
        &post_ses(&sns_post(
            tmp.path(),
            &key,
            "1",
            &ses_notification("sns-6", &complaint, 0),
        )),
        1,
    );
    let carol = events("carol@inbox.test");
    assert!(has_event(&carol, "complaint"), "{carol:#}");
    let sup = h.json(&["suppressions", "list", "--json"]).to_string();
    assert!(
        sup.contains("carol@inbox.test") && sup.contains("dave@inbox.test"),
        "{sup}"
    );

    // A subscription confirmation: only Amazon SNS's own confirmation address is visited. One
    // pointing elsewhere, though signed, is refused without a request; one signed by another
    // key, 401.
    let confirmation = |url: &str| {
        vec![
            ("Type", "SubscriptionConfirmation".to_string()),
            ("MessageId", "sns-7".into()),
            ("Token", "2336412f37fb687f5d51e6e2425".into()),
            ("TopicArn", TOPIC.into()),
            (
                "Message",
                format!("You have chosen to subscribe to the topic {TOPIC}."),
            ),
            ("SubscribeURL", url.to_string()),
            ("Timestamp", sns_time(0)),
        ]
    };
    let (status, answer) = post_ses(&sns_post(
        tmp.path(),
        &key,
        "1",
        &confirmation("https://evil.test/?Action=ConfirmSubscription"),
    ));
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("not Amazon SNS"),
        "{answer}"
    );
    let (status, _) = post_ses(&sns_post(
        tmp.path(),
        &stranger,
        "1",
        &confirmation("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"),
    ));
    assert_eq!(status, 401);
    assert_counts(&h, &id, (1, 2, 1));
}
