//! Saved templates (issue 19): saved from the CLI, the API and the Templates page; a layout's
//! `{{ content }}` takes a campaign's own content when it is made (`campaign create --template`,
//! the API's `template`, `/campaigns/new?template=`); a whole message is sent as it is; a
//! template that does not compile is refused naming it; changing a template later leaves the
//! campaigns made from it alone.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{Herald, free_port, hidden, http};

#[test]
fn templates_are_saved_and_campaigns_start_from_them() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = Herald::new(&tmp.path().join("data")).web_only(port);
    common::add_user(&h, "admin@herald.test", "admin");
    common::add_user(&h, "viewer@herald.test", "viewer");
    let admin = common::bearer(&h, "admin@herald.test");
    let viewer = common::bearer(&h, "viewer@herald.test");
    let csv = tmp.path().join("c.csv");
    std::fs::write(&csv, "email,first_name\nann@people.invalid,Ann\n").unwrap();
    h.ok(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "news",
    ]);
    let file = |name: &str, body: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.to_str().unwrap().to_string()
    };
    let layout = file(
        "layout.html",
        "<div class=\"frame\"><h1>Monthly</h1>{{ content }}<p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p></div>",
    );
    let content = file("content.html", "<p>Hello {{ contact.first_name }}</p>");

    // The CLI: saved, listed, a broken one refused naming it.
    let out = h.ok(&[
        "templates",
        "save",
        "Monthly",
        "--html",
        &layout,
        "--subject",
        "Monthly news",
    ]);
    assert!(out.contains("template Monthly saved"), "{out}");
    let broken = file("broken.html", "<p>{{ contact.first_name </p>");
    let bad = h.run(&["templates", "save", "Broken", "--html", &broken]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("template \"Broken\""));
    let list = h.json(&["templates", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(
        (list[0]["name"].as_str(), list[0]["layout"].as_bool()),
        (Some("Monthly"), Some(true))
    );

    // A campaign from the layout: its content in the slot, the template's subject.
    let create = |extra: &[&str]| {
        let mut args = vec![
            "campaign",
            "create",
            "--name",
            "From a template",
            "--list",
            "news",
            "--from",
            "News <news@sender.invalid>",
            "--allow-unverified",
            "--json",
        ];
        args.extend_from_slice(extra);
        h.run(&args)
    };
    let out = create(&["--template", "Monthly", "--html", &content]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let shown = h.json(&["campaign", "show", &id, "--json"]);
    assert_eq!(shown["subject"], "Monthly news", "{shown}");
    // A layout needs the campaign's content; an unknown template is named.
    let out = create(&["--template", "Monthly"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("it is a layout"));
    let out = create(&["--template", "Nope", "--subject", "s", "--html", &content]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no template \"Nope\""));

    // The API: saved (200, made or replaced), listed in pages, used, deleted.
    let _serve = common::serve_sandbox(&h, port);
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
    let whole = r#"{"subject": "Welcome", "html": "<p>Welcome aboard, {{ contact.first_name | default(\"friend\") }}</p>"}"#;
    assert_eq!(
        call("PUT", "/api/v1/templates/Welcome", &viewer, Some(whole)).status,
        403
    );
    assert_eq!(
        call("PUT", "/api/v1/templates/Welcome", &admin, Some(whole)).status,
        200
    );
    assert_eq!(
        call("PUT", "/api/v1/templates/Welcome", &admin, Some(whole)).status,
        200
    );
    let r = call("GET", "/api/v1/templates?limit=1", &viewer, None);
    let page: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(page["templates"][0]["name"], "Monthly", "{page}");
    assert_eq!(page["next"], "Monthly", "{page}");
    let r = call("GET", "/api/v1/templates/Welcome", &viewer, None);
    assert!(r.body.contains("\"layout\":false"), "{}", r.body);
    // A whole message takes no content of its own.
    let campaign = |extra: &str| {
        format!(
            r#"{{"name": "API", "list": "news", "from": "News <news@sender.invalid>", "allow_unverified": true, "template": "Welcome"{extra}}}"#
        )
    };
    let r = call(
        "POST",
        "/api/v1/campaigns",
        &admin,
        Some(&campaign(r#", "html": "<p>x</p>""#)),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("no {{ content }}"), "{}", r.body);
    let r = call("POST", "/api/v1/campaigns", &admin, Some(&campaign("")));
    assert_eq!(r.status, 201, "{}", r.body);
    let api_id = serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        h.json(&["campaign", "show", &api_id, "--json"])["subject"],
        "Welcome"
    );
    let r = call(
        "POST",
        "/api/v1/campaigns",
        &admin,
        Some(
            r#"{"name": "n", "list": "news", "from": "a@sender.invalid", "allow_unverified": true}"#,
        ),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("subject: required"), "{}", r.body);

    // The Templates page saves one; a new campaign's page starts from it.
    let cookie = common::session_cookie(port, "admin@herald.test");
    let page = http(port, "GET", "/templates", &[("Cookie", &cookie)], None);
    assert!(
        page.body.contains("Monthly") && page.body.contains("Welcome"),
        "{}",
        page.body
    );
    let csrf = hidden(&page.body, "csrf");
    let r = http(
        port,
        "POST",
        "/templates",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(&format!(
            "csrf={csrf}&name=Page&subject=From+the+page&html=%3Cmain%3E%7B%7B+content+%7D%7D%3C%2Fmain%3E"
        )),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let page = http(
        port,
        "GET",
        r.header("location").unwrap(),
        &[("Cookie", &cookie)],
        None,
    );
    assert!(page.body.contains("Template Page saved"), "{}", page.body);
    let page = http(
        port,
        "GET",
        "/campaigns/new?template=Page",
        &[("Cookie", &cookie)],
        None,
    );
    assert!(
        page.body.contains("value=\"From the page\""),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("&#60;main&#62;&#60;p&#62;Hello"),
        "{}",
        page.body
    );

    // Replacing a template leaves the campaigns made from it as they were; deleting it too.
    let other = file("other.html", "<section>{{ content }}</section>");
    h.ok(&["templates", "save", "Monthly", "--html", &other]);
    let before = h.json(&["campaign", "show", &id, "--json"]);
    assert_eq!(before["subject"], "Monthly news");
    assert_eq!(
        call("DELETE", "/api/v1/templates/Monthly", &admin, None).status,
        204
    );
    assert_eq!(
        call("DELETE", "/api/v1/templates/Monthly", &admin, None).status,
        404
    );
    assert!(
        h.json(&["campaign", "report", &id, "--json"])["campaign"]["subject"] == "Monthly news"
    );
}
