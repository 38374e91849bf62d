//! Seed placement in the recipient world: seeds at inbox.test, junk.test (a Sieve spam filter
//! files unsigned mail into Junk) and discard.test (accepts, then drops: the quarantine case)
//! receive a copy of the campaign; `herald placement` logs in over IMAP (real Dovecot) and finds
//! inbox / junk / missing. A seed with a wrong password and one whose server is down report
//! their errors without holding the others up. `why` turns the seeds into probable placements
//! for real recipients at the same provider.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::time::{Duration, Instant};

use common::{Herald, free_port, http, world_env};

#[test]
fn seeds_report_inbox_junk_and_missing_and_why_uses_them() {
    let w = world_env();
    let imap = w["WORLD_IMAP"].clone();
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data"))
        .env(
            "HERALD__DNS__NAMESERVERS",
            &format!("[\"{}\"]", w["WORLD_DNS"]),
        )
        .env("HERALD__DELIVERY__MX_PORT", &w["WORLD_MX_PORT"])
        .env("HERALD__DELIVERY__HELO_NAME", "world-sender.test")
        .env("HERALD__PLACEMENT__MISSING_AFTER", "3s")
        .env("HERALD__PLACEMENT__POLL_TIMEOUT", "5s");
    let good = tmp.path().join("pw");
    std::fs::write(&good, "secret\n").unwrap();
    let bad = tmp.path().join("bad");
    std::fs::write(&bad, "wrong\n").unwrap();
    for (provider, user, imap, pw) in [
        ("inbox.test", "seed@inbox.test", imap.as_str(), &good),
        ("junk.test", "seed@junk.test", imap.as_str(), &good),
        ("discard.test", "seed@discard.test", imap.as_str(), &good),
        ("wrong-password", "alice@inbox.test", imap.as_str(), &bad),
        ("down", "bob@inbox.test", "127.0.0.1:1", &good),
    ] {
        h.ok(&[
            "seeds",
            "add",
            "--provider",
            provider,
            "--imap",
            imap,
            "--user",
            user,
            "--password-file",
            pw.to_str().unwrap(),
            "--plain",
        ]);
    }
    let listed = h.json(&["seeds", "list", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 5, "{listed:#}");
    // The password is kept 0600, never in the database.
    let secrets = tmp.path().join("data/secrets/seeds");
    for e in std::fs::read_dir(&secrets).unwrap() {
        use std::os::unix::fs::PermissionsExt;
        let mode = e.unwrap().metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    let csv = tmp.path().join("c.csv");
    std::fs::write(
        &csv,
        "email\npat@junk.test\nlost@discard.test\ncarol@inbox.test\n",
    )
    .unwrap();
    let html = tmp.path().join("b.html");
    std::fs::write(&html, "<p>Seeds</p>").unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "p"]);
    let id = h.json(&[
        "campaign",
        "create",
        "--name",
        "Seeds",
        "--list",
        "p",
        "--from",
        "News <news@world-sender.test>",
        "--subject",
        "Placement",
        "--html",
        html.to_str().unwrap(),
        "--allow-unverified",
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let report = h.json(&["campaign", "send", &id, "--wait", "--json"]);
    // Seed copies are not recipients: the counts are the three contacts'.
    assert_eq!(report["counts"]["recipients"], 3, "{report:#}");
    assert_eq!(report["counts"]["delivered"], 3, "{report:#}");

    let start = Instant::now();
    let placement = loop {
        let t = Instant::now();
        let p = h.json(&["placement", &id, "--json"]);
        // A dead server and a refused login cost at most the per-seed limit.
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "a poll took {:?}",
            t.elapsed()
        );
        let of = |seed: &str| {
            p["seeds"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["seed"] == seed)
                .map(|s| s["placement"].as_str().unwrap_or("").to_string())
                .unwrap_or_default()
        };
        if of("seed@inbox.test") == "inbox"
            && of("seed@junk.test") == "junk"
            && of("seed@discard.test") == "missing"
        {
            break p;
        }
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "placements not found: {p:#}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let seed = |addr: &str| {
        placement["seeds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["seed"] == addr)
            .unwrap()
            .clone()
    };
    assert_eq!(seed("seed@junk.test")["folder"], "Junk");
    assert_eq!(seed("alice@inbox.test")["placement"], "pending");
    assert!(
        seed("alice@inbox.test")["error"]
            .as_str()
            .unwrap_or("")
            .contains("login"),
        "{placement:#}"
    );
    assert!(
        seed("bob@inbox.test")["error"]
            .as_str()
            .unwrap_or("")
            .contains("connecting"),
        "{placement:#}"
    );
    assert_eq!(
        placement["providers"]["junk.test"]["junk"], 1,
        "{placement:#}"
    );

    // Real recipients at those providers get probable placements.
    let why = h.json(&["why", &id, "pat@junk.test", "--json"]);
    assert_eq!(why["placement"], "junk", "{why:#}");
    let f = why["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "seed_placement")
        .unwrap_or_else(|| panic!("{why:#}"));
    assert!(
        f["text"].as_str().unwrap().contains("probably in Junk"),
        "{f:#}"
    );
    assert_eq!(f["evidence"]["probable"], true);

    let why = h.json(&["why", &id, "lost@discard.test", "--json"]);
    assert_eq!(why["placement"], "missing", "{why:#}");
    let qid = why["evidence"]["remote_queue_id"]
        .as_str()
        .unwrap()
        .to_string();
    let f = why["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "likely_quarantine")
        .unwrap_or_else(|| panic!("{why:#}"));
    let text = f["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("queue id {qid}")) && text.contains("likely held by a filter"),
        "{text}"
    );

    let why = h.json(&["why", &id, "carol@inbox.test", "--json"]);
    assert_eq!(why["placement"], "inbox", "{why:#}");

    // The performance page shows the seed placement per provider.
    let port = free_port();
    std::fs::write(&good, "correct horse battery\n").unwrap();
    h.ok(&[
        "user",
        "add",
        "m@herald.test",
        "--password-file",
        good.to_str().unwrap(),
    ]);
    let mut serve = h
        .command(&["serve"])
        .env("HERALD__HTTP__LISTEN", format!("127.0.0.1:{port}"))
        .env("HERALD__INBOUND__ENABLED", "false")
        .env("HERALD_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(tmp.path().join("serve.log")).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let login = http(port, "GET", "/login", &[], None);
    let marker = "name=\"csrf\" value=\"";
    let at = login.body.find(marker).unwrap() + marker.len();
    let csrf = login.body[at..].split('"').next().unwrap().to_string();
    let r = http(
        port,
        "POST",
        "/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", &format!("herald_login_csrf={csrf}")),
        ],
        Some(&format!(
            "csrf={csrf}&next=%2F&email=m%40herald.test&password=correct+horse+battery"
        )),
    );
    let session = r
        .all("set-cookie")
        .iter()
        .find_map(|c| c.strip_prefix("herald_session="))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_string();
    let page = http(
        port,
        "GET",
        &format!("/campaigns/{id}"),
        &[("Cookie", &format!("herald_session={session}"))],
        None,
    );
    let _ = serve.kill();
    let _ = serve.wait();
    let log = std::fs::read_to_string(tmp.path().join("serve.log")).unwrap_or_default();
    assert!(
        page.body.contains("id=\"placement\""),
        "{log}\n{}",
        page.body
    );
    assert!(
        page.body
            .contains("<td>junk.test</td><td>0</td><td>1</td><td>0</td><td>0</td><td>0</td>"),
        "{}",
        page.body
    );
}
