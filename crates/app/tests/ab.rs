//! A/B tests (issue 19) through the binary, on a sandboxed `herald serve`: a draft gets variant
//! B's subject (CLI, API and the campaign's page), bad tests are refused saying why, a send
//! goes to the test group only (a share per variant, the rest waiting with the reason), people
//! open B's copies, and at the test's time the winner — B — goes to the rest; the report shows
//! each variant's figures and why it won.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Herald, free_port, http, wait_for};
use serde_json::Value;

/// Every captured copy: recipient → subject.
fn captured(data: &std::path::Path) -> BTreeMap<String, String> {
    std::fs::read_dir(data.join("sandbox"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .filter_map(|e| std::fs::read(e.path()).ok())
                .filter_map(|raw| {
                    let m = mail_parser::MessageParser::default().parse(&raw)?;
                    let to = m.to()?.first()?.address()?.to_string();
                    Some((to, m.subject()?.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn an_ab_test_sends_the_winner_to_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let h = Herald::new(&data)
        .web_only(port)
        .env("HERALD__TRACKING__MIN_OPEN_DELAY", "0s");
    common::add_user(&h, "admin@herald.test", "admin");
    common::add_user(&h, "viewer@herald.test", "viewer");
    let admin = common::bearer(&h, "admin@herald.test");
    let viewer = common::bearer(&h, "viewer@herald.test");
    let csv = tmp.path().join("c.csv");
    let people: Vec<String> = (1..=10).map(|n| format!("p{n}@people.invalid")).collect();
    std::fs::write(&csv, format!("email\n{}\n", people.join("\n"))).unwrap();
    h.ok(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "news",
    ]);
    let id = common::draft(
        &h,
        tmp.path(),
        "news",
        "Spring",
        "Subject A",
        "<p>Hello</p>",
    );

    // Refused, saying why, and nothing kept.
    let refused = |args: &[&str], why: &str| {
        let out = h.run(args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(why), "{args:?}: {err}");
    };
    refused(
        &["campaign", "ab", &id, "--subject", "B", "--share", "60"],
        "1 to 50 %",
    );
    refused(&["campaign", "ab", &id], "changes nothing");
    refused(
        &["campaign", "ab", &id, "--subject", "{{ contact.nope("],
        "variant B",
    );
    refused(
        &["campaign", "ab", &id, "--subject", "B", "--metric", "likes"],
        "opens or clicks",
    );
    assert!(h.json(&["campaign", "report", &id, "--json"])["ab"].is_null());

    // The API sets one, a viewer may not; DELETE takes it away.
    let _serve = common::serve_sandbox(&h, port);
    let call = |method: &str, token: &str, body: Option<&str>| {
        http(
            port,
            method,
            &format!("/api/v1/campaigns/{id}/ab"),
            &[
                ("Authorization", token),
                ("Content-Type", "application/json"),
            ],
            body,
        )
    };
    let body = r#"{"variants": [{"subject": "Subject B"}], "share_pct": 20, "metric": "opens", "wait": "8s"}"#;
    assert_eq!(call("PUT", &viewer, Some(body)).status, 403);
    let r = call("PUT", &admin, Some(body));
    assert_eq!(r.status, 200, "{}", r.body);
    let t: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(t["variants"][1]["subject"], "Subject B", "{t}");
    assert!(t["winner"].is_null() && t["decide_at"].is_null(), "{t}");
    assert_eq!(call("DELETE", &admin, None).status, 204);
    assert!(h.json(&["campaign", "report", &id, "--json"])["ab"].is_null());

    // The campaign's page sets it (and shows it).
    let cookie = common::session_cookie(port, "admin@herald.test");
    let r = common::submit_form(
        port,
        &cookie,
        &format!("/campaigns/{id}"),
        &format!("/campaigns/{id}/ab"),
        "subject=Subject+B&html=&share=20&metric=opens&wait=8s",
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let page = http(
        port,
        "GET",
        r.header("location").unwrap(),
        &[("Cookie", &cookie)],
        None,
    );
    assert!(page.body.contains("A/B test set"), "{}", page.body);
    assert!(page.body.contains("id=\"ab-B\""), "{}", page.body);

    // Sent: 20 % of ten people get A, 20 % B; the other six wait for the winner.
    h.ok(&["campaign", "send", &id]);
    let first = wait_for("the test group's copies", Duration::from_secs(20), || {
        let c = captured(&data);
        (c.len() == 4).then_some(c)
    });
    let b: Vec<&String> = first
        .iter()
        .filter(|(_, s)| *s == "Subject B")
        .map(|(to, _)| to)
        .collect();
    assert_eq!(b.len(), 2, "{first:?}");
    assert_eq!(
        first.values().filter(|s| *s == "Subject A").count(),
        2,
        "{first:?}"
    );
    // (A copy is captured a moment before its outcome is recorded.)
    let r = wait_for("the test group recorded", Duration::from_secs(20), || {
        let r = h.json(&["campaign", "report", &id, "--json"]);
        (r["counts"]["delivered"] == 4).then_some(r)
    });
    assert_eq!(r["counts"]["queued"], 6, "{r:#}");
    assert_eq!(r["ab"]["variants"][0]["recipients"], 2, "{r:#}");
    assert_eq!(r["ab"]["variants"][1]["recipients"], 2, "{r:#}");
    let q = h.json(&["queue", "--json"]);
    assert!(
        q.to_string().contains("waiting for the A/B test's winner"),
        "{q:#}"
    );

    // People open B's copies (a browser's User-Agent; nothing opens A's).
    for to in &b {
        common::open_copy(
            &data,
            port,
            to,
            "Subject B",
            Some("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36"),
        );
    }

    // At the test's time B wins, and the other six get B.
    let all = wait_for(
        "the winner sent to the rest",
        Duration::from_secs(30),
        || {
            let c = captured(&data);
            (c.len() == 10).then_some(c)
        },
    );
    let rest: Vec<&String> = all
        .iter()
        .filter(|(to, _)| !first.contains_key(*to))
        .map(|(_, s)| s)
        .collect();
    assert_eq!(rest.len(), 6);
    assert!(rest.iter().all(|s| *s == "Subject B"), "{all:?}");
    let r = wait_for("every copy delivered", Duration::from_secs(20), || {
        let r = h.json(&["campaign", "report", &id, "--json"]);
        (r["counts"]["delivered"] == 10).then_some(r)
    });
    let ab = &r["ab"];
    assert_eq!(ab["winner"], "B", "{ab:#}");
    assert!(
        ab["why"]
            .as_str()
            .unwrap()
            .contains("B was opened by a person most: 2 of 2 delivered"),
        "{ab:#}"
    );
    assert_eq!(
        (
            ab["variants"][1]["opened"].as_u64(),
            ab["variants"][0]["opened"].as_u64()
        ),
        (Some(2), Some(0)),
        "{ab:#}"
    );
    let text = h.ok(&["campaign", "report", &id]);
    assert!(
        text.contains("A/B test (20 % each, by opens): winner B"),
        "{text}"
    );
    // Once sent, the test is fixed.
    refused(&["campaign", "ab", &id, "--off"], "only a draft");
}
