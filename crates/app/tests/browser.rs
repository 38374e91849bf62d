//! The web UI in a real browser (headless Chromium driven by Selenium, both from Debian; the
//! test script installs them), the whole flow: log in, import a CSV (with a bad row), compose with
//! a preview, meet the From gate without losing the form, create, send into the recipient world,
//! then the performance page with its definitions, the Delivered and Bounced tabs, See details
//! and "Didn't receive it?". Screenshots go to `test-artifacts/browser/`. A campaign and a
//! contact named with `<script>` prove user-supplied text is shown, not run.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Herald, free_port, world_env};

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Run the Selenium script `tests/browser/{script}.py` with `args` and the screenshots folder
/// (`test-artifacts/browser/`) last; what it printed (JSON) and that folder.
fn drive(
    script: &str,
    args: &[&dyn AsRef<std::ffi::OsStr>],
) -> (serde_json::Value, std::path::PathBuf) {
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts/browser");
    std::fs::create_dir_all(&artifacts).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/browser/{script}.py"));
    let out = std::process::Command::new("/usr/bin/python3")
        .arg(&path)
        .args(args.iter().map(|a| a.as_ref()))
        .arg(&artifacts)
        .output()
        .expect("run /usr/bin/python3 (apt-get install chromium chromium-driver python3-selenium)");
    assert!(
        out.status.success(),
        "browser script {script} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (serde_json::from_slice(&out.stdout).unwrap(), artifacts)
}

#[test]
fn a_marketer_sees_who_got_it_in_the_browser() {
    let w = world_env();
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = Herald::new(&tmp.path().join("data"))
        .env(
            "HERALD__DNS__NAMESERVERS",
            &format!("[\"{}\"]", w["WORLD_DNS"]),
        )
        .env("HERALD__DELIVERY__MX_PORT", &w["WORLD_MX_PORT"])
        .env("HERALD__DELIVERY__HELO_NAME", "world-sender.test")
        .env("HERALD__HTTP__LISTEN", &format!("127.0.0.1:{port}"))
        .env(
            "HERALD__HTTP__PUBLIC_URL",
            &format!("http://127.0.0.1:{port}"),
        )
        .env("HERALD__INBOUND__ENABLED", "false");
    let pw = tmp.path().join("pw");
    std::fs::write(&pw, "correct horse battery\n").unwrap();
    h.ok(&[
        "user",
        "add",
        "marketer@herald.test",
        "--password-file",
        pw.to_str().unwrap(),
    ]);
    let csv = tmp.path().join("c.csv");
    std::fs::write(
        &csv,
        "email,first_name\nalice@inbox.test,<script>window.xss=2</script>\nnobody@inbox.test,Nobody\nnot-an-address,Broken\n",
    )
    .unwrap();

    let _serve = Serve(
        h.command(&["serve"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (seen, artifacts) = drive(
        "drive",
        &[
            &format!("http://127.0.0.1:{port}"),
            &csv,
            &"marketer@herald.test",
            &"correct horse battery",
        ],
    );
    assert_eq!(seen["redirected_to_login"], true, "{seen:#}");
    assert!(
        seen["import"].as_str().unwrap().contains("2 new"),
        "{seen:#}"
    );
    assert_eq!(
        seen["rejected_rows"], 1,
        "the bad row is reported: {seen:#}"
    );
    assert_eq!(
        seen["preview_subject"], "Hello <script>window.xss=2</script>",
        "{seen:#}"
    );
    assert!(
        seen["gate_message"]
            .as_str()
            .unwrap()
            .contains("not connected"),
        "{seen:#}"
    );
    assert_eq!(
        seen["kept_name"], "<script>window.xss=1</script>November",
        "nothing typed is lost: {seen:#}"
    );
    assert!(
        seen["after_login"]
            .as_str()
            .unwrap()
            .ends_with("/campaigns/1"),
        "{seen:#}"
    );
    assert!(
        seen["definition"]
            .as_str()
            .unwrap()
            .contains("It may still be in Junk or held by a security filter."),
        "{seen:#}"
    );
    assert_eq!(
        seen["xss"],
        serde_json::Value::Null,
        "user-supplied script ran: {seen:#}"
    );
    assert!(
        seen["title"]
            .as_str()
            .unwrap()
            .contains("<script>window.xss=1</script>November"),
        "shown as text: {seen:#}"
    );
    assert_eq!(
        seen["delivered_rows"],
        serde_json::json!(["alice@inbox.test"]),
        "{seen:#}"
    );
    assert_eq!(
        seen["bounced_rows"],
        serde_json::json!(["nobody@inbox.test"]),
        "{seen:#}"
    );
    assert_eq!(seen["details_open"], true);
    assert!(
        seen["details"].as_str().unwrap().contains("Sending domain"),
        "{seen:#}"
    );
    let codes: Vec<&str> = seen["why_codes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert!(
        codes.contains(&"accepted") && codes.contains(&"unaligned_from"),
        "{seen:#}"
    );
    assert!(
        seen["it_report"].as_str().unwrap().contains("Message-ID"),
        "{seen:#}"
    );
    assert!(seen["chart_bars"].as_u64().unwrap_or(0) > 0, "{seen:#}");
    assert_eq!(
        seen["timeline_states"],
        serde_json::json!(["delivered"]),
        "{seen:#}"
    );
    assert_eq!(seen["suppressions_page"], "Suppressions", "{seen:#}");
    for shot in [
        "performance",
        "delivered",
        "bounced",
        "see-details",
        "why",
        "contact",
        "domains",
    ] {
        let f = artifacts.join(format!("{shot}.png"));
        let len = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
        assert!(len > 1000, "{} missing or empty", f.display());
    }
}

/// The demo's Junk and quarantine stories on the why page, in Chromium: `herald demo --ui` sends
/// the demo campaign to the sandbox's simulated receivers, then serves it; the browser follows
/// "Didn't receive it?" from the Delivered tab.
#[test]
fn the_demo_shows_junk_and_a_quarantine_on_the_why_page() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = Herald::new(&tmp.path().join("data"))
        .env("HERALD__HTTP__LISTEN", &format!("127.0.0.1:{port}"))
        .env("HERALD__INBOUND__ENABLED", "false");
    let mut demo = Serve(
        h.command(&["demo", "--ui"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(demo.0.stdout.take().unwrap()))
        .map(|l| l.unwrap());
    let mut web = String::new();
    let mut password = String::new();
    for line in lines.by_ref() {
        if let Some(url) = line.strip_prefix("Web UI:") {
            web = url.trim().to_string();
        }
        if let Some(pw) = line.strip_prefix("Password:") {
            password = pw.trim().to_string();
            break;
        }
    }
    let base = web.split("/campaigns").next().unwrap().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{web}");
    let (seen, artifacts) = drive("demo", &[&base, &"demo@herald.example", &password]);
    let junk = &seen["carla@junk.example"];
    assert!(
        junk["state"].as_str().unwrap().contains("placement: junk"),
        "{seen:#}"
    );
    assert!(
        junk["findings"]["seed_placement"]
            .as_str()
            .unwrap()
            .contains("probably in Junk too"),
        "{seen:#}"
    );
    let held = &seen["eve@quarantine.example"];
    assert!(
        held["state"]
            .as_str()
            .unwrap()
            .contains("placement: missing"),
        "{seen:#}"
    );
    assert!(
        held["findings"]["likely_quarantine"]
            .as_str()
            .unwrap()
            .contains("likely held by a filter"),
        "{seen:#}"
    );
    // The note for her IT names the subject she was sent.
    assert!(
        held["it_report"]
            .as_str()
            .unwrap()
            .contains("Welcome, friend"),
        "{seen:#}"
    );
    for shot in ["demo-junk", "demo-quarantine"] {
        let f = artifacts.join(format!("{shot}.png"));
        let len = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
        assert!(len > 1000, "{} missing or empty", f.display());
    }
}

/// The first run without the CLI after `herald init`, in Chromium, on a sandboxed server: the
/// login init printed, then Getting started's steps in the browser up to a sent campaign.
#[test]
fn a_first_run_from_init_to_a_sent_campaign_in_the_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = Herald::new(&tmp.path().join("data"))
        .env("HERALD__HTTP__LISTEN", &format!("127.0.0.1:{port}"))
        .env(
            "HERALD__HTTP__PUBLIC_URL",
            &format!("http://127.0.0.1:{port}"),
        )
        .env("HERALD__INBOUND__ENABLED", "false")
        .env("HERALD__PLACEMENT__POLL_INTERVAL", "1s")
        // Where the domain's records are published (the world's dnsmasq).
        .env(
            "HERALD__DNS__NAMESERVERS",
            &format!("[\"{}\"]", world_env()["WORLD_DNS"]),
        );
    let init = h.json(&["init", "--json"]);
    let email = init["admin"]["email"].as_str().unwrap().to_string();
    let password = init["admin"]["password"].as_str().unwrap().to_string();
    let csv = tmp.path().join("c.csv");
    std::fs::write(
        &csv,
        "email,first_name\nread.ann@example.com,Ann\ncarla@junk.example,Carla\n",
    )
    .unwrap();
    let _serve = Serve(
        h.command(&["serve", "--sandbox"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let imap = world_env()["WORLD_IMAP"].clone();
    let (seen, artifacts) = drive(
        "firstrun",
        &[
            &format!("http://127.0.0.1:{port}"),
            &email,
            &password,
            &csv,
            &imap,
        ],
    );
    what_the_first_run_saw(&seen);
    for shot in ["start", "domain", "campaign", "done", "375"] {
        let f = artifacts.join(format!("firstrun-{shot}.png"));
        let len = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
        assert!(len > 1000, "{} missing or empty", f.display());
    }
    // The seed's copy: taken by the sandbox, placed where its simulated receiver filed it.
    let mut placement = serde_json::Value::Null;
    for _ in 0..40 {
        placement = h.json(&["placement", "1", "--json"]);
        if placement["seeds"][0]["placement"] == "inbox" {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(placement["seeds"][0]["placement"], "inbox", "{placement:#}");
    // The copies were captured, the test copy among them, with nothing sent anywhere else.
    let mut captured: Vec<String> = std::fs::read_dir(tmp.path().join("data/sandbox"))
        .unwrap()
        .map(|e| {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            text.lines()
                .find_map(|l| l.strip_prefix("To: "))
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    captured.sort();
    assert_eq!(
        captured,
        [
            "\"Ann\" <me@example.com>",
            "\"Ann\" <read.ann@example.com>",
            "\"Carla\" <carla@junk.example>",
            "<seed@inbox.test>"
        ],
        "2 recipients, the seed, the test copy"
    );
}

/// What the first run's browser script must have seen.
fn what_the_first_run_saw(seen: &serde_json::Value) {
    assert!(
        seen["progress_before"]
            .as_str()
            .unwrap()
            .starts_with("0 of 6"),
        "{seen:#}"
    );
    assert_eq!(seen["records_shown"], true, "{seen:#}");
    assert_eq!(seen["password_shown"], false, "{seen:#}");
    assert!(
        seen["import"].as_str().unwrap().contains("2 new"),
        "{seen:#}"
    );
    assert!(
        seen["test"].as_str().unwrap().contains("me@example.com"),
        "{seen:#}"
    );
    assert_eq!(seen["send_problem"], "", "{seen:#}");
    assert!(
        seen["status"].as_str().unwrap().contains("sent"),
        "{seen:#}"
    );
    // The records as the page showed them, published in the world's DNS, verify.
    assert!(seen["published"].as_u64().unwrap() >= 4, "{seen:#}");
    assert!(
        seen["verified"]
            .as_str()
            .unwrap()
            .contains("Verification passed"),
        "{seen:#}"
    );
    // Every step is ticked.
    let done: Vec<&str> = seen["done_steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    assert_eq!(done.len(), 6, "{seen:#}");
    assert!(
        seen["progress_after"]
            .as_str()
            .unwrap()
            .starts_with("6 of 6"),
        "{seen:#}"
    );
    // Readable times, and every page usable with a keyboard and a screen reader at 375 px.
    let time = &seen["time"];
    assert!(
        !time["text"].as_str().unwrap().contains('T')
            && time["title"]
                .as_str()
                .unwrap()
                .contains(time["datetime"].as_str().unwrap()),
        "{seen:#}"
    );
    assert_eq!(seen["a11y"], serde_json::json!({}), "{seen:#}");
}
