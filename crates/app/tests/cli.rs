//! The CLI contract: the demo's whole flow, exit statuses, and errors that name what is wrong.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{Herald, recipient};

#[test]
fn the_demo_sends_the_sample_campaign_to_the_sandbox_and_reports_it() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data"));
    let report = h.json(&["demo", "--json"]);
    assert_eq!(report["campaign"]["status"], "sent", "{report:#}");
    let c = &report["counts"];
    assert_eq!(
        (
            c["recipients"].as_u64(),
            c["delivered"].as_u64(),
            c["bounced"].as_u64()
        ),
        (Some(9), Some(7), Some(2)),
        "{c:#}"
    );
    let greylisted = recipient(&report, "defer.grace@example.org");
    assert_eq!(
        (
            greylisted["state"].as_str(),
            greylisted["attempts"].as_u64()
        ),
        (Some("delivered"), Some(2))
    );
    assert_eq!(
        recipient(&report, "bounce.frank@example.com")["reason"],
        "userunknown"
    );
    // The IDN domain was normalised; the merged duplicate kept its first spelling.
    recipient(&report, "dmitri@xn--bcher-kva.example");
    recipient(&report, "read.ann@example.com");
    // Every accepted copy is in the sandbox folder, with its Message-ID: 8 recipients' (Jo's
    // was accepted before it bounced) and the 3 seeds'.
    let sandbox = tmp.path().join("data/sandbox");
    let files: Vec<String> = std::fs::read_dir(&sandbox)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(files.len(), 11);
    let mid = recipient(&report, "ivan@scanner.example")["message_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        files
            .iter()
            .any(|f| f.contains(&mid) && f.contains("Hello Ivan!")),
        "{mid}"
    );
}

/// The demo tells the stories "Delivered" hides, each as `why` finds it from what was recorded:
/// the seed at the receiver that files in Junk, the seed copy a quarantine kept, the DSN after
/// acceptance, a person's open and click, a link scanner's burst.
#[test]
fn the_demo_shows_junk_quarantine_late_bounce_a_reader_and_a_scanner() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data"));
    let out = h.ok(&["demo"]);
    for story in [
        "carla@junk.example (delivered)",
        "eve@quarantine.example (delivered)",
        "late.jo@example.net (bounced)",
        "For their IT: herald why 1 eve@quarantine.example --it-report",
    ] {
        assert!(out.contains(story), "{story} missing from:\n{out}");
    }
    let why = |email: &str| h.json(&["why", "1", email, "--json"]);
    let codes = |w: &serde_json::Value| -> Vec<String> {
        w["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect()
    };

    let carla = why("carla@junk.example");
    assert_eq!(
        (carla["state"].as_str(), carla["placement"].as_str()),
        (Some("delivered"), Some("junk")),
        "{carla:#}"
    );
    let eve = why("eve@quarantine.example");
    assert_eq!(eve["placement"], "missing", "{eve:#}");
    assert!(codes(&eve).contains(&"likely_quarantine".into()), "{eve:#}");
    // Her IT gets the subject she was sent and the queue id the receiver gave.
    let it = h.ok(&["why", "1", "eve@quarantine.example", "--it-report"]);
    let queue_id = eve["evidence"]["remote_queue_id"].as_str().unwrap();
    assert!(
        it.contains("Welcome, friend") && it.contains(queue_id),
        "{it}"
    );

    let jo = why("late.jo@example.net");
    assert_eq!(
        (jo["state"].as_str(), jo["reason"].as_str()),
        (Some("bounced"), Some("userunknown")),
        "{jo:#}"
    );
    assert!(codes(&jo).contains(&"late_bounce".into()), "{jo:#}");

    let ann = why("read.ann@example.com");
    assert!(codes(&ann).contains(&"engaged".into()), "{ann:#}");
    let kinds: Vec<&str> = ann["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["what"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"open") && kinds.contains(&"click"),
        "{kinds:?}"
    );
    let ivan = why("ivan@scanner.example");
    let ivan_codes = codes(&ivan);
    assert!(
        ivan_codes.contains(&"machine_engagement_only".into())
            && !ivan_codes.contains(&"engaged".into()),
        "{ivan:#}"
    );
    let bob = why("bob.stone@example.org");
    assert!(
        !codes(&bob).contains(&"engaged".into()) && bob["placement"] == "unknown",
        "{bob:#}"
    );

    // The demo's seeds were for the demo only.
    let seeds = h.ok(&["seeds", "list"]);
    assert!(!seeds.contains("junk.example"), "{seeds}");

    // `demo --ui` serves what is there instead of sending again.
    let mut ui = h
        .command(&["demo", "--ui"])
        .env("HERALD__HTTP__LISTEN", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(ui.stdout.take().unwrap()));
    let web = lines
        .by_ref()
        .map(|l| l.unwrap())
        .find(|l| l.starts_with("Web UI:"))
        .unwrap();
    let _ = ui.kill();
    let _ = ui.wait();
    assert!(web.ends_with("/campaigns/1"), "{web}");
    let campaigns = h.json(&["campaign", "list", "--json"]);
    assert_eq!(
        campaigns["campaigns"].as_array().map(Vec::len),
        Some(1),
        "{campaigns:#}"
    );
}

