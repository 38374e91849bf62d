//! The pre-send check (issue 19, item 5) through the CLI, the API and the web UI: it names an
//! unaligned From, a missing unsubscribe link and images without alt text, is kept with the
//! campaign (create, `campaign check`), and clears once the content is fixed; the spam score from
//! the recipient world's rspamd. (The check of a connected domain through DNS is in the
//! recipient-world test.)

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{Herald, free_port, http};

fn codes(check: &serde_json::Value) -> Vec<String> {
    check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_check_names_what_receivers_will_hold_against_a_campaign() {
    let tmp = tempfile::tempdir().unwrap();
    // Not a sandbox: the From domain is looked at (it is not connected, so nothing is asked of
    // DNS).
    let h = Herald::new(&tmp.path().join("data"));
    let csv = tmp.path().join("c.csv");
    std::fs::write(&csv, "email,first_name\nann@example.com,Ann\n").unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "l"]);
    let html = tmp.path().join("b.html");
    std::fs::write(
        &html,
        "<p>Hi {{ contact.first_name }}</p><img src=\"https://cdn.example.com/a.png\">",
    )
    .unwrap();
    let out = h.run(&[
        "campaign",
        "create",
        "--name",
        "c",
        "--list",
        "l",
        "--from",
        "Ann <ann@unconnected.example>",
        "--subject",
        "Hi",
        "--html",
        html.to_str().unwrap(),
        "--allow-unverified",
    ]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("pre-send check: 2 problem(s), 1 warning(s)"),
        "{err}"
    );
    // Kept with the campaign from its creation.
    let shown = h.json(&["campaign", "show", "1", "--json"]);
    assert_eq!(shown["check"]["at"], "create", "{shown:#}");

    let out = h.run(&["campaign", "check", "1", "--json"]);
    assert_eq!(out.status.code(), Some(1), "a problem: exit 1");
    let check: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = codes(&check);
    for code in [
        "unaligned_from",
        "no_unsubscribe_link",
        "images_without_alt",
        "list_id",
    ] {
        assert!(found.contains(&code.to_string()), "{code}: {check:#}");
    }
    assert_eq!(
        (check["problems"].as_u64(), check["warnings"].as_u64()),
        (Some(2), Some(1))
    );
    let unaligned = &check["findings"][0];
    assert_eq!(unaligned["severity"], "problem");
    assert!(
        unaligned["fix"]
            .as_str()
            .unwrap()
            .contains("herald domain add unconnected.example"),
        "{unaligned:#}"
    );
    assert_eq!(
        h.json(&["campaign", "show", "1", "--json"])["check"]["at"],
        "check"
    );

    // Fixed content: the content findings go; the domain's stays.
    std::fs::write(
        &html,
        "<p>Hi</p><img src=\"https://cdn.example.com/a.png\" alt=\"Our shop\">\
         <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a>",
    )
    .unwrap();
    h.ok(&["campaign", "edit", "1", "--html", html.to_str().unwrap()]);
    let out = h.run(&["campaign", "check", "1", "--json"]);
    let check: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = codes(&check);
    assert!(
        !found.contains(&"no_unsubscribe_link".to_string()),
        "{check:#}"
    );
    assert!(
        !found.contains(&"images_without_alt".to_string()),
        "{check:#}"
    );
    assert!(found.contains(&"unaligned_from".to_string()));

    // Gmail clips a message over 102 KB.
    std::fs::write(
        &html,
        format!(
            "<a href=\"{{{{ unsubscribe_url }}}}\">Unsubscribe</a><p>{}</p>",
            "news ".repeat(25_000)
        ),
    )
    .unwrap();
    h.ok(&["campaign", "edit", "1", "--html", html.to_str().unwrap()]);
    let out = h.run(&["campaign", "check", "1"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Gmail clips anything over 102 KB"), "{text}");
}

#[test]
fn the_check_through_the_api_and_the_ui() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = Herald::new(&tmp.path().join("data")).web_only(port);
    common::add_user(&h, "admin@herald.test", "admin");
    let bearer = common::bearer(&h, "admin@herald.test");
    let csv = tmp.path().join("c.csv");
    std::fs::write(&csv, "email\nann@example.com\n").unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "l"]);
    let html = tmp.path().join("b.html");
    std::fs::write(&html, "<p>No way out</p>").unwrap();
    h.ok(&[
        "campaign",
        "create",
        "--name",
        "c",
        "--list",
        "l",
        "--from",
        "ann@example.com",
        "--subject",
        "Hi",
        "--html",
        html.to_str().unwrap(),
        "--allow-unverified",
    ]);
    let _serve = common::serve_sandbox(&h, port);
    let r = http(
        port,
        "POST",
        "/api/v1/campaigns/1/check",
        &[("Authorization", &bearer)],
        Some(""),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let found = codes(&v);
    assert!(found.contains(&"sandbox".to_string()), "{v:#}");
    assert!(found.contains(&"no_unsubscribe_link".to_string()), "{v:#}");
    let r = http(
        port,
        "POST",
        "/api/v1/campaigns/99/check",
        &[("Authorization", &bearer)],
        Some(""),
    );
    assert_eq!(r.status, 404, "{}", r.body);

    let admin = common::session_cookie(port, "admin@herald.test");
    let page = http(port, "GET", "/campaigns/1", &[("Cookie", &admin)], None).body;
    assert!(page.contains("id=\"presend-check\""), "{page}");
    assert!(page.contains("no visible unsubscribe link"), "{page}");
    let csrf = common::hidden(&page, "csrf");
    let r = http(
        port,
        "POST",
        "/campaigns/1/check",
        &[
            ("Cookie", &admin),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(&format!("csrf={csrf}")),
    );
    assert_eq!(r.status, 303);
    let page = http(
        port,
        "GET",
        r.header("location").unwrap(),
        &[("Cookie", &admin)],
        None,
    )
    .body;
    assert!(page.contains("Checked: 1 problem(s)"), "{page}");
}

/// The spam score comes from the recipient world's rspamd (`[check] rspamd_url`): a plain
/// message is scored and passes; a subject the world's rule marks (+8, rspamd's Junk starts at
/// 6) is a warning naming the rule; rspamd not answering is a warning naming where it was asked.
#[test]
fn the_spam_score_comes_from_rspamd() {
    let w = common::world_env();
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data"))
        .env("HERALD__CHECK__RSPAMD_URL", &w["WORLD_RSPAMD"])
        .env("HERALD__DELIVERY__HELO_NAME", "mx.world-sender.test");
    let csv = tmp.path().join("c.csv");
    std::fs::write(&csv, "email,first_name\nann@inbox.test,Ann\n").unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "l"]);
    let html = "<p>Hi {{ contact.first_name }}, here is our news.</p>\
                <p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>";
    let create = |subject: &str| common::draft(&h, tmp.path(), "l", subject, subject, html);
    let score = |h: &Herald, id: &str| -> serde_json::Value {
        let out = h.run(&["campaign", "check", id, "--json"]);
        let check: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        check["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"].as_str().unwrap().starts_with("spam_score"))
            .cloned()
            .unwrap_or_else(|| panic!("no spam score: {check:#}"))
    };

    let calm = create("Our December news");
    let f = score(&h, &calm);
    assert_eq!(
        (&f["code"], &f["severity"]),
        (&"spam_score".into(), &"info".into()),
        "{f:#}"
    );
    assert!(
        f["text"]
            .as_str()
            .unwrap()
            .starts_with("rspamd scores the message "),
        "{f:#}"
    );

    let spammy = create("Please junk me");
    let f = score(&h, &spammy);
    assert_eq!(f["severity"], "warning", "{f:#}");
    let text = f["text"].as_str().unwrap();
    assert!(text.contains("it would mark the message as spam"), "{text}");
    assert!(
        text.contains("WORLD_SPAMMY_SUBJECT +8.0 (The recipient world's test rule"),
        "{text}"
    );
    // Kept with the campaign like the rest of the check.
    let shown = h.json(&["campaign", "show", &spammy, "--json"]);
    assert!(
        shown["check"]["findings"]
            .to_string()
            .contains("WORLD_SPAMMY_SUBJECT"),
        "{shown:#}"
    );

    // rspamd not answering: said, not fatal.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let down = h
        .clone_env(&h.data_dir)
        .env("HERALD__CHECK__RSPAMD_URL", &nowhere);
    let f = score(&down, &calm);
    assert_eq!(
        (&f["code"], &f["severity"]),
        (&"spam_score_unavailable".into(), &"warning".into()),
        "{f:#}"
    );
    assert!(f["text"].as_str().unwrap().contains(&nowhere), "{f:#}");
}

