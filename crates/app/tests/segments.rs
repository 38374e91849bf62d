//! Segments through the real binary on the configured backend: rules over fields, lists and
//! human engagement (a person's open counts, a machine's does not), counts before sending, and
//! a campaign narrowed by one segment and minus another, the snapshot recording the excluded.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::{Herald, free_port, http, recipient, wait_for};

fn create(h: &Herald, tmp: &std::path::Path, name: &str) -> String {
    common::draft(
        h,
        tmp,
        "news",
        name,
        name,
        "<p>Hello {{ contact.first_name }}</p>",
    )
}

#[test]
fn segments_count_people_and_narrow_a_campaign_minus_an_exclusion() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let h = Herald::new(&data)
        .web_only(port)
        .env("HERALD__DNS__NAMESERVERS", "[\"127.0.0.1:9\"]")
        .env("HERALD__DNS__TIMEOUT", "1s")
        // An open at once is taken for a prefetch: the test opens at once.
        .env("HERALD__TRACKING__MIN_OPEN_DELAY", "0s");
    let csv = tmp.path().join("c.csv");
    std::fs::write(
        &csv,
        "email,first_name,city\nann@a.invalid,Ann,Berlin\nbob@b.invalid,Bob,berlin\ncy@c.invalid,Cy,Paris\ndee@d.invalid,Dee,Berlin\n",
    )
    .unwrap();
    h.ok(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "news",
    ]);
    std::fs::write(&csv, "email\ndee@d.invalid\n").unwrap();
    h.ok(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "Press",
    ]);
    let _serve = common::serve_sandbox(&h, port);

    let first = create(&h, tmp.path(), "First");
    h.sent(&first, "60s");
    // Ann opens it herself; Bob's copy is fetched by a machine (no user agent).
    common::open_copy(
        &data,
        port,
        "ann@a.invalid",
        "First",
        Some("Mozilla/5.0 (Macintosh) Thunderbird/128.0"),
    );
    common::open_copy(&data, port, "bob@b.invalid", "First", None);
    wait_for("both opens to be recorded", Duration::from_secs(20), || {
        let n = |e: &str| {
            h.json(&["contacts", "show", e, "--json"])["deliveries"][0]["events"]
                .as_array()
                .map_or(0, Vec::len)
        };
        (n("ann@a.invalid") > 0 && n("bob@b.invalid") > 0).then_some(())
    });

    // Counts before anything is saved; the field compares without case.
    let count =
        |rule: &str| h.json(&["segments", "count", "--rule", rule, "--json"])["count"].clone();
    assert_eq!(count(r#"field city = "BERLIN""#), 3);
    assert_eq!(
        count(r#"field city = "berlin" and opened by a person within 90d"#),
        1
    );
    assert_eq!(
        count("opened within 1d"),
        1,
        "a machine's open is not a person's"
    );
    assert_eq!(count("never engaged"), 3);
    assert_eq!(count(r#"list "Press" or field city contains "ari""#), 2);
    assert_eq!(count("delivered within 7d and not bounced"), 4);
    assert_eq!(count("clicked by a person within 30d"), 0);
    let c = h.json(&[
        "segments",
        "count",
        "--rule",
        r#"field city = "berlin" and opened within 90d"#,
        "--json",
    ]);
    assert_eq!(c["sample"], serde_json::json!(["ann@a.invalid"]), "{c:#}");

    let s = h.json(&[
        "segments",
        "create",
        "Berliners",
        "--rule",
        r#"field city = "Berlin""#,
        "--json",
    ]);
    assert_eq!(s["count"], 3, "{s:#}");
    h.ok(&[
        "segments",
        "create",
        "Press people",
        "--rule",
        r#"list "Press""#,
    ]);
    let all = h.json(&["segments", "list", "--json"]);
    assert_eq!(all["segments"].as_array().map(Vec::len), Some(2), "{all:#}");

    // The API counts the same, and names the column of a rule that does not parse.
    common::add_user(&h, "admin@x.invalid", "admin");
    let auth = common::bearer(&h, "admin@x.invalid");
    let post = |path: &str, body: &str| {
        http(
            port,
            "POST",
            path,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            Some(body),
        )
    };
    let r = post("/api/v1/segments/count", r#"{"rule": "never engaged"}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"count\":3"), "{}", r.body);
    let r = post(
        "/api/v1/segments/count",
        r#"{"rule": "opened within soon"}"#,
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("column 15"), "{}", r.body);

    // Bad input names the problem and saves nothing.
    for (args, says) in [
        (
            vec!["segments", "create", "X", "--rule", "opened within soon"],
            "column 15",
        ),
        (
            vec!["segments", "create", "X", "--rule", r#"list "Nope""#],
            "no list \"Nope\"",
        ),
        (
            vec!["segments", "create", "Berliners", "--rule", "bounced"],
            "exists already",
        ),
        (
            vec!["segments", "count", "--rule", "field city ="],
            "column",
        ),
    ] {
        let out = h.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(
        h.json(&["segments", "list", "--json"])["segments"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // The next campaign: Berliners minus the press.
    let next = create(&h, tmp.path(), "Next");
    let a = h.json(&[
        "campaign",
        "audience",
        &next,
        "--segment",
        "Berliners",
        "--exclude",
        "Press people",
        "--json",
    ]);
    assert_eq!(
        (&a["recipients"], &a["excluded"]),
        (&serde_json::json!(2), &serde_json::json!(1)),
        "{a:#}"
    );
    // Changing the saved segment later does not change what the campaign was given.
    h.ok(&[
        "segments",
        "update",
        "Berliners",
        "--rule",
        r#"field city = "Paris""#,
    ]);
    let report = h.sent(&next, "60s");
    assert_eq!(recipient(&report, "ann@a.invalid")["state"], "delivered");
    assert_eq!(recipient(&report, "bob@b.invalid")["state"], "delivered");
    let dee = recipient(&report, "dee@d.invalid");
    assert_eq!(
        (&dee["state"], &dee["reason"]),
        (
            &serde_json::json!("not_sent"),
            &serde_json::json!("excluded")
        )
    );
    assert!(
        report["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["email"] != "cy@c.invalid"),
        "outside the segment, not in the audience: {report:#}"
    );
    // Its audience is fixed once sent.
    let out = h.run(&["campaign", "audience", &next, "--no-segment"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fixed"));
    // A copy goes to the same people.
    let copy = h.json(&["campaign", "duplicate", &next, "--json"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let a = h.json(&["campaign", "audience", &copy, "--json"]);
    assert_eq!(
        (&a["segment"], &a["exclude"], &a["recipients"]),
        (
            &serde_json::json!("Berliners"),
            &serde_json::json!("Press people"),
            &serde_json::json!(2)
        ),
        "{a:#}"
    );
    // A list renamed under an exclusion would keep nobody out: the start is refused, naming it.
    h.ok(&["lists", "update", "Press", "--rename", "Media"]);
    let out = h.run(&["campaign", "send", &copy]);
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Press people") && err.contains("no list"),
        "{err}"
    );
    let shown = h.json(&["campaign", "show", &copy, "--json"]);
    assert_eq!(
        shown["counts"]["delivered"].as_u64().unwrap_or(0),
        0,
        "{shown:#}"
    );
    // Values outside ASCII match as written, on both databases.
    std::fs::write(
        &csv,
        "email,city
eli@e.invalid,Łódź
",
    )
    .unwrap();
    h.ok(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "news",
    ]);
    assert_eq!(count(r#"field city = "Łódź""#), 1);
    assert_eq!(count(r#"field city != "Łódź" and field city exists"#), 4);
    h.ok(&["segments", "delete", "Press people"]);
    assert_eq!(
        h.run(&["segments", "delete", "Press people"]).status.code(),
        Some(2)
    );
}

/// The web UI: a rule tried on the Segments page shows its count (or the column where it stops
/// parsing), saved by an admin (a viewer is refused), and a draft's page narrows its audience.
#[test]
fn the_segments_page_counts_saves_and_a_campaign_page_sets_the_audience() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let h = Herald::new(&data)
        .web_only(port)
        .env("HERALD__DNS__NAMESERVERS", "[\"127.0.0.1:9\"]")
        .env("HERALD__DNS__TIMEOUT", "1s");
    let csv = tmp.path().join("c.csv");
    std::fs::write(
        &csv,
        "email,first_name,city\nann@a.invalid,Ann,Berlin\nbob@b.invalid,Bob,Berlin\ncy@c.invalid,Cy,Paris\n",
    )
    .unwrap();
    h.ok(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "news",
    ]);
    let id = create(&h, tmp.path(), "Draft");
    common::add_user(&h, "admin@x.invalid", "admin");
    common::add_user(&h, "viewer@x.invalid", "viewer");
    let _serve = common::serve_sandbox(&h, port);
    let admin = common::session_cookie(port, "admin@x.invalid");
    let viewer = common::session_cookie(port, "viewer@x.invalid");
    let get = |cookie: &str, path: &str| http(port, "GET", path, &[("Cookie", cookie)], None);
    let post = |cookie: &str, path: &str, body: &str| {
        http(
            port,
            "POST",
            path,
            &[
                ("Cookie", cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            Some(body),
        )
    };

    let r = get(
        &admin,
        "/segments?rule=field+city+%3D+%22berlin%22&name=Berliners",
    );
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("<strong>2</strong> contacts now"),
        "{}",
        r.body
    );
    assert!(r.body.contains("ann@a.invalid"), "{}", r.body);
    let r = get(&admin, "/segments?rule=opened+within+soon");
    assert!(r.body.contains("column 15"), "{}", r.body);
    assert!(!r.body.contains("save-form"), "nothing to save");

    let csrf = common::hidden(&get(&viewer, "/segments").body, "csrf");
    let r = post(
        &viewer,
        "/segments",
        &format!("csrf={csrf}&name=X&rule=bounced"),
    );
    assert_eq!(r.status, 403, "a viewer cannot save");
    let csrf = common::hidden(&get(&admin, "/segments").body, "csrf");
    let r = post(
        &admin,
        "/segments",
        &format!("csrf={csrf}&name=Berliners&rule=field+city+%3D+%22berlin%22"),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let page = get(&admin, r.header("location").unwrap());
    let notice = page.body.split("id=\"notice\">").nth(1).unwrap_or_default();
    assert!(
        notice.contains("Berliners") && notice.contains(": 2 contacts now."),
        "{}",
        page.body
    );
    assert!(page.body.contains("<td>Berliners</td>"), "{}", page.body);
    // A refusal keeps what was typed.
    let r = post(
        &admin,
        "/segments",
        &format!("csrf={csrf}&name=Again&rule=field+city+%3D"),
    );
    assert_eq!(r.status, 422);
    assert!(r.body.contains("column"), "{}", r.body);

    let page = get(&admin, &format!("/campaigns/{id}"));
    assert!(
        page.body.contains("audience-form") && page.body.contains(">Berliners</option>"),
        "{}",
        page.body
    );
    let r = post(
        &admin,
        &format!("/campaigns/{id}/audience"),
        &format!("csrf={csrf}&segment=Berliners&exclude="),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let page = get(&admin, r.header("location").unwrap());
    assert!(page.body.contains("2 recipients now"), "{}", page.body);
    assert!(page.body.contains("id=\"audience\""), "{}", page.body);
    let a = h.json(&["campaign", "audience", &id, "--json"]);
    assert_eq!(
        (&a["segment"], &a["recipients"]),
        (&serde_json::json!("Berliners"), &serde_json::json!(2)),
        "{a:#}"
    );

    // Another list: the page offers it, and ticking it adds its Berliners (each person once).
    std::fs::write(
        &csv,
        "email,first_name,city\nann@a.invalid,Ann,Berlin\ndan@d.invalid,Dan,Berlin\n",
    )
    .unwrap();
    h.ok(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "friends",
    ]);
    let page = get(&admin, &format!("/campaigns/{id}"));
    assert!(
        page.body.contains("name=\"also\" value=\"friends\"")
            && !page.body.contains("name=\"also\" value=\"news\""),
        "{}",
        page.body
    );
    let r = post(
        &admin,
        &format!("/campaigns/{id}/audience"),
        &format!("csrf={csrf}&lists_shown=1&also=friends&segment=Berliners&exclude="),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let page = get(&admin, r.header("location").unwrap());
    assert!(page.body.contains("3 recipients now"), "{}", page.body);
    assert!(
        page.body
            .contains("the lists “news”, “friends” (each person once)"),
        "{}",
        page.body
    );
    let a = h.json(&["campaign", "audience", &id, "--json"]);
    assert_eq!(a["also_lists"], serde_json::json!(["friends"]), "{a:#}");
}

/// A campaign to several lists minus another: each person once, with their best standing on
/// those lists; an excluded list's members recorded `not_sent: excluded`; lists checked as the
/// campaign's own list is (the templates must render for their members); a list-only
/// unsubscribe leaves every list the message went to; the API does the same.
#[test]
fn a_campaign_to_several_lists_minus_another_reaches_each_person_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let h = Herald::new(&data)
        .web_only(port)
        .env("HERALD__DNS__NAMESERVERS", "[\"127.0.0.1:9\"]")
        .env("HERALD__DNS__TIMEOUT", "1s")
        .env("HERALD__LISTS__UNSUBSCRIBE", "list");
    let csv = tmp.path().join("c.csv");
    for (list, rows) in [
        (
            "news",
            "email,first_name\nann@a.invalid,Ann\nbob@b.invalid,Bob\ncy@c.invalid,Cy\n",
        ),
        (
            "customers",
            "email,first_name\nbob@b.invalid,Bob\ndee@d.invalid,Dee\neve@e.invalid,Eve\n",
        ),
        ("Press", "email,first_name\ndee@d.invalid,Dee\n"),
        // Gus has no name: a campaign greeting by name cannot be rendered for him.
        ("partners", "email\ngus@g.invalid\n"),
    ] {
        std::fs::write(&csv, rows).unwrap();
        h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", list]);
    }
    // Bob left news but is on customers; Eve left customers, her only list.
    h.ok(&["contacts", "remove", "bob@b.invalid", "--list", "news"]);
    h.ok(&["contacts", "remove", "eve@e.invalid", "--list", "customers"]);
    let _serve = common::serve_sandbox(&h, port);

    // Refusals name the list and leave no draft behind.
    let html = tmp.path().join("m.html");
    std::fs::write(&html, "<p>Hello {{ contact.first_name }}</p>").unwrap();
    let create = |name: &str, extra: &[&str]| {
        let mut args = vec![
            "campaign",
            "create",
            "--name",
            name,
            "--list",
            "news",
            "--from",
            "News <news@sender.invalid>",
            "--subject",
            name,
            "--html",
            html.to_str().unwrap(),
            "--allow-unverified",
            "--json",
        ];
        args.extend_from_slice(extra);
        h.run(&args)
    };
    for (extra, says) in [
        (vec!["--also-list", "Nope"], "unknown list \"Nope\""),
        (
            vec!["--also-list", "customers", "--exclude-list", "customers"],
            "both",
        ),
        (vec!["--exclude-list", "news"], "own list"),
        (vec!["--also-list", "partners"], "gus@g.invalid"),
    ] {
        let out = create("Refused", &extra);
        assert_ne!(out.status.code(), Some(0), "{extra:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{extra:?}: {err}");
    }
    let drafts = h.json(&["campaign", "list", "--json"]);
    assert_eq!(
        drafts["campaigns"].as_array().map(Vec::len),
        Some(0),
        "{drafts:#}"
    );

    let out = create(
        "Both",
        &["--also-list", "customers", "--exclude-list", "Press"],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let id = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let a = h.json(&["campaign", "audience", &id, "--json"]);
    assert_eq!(a["also_lists"], serde_json::json!(["customers"]), "{a:#}");
    assert_eq!(a["exclude_lists"], serde_json::json!(["Press"]), "{a:#}");
    // Ann, Cy (news), Bob (customers); Dee kept out.
    assert_eq!(
        (&a["recipients"], &a["excluded"]),
        (&serde_json::json!(3), &serde_json::json!(1)),
        "{a:#}"
    );
    // A list a campaign uses is part of its record.
    let out = h.run(&["lists", "delete", "customers"]);
    assert_ne!(out.status.code(), Some(0));
    // Its own list cannot become one it keeps out.
    let out = h.run(&["campaign", "edit", &id, "--list", "Press"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("keeps out"),
        "{out:?}"
    );

    let report = h.sent(&id, "60s");
    let rows = report["recipients"].as_array().unwrap();
    assert_eq!(rows.len(), 5, "each person once: {report:#}");
    for who in ["ann@a.invalid", "bob@b.invalid", "cy@c.invalid"] {
        assert_eq!(recipient(&report, who)["state"], "delivered", "{who}");
    }
    let state = |who: &str| {
        let r = recipient(&report, who);
        (r["state"].clone(), r["reason"].clone())
    };
    assert_eq!(
        state("dee@d.invalid"),
        (serde_json::json!("not_sent"), serde_json::json!("excluded"))
    );
    assert_eq!(
        state("eve@e.invalid"),
        (
            serde_json::json!("not_sent"),
            serde_json::json!("unsubscribed")
        )
    );
    assert_eq!(
        report["campaign"]["also_lists"],
        serde_json::json!(["customers"])
    );

    // Bob's one-click unsubscribe (lists-only setting) leaves both lists the message went to.
    let raw = common::captured(&data, "bob@b.invalid", "Both");
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let unsub = msg
        .header_raw("List-Unsubscribe")
        .unwrap()
        .split(['<', '>'])
        .find(|p| p.starts_with("http"))
        .unwrap()
        .to_string();
    let path = unsub
        .strip_prefix(&format!("http://127.0.0.1:{port}"))
        .unwrap()
        .to_string();
    let r = http(
        port,
        "POST",
        &path,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some("List-Unsubscribe=One-Click"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let bob = h.json(&["contacts", "show", "bob@b.invalid", "--json"]);
    let standing = bob.to_string();
    assert!(
        !standing.contains("\"subscribed\""),
        "Bob is subscribed nowhere: {bob:#}"
    );

    // The API: a draft to news and customers minus Press, then partners refused (Gus has no
    // name) with the audience unchanged.
    common::add_user(&h, "admin@x.invalid", "admin");
    let auth = common::bearer(&h, "admin@x.invalid");
    let send = |method: &str, path: &str, body: &str| {
        http(
            port,
            method,
            path,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            Some(body),
        )
    };
    let body = |extra: &str| {
        format!(
            r#"{{"name": "Api", "list": "news", "from": "News <news@sender.invalid>", "subject": "Api", "html": "<p>Hi {{{{ contact.first_name }}}}</p>", "allow_unverified": true{extra}}}"#
        )
    };
    let r = send(
        "POST",
        "/api/v1/campaigns",
        &body(r#", "also_lists": ["Nope"]"#),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Nope"), "{}", r.body);
    let r = send(
        "POST",
        "/api/v1/campaigns",
        &body(r#", "also_lists": ["customers"], "exclude_lists": ["Press"]"#),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let api_id = serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let a = h.json(&["campaign", "audience", &api_id, "--json"]);
    assert_eq!(a["also_lists"], serde_json::json!(["customers"]), "{a:#}");
    let audience = format!("/api/v1/campaigns/{api_id}/audience");
    let r = send(
        "PUT",
        &audience,
        r#"{"also_lists": ["customers", "partners"]}"#,
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("gus@g.invalid"), "{}", r.body);
    let r = send(
        "PUT",
        &audience,
        r#"{"also_lists": [], "exclude_lists": []}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let a: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        (&a["also_lists"], &a["exclude_lists"], &a["recipients"]),
        (
            &serde_json::json!([]),
            &serde_json::json!([]),
            &serde_json::json!(2)
        ),
        "news alone: Ann and Cy (Bob left it): {a:#}"
    );
    // A copy of the first campaign goes to the same lists.
    let copy = h.json(&["campaign", "duplicate", &id, "--json"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let a = h.json(&["campaign", "audience", &copy, "--json"]);
    assert_eq!(
        (&a["also_lists"], &a["exclude_lists"]),
        (
            &serde_json::json!(["customers"]),
            &serde_json::json!(["Press"])
        ),
        "{a:#}"
    );
}
