//! Feedback end to end in the recipient world: Herald sends with VERP return paths, the
//! world's Postfix accepts, then generates real DSNs (an unknown user at later.test, an
//! expired deferral at slow.test) and delivers them to Herald's inbound listener; a complaint
//! (ARF) arrives the same way, and so do a bounce cut down to its preamble, which names
//! nobody, and a delivery report whose recipient block names nobody but gives a status. The
//! report shows the late bounce next to the original 250, the
//! suppression list holds the addresses, and the next campaign does not mail them.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{Herald, Serve, recipient, wait_for, world_env};

#[test]
fn late_bounces_and_complaints_reach_the_right_recipient_and_suppress_them() {
    let w = world_env();
    let bounce_port = w["WORLD_BOUNCE_PORT"].clone();
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data"))
        .env(
            "HERALD__DNS__NAMESERVERS",
            &format!("[\"{}\"]", w["WORLD_DNS"]),
        )
        .env("HERALD__DELIVERY__MX_PORT", &w["WORLD_MX_PORT"])
        .env("HERALD__DELIVERY__HELO_NAME", "world-sender.test")
        .env("HERALD__DELIVERY__COMMAND_TIMEOUT", "10s")
        .env(
            "HERALD__INBOUND__LISTEN",
            &format!("127.0.0.1:{bounce_port}"),
        )
        .env(
            "HERALD__INBOUND__RETURN_PATH_DOMAIN",
            "bounces.world-sender.test",
        )
        .env(
            "HERALD__INBOUND__TLS_CERT",
            &format!("{}/tls/cert.pem", w["HERALD_WORLD"]),
        )
        .env(
            "HERALD__INBOUND__TLS_KEY",
            &format!("{}/tls/key.pem", w["HERALD_WORLD"]),
        );
    let csv = tmp.path().join("contacts.csv");
    std::fs::write(
        &csv,
        "email\nalice@inbox.test\nghost@later.test\nslow@slow.test\ncarol@inbox.test\ndave@inbox.test\n",
    )
    .unwrap();
    let html = tmp.path().join("body.html");
    std::fs::write(&html, "<p>Feedback test</p>").unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "fb"]);
    let create = |name: &str| {
        h.json(&[
            "campaign",
            "create",
            "--name",
            name,
            "--list",
            "fb",
            "--from",
            "News <news@world-sender.test>",
            "--subject",
            "Feedback",
            "--html",
            html.to_str().unwrap(),
            "--allow-unverified",
            "--json",
        ])["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let id = create("First");

    // The listener runs in `herald serve`; the send runs in this command, as an operator would.
    let serve = Serve(
        h.command(&["serve"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("the inbound listener", Duration::from_secs(20), || {
        std::net::TcpStream::connect(format!("127.0.0.1:{bounce_port}")).ok()
    });

    // A return path that Herald did not sign is refused: no backscatter, no forged suppressions.
    let junk = tmp.path().join("junk.eml");
    std::fs::write(&junk, "Subject: hi\r\n\r\nhello\r\n").unwrap();
    let (ok, out) = common::swaks(
        &bounce_port,
        "b+1.00000000000000000000@bounces.world-sender.test",
        &junk,
    );
    assert!(!ok && out.contains("550"), "{out}");
    let (ok, out) = common::swaks(&bounce_port, "someone@inbox.test", &junk);
    assert!(!ok && out.contains("550"), "not a relay: {out}");

    let report = h.json(&["campaign", "send", &id, "--wait", "--json"]);
    // Every copy was accepted with a 250 (ghost@'s DSN may already have overtaken it).
    for email in [
        "alice@inbox.test",
        "ghost@later.test",
        "slow@slow.test",
        "carol@inbox.test",
        "dave@inbox.test",
    ] {
        assert_eq!(
            recipient(&report, email)["evidence"]["code"],
            250,
            "{report:#}"
        );
    }

    // Postfix accepted ghost@ and slow@, then bounced them back to the VERP address.
    let report = wait_for("both late bounces", Duration::from_secs(90), || {
        let r = h.json(&["campaign", "report", &id, "--recipients", "--json"]);
        let done = ["ghost@later.test", "slow@slow.test"]
            .iter()
            .all(|e| recipient(&r, e)["state"] == "bounced");
        done.then_some(r)
    });
    let ghost = recipient(&report, "ghost@later.test");
    assert_eq!(
        (ghost["reason"].as_str(), ghost["hard"].as_bool()),
        (Some("userunknown"), Some(true)),
        "{ghost:#}"
    );
    // The original 250 is kept next to the DSN.
    assert_eq!(ghost["evidence"]["code"], 250, "{ghost:#}");
    let ev = &ghost["events"][0];
    assert_eq!(ev["kind"], "async_bounce", "{ghost:#}");
    assert_eq!(ev["detail"]["status"], "5.1.1", "{ghost:#}");
    let slow = recipient(&report, "slow@slow.test");
    assert_eq!(slow["events"][0]["kind"], "async_bounce", "{slow:#}");
    assert_eq!(
        (slow["reason"].as_str(), slow["hard"].as_bool()),
        (Some("expired"), Some(false)),
        "{slow:#}"
    );
    assert_eq!(recipient(&report, "alice@inbox.test")["state"], "delivered");
    assert_eq!(report["counts"]["bounced"], 2, "{report:#}");
    // Postfix delivered the DSNs over STARTTLS (the listener offers it with a certificate).
    let maillog = std::fs::read_to_string(&w["WORLD_MAILLOG"]).unwrap();
    assert!(
        maillog.lines().any(|l| l.contains(&format!(
            "TLS connection established to 127.0.0.1[127.0.0.1]:{bounce_port}"
        ))),
        "no STARTTLS to Herald's listener in Postfix's log"
    );

    // A complaint about carol's copy, sent to the shared feedback address. First one that
    // names only the Message-ID (anyone who saw the message knows it): kept, changes nothing.
    let carol = recipient(&report, "carol@inbox.test");
    let mid = carol["message_id"]
        .as_str()
        .unwrap()
        .trim_matches(['<', '>']);
    let arf_with = |original: &str| {
        format!(
            "From: fbl@isp.test\r\nTo: fbl@bounces.world-sender.test\r\nSubject: complaint\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nA complaint.\r\n\
             --b\r\nContent-Type: message/feedback-report\r\n\r\n\
             Feedback-Type: abuse\r\nUser-Agent: isp/1.0\r\nVersion: 1\r\n\
             Original-Rcpt-To: carol@inbox.test\r\n\r\n\
             --b\r\nContent-Type: message/rfc822\r\n\r\n{original}\r\n--b--\r\n"
        )
    };
    let forged = tmp.path().join("forged.eml");
    std::fs::write(
        &forged,
        arf_with(&format!(
            "From: news@world-sender.test\r\nTo: carol@inbox.test\r\nMessage-ID: <{mid}>\r\n\
             Subject: Feedback\r\n\r\nbody"
        )),
    )
    .unwrap();
    let (ok, out) = common::swaks(&bounce_port, "fbl@bounces.world-sender.test", &forged);
    assert!(ok, "{out}");
    let spool = tmp.path().join("data/inbound/spool");
    wait_for(
        "the forged report processed",
        Duration::from_secs(30),
        || {
            let pending = std::fs::read_dir(&spool)
                .unwrap()
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "msg"));
            (!pending).then_some(())
        },
    );
    let r = h.json(&["campaign", "report", &id, "--recipients", "--json"]);
    assert_eq!(
        r["counts"]["complained"], 0,
        "a bare Message-ID suppressed: {r:#}"
    );
    // A report to an unconfigured `bounces.` domain is not even accepted.
    let (ok, out) = common::swaks(&bounce_port, "abuse@bounces.elsewhere.test", &forged);
    assert!(!ok && out.contains("550"), "{out}");

    // Then the real thing: an ARF whose original is the copy Carol's mailbox holds (with the
    // Return-Path the receiving server wrote: Herald's signed VERP address).
    let original = common::delivered(
        std::path::Path::new(&w["WORLD_MAIL"]),
        "inbox.test/carol",
        mid,
    );
    let original = String::from_utf8_lossy(&original)
        .replace("\r\n", "\n")
        .replace('\n', "\r\n");
    assert!(original.starts_with("Return-Path: <b+"), "{original:.200}");
    let arf = tmp.path().join("arf.eml");
    std::fs::write(&arf, arf_with(original.trim_end())).unwrap();
    let (ok, out) = common::swaks(&bounce_port, "fbl@bounces.world-sender.test", &arf);
    assert!(ok, "{out}");
    let report = wait_for("the complaint", Duration::from_secs(30), || {
        let r = h.json(&["campaign", "report", &id, "--recipients", "--json"]);
        (r["counts"]["complained"] == 1).then_some(r)
    });
    let carol = recipient(&report, "carol@inbox.test");
    assert_eq!(
        carol["state"], "delivered",
        "a complaint is not a bounce: {carol:#}"
    );
    assert_eq!(carol["events"][0]["kind"], "complaint", "{carol:#}");
    assert_eq!(carol["events"][0]["detail"]["feedback_type"], "abuse");

    // `raw` as a bounce to the return path the receiving server wrote on top of `user`'s
    // delivered copy (Herald's signed address for that delivery); that copy's row once the
    // report shows it bounced.
    let bounce_copy_of = |user: &str, raw: &str| {
        let email = format!("{user}@inbox.test");
        let mid = recipient(&report, &email)["message_id"]
            .as_str()
            .unwrap()
            .trim_matches(['<', '>'])
            .to_string();
        let copy = common::delivered(
            std::path::Path::new(&w["WORLD_MAIL"]),
            &format!("inbox.test/{user}"),
            &mid,
        );
        let return_path = String::from_utf8_lossy(&copy)
            .lines()
            .next()
            .map(str::trim_end)
            .and_then(|l| l.strip_prefix("Return-Path: <"))
            .and_then(|l| l.strip_suffix('>'))
            .unwrap()
            .to_string();
        let file = tmp.path().join(format!("bounce-{user}.eml"));
        std::fs::write(&file, raw).unwrap();
        let (ok, out) = common::swaks(&bounce_port, &return_path, &file);
        assert!(ok, "{out}");
        wait_for(
            &format!("the bounce of {email}"),
            Duration::from_secs(30),
            || {
                let r = h.json(&["campaign", "report", &id, "--recipients", "--json"]);
                let row = recipient(&r, &email);
                (row["state"] == "bounced").then(|| row.clone())
            },
        )
    };

    // A bounce cut down to its preamble (a forwarding system stripped its report and the
    // returned message): it names nobody, but it came to the return path signed for Alice's
    // copy, so it is a bounce of that copy, soft and with no cause to give.
    let alice = bounce_copy_of(
        "alice",
        "From: MAILER-DAEMON@mx.elsewhere.test (Mail Delivery System)\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nTo: news@world-sender.test\r\n\r\n\
         This is the mail system at host mx.elsewhere.test.\r\n\r\n\
         I'm sorry to have to inform you that your message could not\r\n\
         be delivered to one or more recipients. It's attached below.\r\n",
    );
    assert_eq!(
        (alice["reason"].as_str(), alice["hard"].as_bool()),
        (Some("onhold"), Some(false)),
        "{alice:#}"
    );
    assert_eq!(alice["events"][0]["kind"], "async_bounce", "{alice:#}");

    // A delivery report whose per-recipient fields name nobody (no Final-Recipient: a
    // gateway stripped it), at the return path signed for Dave's copy: its status is Dave's.
    // Structured (Status: 5.1.1, not words that may quote a subject), so hard: suppressed.
    let dave = bounce_copy_of(
        "dave",
        "From: MAILER-DAEMON@gw.elsewhere.test\r\nTo: news@world-sender.test\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n\
         --r\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n\r\n\
         --r\r\nContent-Type: message/delivery-status\r\n\r\n\
         Reporting-MTA: dns; gw.elsewhere.test\r\n\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n\
         --r--\r\n",
    );
    assert_eq!(
        (dave["reason"].as_str(), dave["hard"].as_bool()),
        (Some("userunknown"), Some(true)),
        "{dave:#}"
    );
    assert_eq!(dave["events"][0]["detail"]["status"], "5.1.1", "{dave:#}");

    let suppressed = h.json(&["suppressions", "list", "--json"]);
    let reasons: std::collections::BTreeMap<String, String> = suppressed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["email"].as_str().unwrap().to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        reasons.get("ghost@later.test").map(String::as_str),
        Some("previously_bounced")
    );
    assert_eq!(
        reasons.get("carol@inbox.test").map(String::as_str),
        Some("complained")
    );
    assert_eq!(
        reasons.get("dave@inbox.test").map(String::as_str),
        Some("previously_bounced")
    );
    assert_eq!(
        reasons.get("slow@slow.test"),
        None,
        "one soft bounce does not suppress"
    );
    assert_eq!(
        reasons.get("alice@inbox.test"),
        None,
        "nor does one with no cause"
    );
    drop(serve);

    // The next campaign does not mail them, and says why.
    let second = create("Second");
    h.ok(&["campaign", "send", &second, "--wait"]);
    let r2 = h.json(&["campaign", "report", &second, "--recipients", "--json"]);
    let not_sent = |e: &str| {
        let r = recipient(&r2, e);
        (
            r["state"].as_str().map(str::to_string),
            r["reason"].as_str().map(str::to_string),
        )
    };
    assert_eq!(
        not_sent("ghost@later.test"),
        (Some("not_sent".into()), Some("previously_bounced".into()))
    );
    assert_eq!(
        not_sent("carol@inbox.test"),
        (Some("not_sent".into()), Some("complained".into()))
    );
    assert_eq!(
        not_sent("dave@inbox.test"),
        (Some("not_sent".into()), Some("previously_bounced".into()))
    );
    assert_eq!(recipient(&r2, "alice@inbox.test")["state"], "delivered");
    assert_eq!(r2["not_sent_reasons"]["previously_bounced"], 2, "{r2:#}");
    assert_eq!(r2["not_sent_reasons"]["complained"], 1, "{r2:#}");

    // Removing a suppression is recorded and takes effect.
    h.ok(&["suppressions", "remove", "carol@inbox.test"]);
    let after = h.json(&["suppressions", "list", "--json"]);
    assert!(!after.to_string().contains("carol@inbox.test"), "{after:#}");
}
