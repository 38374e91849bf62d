//! Drafts, day to day: `campaign list`, `edit`, `duplicate` and `delete`, and that a campaign
//! whose send started can no longer be changed or deleted (issue 19, item 1).

mod common;

use common::Herald;

#[test]
fn drafts_are_edited_duplicated_and_deleted_until_they_are_sent() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data")).env("HERALD__DELIVERY__SANDBOX", "true");
    let fails = |args: &[&str]| {
        let out = h.run(args);
        assert_eq!(out.status.code(), Some(2), "herald {args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let csv = tmp.path().join("c.csv");
    std::fs::write(&csv, "email,first_name\nann@example.com,Ann\n").unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "l"]);
    let html = tmp.path().join("b.html");
    std::fs::write(&html, "<p>Hi {{ contact.first_name }}</p>").unwrap();
    h.ok(&[
        "campaign",
        "create",
        "--name",
        "Nov",
        "--list",
        "l",
        "--from",
        "Ann <ann@example.com>",
        "--subject",
        "Hi {{ contact.first_name }}",
        "--html",
        html.to_str().unwrap(),
        "--allow-unverified",
    ]);
    let listed = h.json(&["campaign", "list", "--json"]);
    assert_eq!(listed["campaigns"][0]["campaign"]["status"], "draft");
    let before = h.json(&["campaign", "show", "1", "--json"]);

    // Edit: what is given changes, the rest stays; the checks of creation apply.
    h.ok(&[
        "campaign",
        "edit",
        "1",
        "--name",
        "Nov v2",
        "--subject",
        "Hello {{ contact.first_name }}",
    ]);
    let shown = h.json(&["campaign", "show", "1", "--json"]);
    assert_eq!(
        (shown["name"].as_str(), shown["subject"].as_str()),
        (Some("Nov v2"), Some("Hello {{ contact.first_name }}")),
        "{shown:#}"
    );
    assert_eq!(
        (&shown["from"], &shown["list"], &shown["gate_override"]),
        (&before["from"], &before["list"], &before["gate_override"]),
        "what was not given stays"
    );
    let broken = tmp.path().join("broken.html");
    std::fs::write(&broken, "<p>{{ contact.nickname }}</p>").unwrap();
    let err = fails(&["campaign", "edit", "1", "--html", broken.to_str().unwrap()]);
    assert!(err.contains("ann@example.com"), "names the contact: {err}");
    let err = fails(&["campaign", "edit", "1", "--list", "nope"]);
    assert!(err.contains("unknown list \"nope\""), "{err}");
    let err = fails(&["campaign", "edit", "1", "--reply-to", "Desk <desk@>"]);
    assert!(err.contains("--reply-to \"Desk <desk@>\""), "{err}");
    let shown = h.json(&["campaign", "show", "1", "--json"]);
    assert_eq!(shown["name"], "Nov v2", "a refused edit changes nothing");
    assert_eq!(shown["reply_to"], serde_json::Value::Null);
    // Reply-To is set by an edit, kept by a duplicate, removed by an empty value.
    h.ok(&["campaign", "edit", "1", "--reply-to", "desk@example.com"]);
    assert_eq!(
        h.json(&["campaign", "show", "1", "--json"])["reply_to"],
        "desk@example.com"
    );

    // Duplicate and delete a draft.
    let copy = h.json(&["campaign", "duplicate", "1", "--json"]);
    let copy_id = copy["id"].as_str().unwrap().to_string();
    let shown = h.json(&["campaign", "show", &copy_id, "--json"]);
    assert_eq!(shown["reply_to"], "desk@example.com", "{shown:#}");
    h.ok(&["campaign", "edit", "1", "--reply-to", ""]);
    assert_eq!(
        h.json(&["campaign", "show", "1", "--json"])["reply_to"],
        serde_json::Value::Null
    );
    assert_eq!(
        (shown["name"].as_str(), shown["subject"].as_str()),
        (
            Some("Nov v2 (copy)"),
            Some("Hello {{ contact.first_name }}")
        ),
        "{shown:#}"
    );
    h.ok(&["campaign", "delete", &copy_id]);
    let err = fails(&["campaign", "show", &copy_id]);
    assert!(
        err.contains(&format!("unknown campaign {copy_id}")),
        "{err}"
    );

    // Once sent, a campaign is the record of what happened: no edit, no delete.
    let report = h.json(&["campaign", "send", "1", "--wait", "--json"]);
    assert_eq!(report["counts"]["delivered"], 1, "{report:#}");
    let err = fails(&["campaign", "edit", "1", "--subject", "Changed"]);
    assert!(err.contains("only a draft can be changed"), "{err}");
    let err = fails(&["campaign", "delete", "1"]);
    assert!(err.contains("only a draft can be deleted"), "{err}");
    let sent = h.json(&["campaign", "list", "--status", "sent", "--json"]);
    assert_eq!(sent["campaigns"].as_array().unwrap().len(), 1, "{sent:#}");
    assert_eq!(
        sent["campaigns"][0]["campaign"]["subject"],
        "Hello {{ contact.first_name }}"
    );
    let drafts = h.json(&["campaign", "list", "--status", "draft", "--json"]);
    assert!(
        drafts["campaigns"].as_array().unwrap().is_empty(),
        "{drafts:#}"
    );
    let err = fails(&["campaign", "list", "--status", "done"]);
    assert!(err.contains("--status"), "{err}");
    // A sent campaign can be the start of a new one.
    let again = h.json(&["campaign", "duplicate", "1", "--name", "Dec", "--json"]);
    let shown = h.json(&["campaign", "show", again["id"].as_str().unwrap(), "--json"]);
    assert_eq!(
        (shown["name"].as_str(), shown["status"].as_str()),
        (Some("Dec"), Some("draft"))
    );
}

