//! `domain add` then `domain verify` against the recipient world's DNS (dnsmasq), with the
//! records published by the test from what `domain add` printed.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{Herald, dnsmasq_lines, publish, world_env};

fn statuses(v: &serde_json::Value) -> Vec<(String, String)> {
    v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn a_published_domain_verifies_and_each_broken_record_is_named() {
    let env = world_env();
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data"))
        .env(
            "HERALD__DNS__NAMESERVERS",
            &format!("[\"{}\"]", env["WORLD_DNS"]),
        )
        .env("HERALD__DELIVERY__HELO_NAME", "mail.herald.test")
        .env("HERALD__DELIVERY__SOURCE_IPS", "[\"192.0.2.10\"]");
    let added = h.json(&["domain", "add", "verify.test", "--selector", "v1", "--json"]);
    let verify = |h: &Herald| {
        let out = h.run(&["domain", "verify", "verify.test", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), v)
    };

    // Nothing published yet: every required record is missing, and the exit status says so.
    publish(&[]);
    let (code, v) = verify(&h);
    assert_eq!(code, Some(1));
    assert_eq!(v["ok"], false);
    assert_eq!(
        statuses(&v),
        pairs(&[
            ("dkim", "missing"),
            ("dkim", "missing"),
            ("spf", "missing"),
            ("dmarc", "missing"),
            ("return_path", "missing"),
            ("ptr", "missing")
        ])
    );

    // Everything as printed (the RSA key split into 255-byte TXT strings): all pass.
    // The sending IP (a documentation address: only DNS is queried, on loopback) with
    // forward-confirmed reverse DNS.
    let ptr = [
        "ptr-record=10.2.0.192.in-addr.arpa,mail.herald.test".to_string(),
        "host-record=mail.herald.test,192.0.2.10".to_string(),
    ];
    publish(&[dnsmasq_lines(&added), ptr.to_vec()].concat());
    let (code, v) = verify(&h);
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["ok"], true);

    // The gate: an aligned subdomain of the verified domain may send; an unconnected one not.
    let csv = tmp.path().join("c.csv");
    std::fs::write(&csv, "email\nalice@inbox.test\n").unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "l"]);
    let html = tmp.path().join("b.html");
    std::fs::write(&html, "<p>hi</p>").unwrap();
    let create = |from: &str, extra: &[&str]| {
        let mut args = vec![
            "campaign",
            "create",
            "--name",
            "g",
            "--list",
            "l",
            "--from",
            from,
            "--subject",
            "s",
        ];
        args.extend(["--html", html.to_str().unwrap()]);
        args.extend(extra);
        h.run(&args)
    };
    assert!(create("News <news@mail.verify.test>", &[]).status.success());
    let out = create("x@other.test", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("other.test is not connected"));

    // SPF without our IP, no DMARC, and another key in place of ours: each named.
    let mut broken: Vec<String> = dnsmasq_lines(&added)
        .into_iter()
        .filter(|l| !l.contains("_dmarc.") && !l.contains("v=spf1") && !l.contains("v1-ed25519."))
        .collect();
    broken.push("txt-record=verify.test,\"v=spf1 ip4:192.0.2.9 ~all\"".into());
    broken.push("txt-record=v1-ed25519._domainkey.verify.test,\"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"".into());
    broken.push("ptr-record=10.2.0.192.in-addr.arpa,elsewhere.herald.test".into());
    publish(&broken);
    let (code, v) = verify(&h);
    assert_eq!(code, Some(1));
    assert_eq!(
        statuses(&v),
        pairs(&[
            ("dkim", "pass"),
            ("dkim", "fail"),
            ("spf", "fail"),
            ("dmarc", "missing"),
            ("return_path", "pass"),
            ("ptr", "fail")
        ])
    );
    let spf = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "spf")
        .unwrap();
    assert!(
        spf["why"].as_str().unwrap().contains("ip4:192.0.2.10"),
        "{spf:#}"
    );

    // The gate names the broken records; the override is recorded and shown.
    let out = create("ann@verify.test", &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("dmarc record _dmarc.verify.test is missing") && err.contains("spf record"),
        "{err}"
    );
    let out = create("ann@verify.test", &["--allow-unverified", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let details = h.json(&["campaign", "show", id["id"].as_str().unwrap(), "--json"]);
    assert!(
        details["gate_override"]
            .as_str()
            .unwrap()
            .contains("--allow-unverified"),
        "{details:#}"
    );

    // The sending IP as receivers see it: PTR, forward confirmation, a blocklist listing.
    // A documentation address (only DNS is queried, on loopback): resolvers answer reverse
    // names of loopback addresses themselves ("localhost", RFC 6761).
    let h = h
        .env("HERALD__DNS__BLOCKLISTS", "[\"bl.test\"]")
        .env("HERALD__DELIVERY__SOURCE_IPS", "[\"192.0.2.10\"]");
    publish(&[
        "ptr-record=10.2.0.192.in-addr.arpa,mail.herald.test".into(),
        "host-record=mail.herald.test,192.0.2.10".into(),
        "host-record=10.2.0.192.bl.test,127.0.0.2".into(),
    ]);
    let ips = h.json(&["ips", "--json"]);
    let ip = &ips["ips"][0];
    assert_eq!(
        (ip["ip"].as_str(), ip["fcrdns"].as_bool()),
        (Some("192.0.2.10"), Some(true)),
        "{ips:#}"
    );
    assert_eq!(ip["ptr"][0], "mail.herald.test");
    assert_eq!(ip["listed_on"][0], "bl.test");
    publish(&[]);
    let ips = h.json(&["ips", "--json"]);
    let ip = &ips["ips"][0];
    assert_eq!(
        (ip["ptr"].as_array().map(Vec::len), ip["fcrdns"].as_bool()),
        (Some(0), Some(false)),
        "{ips:#}"
    );
    assert_eq!(ip["listed_on"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        ip["errors"].as_array().map(Vec::len),
        Some(0),
        "no PTR is an answer, not a DNS error: {ips:#}"
    );
    publish(&[]);
}
