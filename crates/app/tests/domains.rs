//! `domain add` then `domain verify` against the recipient world's DNS (dnsmasq), with the
//! records published by the test from what `domain add` printed.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use common::{Herald, Serve, dnsmasq_lines, publish, wait_for, world_env};

/// The world's DNS is shared: tests of this file that publish take turns.
static DNS: Mutex<()> = Mutex::new(());

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
    let _dns = DNS.lock().unwrap_or_else(|p| p.into_inner());
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
            ("tracking", "missing"),
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
    broken.push("txt-record=bounces.verify.test,\"v=spf1 ip4:192.0.2.9 ~all\"".into());
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
            ("tracking", "missing"),
            ("ptr", "fail")
        ])
    );
    let spf = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "spf")
        .unwrap();
    let why = spf["why"].as_str().unwrap();
    assert!(
        why.contains("192.0.2.10") && why.contains("softfail"),
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

fn spf_record(added: &serde_json::Value) -> &serde_json::Value {
    added["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "spf")
        .unwrap()
}

fn check<'a>(v: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    v["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == kind)
        .collect()
}

#[test]
fn spf_is_merged_and_followed_through_includes_and_keys_rotate() {
    let _dns = DNS.lock().unwrap_or_else(|p| p.into_inner());
    let env = world_env();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let h = Herald::new(&data)
        .env(
            "HERALD__DNS__NAMESERVERS",
            &format!("[\"{}\"]", env["WORLD_DNS"]),
        )
        .env("HERALD__DELIVERY__HELO_NAME", "mail.herald.test")
        .env("HERALD__DELIVERY__SOURCE_IPS", "[\"192.0.2.10\"]");
    let ptr = vec![
        "ptr-record=10.2.0.192.in-addr.arpa,mail.herald.test".to_string(),
        "host-record=mail.herald.test,192.0.2.10".to_string(),
    ];

    // An SPF record already at the return-path domain: ours is merged into it, never beside.
    let partner = |spf: &str| format!("txt-record=spf.partner.test,\"{spf}\"");
    publish(&[
        "txt-record=bounces.merge.test,\"v=spf1 include:spf.partner.test -all\"".into(),
        partner("v=spf1 ip4:198.51.100.0/24 -all"),
    ]);
    let added = h.json(&["domain", "add", "merge.test", "--selector", "m1", "--json"]);
    let spf = spf_record(&added);
    assert_eq!(spf["name"], "bounces.merge.test");
    assert_eq!(
        spf["value"],
        "v=spf1 ip4:192.0.2.10 include:spf.partner.test -all"
    );
    assert_eq!(spf["replaces"], "v=spf1 include:spf.partner.test -all");

    // A broken record there: refused with the bad term named, and nothing is connected.
    publish(&["txt-record=bounces.bad.test,\"v=spf1 ip4:192.0.2.300 -all\"".into()]);
    let out = h.run(&["domain", "add", "bad.test"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ip4:192.0.2.300"), "{err}");
    assert!(!data.join("dkim/bad.test").exists());

    // SPF is evaluated as receivers do: our IP authorised only through an include passes...
    let mut lines: Vec<String> = dnsmasq_lines(&added)
        .into_iter()
        .filter(|l| !l.contains("v=spf1"))
        .chain(ptr.clone())
        .collect();
    lines.push("txt-record=bounces.merge.test,\"v=spf1 include:spf.partner.test -all\"".into());
    let verify = |lines: &[String], extra: &[String]| {
        publish(&[lines.to_vec(), extra.to_vec()].concat());
        let out = h.run(&["domain", "verify", "merge.test", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), v)
    };
    let (code, v) = verify(&lines, &[partner("v=spf1 ip4:192.0.2.0/24 -all")]);
    assert_eq!(code, Some(0), "{v:#}");
    // ...not authorised there: fail, with SPF's own result...
    let (code, v) = verify(&lines, &[partner("v=spf1 ip4:198.51.100.0/24 -all")]);
    assert_eq!(code, Some(1));
    let why = check(&v, "spf")[0]["why"].as_str().unwrap().to_string();
    assert!(why.contains("gives fail for 192.0.2.10"), "{why}");
    // ...and a chain of includes past the 10-lookup limit: permerror.
    let mut chain = vec![partner("v=spf1 include:c1.chain.test -all")];
    for i in 1..=11 {
        chain.push(format!(
            "txt-record=c{i}.chain.test,\"v=spf1 include:c{}.chain.test -all\"",
            i + 1
        ));
    }
    chain.push("txt-record=c12.chain.test,\"v=spf1 ip4:192.0.2.10 -all\"".into());
    let (code, v) = verify(&lines, &chain);
    assert_eq!(code, Some(1));
    let why = check(&v, "spf")[0]["why"].as_str().unwrap().to_string();
    assert!(why.contains("permerror"), "{why}");

    // Key rotation: the new selector's records are not required until published; signing
    // switches once they are found.
    let rotation = h.json(&[
        "domain",
        "rotate",
        "merge.test",
        "--selector",
        "m2",
        "--json",
    ]);
    assert_eq!(
        (&rotation["active"], &rotation["next"]),
        (&serde_json::json!("m1"), &serde_json::json!("m2"))
    );
    let good = [partner("v=spf1 ip4:192.0.2.0/24 -all")];
    let (code, v) = verify(&lines, &good);
    assert_eq!(code, Some(0), "{v:#}");
    let next = check(&v, "dkim_next");
    assert_eq!(next.len(), 2);
    assert!(
        next.iter()
            .all(|c| c["status"] == "missing" && c["required"] == false)
    );
    let listed = h.json(&["domain", "list", "--json"]);
    assert_eq!(listed["domains"][0]["selector"], "m1");
    assert_eq!(listed["domains"][0]["pending_selector"], "m2");
    lines.extend(dnsmasq_lines(&rotation));
    let (code, v) = verify(&lines, &good);
    assert_eq!(code, Some(0), "{v:#}");
    assert!(check(&v, "dkim_next").iter().all(|c| c["status"] == "pass"));
    let listed = h.json(&["domain", "list", "--json"]);
    assert_eq!(listed["domains"][0]["selector"], "m2");
    assert!(listed["domains"][0]["pending_selector"].is_null());
    publish(&[]);
}

#[test]
fn a_domain_that_stops_verifying_holds_its_sends_until_it_is_fixed() {
    let _dns = DNS.lock().unwrap_or_else(|p| p.into_inner());
    let env = world_env();
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data"))
        .env(
            "HERALD__DNS__NAMESERVERS",
            &format!("[\"{}\"]", env["WORLD_DNS"]),
        )
        .env("HERALD__DELIVERY__MX_PORT", &env["WORLD_MX_PORT"])
        .env("HERALD__DELIVERY__HELO_NAME", "mail.drift.test")
        .env("HERALD__DELIVERY__RETRY_SCHEDULE", "[\"1s\"]")
        .env("HERALD__DELIVERY__EXPIRY", "10m")
        .env("HERALD__DOMAINS__REVERIFY_EVERY", "1s")
        .env("HERALD__INBOUND__ENABLED", "false")
        .env("HERALD__HTTP__LISTEN", "127.0.0.1:0");
    let added = h.json(&["domain", "add", "drift.test", "--selector", "d1", "--json"]);
    let published = dnsmasq_lines(&added);
    publish(&published);

    // defer.test answers 451 forever: the recipient stays deferred and serve retries it.
    let csv = tmp.path().join("c.csv");
    std::fs::write(&csv, "email\nsomeone@defer.test\n").unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "l"]);
    let html = tmp.path().join("b.html");
    std::fs::write(&html, "<p>drift</p>").unwrap();
    let id = h.json(&[
        "campaign",
        "create",
        "--name",
        "drift",
        "--list",
        "l",
        "--from",
        "Ann <ann@drift.test>",
        "--subject",
        "s",
        "--html",
        html.to_str().unwrap(),
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();

    let _serve = Serve(
        h.command(&["serve"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let last_check =
        |h: &Herald| h.json(&["domain", "list", "--json"])["domains"][0]["last_check"].clone();
    wait_for("the first re-verification", Duration::from_secs(20), || {
        (last_check(&h)["ok"] == true).then_some(())
    });
    h.ok(&["campaign", "send", &id]);
    let attempts = |h: &Herald| {
        let r = h.json(&["campaign", "report", &id, "--recipients", "--json"]);
        let row = r["recipients"][0].clone();
        (row["attempts"].as_u64().unwrap(), row["reason"].clone())
    };
    wait_for(
        "serve to retry the deferral",
        Duration::from_secs(20),
        || (attempts(&h).0 >= 2).then_some(()),
    );

    // The Ed25519 key disappears from DNS: recorded, and the retries stop with the reason.
    publish(
        &published
            .iter()
            .filter(|l| !l.contains("d1-ed25519."))
            .cloned()
            .collect::<Vec<_>>(),
    );
    let check = wait_for("the drift to be seen", Duration::from_secs(20), || {
        let c = last_check(&h);
        (c["ok"] == false).then_some(c)
    });
    assert!(
        check["problems"]
            .as_str()
            .unwrap()
            .contains("dkim record d1-ed25519._domainkey.drift.test is missing"),
        "{check:#}"
    );
    let held_at = wait_for("the delivery to be held", Duration::from_secs(20), || {
        let (n, reason) = attempts(&h);
        reason
            .as_str()
            .is_some_and(|r| r.starts_with("held: drift.test"))
            .then_some(n)
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(attempts(&h).0, held_at, "no attempt while held");
    let show = h.json(&["campaign", "show", &id, "--json"]);
    assert_eq!(show["domain_verification"]["sends_held"], true, "{show:#}");

    // Fixed: seen at the next re-verification, and the retries resume.
    publish(&published);
    wait_for("the fix to be seen", Duration::from_secs(20), || {
        (last_check(&h)["ok"] == true).then_some(())
    });
    wait_for("the retries to resume", Duration::from_secs(20), || {
        (attempts(&h).0 > held_at).then_some(())
    });
    let changes = &h.json(&["domain", "list", "--json"])["domains"][0]["changes"];
    assert_eq!(
        changes
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["ok"].as_bool().unwrap())
            .collect::<Vec<_>>(),
        vec![true, false, true],
        "{changes:#}"
    );
    publish(&[]);
}

/// A `Verify now` (here the CLI's `domain verify`; the Domains page and the API call the same)
/// is kept like a re-verification: a running node whose own re-verification is an hour away
/// holds, and releases, the domain's sends within seconds of it.
#[test]
fn verify_now_holds_and_releases_sends_on_a_running_node() {
    let _dns = DNS.lock().unwrap_or_else(|p| p.into_inner());
    let env = world_env();
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data"))
        .env(
            "HERALD__DNS__NAMESERVERS",
            &format!("[\"{}\"]", env["WORLD_DNS"]),
        )
        .env("HERALD__DELIVERY__MX_PORT", &env["WORLD_MX_PORT"])
        .env("HERALD__DELIVERY__HELO_NAME", "mail.fixed.test")
        .env("HERALD__DELIVERY__RETRY_SCHEDULE", "[\"1s\"]")
        .env("HERALD__DELIVERY__EXPIRY", "10m")
        .env("HERALD__DOMAINS__REVERIFY_EVERY", "1h")
        .env("HERALD__INBOUND__ENABLED", "false")
        .env("HERALD__HTTP__LISTEN", "127.0.0.1:0");
    let added = h.json(&["domain", "add", "fixed.test", "--selector", "f1", "--json"]);
    let published = dnsmasq_lines(&added);
    let broken: Vec<String> = published
        .iter()
        .filter(|l| !l.contains("f1-ed25519."))
        .cloned()
        .collect();
    publish(&published);
    // defer.test answers 451 forever: serve retries every second.
    let csv = tmp.path().join("c.csv");
    std::fs::write(&csv, "email\nsomeone@defer.test\n").unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "l"]);
    let html = tmp.path().join("b.html");
    std::fs::write(&html, "<p>fixed</p>").unwrap();
    // From the domain, through the gate (no override: its sends can be held).
    let id = h.json(&[
        "campaign",
        "create",
        "--name",
        "fixed",
        "--list",
        "l",
        "--from",
        "Ann <ann@fixed.test>",
        "--subject",
        "s",
        "--html",
        html.to_str().unwrap(),
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let _serve = Serve(
        h.command(&["serve"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    h.ok(&["campaign", "send", &id]);
    let attempts = |h: &Herald| {
        let r = h.json(&["campaign", "report", &id, "--recipients", "--json"]);
        let row = r["recipients"][0].clone();
        (row["attempts"].as_u64().unwrap(), row["reason"].clone())
    };
    wait_for("serve to retry", Duration::from_secs(20), || {
        (attempts(&h).0 >= 2).then_some(())
    });

    // The key goes missing; a Verify now sees it: kept, and the running node holds.
    publish(&broken);
    let out = h.run(&["domain", "verify", "fixed.test", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false, "{v:#}");
    let last_check =
        |h: &Herald| h.json(&["domain", "list", "--json"])["domains"][0]["last_check"].clone();
    assert_eq!(last_check(&h)["ok"], false, "Verify now is kept");
    let held_at = wait_for("the retries to be held", Duration::from_secs(20), || {
        let (n, reason) = attempts(&h);
        reason
            .as_str()
            .is_some_and(|r| r.starts_with("held: fixed.test"))
            .then_some(n)
    });

    // Fixed and verified by hand: the retries resume within seconds.
    publish(&published);
    let v = h.json(&["domain", "verify", "fixed.test", "--json"]);
    assert_eq!(v["ok"], true, "{v:#}");
    assert_eq!(last_check(&h)["ok"], true);
    wait_for("the retries to resume", Duration::from_secs(20), || {
        (attempts(&h).0 > held_at).then_some(())
    });
    publish(&[]);
}
