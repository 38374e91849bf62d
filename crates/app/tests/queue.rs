//! What waits, and why, through the binary and a sandboxed server: a warm-up allowance used up
//! for the day keeps the rest of a campaign queued with the reason, shown the same by `herald
//! queue --json`, `GET /api/v1/queue` and the Queue page.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::{Herald, free_port, http, wait_for};

#[test]
fn the_queue_says_what_waits_for_the_warm_up_in_the_cli_the_api_and_the_ui() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let h = Herald::new(&data)
        .web_only(port)
        .env("HERALD__DNS__NAMESERVERS", "[\"127.0.0.1:9\"]")
        .env("HERALD__DNS__TIMEOUT", "1s")
        .env("HERALD__DELIVERY__WARMUP", "[2, 10]");
    let csv = tmp.path().join("c.csv");
    std::fs::write(
        &csv,
        "email\nann@a.invalid\nbob@b.invalid\ncy@c.invalid\ndee@d.invalid\neve@e.invalid\n",
    )
    .unwrap();
    h.ok(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "news",
    ]);
    let _serve = common::serve_sandbox(&h, port);
    let id = common::draft(&h, tmp.path(), "news", "Warm", "Warm", "<p>Hi</p>");
    h.ok(&["campaign", "send", &id]);

    let q = wait_for(
        "two sent and three waiting for tomorrow",
        Duration::from_secs(30),
        || {
            let r = h.json(&["campaign", "report", &id, "--json"]);
            let q = h.json(&["queue", "--json"]);
            (r["counts"]["delivered"] == 2 && q["waiting"] == 3).then_some(q)
        },
    );
    let text = q.to_string();
    assert!(
        text.contains(
            "warm-up: sender.invalid is on day 1 of its warm-up schedule, 2 messages a day, all sent today"
        ),
        "{q:#}"
    );

    common::add_user(&h, "viewer@x.invalid", "viewer");
    let auth = common::bearer(&h, "viewer@x.invalid");
    let r = http(
        port,
        "GET",
        "/api/v1/queue",
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let api: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(api["waiting"], 3, "{api:#}");
    assert!(
        r.body.contains("is on day 1 of its warm-up schedule"),
        "{}",
        r.body
    );
    assert_eq!(
        http(port, "GET", "/api/v1/queue", &[], None).status,
        401,
        "not without a token"
    );

    let cookie = common::session_cookie(port, "viewer@x.invalid");
    let page = http(port, "GET", "/queue", &[("Cookie", &cookie)], None);
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<strong id=\"waiting\">3</strong>"),
        "{}",
        page.body
    );
    // One row per destination domain: each of the three waits for the warm-up.
    assert_eq!(
        page.body
            .matches("1: not tried yet: warm-up: sender.invalid is on day 1")
            .count(),
        3,
        "{}",
        page.body
    );
}
