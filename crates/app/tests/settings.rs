//! Settings that change while Herald runs (issue 20): changed through the CLI, the Settings
//! page and the API, they reach a running `herald serve` without a restart — the public form's
//! sign-up limit, a new sender's warm-up allowance, the pre-send check's rspamd — and a reset
//! goes back to herald.toml's value. Bad values and settings that need a restart are refused,
//! naming the setting.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::{Herald, free_port, hidden, http, wait_for};
use serde_json::Value;

fn sign_up(port: u16, email: &str) -> common::HttpReply {
    let page = http(port, "GET", "/s/club", &[], None);
    assert_eq!(page.status, 200, "{}", page.body);
    let t = hidden(&page.body, "t");
    http(
        port,
        "POST",
        "/s/club",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(&format!(
            "t={t}&website=&email={}",
            email.replace('@', "%40")
        )),
    )
}

/// Run, require exit status 2 (the user's to fix), return stderr.
fn refused(h: &Herald, args: &[&str]) -> String {
    let out = h.run(args);
    assert_eq!(out.status.code(), Some(2), "herald {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn setting<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {list}"))
}

#[test]
fn settings_change_a_running_server_and_go_back_to_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = Herald::new(&tmp.path().join("data"))
        .web_only(port)
        .env("HERALD__DNS__NAMESERVERS", "[\"127.0.0.1:9\"]")
        .env("HERALD__DNS__TIMEOUT", "1s")
        .env("HERALD__LISTS__MIN_FILL", "0s")
        .env("HERALD__LISTS__SIGNUPS_PER_IP_PER_HOUR", "20");
    common::add_user(&h, "admin@herald.test", "admin");
    common::add_user(&h, "viewer@herald.test", "viewer");
    let admin = common::bearer(&h, "admin@herald.test");
    let viewer = common::bearer(&h, "viewer@herald.test");

    // The CLI: the list, and refusals that name the setting.
    let l = h.json(&["settings", "list", "--json"]);
    assert_eq!(l["settings"].as_array().unwrap().len(), 5, "{l}");
    let s = setting(&l, "lists.signups_per_ip_per_hour");
    assert_eq!(
        (s["value"].as_str(), s["file_value"].as_str()),
        (Some("20"), Some("20"))
    );
    assert!(s["changed_by"].is_null(), "{s}");
    let e = refused(
        &h,
        &["settings", "set", "lists.signups_per_ip_per_hour", "many"],
    );
    assert!(
        e.contains("lists.signups_per_ip_per_hour = \"many\""),
        "{e}"
    );
    let e = refused(&h, &["settings", "set", "http.listen", "0.0.0.0:80"]);
    assert!(e.contains("cannot be changed at run time"), "{e}");
    assert!(
        h.json(&["settings", "list", "--json"])["settings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["changed_by"].is_null()),
        "a refused value changed nothing"
    );

    h.ok(&[
        "lists", "create", "Club", "--slug", "club", "--opt-in", "single",
    ]);
    let _serve = common::serve_sandbox(&h, port);
    assert_eq!(sign_up(port, "a1@people.invalid").status, 200);
    assert_eq!(sign_up(port, "a2@people.invalid").status, 200);

    // The API: a viewer reads, an admin changes; the running server applies it.
    let call = |method: &str, path: &str, token: &str, body: Option<&str>| {
        http(
            port,
            method,
            path,
            &[
                ("Authorization", token),
                ("Content-Type", "application/json"),
            ],
            body,
        )
    };
    let path = "/api/v1/settings/lists.signups_per_ip_per_hour";
    assert_eq!(call("GET", "/api/v1/settings", &viewer, None).status, 200);
    assert_eq!(
        call("PUT", path, &viewer, Some(r#"{"value": "2"}"#)).status,
        403
    );
    let r = call("PUT", path, &admin, Some(r#"{"value": "-3"}"#));
    assert_eq!(r.status, 422, "{}", r.body);
    let r = call(
        "PUT",
        "/api/v1/settings/http.listen",
        &admin,
        Some(r#"{"value": "x"}"#),
    );
    assert_eq!(r.status, 404, "{}", r.body);
    let r = call("PUT", path, &admin, Some(r#"{"value": "2"}"#));
    assert_eq!(r.status, 200, "{}", r.body);
    let s: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        (s["value"].as_str(), s["file_value"].as_str()),
        (Some("2"), Some("20"))
    );
    assert_eq!(s["changed_by"], "api:admin@herald.test");
    // Two sign-ups came from this network this hour: the third is refused once the server
    // has read the change (every 2 s), without a restart.
    let mut n = 3;
    wait_for("the limit of 2 applied", Duration::from_secs(10), || {
        n += 1;
        let r = sign_up(port, &format!("a{n}@people.invalid"));
        (r.status == 429).then_some(())
    });
    assert!(
        sign_up(port, "late@people.invalid")
            .body
            .contains("Too many sign-ups")
    );

    // The Settings page: a viewer sees the values without the forms; an admin lifts the limit.
    let viewer_cookie = common::session_cookie(port, "viewer@herald.test");
    let page = http(
        port,
        "GET",
        "/settings",
        &[("Cookie", &viewer_cookie)],
        None,
    );
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("changed by api:admin@herald.test"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("action=\"/settings\""), "{}", page.body);
    let cookie = common::session_cookie(port, "admin@herald.test");
    let page = http(port, "GET", "/settings", &[("Cookie", &cookie)], None);
    let csrf = hidden(&page.body, "csrf");
    let post = |path: &str, body: &str| {
        let r = http(
            port,
            "POST",
            path,
            &[
                ("Cookie", &cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            Some(&format!("csrf={csrf}&{body}")),
        );
        assert_eq!(r.status, 303, "{}", r.body);
        http(
            port,
            "GET",
            r.header("location").unwrap(),
            &[("Cookie", &cookie)],
            None,
        )
        .body
    };
    let body = post("/settings", "name=lists.signups_per_ip_per_hour&value=0");
    assert!(
        body.contains("lists.signups_per_ip_per_hour is now"),
        "{body}"
    );
    let body = post("/settings", "name=delivery.warmup&value=fifty");
    assert!(body.contains("delivery.warmup = "), "{body}");
    assert!(body.contains("whole numbers separated by commas"), "{body}");
    wait_for("no limit applied", Duration::from_secs(10), || {
        n += 1;
        (sign_up(port, &format!("a{n}@people.invalid")).status == 200).then_some(())
    });
    let body = post("/settings/reset", "name=lists.signups_per_ip_per_hour");
    assert!(body.contains("back to herald.toml"), "{body}");
    let s = setting(
        &h.json(&["settings", "list", "--json"]),
        "lists.signups_per_ip_per_hour",
    )
    .clone();
    assert_eq!(
        (s["value"].as_str(), s["changed_by"].is_null()),
        (Some("20"), true),
        "{s}"
    );

    // A new sender's warm-up set while the server runs: one message today, the rest wait.
    h.ok(&["settings", "set", "delivery.warmup", "1, 10"]);
    std::thread::sleep(Duration::from_secs(3));
    let csv = tmp.path().join("c.csv");
    std::fs::write(&csv, "email\nann@a.invalid\nbob@b.invalid\ncy@c.invalid\n").unwrap();
    h.ok(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "news",
    ]);
    let id = common::draft(&h, tmp.path(), "news", "Warm", "Warm", "<p>Hi</p>");
    h.ok(&["campaign", "send", &id]);
    let q = wait_for(
        "one sent and two waiting for tomorrow",
        Duration::from_secs(30),
        || {
            let r = h.json(&["campaign", "report", &id, "--json"]);
            let q = h.json(&["queue", "--json"]);
            (r["counts"]["delivered"] == 1 && q["waiting"] == 2).then_some(q)
        },
    );
    assert!(q.to_string().contains("1 messages a day"), "{q}");

    // The pre-send check asks the rspamd in force: one set now (nothing listens there).
    // (`check` exits 1 with its findings: the From domain is not connected here.)
    let check = || {
        let out = h.run(&["campaign", "check", &id, "--json"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    h.ok(&["settings", "set", "check.rspamd_url", "http://127.0.0.1:9"]);
    let c = check();
    assert!(
        c.contains("spam_score_unavailable") && c.contains("127.0.0.1:9"),
        "{c}"
    );
    h.ok(&["settings", "reset", "check.rspamd_url"]);
    let c = check();
    assert!(
        c.contains("\"findings\"") && !c.contains("spam_score"),
        "{c}"
    );
}