#[test]
fn bad_input_exits_2_and_names_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data"));
    let stderr = |args: &[&str]| {
        let out = h.run(args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    let (code, err) = stderr(&["contacts", "import", "/nonexistent.csv", "--list", "l"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("/nonexistent.csv"), "{err}");

    let csv = tmp.path().join("noemail.csv");
    std::fs::write(&csv, "name,city\nAnn,Oslo\n").unwrap();
    let (code, err) = stderr(&["contacts", "import", csv.to_str().unwrap(), "--list", "l"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("noemail.csv") && err.contains("line 1") && err.contains("email"),
        "{err}"
    );

    let html = tmp.path().join("b.html");
    std::fs::write(&html, "<p>{% if %}</p>").unwrap();
    let (code, err) = stderr(&[
        "campaign",
        "create",
        "--name",
        "n",
        "--list",
        "nope",
        "--from",
        "a@b.test",
        "--subject",
        "s",
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("unknown list \"nope\""), "{err}");

    let good = tmp.path().join("good.csv");
    std::fs::write(&good, "email\na@x.test\n").unwrap();
    h.ok(&["contacts", "import", good.to_str().unwrap(), "--list", "l"]);
    let (code, err) = stderr(&[
        "campaign",
        "create",
        "--name",
        "n",
        "--list",
        "l",
        "--from",
        "a@b.test",
        "--subject",
        "s",
        "--html",
        html.to_str().unwrap(),
    ]);
    // The gate comes first: b.test is not a connected domain.
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("b.test is not connected") && err.contains("herald domain add b.test"),
        "{err}"
    );
    let (code, err) = stderr(&[
        "campaign",
        "create",
        "--name",
        "n",
        "--list",
        "l",
        "--from",
        "a@b.test",
        "--subject",
        "s",
        "--html",
        html.to_str().unwrap(),
        "--allow-unverified",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("b.html") && err.contains("line 1"), "{err}");

    let (code, err) = stderr(&[
        "campaign",
        "create",
        "--name",
        "n",
        "--list",
        "l",
        "--from",
        "Ann <not an address>",
        "--subject",
        "s",
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--from"), "{err}");

    let (code, err) = stderr(&["campaign", "send", "99"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("unknown campaign 99"), "{err}");

    std::fs::write(
        tmp.path().join("data/herald.toml"),
        "[delivery]\nmx_prot = 25\n",
    )
    .unwrap();
    let (code, err) = stderr(&["campaign", "report", "1"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("herald.toml") && err.contains("mx_prot"),
        "{err}"
    );
}

#[test]
fn bounce_classify_reads_each_message_of_an_mbox() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data"));
    let bounce = |to: &str, status: &str| {
        format!(
            "From MAILER-DAEMON Thu Apr 29 23:34:45 2026\n\
             From: MAILER-DAEMON@mx.example.net\nTo: b@sender.example\n\
             Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n\
             --b\nContent-Type: text/plain\n\nThe mail system\n\n\
             --b\nContent-Type: message/delivery-status\n\n\
             Reporting-MTA: dns; mx.example.net\n\n\
             Final-Recipient: rfc822; {to}\nAction: failed\nStatus: {status}\n\
             Diagnostic-Code: smtp; 550 {status} <{to}>: rejected\n\n--b--\n\n"
        )
    };
    let mbox = tmp.path().join("bounces.mbox");
    std::fs::write(
        &mbox,
        bounce("gone@example.net", "5.1.1") + &bounce("full@example.net", "5.2.2"),
    )
    .unwrap();
    let out = h.json(&["bounce", "classify", mbox.to_str().unwrap(), "--json"]);
    let results = out.as_array().unwrap();
    assert_eq!(results.len(), 2, "{out:#}");
    let read = |i: usize| {
        let r = &results[i];
        (
            r["message"].as_u64(),
            r["recipients"][0]["email"].as_str().map(str::to_string),
            r["recipients"][0]["reason"].as_str().map(str::to_string),
        )
    };
    assert_eq!(
        read(0),
        (
            Some(1),
            Some("gone@example.net".into()),
            Some("userunknown".into())
        )
    );
    assert_eq!(
        read(1),
        (
            Some(2),
            Some("full@example.net".into()),
            Some("mailboxfull".into())
        )
    );
}