/// The same operations through the API and the web UI (admin only; a viewer is refused).
#[test]
fn drafts_through_the_api_and_the_ui() {
    let tmp = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let h = Herald::new(&tmp.path().join("data")).web_only(port);
    let pw = tmp.path().join("pw");
    std::fs::write(&pw, "correct horse battery\n").unwrap();
    for (user, role) in [
        ("admin@herald.test", "admin"),
        ("viewer@herald.test", "viewer"),
    ] {
        h.ok(&[
            "user",
            "add",
            user,
            "--password-file",
            pw.to_str().unwrap(),
            "--role",
            role,
        ]);
    }
    let token = h
        .ok(&[
            "token",
            "create",
            "--user",
            "admin@herald.test",
            "--name",
            "t",
        ])
        .trim()
        .to_string();
    let csv = tmp.path().join("c.csv");
    std::fs::write(&csv, "email\nann@example.com\n").unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "l"]);
    let html = tmp.path().join("b.html");
    std::fs::write(&html, "<p>Hi</p>").unwrap();
    h.ok(&[
        "campaign",
        "create",
        "--name",
        "Nov",
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
    let bearer = format!("Bearer {token}");
    let api = |method: &str, path: &str, body: Option<&str>| {
        common::http(
            port,
            method,
            path,
            &[
                ("Authorization", &bearer),
                ("Content-Type", "application/json"),
            ],
            body,
        )
    };

    let r = api(
        "POST",
        "/api/v1/campaigns/1/duplicate",
        Some(r#"{"name": "Copy"}"#),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(id["id"], "2");
    assert_eq!(h.json(&["campaign", "show", "2", "--json"])["name"], "Copy");
    assert_eq!(api("DELETE", "/api/v1/campaigns/2", None).status, 204);
    assert_eq!(api("DELETE", "/api/v1/campaigns/2", None).status, 404);
    // Gone everywhere: not an empty page of recipients.
    assert_eq!(
        api("GET", "/api/v1/campaigns/2/recipients", None).status,
        404
    );
    // A copy of a copy stays within the longest name (200 characters).
    let long = "n".repeat(200);
    let r = api(
        "POST",
        "/api/v1/campaigns/1/duplicate",
        Some(&format!(r#"{{"name": "{long}"}}"#)),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let long_id: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let long_id = long_id["id"].as_str().unwrap().to_string();
    let r = api(
        "POST",
        &format!("/api/v1/campaigns/{long_id}/duplicate"),
        Some("{}"),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let copy: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let name = h.json(&["campaign", "show", copy["id"].as_str().unwrap(), "--json"])["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        name.ends_with(" (copy)") && name.chars().count() == 200,
        "{name}"
    );
    let r = api(
        "POST",
        "/api/v1/campaigns/1/duplicate",
        Some(&format!(r#"{{"name": "{long}x"}}"#)),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    for id in [&long_id, copy["id"].as_str().unwrap()] {
        assert_eq!(
            api("DELETE", &format!("/api/v1/campaigns/{id}"), None).status,
            204
        );
    }
    let (r, bad) = (
        api("GET", "/api/v1/campaigns?status=draft", None),
        api("GET", "/api/v1/campaigns?status=nope", None),
    );
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["campaigns"][0]["campaign"]["id"], "1", "{v:#}");
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(
        api("POST", "/api/v1/campaigns/1/send", Some("")).status,
        202
    );
    let r = api("GET", "/api/v1/campaigns?status=draft", None);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert!(v["campaigns"].as_array().unwrap().is_empty(), "{v:#}");
    let r = api("DELETE", "/api/v1/campaigns/1", None);
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("only a draft can be deleted"), "{}", r.body);

    // The UI: a viewer may look but not duplicate; an admin duplicates, then deletes the copy.
    let post = |cookie: &str, path: &str| {
        let page = common::http(port, "GET", "/campaigns/1", &[("Cookie", cookie)], None);
        let csrf = common::hidden(&page.body, "csrf");
        common::http(
            port,
            "POST",
            path,
            &[
                ("Cookie", cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            Some(&format!("csrf={csrf}")),
        )
    };
    let viewer = common::session_cookie(port, "viewer@herald.test");
    let page = common::http(port, "GET", "/campaigns/1", &[("Cookie", &viewer)], None);
    assert!(
        !page.body.contains("id=\"duplicate-form\""),
        "no buttons a viewer may not use"
    );
    assert_eq!(post(&viewer, "/campaigns/1/duplicate").status, 403);
    let admin = common::session_cookie(port, "admin@herald.test");
    let page = common::http(port, "GET", "/campaigns/1", &[("Cookie", &admin)], None);
    assert!(
        page.body.contains("id=\"duplicate-form\""),
        "sent: duplicate only"
    );
    assert!(!page.body.contains("id=\"delete-form\""), "sent: no delete");
    let r = post(&admin, "/campaigns/1/duplicate");
    assert_eq!(r.status, 303, "{}", r.body);
    let to = r
        .headers
        .iter()
        .find(|(k, _)| k == "location")
        .unwrap()
        .1
        .clone();
    // The copy's page (its id: SQLite gives a deleted draft's id to the next campaign).
    let copy = to
        .strip_prefix("/campaigns/")
        .and_then(|t| t.split_once("?flash="))
        .map(|(id, _)| id.to_string())
        .unwrap_or_else(|| panic!("{to}"));
    assert_ne!(copy, "1");
    let page = common::http(port, "GET", &to, &[("Cookie", &admin)], None);
    assert!(page.body.contains("A copy of campaign 1"), "{}", page.body);
    assert!(
        page.body.contains("id=\"delete-form\""),
        "a draft can be deleted"
    );
    // The campaigns page filters by status.
    let drafts = common::http(port, "GET", "/?status=draft", &[("Cookie", &admin)], None);
    assert!(
        drafts.body.contains(&format!("href=\"/campaigns/{copy}\""))
            && !drafts.body.contains("href=\"/campaigns/1\""),
        "{}",
        drafts.body
    );
    let all = common::http(port, "GET", "/", &[("Cookie", &admin)], None);
    assert!(all.body.contains("href=\"/campaigns/1\""), "{}", all.body);

    // Edit in the UI: the compose page with the draft's content; a refused change keeps what
    // was typed and changes nothing; a good one is saved.
    let page = common::http(
        port,
        "GET",
        &format!("/campaigns/{copy}/edit"),
        &[("Cookie", &admin)],
        None,
    );
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains(&format!("action=\"/campaigns/{copy}/edit\""))
            && page.body.contains("value=\"Nov (copy)\""),
        "{}",
        page.body
    );
    let sent_edit = common::http(
        port,
        "GET",
        "/campaigns/1/edit",
        &[("Cookie", &admin)],
        None,
    );
    assert_eq!(sent_edit.status, 409, "a sent campaign is not edited");
    let csrf = common::hidden(&page.body, "csrf");
    let save = |cookie: &str, form: &str| {
        common::http(
            port,
            "POST",
            &format!("/campaigns/{copy}/edit"),
            &[
                ("Cookie", cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            Some(&format!(
                "csrf={csrf}&name=Nov+edited&list=l&from=ann%40example.com&allow_unverified=1{form}"
            )),
        )
    };
    let r = save(
        &admin,
        "&subject=Hi&html=%3Cp%3E%7B%7B+contact.nickname+%7D%7D%3C%2Fp%3E",
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("ann@example.com") && r.body.contains("Nov edited"),
        "{}",
        r.body
    );
    let r = save(
        &admin,
        "&subject=Edited+in+the+UI&reply_to=desk%40example.com&html=%3Cp%3EHi%3C%2Fp%3E",
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let shown = h.json(&["campaign", "show", &copy, "--json"]);
    assert_eq!(
        (
            shown["name"].as_str(),
            shown["subject"].as_str(),
            shown["reply_to"].as_str()
        ),
        (
            Some("Nov edited"),
            Some("Edited in the UI"),
            Some("desk@example.com")
        ),
        "{shown:#}"
    );
    assert_eq!(save(&viewer, "&subject=x&html=x").status, 403);

    // Edit through the API: 204; what is wrong is a 422 naming it; a sent campaign is a 409.
    let r = api(
        "PATCH",
        &format!("/api/v1/campaigns/{copy}"),
        Some(r#"{"subject": "Edited by the API", "reply_to": ""}"#),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let shown = h.json(&["campaign", "show", &copy, "--json"]);
    assert_eq!(shown["subject"], "Edited by the API");
    assert_eq!(shown["reply_to"], serde_json::Value::Null);
    assert_eq!(shown["name"], "Nov edited", "what is not given stays");
    let r = api(
        "PATCH",
        &format!("/api/v1/campaigns/{copy}"),
        Some(r#"{"list": "nope"}"#),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("unknown list"), "{}", r.body);
    let r = api("PATCH", "/api/v1/campaigns/1", Some(r#"{"subject": "x"}"#));
    assert_eq!(r.status, 409, "{}", r.body);
    let r = api(
        "PATCH",
        "/api/v1/campaigns/999",
        Some(r#"{"subject": "x"}"#),
    );
    assert_eq!(r.status, 404, "{}", r.body);
    let r = post(&admin, &format!("/campaigns/{copy}/delete"));
    assert_eq!(r.status, 303, "{}", r.body);
    let to = r
        .headers
        .iter()
        .find(|(k, _)| k == "location")
        .unwrap()
        .1
        .clone();
    let page = common::http(port, "GET", &to, &[("Cookie", &admin)], None);
    assert!(
        page.body.contains(&format!("Deleted draft {copy}.")),
        "{}",
        page.body
    );
    let r = post(&admin, "/campaigns/1/delete");
    assert_eq!(r.status, 303);
    let to = r
        .headers
        .iter()
        .find(|(k, _)| k == "location")
        .unwrap()
        .1
        .clone();
    assert!(
        to.starts_with("/campaigns/1?flash="),
        "refused, back on its page: {to}"
    );
    assert!(
        h.run(&["campaign", "show", "3"]).status.code() == Some(2),
        "deleted"
    );
}

/// MJML as the body: `campaign create --mjml FILE` and the API's `"format": "mjml"` render it to
/// responsive HTML when the campaign is saved (template tags kept, personalised when sent); a
/// mistake is refused naming the file and line (CLI) or the line (API, 422), creating nothing.
#[test]
fn a_campaign_written_in_mjml_is_rendered_to_responsive_html() {
    let tmp = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let h = Herald::new(&tmp.path().join("data")).web_only(port);
    let csv = tmp.path().join("c.csv");
    std::fs::write(&csv, "email,first_name\nann@example.com,Ann\n").unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "l"]);
    let good = "<mjml><mj-body><mj-section><mj-column>\n\
                <mj-text>Hello {{ contact.first_name }}</mj-text>\n\
                <mj-button href=\"{{ unsubscribe_url }}\">Unsubscribe</mj-button>\n\
                </mj-column></mj-section></mj-body></mjml>\n";
    let bad = "<mjml>\n<mj-body>\n<mj-section>\n<mj-column =\"x\">\n</mj-column></mj-section></mj-body>\n</mjml>\n";
    let file = |name: &str, body: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.to_str().unwrap().to_string()
    };
    let (good_file, bad_file) = (file("good.mjml", good), file("bad.mjml", bad));
    let create = |mjml: &str| {
        h.run(&[
            "campaign",
            "create",
            "--name",
            "M",
            "--list",
            "l",
            "--from",
            "news@example.com",
            "--subject",
            "Hi",
            "--mjml",
            mjml,
            "--allow-unverified",
            "--json",
        ])
    };
    let out = create(&bad_file);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.mjml") && err.contains("line 4"), "{err}");
    let listed = h.json(&["campaign", "list", "--json"]);
    assert_eq!(listed["campaigns"].as_array().map(Vec::len), Some(0));

    let out = create(&good_file);
    assert!(out.status.success(), "{out:?}");
    let id = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let _serve = common::serve_sandbox(&h, port);
    h.ok(&["campaign", "send", &id, "--wait"]);
    let raw = common::captured(&h.data_dir, "ann@example.com", "Hi");
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let html = msg.body_html(0).unwrap().into_owned();
    assert!(
        html.contains("Hello Ann") && html.contains("@media"),
        "{html}"
    );
    assert!(
        html.contains("/u/"),
        "the MJML button is the unsubscribe link: {html}"
    );

    // The API: the same document, and a mistake named by its line.
    h.ok(&[
        "user",
        "add",
        "admin@herald.test",
        "--password-file",
        &file("pw", "correct horse battery\n"),
    ]);
    let bearer = common::bearer(&h, "admin@herald.test");
    let post = |mjml: &str| {
        let body = serde_json::json!({
            "name": "API", "list": "l", "from": "news@example.com", "subject": "Hi",
            "html": mjml, "format": "mjml", "allow_unverified": true,
        })
        .to_string();
        common::http(
            port,
            "POST",
            "/api/v1/campaigns",
            &[
                ("Authorization", &bearer),
                ("Content-Type", "application/json"),
            ],
            Some(&body),
        )
    };
    let refused = post(bad);
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("line 4"), "{}", refused.body);
    let created = post(good);
    assert_eq!(created.status, 201, "{}", created.body);
    let id: serde_json::Value = serde_json::from_str(&created.body).unwrap();
    let path = format!("/api/v1/campaigns/{}", id["id"].as_str().unwrap());
    let patch = |body: serde_json::Value| {
        common::http(
            port,
            "PATCH",
            &path,
            &[
                ("Authorization", &bearer),
                ("Content-Type", "application/json"),
            ],
            Some(&body.to_string()),
        )
    };
    let edited = patch(serde_json::json!({"html": good, "format": "mjml"}));
    assert_eq!(edited.status, 204, "{}", edited.body);
    let bad_edit = patch(serde_json::json!({"html": bad, "format": "mjml"}));
    assert_eq!(bad_edit.status, 422, "{}", bad_edit.body);
    assert!(bad_edit.body.contains("line 4"), "{}", bad_edit.body);
    let no_body = patch(serde_json::json!({"format": "mjml"}));
    assert_eq!(no_body.status, 422, "{}", no_body.body);
}