/// Link and image hosts are looked up in URI blocklists (`[dns] uri_blocklists`) through the
/// recipient world's DNS, which lists spammy-shop.test on the zone uribl.test: a link there is a
/// problem naming it; without it the check says how many hosts were clean.
#[test]
fn links_to_a_blocklisted_domain_are_named() {
    let w = common::world_env();
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data"))
        .env(
            "HERALD__DNS__NAMESERVERS",
            &format!("[\"{}\"]", w["WORLD_DNS"]),
        )
        .env("HERALD__DNS__URI_BLOCKLISTS", "[\"uribl.test\"]")
        .env(
            "HERALD__HTTP__PUBLIC_URL",
            "https://links.world-sender.test",
        );
    let csv = tmp.path().join("c.csv");
    std::fs::write(&csv, "email\nann@inbox.test\n").unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "l"]);
    let id = common::draft(
        &h,
        tmp.path(),
        "l",
        "u",
        "News",
        "<p><a href=\"https://www.spammy-shop.test/offer?id=1\">Offer</a></p>\
         <img src=\"https://cdn.clean-shop.test/a.png\" alt=\"a\">\
         <p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>",
    );
    assert_eq!(id, "1");
    let check = |h: &Herald| -> serde_json::Value {
        let out = h.run(&["campaign", "check", "1", "--json"]);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let c = check(&h);
    let listed: Vec<&serde_json::Value> = c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "uri_blocklisted")
        .collect();
    assert_eq!(listed.len(), 1, "{c:#}");
    assert_eq!(listed[0]["severity"], "problem");
    let text = listed[0]["text"].as_str().unwrap();
    assert!(
        text.contains(
            "www.spammy-shop.test (spammy-shop.test), which uribl.test lists (127.0.1.2)"
        ),
        "{text}"
    );
    assert!(!codes(&c).contains(&"uri_blocklists_clean".to_string()));

    // The link gone: three hosts checked (the image, the tracking host, nothing else), clean.
    let html = tmp.path().join("b.html");
    std::fs::write(
        &html,
        "<p><a href=\"https://shop.clean-shop.test/\">Shop</a></p>\
         <img src=\"https://cdn.clean-shop.test/a.png\" alt=\"a\">\
         <p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>",
    )
    .unwrap();
    h.ok(&["campaign", "edit", "1", "--html", html.to_str().unwrap()]);
    let c = check(&h);
    let clean = c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "uri_blocklists_clean")
        .unwrap_or_else(|| panic!("{c:#}"));
    assert!(
        clean["text"]
            .as_str()
            .unwrap()
            .starts_with("3 link and image host(s) checked against uribl.test: none listed"),
        "{clean:#}"
    );
}
