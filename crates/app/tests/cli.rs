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
        (Some(8), Some(7), Some(1)),
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
    recipient(&report, "ann.lee@example.com");
    // Every delivered copy is in the sandbox folder, with its Message-ID.
    let sandbox = tmp.path().join("data/sandbox");
    let files: Vec<String> = std::fs::read_dir(&sandbox)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(files.len(), 7);
    let mid = recipient(&report, "ivan@example.net")["message_id"]
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
