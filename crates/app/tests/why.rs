//! "Why didn't they get it?" in the recipient world: a message accepted by discard.test (which
//! then drops it, as a quarantine would) gets the "accepted at T with queue id Q" finding with
//! Postfix's real queue id, the unaligned From is named, and the IT report carries every field
//! a mail admin searches by. A refused recipient and a stranger get their own answers.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{Herald, recipient, world_env};

#[test]
fn why_explains_delivered_but_not_received_and_hands_it_the_evidence() {
    let w = world_env();
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data"))
        .env(
            "HERALD__DNS__NAMESERVERS",
            &format!("[\"{}\"]", w["WORLD_DNS"]),
        )
        .env("HERALD__DELIVERY__MX_PORT", &w["WORLD_MX_PORT"])
        .env("HERALD__DELIVERY__HELO_NAME", "world-sender.test")
        .env(
            "HERALD__INBOUND__RETURN_PATH_DOMAIN",
            "bounces.world-sender.test",
        );
    let csv = tmp.path().join("c.csv");
    std::fs::write(
        &csv,
        "email,first_name,utc_offset\nlost@discard.test,Lost,+02:00\nnobody@inbox.test,Nobody,\n",
    )
    .unwrap();
    let html = tmp.path().join("b.html");
    std::fs::write(&html, "<p>Hello {{ contact.first_name }}</p>").unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "w"]);
    let id = h.json(&[
        "campaign",
        "create",
        "--name",
        "Why",
        "--list",
        "w",
        "--from",
        "Ann Sender <ann@world-sender.test>",
        "--subject",
        "Your November update",
        "--html",
        html.to_str().unwrap(),
        "--allow-unverified",
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let report = h.json(&["campaign", "send", &id, "--wait", "--json"]);
    let lost = recipient(&report, "lost@discard.test");
    assert_eq!(lost["state"], "delivered", "{report:#}");
    let qid = lost["evidence"]["remote_queue_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mid = lost["message_id"].as_str().unwrap().to_string();

    let why = h.json(&["why", &id, "lost@discard.test", "--json"]);
    assert_eq!(why["state"], "delivered");
    assert_eq!(why["placement"], "unknown", "no seeds yet");
    let finding = |code: &str| {
        why["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == code)
            .unwrap_or_else(|| panic!("no {code} finding in {why:#}"))
            .clone()
    };
    let accepted = finding("accepted");
    let text = accepted["text"].as_str().unwrap();
    assert!(
        text.contains("mx.discard.test") && text.contains(&format!("queue id {qid}")),
        "{text}"
    );
    assert_eq!(finding("unaligned_from")["severity"], "problem");
    assert_eq!(finding("ask_it")["severity"], "info");
    assert_eq!(finding("no_engagement")["severity"], "info");
    // The timeline has the attempt with the 250.
    let timeline = why["timeline"].as_array().unwrap();
    assert!(
        timeline
            .iter()
            .any(|t| t["what"] == "attempt: delivered" && t["detail"]["queue_id"] == qid),
        "{timeline:#?}"
    );

    // The IT report: every field an admin searches by.
    let it = h.ok(&["why", &id, "lost@discard.test", "--it-report"]);
    for needle in [
        "Subject",
        "Your November update",
        "From name",
        "Ann Sender",
        "ann@world-sender.test",
        "Envelope sender (Return-Path)",
        "@bounces.world-sender.test",
        mid.trim_matches(['<', '>']),
        "Delivery time",
        "UTC",
        "in the recipient's zone, UTC+02:00",
        "mx.discard.test [127.0.0.1]",
        &qid,
        "TLSv1.",
        "Our sending IPs (to allowlist)",
        "127.0.0.1",
        "DKIM",
        "not signed",
        "NOT verified by the sender",
        "Junk",
    ] {
        assert!(it.contains(needle), "IT report lacks {needle:?}:\n{it}");
    }
    let it_html = h.ok(&["why", &id, "lost@discard.test", "--it-report", "--html"]);
    assert!(
        it_html.contains("<table>") && it_html.contains(&qid),
        "{it_html}"
    );
    assert!(
        it_html.contains("Ann Sender &lt;") || it_html.contains("Ann Sender"),
        "{it_html}"
    );

    // A refused recipient: the refusal, not "accepted".
    let why = h.json(&["why", &id, "nobody@inbox.test", "--json"]);
    assert_eq!(why["state"], "bounced");
    let codes: Vec<&str> = why["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"rejected") && !codes.contains(&"accepted"),
        "{codes:?}"
    );

    // Someone who was not a recipient: a clear error, exit 2.
    let out = h.run(&["why", &id, "stranger@inbox.test"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a recipient of campaign"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
