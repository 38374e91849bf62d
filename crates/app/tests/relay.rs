//! Sending through an authenticated relay: the recipient world's Postfix submission services
//! (587-style STARTTLS and 465-style implicit TLS, Dovecot SASL, a certificate from the world's
//! own CA). A relay's 250 makes a recipient `relayed`, never `delivered`; a DSN the relay sends
//! back still reaches the inbound listener; a wrong password or an untrusted certificate
//! defers everyone with an error naming the relay, and nobody is lost or bounced.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{Herald, recipient, wait_for, world_env};

/// A password file as an operator would write it (owner-only).
fn password_file(dir: &Path, password: &str) -> String {
    let p = dir.join("relay-password");
    std::fs::write(&p, format!("{password}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p.to_str().unwrap().to_string()
}

/// Herald set up to relay through `relay` (`host:port` of the world) with `tls`.
fn through_relay(dir: &Path, relay: &str, tls: &str, password: &str, ca: Option<&str>) -> Herald {
    let (host, port) = relay.split_once(':').unwrap();
    let mut h = Herald::new(&dir.join("data"))
        .env("HERALD__DELIVERY__TRANSPORT", "relay")
        .env("HERALD__DELIVERY__HELO_NAME", "world-sender.test")
        .env("HERALD__DELIVERY__COMMAND_TIMEOUT", "10s")
        .env("HERALD__DELIVERY__RETRY_SCHEDULE", "[\"1m\"]")
        .env("HERALD__RELAY__HOST", host)
        .env("HERALD__RELAY__PORT", port)
        .env("HERALD__RELAY__TLS", tls)
        .env("HERALD__RELAY__USERNAME", "relay@world.test")
        .env(
            "HERALD__RELAY__PASSWORD_FILE",
            &password_file(dir, password),
        )
        .env(
            "HERALD__INBOUND__RETURN_PATH_DOMAIN",
            "bounces.world-sender.test",
        );
    if let Some(ca) = ca {
        h = h.env("HERALD__RELAY__CA_FILE", ca);
    }
    h
}

/// Import `emails` and create a campaign to them; its id.
fn campaign(h: &Herald, dir: &Path, emails: &[&str]) -> String {
    let csv = dir.join("contacts.csv");
    std::fs::write(&csv, format!("email\n{}\n", emails.join("\n"))).unwrap();
    let html = dir.join("body.html");
    std::fs::write(&html, "<p>Through the relay</p>").unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "r"]);
    h.json(&[
        "campaign",
        "create",
        "--name",
        "Relayed",
        "--list",
        "r",
        "--from",
        "News <news@world-sender.test>",
        "--subject",
        "Relay test",
        "--html",
        html.to_str().unwrap(),
        "--allow-unverified",
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string()
}

struct Serve(std::process::Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Postfix's log lines about queue id `q`.
fn maillog_for(maillog: &str, q: &str) -> String {
    std::fs::read_to_string(maillog)
        .unwrap()
        .lines()
        .filter(|l| l.contains(&format!("{q}:")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_campaign_through_the_submission_port_is_relayed_and_a_later_bounce_still_comes_back() {
    let w = world_env();
    let tmp = tempfile::tempdir().unwrap();
    let bounce_port = w["WORLD_BOUNCE_PORT"].clone();
    let h = through_relay(
        tmp.path(),
        &w["WORLD_SUBMISSION"],
        "starttls",
        "relaypass",
        Some(&w["WORLD_CA"]),
    )
    .env(
        "HERALD__INBOUND__LISTEN",
        &format!("127.0.0.1:{bounce_port}"),
    );
    let id = campaign(&h, tmp.path(), &["alice@inbox.test", "ghost@later.test"]);
    // The inbound listener (for the relay's DSNs) runs in `herald serve`, which also sends.
    let _serve = Serve(
        h.command(&["serve"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("the inbound listener", Duration::from_secs(20), || {
        std::net::TcpStream::connect(format!("127.0.0.1:{bounce_port}")).ok()
    });
    let report = h.sent(&id, "60s");

    // The relay's 250, with everything that proves which hop it was. (The relay's success
    // DSN may already have moved alice on; the attempt's evidence stays the relay's.)
    let alice = recipient(&report, "alice@inbox.test");
    assert!(
        ["relayed", "delivered"].contains(&alice["state"].as_str().unwrap()),
        "{alice:#}"
    );
    let ev = &alice["evidence"];
    assert_eq!(
        (ev["route"].as_str(), ev["code"].as_u64(), ev["mx"].as_str()),
        (Some("relay:generic"), Some(250), Some("127.0.0.1")),
        "{ev:#}"
    );
    assert!(
        ev["tls"].as_str().unwrap_or("").starts_with("TLSv1."),
        "{ev:#}"
    );
    let queue_id = ev["remote_queue_id"].as_str().unwrap().to_string();
    // Postfix took it from the authenticated user, over TLS, and delivered it into the mailbox.
    let log = wait_for(
        "the relay's delivery to alice",
        Duration::from_secs(30),
        || {
            let l = maillog_for(&w["WORLD_MAILLOG"], &queue_id);
            l.contains("status=sent").then_some(l)
        },
    );
    assert!(
        log.contains("sasl_method=PLAIN") && log.contains("sasl_username=relay@world.test"),
        "{log}"
    );
    let raw = common::delivered(
        Path::new(&w["WORLD_MAIL"]),
        "inbox.test/alice",
        alice["message_id"].as_str().unwrap(),
    );
    assert!(
        String::from_utf8_lossy(&raw).contains("Relay test"),
        "the message in alice's mailbox"
    );
    // Herald asked for DSNs (the relay offers them): the relay's success DSN, back on the VERP
    // return path, moves alice to delivered with the next server's answer as evidence.
    let report = wait_for("alice's success DSN", Duration::from_secs(60), || {
        let r = h.json(&["campaign", "report", &id, "--recipients", "--json"]);
        (recipient(&r, "alice@inbox.test")["state"] == "delivered").then_some(r)
    });
    let alice = recipient(&report, "alice@inbox.test");
    let dsn = alice["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "dsn_delivered")
        .unwrap_or_else(|| panic!("{alice:#}"));
    // Postfix handed it to Dovecot's LMTP, which gives no DSNs itself: "relayed", with
    // Dovecot's own 250 as the diagnostic.
    let det = &dsn["detail"];
    assert_eq!(
        (det["action"].as_str(), det["remote_mta"].as_str()),
        (Some("relayed"), Some("mx.world.test")),
        "{dsn:#}"
    );
    let diagnostic = det["diagnostic"].as_str().unwrap();
    assert!(
        diagnostic.starts_with("250 ") && diagnostic.contains("Saved"),
        "{dsn:#}"
    );
    let why = h.json(&["why", &id, "alice@inbox.test", "--json"]);
    let finding = why["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "relay_delivered")
        .unwrap_or_else(|| panic!("{why:#}"));
    assert!(
        finding["text"].as_str().unwrap().contains("250"),
        "{finding:#}"
    );

    // ghost@later.test: relayed, then the relay's own DSN came back to the VERP return path.
    let report = wait_for("ghost's late bounce", Duration::from_secs(90), || {
        let r = h.json(&["campaign", "report", &id, "--recipients", "--json"]);
        (recipient(&r, "ghost@later.test")["state"] == "bounced").then_some(r)
    });
    let ghost = recipient(&report, "ghost@later.test");
    assert!(
        ghost["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "async_bounce"),
        "{ghost:#}"
    );
    let counts = &report["counts"];
    assert_eq!(
        (
            counts["relayed"].as_u64(),
            counts["delivered"].as_u64(),
            counts["bounced"].as_u64()
        ),
        (Some(0), Some(1), Some(1)),
        "{counts:#}"
    );
}

#[test]
fn implicit_tls_and_auth_login_on_the_smtps_port() {
    let w = world_env();
    let tmp = tempfile::tempdir().unwrap();
    let h = through_relay(
        tmp.path(),
        &w["WORLD_SMTPS"],
        "tls",
        "relaypass",
        Some(&w["WORLD_CA"]),
    );
    let id = campaign(&h, tmp.path(), &["bob@inbox.test"]);
    // No server on this installation: the command sends itself.
    let report = h.json(&["campaign", "send", &id, "--wait", "--json"]);
    let bob = recipient(&report, "bob@inbox.test");
    assert_eq!(bob["state"], "relayed", "{bob:#}");
    // A relay's 250 is not called delivered anywhere a user reads it.
    assert_eq!(
        (
            report["counts"]["relayed"].as_u64(),
            report["counts"]["delivered"].as_u64()
        ),
        (Some(1), Some(0)),
        "{report:#}"
    );
    let why = h.json(&["why", &id, "bob@inbox.test", "--json"]);
    let finding = why["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "relayed")
        .unwrap_or_else(|| panic!("{why:#}"));
    assert!(
        finding["text"]
            .as_str()
            .unwrap()
            .contains("the recipient's server has not been heard from"),
        "{finding:#}"
    );
    let queue_id = bob["evidence"]["remote_queue_id"]
        .as_str()
        .unwrap()
        .to_string();
    let log = maillog_for(&w["WORLD_MAILLOG"], &queue_id);
    // This port offers only LOGIN: Herald used it.
    assert!(
        log.contains("sasl_method=LOGIN") && log.contains("sasl_username=relay@world.test"),
        "{log}"
    );
    common::delivered(
        Path::new(&w["WORLD_MAIL"]),
        "inbox.test/bob",
        bob["message_id"].as_str().unwrap(),
    );
}

#[test]
fn a_wrong_password_defers_everyone_with_an_error_naming_the_relay() {
    let w = world_env();
    let tmp = tempfile::tempdir().unwrap();
    let h = through_relay(
        tmp.path(),
        &w["WORLD_SUBMISSION"],
        "starttls",
        "not-the-password",
        Some(&w["WORLD_CA"]),
    );
    let id = campaign(&h, tmp.path(), &["alice@inbox.test", "carol@inbox.test"]);
    let out = h.run(&["campaign", "send", &id, "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains("not-the-password") && !stderr.contains("not-the-password"),
        "the password never appears: {stdout}\n{stderr}"
    );
    let report = h.json(&["campaign", "report", &id, "--recipients", "--json"]);
    let c = &report["counts"];
    assert_eq!(
        (
            c["deferred"].as_u64(),
            c["bounced"].as_u64(),
            c["relayed"].as_u64()
        ),
        (Some(2), Some(0), Some(0)),
        "{report:#}"
    );
    let ev = &recipient(&report, "carol@inbox.test")["evidence"];
    let error = ev["error"].as_str().unwrap();
    assert_eq!(ev["stage"], "auth", "{ev:#}");
    assert!(
        error.contains("127.0.0.1")
            && error.contains("refused the login as \"relay@world.test\"")
            && error.contains("535"),
        "{error}"
    );
    assert!(!report.to_string().contains("not-the-password"));
    // `herald queue` says who waits and why.
    let q = h.json(&["queue", "--json"]);
    let d = &q["destinations"][0];
    assert_eq!(
        (
            q["waiting"].as_u64(),
            d["domain"].as_str(),
            d["deferred"].as_u64()
        ),
        (Some(2), Some("inbox.test"), Some(2)),
        "{q:#}"
    );
    let why = d["why"][0]["text"].as_str().unwrap();
    assert!(
        why.starts_with("refused for now") && why.contains("tried again at"),
        "{why}"
    );
}

#[test]
fn an_untrusted_certificate_is_refused_unless_its_ca_is_given() {
    let w = world_env();
    let tmp = tempfile::tempdir().unwrap();
    // The world's relay has a certificate from the world's own CA, which no public root signs.
    let h = through_relay(
        tmp.path(),
        &w["WORLD_SUBMISSION"],
        "starttls",
        "relaypass",
        None,
    );
    let id = campaign(&h, tmp.path(), &["alice@inbox.test"]);
    h.ok(&["campaign", "send", &id]);
    let report = h.json(&["campaign", "report", &id, "--recipients", "--json"]);
    let alice = recipient(&report, "alice@inbox.test");
    assert_eq!(alice["state"], "deferred", "{alice:#}");
    let error = alice["evidence"]["error"].as_str().unwrap();
    assert!(
        error.contains("TLS handshake with 127.0.0.1 failed") && error.contains("certificate"),
        "{error}"
    );
    // Nothing was sent in clear text instead: no AUTH, no message reached the relay.
    assert_eq!(alice["evidence"]["stage"], "starttls", "{alice:#}");
}

#[test]
fn relay_settings_that_would_leak_or_cannot_work_are_refused_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let base = Herald::new(&tmp.path().join("data"));
    base.ok(&["campaign", "list"]);
    let refused = |h: Herald, needle: &str| {
        let out = h.run(&["campaign", "list"]);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!out.status.success() && err.contains(needle), "{err}");
    };
    let relay = |h: Herald| {
        h.env("HERALD__DELIVERY__TRANSPORT", "relay")
            .env("HERALD__RELAY__HOST", "smtp.example.com")
    };
    // The old one-line setting says what replaced it.
    refused(
        base.clone_env(&tmp.path().join("data"))
            .env("HERALD__DELIVERY__RELAY", "smtp.example.com:587"),
        "transport = \"relay\"",
    );
    // Clear text to a relay elsewhere would carry the mail (and the password) unencrypted.
    refused(
        relay(base.clone_env(&tmp.path().join("data"))).env("HERALD__RELAY__TLS", "none"),
        "loopback",
    );
    refused(
        relay(base.clone_env(&tmp.path().join("data"))).env("HERALD__RELAY__USERNAME", "someone"),
        "username and password_file go together",
    );
    refused(
        relay(base.clone_env(&tmp.path().join("data"))).env("HERALD__RELAY__RATE", "fast"),
        "\"14/s\"",
    );
    refused(
        base.clone_env(&tmp.path().join("data"))
            .env("HERALD__DELIVERY__TRANSPORT", "relay"),
        "needs [relay] host",
    );
    refused(
        relay(base.clone_env(&tmp.path().join("data")))
            .env("HERALD__RELAY__HOST", "smtp.example.com:587"),
        "the port goes in `port`",
    );
    refused(
        relay(base.clone_env(&tmp.path().join("data")))
            .env("HERALD__RELAY__VERIFY_CERTIFICATE", "false")
            .env("HERALD__RELAY__CA_FILE", "/etc/ssl/ca.pem"),
        "drop one of the two",
    );
}

#[test]
fn a_password_file_others_can_read_is_refused() {
    let w = world_env();
    let tmp = tempfile::tempdir().unwrap();
    let h = through_relay(
        tmp.path(),
        &w["WORLD_SUBMISSION"],
        "starttls",
        "relaypass",
        Some(&w["WORLD_CA"]),
    );
    let id = campaign(&h, tmp.path(), &["alice@inbox.test"]);
    std::fs::set_permissions(
        tmp.path().join("relay-password"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let out = h.run(&["campaign", "send", &id]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("chmod 600"), "{err}");
    // Nothing was attempted.
    let report = h.json(&["campaign", "report", &id, "--recipients", "--json"]);
    let alice = recipient(&report, "alice@inbox.test");
    assert_eq!(alice["attempts"], 0, "{report:#}");
}

/// `[[relay.route]]`: direct to the MX hosts by default, mail to one domain through the relay,
/// and a From domain whose mail always goes direct (the first rule that matches decides). Each
/// attempt's evidence names the route it took.
#[test]
fn route_rules_send_some_mail_through_the_relay_and_the_rest_direct() {
    let w = world_env();
    let tmp = tempfile::tempdir().unwrap();
    let h = through_relay(
        tmp.path(),
        &w["WORLD_SUBMISSION"],
        "starttls",
        "relaypass",
        Some(&w["WORLD_CA"]),
    )
    .env("HERALD__DELIVERY__TRANSPORT", "mx")
    .env(
        "HERALD__DNS__NAMESERVERS",
        &format!("[\"{}\"]", w["WORLD_DNS"]),
    )
    .env("HERALD__DELIVERY__MX_PORT", &w["WORLD_MX_PORT"])
    .env(
        "HERALD__RELAY__ROUTE",
        r#"[{ from_domains = ["direct.world-sender.test"], via = "mx" },
            { recipient_domains = ["inbox.test"], via = "relay" }]"#,
    );
    let id = campaign(&h, tmp.path(), &["carol@inbox.test", "anyone@discard.test"]);
    let report = h.json(&["campaign", "send", &id, "--wait", "--json"]);
    let carol = recipient(&report, "carol@inbox.test");
    assert_eq!(carol["evidence"]["route"], "relay:generic", "{carol:#}");
    assert!(
        ["relayed", "delivered"].contains(&carol["state"].as_str().unwrap()),
        "{carol:#}"
    );
    let queue_id = carol["evidence"]["remote_queue_id"]
        .as_str()
        .unwrap()
        .to_string();
    let log = wait_for(
        "the relay's log of carol's copy",
        Duration::from_secs(30),
        || {
            let l = maillog_for(&w["WORLD_MAILLOG"], &queue_id);
            l.contains("sasl_username=relay@world.test").then_some(l)
        },
    );
    assert!(log.contains("sasl_method=PLAIN"), "{log}");
    // A test copy takes the route the campaign's copy to that address takes.
    let test = h.json(&[
        "campaign",
        "test",
        &id,
        "--to",
        "carol@inbox.test",
        "--json",
    ]);
    assert_eq!(
        (test["accepted"].as_bool(), test["mx"].as_str()),
        (Some(true), Some("127.0.0.1")),
        "through the relay: {test:#}"
    );
    let other = recipient(&report, "anyone@discard.test");
    assert_eq!(
        (
            other["state"].as_str(),
            other["evidence"]["route"].as_str(),
            other["evidence"]["mx"].as_str()
        ),
        (Some("delivered"), Some("mx"), Some("mx.discard.test")),
        "{other:#}"
    );

    // From the domain whose mail always goes direct: carol's copy too.
    let html = tmp.path().join("direct.html");
    std::fs::write(&html, "<p>Direct</p>").unwrap();
    let direct = h.json(&[
        "campaign",
        "create",
        "--name",
        "Direct",
        "--list",
        "r",
        "--from",
        "News <news@direct.world-sender.test>",
        "--subject",
        "Direct test",
        "--html",
        html.to_str().unwrap(),
        "--allow-unverified",
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let report = h.json(&["campaign", "send", &direct, "--wait", "--json"]);
    let carol = recipient(&report, "carol@inbox.test");
    assert_eq!(
        (
            carol["state"].as_str(),
            carol["evidence"]["route"].as_str(),
            carol["evidence"]["mx"].as_str()
        ),
        (Some("delivered"), Some("mx"), Some("mx.inbox.test")),
        "{carol:#}"
    );
    let test = h.json(&[
        "campaign",
        "test",
        &direct,
        "--to",
        "carol@inbox.test",
        "--json",
    ]);
    assert_eq!(test["mx"], "mx.inbox.test", "direct: {test:#}");

    // A rule without a domain, or with something that is not one, is refused at start.
    for (rules, says) in [
        (r#"[{ via = "relay" }]"#, "give from_domains"),
        (
            r#"[{ recipient_domains = ["*.example.com"], via = "relay" }]"#,
            "is not a domain name",
        ),
        (
            r#"[{ recipient_domains = ["a.test"], via = "pigeon" }]"#,
            "pigeon",
        ),
    ] {
        let out = h
            .clone_env(&tmp.path().join("data"))
            .env("HERALD__RELAY__ROUTE", rules)
            .run(&["campaign", "list"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(says),
            "{rules}: {err}"
        );
    }
}

/// `[relay] rate` is the provider account's, not one node's: two nodes on one PostgreSQL
/// database count each other at their heartbeats and each sends at half of it, so together
/// they keep to it.
#[test]
fn two_nodes_share_the_relays_rate() {
    let w = world_env();
    let tmp = tempfile::tempdir().unwrap();
    let db = common::pg_database(&tmp.path().join("cluster"));
    let emails: Vec<String> = (0..40).map(|i| format!("r{i}@discard.test")).collect();
    let emails: Vec<&str> = emails.iter().map(String::as_str).collect();
    let mut serves = Vec::new();
    let mut logs = Vec::new();
    let mut first = None;
    for name in ["a", "b"] {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        common::share_erasure_key(&dir.join("data"));
        let h = through_relay(
            &dir,
            &w["WORLD_SUBMISSION"],
            "starttls",
            "relaypass",
            Some(&w["WORLD_CA"]),
        )
        .web_only(common::free_port())
        .env("HERALD__DATABASE__URL", &db)
        .env("HERALD__DELIVERY__NODE_NAME", name)
        .env("HERALD__DELIVERY__LEASE", "3s")
        .env("HERALD__DELIVERY__CLAIM_BATCH", "4")
        .env("HERALD__RELAY__RATE", "10/s")
        .env("HERALD__RELAY__REQUEST_DSN", "false")
        .env("HERALD_LOG", "info");
        let log = dir.join("serve.log");
        serves.push(Serve(
            h.command(&["serve"])
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .unwrap(),
        ));
        logs.push(log);
        first.get_or_insert(h);
    }
    // Each node has counted the other (a heartbeat a second with a 3 s lease).
    for log in &logs {
        wait_for(
            "the rate shared by 2 nodes",
            Duration::from_secs(30),
            || {
                std::fs::read_to_string(log)
                    .unwrap_or_default()
                    .contains("the relay's rate is shared by 2 node(s)")
                    .then_some(())
            },
        );
    }
    let h = first.unwrap();
    let id = campaign(&h, &tmp.path().join("a"), &emails);
    let report = h.sent(&id, "90s");
    assert_eq!(report["counts"]["relayed"], 40, "{report:#}");
    let ms = |t: &str| {
        let t =
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).unwrap();
        (t.unix_timestamp_nanos() / 1_000_000) as i64
    };
    let starts: Vec<i64> = emails
        .iter()
        .map(|e| {
            ms(recipient(&report, e)["evidence"]["started_at"]
                .as_str()
                .unwrap())
        })
        .collect();
    let spread = starts.iter().max().unwrap() - starts.iter().min().unwrap();
    // 40 messages at 10/s in all take about 3.9 s; each node at the full 10/s (both sending)
    // would take about 1.9 s.
    assert!(
        spread >= 3_000,
        "40 messages went out within {spread} ms: faster than 10/s together"
    );
}
