//! DMARC aggregate reports through the binary: real reports imported from files (plain XML,
//! gzip, zip, an email carrying one), a report mailed (gzipped) to `dmarc@` at the return-path
//! domain through the inbound listener, each kept once; the report by the CLI, the API and the
//! page, telling Herald's sending IP from a stranger's. Runs on both backends.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{Herald, Serve, free_port, http, wait_for};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/corpora/dmarc");
const DOMAIN: &str = "herald-test.example";

/// An aggregate report for DOMAIN covering the day before `now` (UNIX s): Herald's sending IP
/// passes, a stranger signing for its own domain fails and was sent to Junk.
fn current_report(now: u64) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<feedback>
  <report_metadata>
    <org_name>&lt;script&gt;Receiver&lt;/script&gt;</org_name>
    <email>dmarc-reports@receiver.example</email>
    <report_id>rcv-{now}</report_id>
    <date_range><begin>{begin}</begin><end>{end}</end></date_range>
  </report_metadata>
  <policy_published>
    <domain>{DOMAIN}</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp><pct>100</pct>
  </policy_published>
  <record>
    <row>
      <source_ip>192.0.2.10</source_ip><count>40</count>
      <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated>
    </row>
    <identifiers><header_from>{DOMAIN}</header_from></identifiers>
    <auth_results>
      <dkim><domain>{DOMAIN}</domain><selector>herald1</selector><result>pass</result></dkim>
      <spf><domain>bounces.{DOMAIN}</domain><result>pass</result></spf>
    </auth_results>
  </record>
  <record>
    <row>
      <source_ip>203.0.113.7</source_ip><count>3</count>
      <policy_evaluated><disposition>quarantine</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated>
    </row>
    <identifiers><header_from>{DOMAIN}</header_from></identifiers>
    <auth_results>
      <dkim><domain>esp.example.net</domain><selector>s1</selector><result>pass</result></dkim>
      <spf><domain>esp.example.net</domain><result>pass</result></spf>
    </auth_results>
  </record>
</feedback>
"#,
        begin = now - 86_400,
        end = now - 60,
    )
}

/// `xml` gzipped and attached to an email, as receivers send them.
fn mailed(xml: &str, dir: &std::path::Path) -> std::path::PathBuf {
    use base64::Engine;
    std::fs::create_dir_all(dir).unwrap();
    let plain = dir.join("report.xml");
    std::fs::write(&plain, xml).unwrap();
    let gz = std::process::Command::new("gzip")
        .args(["-c", plain.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(gz.status.success());
    let b64 = base64::engine::general_purpose::STANDARD.encode(&gz.stdout);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let eml = format!(
        "From: dmarc-reports@receiver.example\r\nTo: dmarc@bounces.{DOMAIN}\r\n\
         Subject: Report Domain: {DOMAIN} Submitter: receiver.example\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
         Content-Type: text/plain\r\n\r\nThis is an aggregate report.\r\n--b1\r\n\
         Content-Type: application/gzip; name=\"receiver.example!{DOMAIN}.xml.gz\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"receiver.example!{DOMAIN}.xml.gz\"\r\n\r\n\
         {}\r\n--b1--\r\n",
        lines.join("\r\n")
    );
    let path = dir.join("report.eml");
    std::fs::write(&path, eml).unwrap();
    path
}

#[test]
fn reports_are_kept_once_and_tell_herald_from_strangers() {
    let tmp = tempfile::tempdir().unwrap();
    let (port, smtp) = (free_port(), free_port());
    let h = Herald::new(&tmp.path().join("data"))
        .env("HERALD__HTTP__LISTEN", &format!("127.0.0.1:{port}"))
        .env(
            "HERALD__HTTP__PUBLIC_URL",
            &format!("http://127.0.0.1:{port}"),
        )
        .env("HERALD__INBOUND__LISTEN", &format!("127.0.0.1:{smtp}"))
        .env(
            "HERALD__INBOUND__RETURN_PATH_DOMAIN",
            &format!("bounces.{DOMAIN}"),
        )
        .env("HERALD__DELIVERY__SOURCE_IPS", "[\"192.0.2.10\"]")
        .env("HERALD__DNS__NAMESERVERS", "[\"127.0.0.1:9\"]");

    // Real reports from files: gzip, then the same report as zip and plain XML (kept once),
    // an email carrying one, and a file that is no report (named; the others still kept).
    let junk = tmp.path().join("notes.txt");
    std::fs::write(&junk, "not a report\n").unwrap();
    let files = [
        format!("{CORPUS}/parsedmarc__nice-input.xml.gz"),
        format!("{CORPUS}/parsedmarc__nice-input.xml.zip"),
        format!("{CORPUS}/parsedmarc__nice-input.xml"),
        format!("{CORPUS}/parsedmarc__twilight.eml"),
        junk.display().to_string(),
    ];
    let mut args = vec!["dmarc", "import", "--json"];
    args.extend(files.iter().map(String::as_str));
    let out = h.run(&args);
    assert_eq!(out.status.code(), Some(2), "a bad file is bad input");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("notes.txt: not a DMARC aggregate report")
            && stderr.contains("1 of 5 files"),
        "{stderr}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<(String, String, u64, u64, bool)> = json["imported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["org"].as_str().unwrap().to_string(),
                i["domain"].as_str().unwrap().to_string(),
                i["records"].as_u64().unwrap(),
                i["messages"].as_u64().unwrap(),
                i["new"].as_bool().unwrap(),
            )
        })
        .collect();
    let nice = |new| {
        (
            "google.com".to_string(),
            "example.com".to_string(),
            20,
            3047,
            new,
        )
    };
    assert_eq!(
        got,
        vec![
            nice(true),
            nice(false),
            nice(false),
            ("google.com".into(), "twlnet.com".into(), 1, 1, true)
        ]
    );
    // Its reports are from 2018: outside any window of days, still kept.
    let old = h.json(&["dmarc", "report", "--domain", "example.com", "--json"]);
    assert_eq!(old["domains"][0]["reports"], 0, "{old:#}");
    assert_eq!(old["domains"][0]["verdict"], "no_reports");

    // A current report, mailed gzipped to dmarc@ at the return-path domain.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let eml = mailed(&current_report(now), tmp.path());
    let _serve = Serve(
        h.command(&["serve", "--sandbox"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("the inbound listener", Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", smtp)).ok()
    });
    // Sent to abuse@ (not the rua= address): kept as a message, not as a report.
    let elsewhere = mailed(
        &current_report(now).replace("rcv-", "elsewhere-"),
        &tmp.path().join("x"),
    );
    let (ok, out) = common::swaks(
        &smtp.to_string(),
        &format!("abuse@bounces.{DOMAIN}"),
        &elsewhere,
    );
    assert!(ok, "{out}");
    // Twice: a receiver retrying is one report.
    for _ in 0..2 {
        let (ok, out) = common::swaks(&smtp.to_string(), &format!("dmarc@bounces.{DOMAIN}"), &eml);
        assert!(ok, "{out}");
    }
    // Both copies processed (the spool empty), then the report counted once.
    let spool = tmp.path().join("data/inbound/spool");
    wait_for("both copies processed", Duration::from_secs(30), || {
        let pending = std::fs::read_dir(&spool)
            .map(|d| {
                d.flatten()
                    .any(|e| e.path().extension().is_some_and(|x| x == "msg"))
            })
            .unwrap_or(true);
        let r = h.json(&["dmarc", "report", "--domain", DOMAIN, "--json"]);
        (!pending && r["domains"][0]["reports"] != 0).then_some(())
    });
    let report = h.json(&["dmarc", "report", "--domain", DOMAIN, "--json"]);
    assert_eq!(report["domains"][0]["reports"], 1, "{report:#}");
    let d = &report["domains"][0];
    assert_eq!(d["domain"], DOMAIN);
    assert_eq!(d["policy"], "none");
    assert_eq!(
        (&d["messages"], &d["dmarc_pass"], &d["dmarc_fail"]),
        (
            &serde_json::json!(43),
            &serde_json::json!(40),
            &serde_json::json!(3)
        )
    );
    assert_eq!(d["reporters"][0]["org"], "<script>Receiver</script>");
    assert_eq!(d["verdict"], "others_failing", "{report:#}");
    assert!(
        d["recommendation"]
            .as_str()
            .unwrap()
            .contains("203.0.113.7 (3 messages)"),
        "{report:#}"
    );
    let (ours, stranger) = (&d["sources"][0], &d["sources"][1]);
    assert_eq!(
        (&ours["ip"], &ours["herald"]),
        (&"192.0.2.10".into(), &true.into())
    );
    assert_eq!(ours["verdict"], "pass");
    assert_eq!(
        (&stranger["herald"], &stranger["quarantined"]),
        (&false.into(), &3.into())
    );
    assert!(
        stranger["why"].as_str().unwrap().contains(&format!(
            "DKIM d=esp.example.net pass but not aligned with {DOMAIN}"
        )),
        "{stranger:#}"
    );
    // A period that ends after it arrived (a forgery would stay "newest" for ever): refused.
    let future = tmp.path().join("future.xml");
    std::fs::write(&future, current_report(now + 10 * 86_400)).unwrap();
    let out = h.run(&["dmarc", "import", future.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("future.xml: the report's period ends in the future"),
        "{err}"
    );
    let text = h.ok(&["dmarc", "report", "--domain", DOMAIN]);
    assert!(
        text.contains("192.0.2.10 (Herald)") && text.contains("others_failing"),
        "{text}"
    );
    let bad = h.run(&["dmarc", "report", "--domain", "not a domain"]);
    assert_eq!(bad.status.code(), Some(2));

    // The API and the page say the same.
    common::add_user(&h, "viewer@example.com", "viewer");
    let bearer = common::bearer(&h, "viewer@example.com");
    let api = http(
        port,
        "GET",
        &format!("/api/v1/dmarc?domain={DOMAIN}&days=7"),
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!(api.status, 200, "{}", api.body);
    let api: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(api["domains"][0]["verdict"], "others_failing");
    assert_eq!(api["domains"][0]["sources"], d["sources"]);
    let none = http(port, "GET", "/api/v1/dmarc", &[], None);
    assert_eq!(none.status, 401);
    let bad = http(
        port,
        "GET",
        "/api/v1/dmarc?days=0",
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    let cookie = common::session_cookie(port, "viewer@example.com");
    let page = http(
        port,
        "GET",
        &format!("/dmarc?domain={DOMAIN}"),
        &[("Cookie", &cookie)],
        None,
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("203.0.113.7") && page.body.contains("(Herald)"));
    assert!(
        page.body.contains("&#60;script&#62;Receiver") && !page.body.contains("<script>Receiver"),
        "the reporter's name is escaped: {}",
        page.body
    );
}
