//! Contacts and lists by the CLI, the API and a site's server-side sign-up; the benchmark.

use super::*;
use crate::common::{Herald, free_port, http};

#[test]
fn contacts_are_added_shown_edited_taken_off_a_list_and_exported() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data"));
    h.ok(&["lists", "create", "Club"]);
    let added = h.json(&[
        "contacts",
        "add",
        "Ann@X.invalid",
        "--list",
        "Club",
        "--field",
        "first_name=Ann",
        "--json",
    ]);
    assert_eq!(
        (&added["status"], &added["before"]),
        (&serde_json::json!("subscribed"), &serde_json::Value::Null),
        "{added:#}"
    );
    let again = h.json(&[
        "contacts",
        "add",
        "ann@x.invalid",
        "--list",
        "Club",
        "--json",
    ]);
    assert_eq!(again["before"], "subscribed");
    // Bad input names the problem and changes nothing.
    for (args, says) in [
        (
            vec!["contacts", "add", "not-an-address", "--list", "Club"],
            "email",
        ),
        (
            vec![
                "contacts",
                "add",
                "b@x.invalid",
                "--list",
                "Club",
                "--field",
                "noequals",
            ],
            "NAME=VALUE",
        ),
        (
            vec![
                "contacts",
                "add",
                "b@x.invalid",
                "--list",
                "Club",
                "--field",
                "bad name=1",
            ],
            "field name",
        ),
        (
            vec![
                "contacts",
                "add",
                "b@x.invalid",
                "--list",
                "Club",
                "--confirm",
            ],
            "--from",
        ),
        (
            vec!["contacts", "add", "b@x.invalid", "--list", "Nope"],
            "unknown list",
        ),
        (
            vec!["contacts", "edit", "nobody@x.invalid", "--field", "a=1"],
            "no contact",
        ),
    ] {
        let out = h.run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    h.ok(&[
        "contacts",
        "edit",
        "ann@x.invalid",
        "--field",
        "city=Oslo",
        "--unset",
        "first_name",
    ]);
    let shown = h.json(&["contacts", "show", "ann@x.invalid", "--json"]);
    assert_eq!(
        shown["contact"]["fields"],
        serde_json::json!({"city": "Oslo"}),
        "{shown:#}"
    );
    assert_eq!(
        shown["contact"]["memberships"],
        serde_json::json!([{"list": "Club", "status": "subscribed"}])
    );
    assert_eq!(shown["consents"][0]["source"], "cli", "{shown:#}");

    h.ok(&["contacts", "remove", "ann@x.invalid", "--list", "Club"]);
    let shown = h.json(&["contacts", "show", "ann@x.invalid", "--json"]);
    assert_eq!(shown["contact"]["memberships"][0]["status"], "unsubscribed");
    let back = h.run(&["contacts", "add", "ann@x.invalid", "--list", "Club"]);
    assert_eq!(
        back.status.code(),
        Some(2),
        "an operator does not put back someone who left"
    );
    assert!(String::from_utf8_lossy(&back.stderr).contains("left list"));

    let csv = tmp.path().join("c.csv");
    std::fs::write(
        &csv,
        "email,first_name,city\nbob@x.invalid,Bob,\"Rome, Italy\"\ncy@x.invalid,Cy,\n",
    )
    .unwrap();
    h.ok(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "Club",
    ]);
    h.ok(&["suppressions", "add", "cy@x.invalid"]);
    let out = h.run(&["contacts", "export", "--list", "Club"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "email,status,suppressed,consent_source,consent_at,confirmed_at,created_at,city,first_name"
    );
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[1].starts_with("Ann@x.invalid,unsubscribed,,cli,"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("bob@x.invalid,subscribed,,,,,")
            && lines[2].ends_with(",\"Rome, Italy\",Bob"),
        "{text}"
    );
    assert!(
        lines[3].starts_with("cy@x.invalid,subscribed,suppressed,"),
        "{text}"
    );
    let all: serde_json::Value =
        serde_json::from_slice(&h.run(&["contacts", "export", "--json"]).stdout).unwrap();
    assert_eq!(all.as_array().map(Vec::len), Some(3), "{all:#}");
    assert_eq!(all[1]["fields"]["city"], "Rome, Italy");
    assert_eq!(
        all[0]["lists"][0],
        serde_json::json!({"list": "Club", "status": "unsubscribed"})
    );

    // Moving from another tool: its `status` column carries over.
    let moved = tmp.path().join("moved.csv");
    std::fs::write(
        &moved,
        "email,status,first_name\ndee@x.invalid,unsubscribed,Dee\neli@x.invalid,cleaned,Eli\n\
         fay@x.invalid,complained,Fay\ngus@x.invalid,Subscribed,Gus\nhal@x.invalid,weird,Hal\n",
    )
    .unwrap();
    let report = h.json(&[
        "contacts",
        "import",
        moved.to_str().unwrap(),
        "--list",
        "Club",
        "--json",
    ]);
    assert_eq!(
        (
            &report["imported"],
            &report["unsubscribed"],
            &report["suppressed"]
        ),
        (
            &serde_json::json!(4),
            &serde_json::json!(1),
            &serde_json::json!(2)
        ),
        "{report:#}"
    );
    assert_eq!(report["rejected"][0]["line"], 6, "{report:#}");
    assert!(
        report["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("\"status\"")
    );
    let all: serde_json::Value = serde_json::from_slice(
        &h.run(&["contacts", "export", "--list", "Club", "--json"])
            .stdout,
    )
    .unwrap();
    let of = |email: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|c| c["email"] == email)
            .cloned()
            .unwrap_or_else(|| panic!("{email} in {all:#}"))
    };
    assert_eq!(of("dee@x.invalid")["lists"][0]["status"], "unsubscribed");
    assert_eq!(of("eli@x.invalid")["suppressed"], "previously_bounced");
    assert_eq!(of("fay@x.invalid")["suppressed"], "complained");
    assert_eq!(of("gus@x.invalid")["lists"][0]["status"], "subscribed");
    assert_eq!(of("gus@x.invalid")["suppressed"], serde_json::Value::Null);
    assert_eq!(
        of("dee@x.invalid")["fields"],
        serde_json::json!({"first_name": "Dee"})
    );

    // Its consent columns (Mailchimp's names here) become consent records on the list, not
    // fields; a time or an address that is not one rejects its row, naming the column.
    let consented = tmp.path().join("consented.csv");
    std::fs::write(
        &consented,
        "Email Address,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,consent_source,consent_text,first_name
         ivy@x.invalid,2024-05-01 10:00:00,203.0.113.9,2024-05-01T12:05:00+02:00,203.0.113.10,embedded form,Weekly tips from Club,Ivy
         jo@x.invalid,,,,,,,Jo
         kit@x.invalid,last tuesday,,,,,,Kit
         lou@x.invalid,2024-05-01,999.1.1.1,,,,,Lou
",
    )
    .unwrap();
    let report = h.json(&[
        "contacts",
        "import",
        consented.to_str().unwrap(),
        "--list",
        "Club",
        "--json",
    ]);
    assert_eq!(
        (
            &report["imported"],
            &report["consents"],
            &report["rejected_count"]
        ),
        (
            &serde_json::json!(2),
            &serde_json::json!(1),
            &serde_json::json!(2)
        ),
        "{report:#}"
    );
    let reasons: Vec<(u64, String)> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        reasons[0].0 == 4 && reasons[0].1.contains("\"optin_time\" is \"last tuesday\""),
        "{reasons:?}"
    );
    assert!(
        reasons[1].0 == 5 && reasons[1].1.contains("expected an IP address"),
        "{reasons:?}"
    );
    let ivy = h.json(&["contacts", "show", "ivy@x.invalid", "--json"]);
    assert_eq!(
        ivy["contact"]["fields"],
        serde_json::json!({"first_name": "Ivy"}),
        "{ivy:#}"
    );
    let c = &ivy["consents"][0];
    assert_eq!(
        (
            &c["list"],
            &c["source"],
            &c["ip"],
            &c["text"],
            &c["at"],
            &c["confirmed_at"],
            &c["confirm_ip"]
        ),
        (
            &serde_json::json!("Club"),
            &serde_json::json!("import:Club: embedded form"),
            &serde_json::json!("203.0.113.9"),
            &serde_json::json!("Weekly tips from Club"),
            &serde_json::json!("2024-05-01T10:00:00.000Z"),
            &serde_json::json!("2024-05-01T10:05:00.000Z"),
            &serde_json::json!("203.0.113.10")
        ),
        "{ivy:#}"
    );
    assert_eq!(
        h.json(&["contacts", "show", "jo@x.invalid", "--json"])["consents"],
        serde_json::json!([]),
        "no consent columns filled: no record"
    );
    // The same file again: the record is kept once.
    let again = h.json(&[
        "contacts",
        "import",
        consented.to_str().unwrap(),
        "--list",
        "Club",
        "--json",
    ]);
    assert_eq!(again["consents"], 0, "{again:#}");
    assert_eq!(
        h.json(&["contacts", "show", "ivy@x.invalid", "--json"])["consents"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn the_sign_up_benchmark_signs_everyone_up_and_queues_each_confirmation() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data"));
    // Its own temporary store whatever the backend; only what it did is asserted, not speed.
    let f = h.json(&[
        "bench",
        "signup",
        "--signups",
        "200",
        "--connections",
        "4",
        "--json",
    ]);
    assert_eq!(
        (&f["signups"], &f["pending"], &f["confirmations_queued"]),
        (
            &serde_json::json!(200),
            &serde_json::json!(200),
            &serde_json::json!(200)
        ),
        "{f:#}"
    );
    assert!(f["signups_per_sec"].as_f64().unwrap() > 0.0);
}

#[test]
fn the_api_lists_lists_and_adds_contacts_as_the_cli_does() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = Herald::new(&tmp.path().join("data")).web_only(port);
    h.ok(&["lists", "create", "Club", "--fields", "first_name"]);
    common::add_user(&h, "admin@x.invalid", "admin");
    common::add_user(&h, "viewer@x.invalid", "viewer");
    let admin = common::bearer(&h, "admin@x.invalid");
    let viewer = common::bearer(&h, "viewer@x.invalid");
    let _serve = common::serve_sandbox(&h, port);
    let json = [("Content-Type", "application/json")];
    let post = |auth: &str, body: &str| {
        http(
            port,
            "POST",
            "/api/v1/contacts",
            &[json[0], ("Authorization", auth)],
            Some(body),
        )
    };

    let lists = http(
        port,
        "GET",
        "/api/v1/lists",
        &[("Authorization", &viewer)],
        None,
    );
    assert_eq!(lists.status, 200, "{}", lists.body);
    let lists: serde_json::Value = serde_json::from_str(&lists.body).unwrap();
    assert_eq!(lists["lists"][0]["name"], "Club");
    assert_eq!(
        lists["lists"][0]["form_url"],
        format!("http://127.0.0.1:{port}/s/club")
    );

    let body = r#"{"email": "eve@x.invalid", "list": "Club", "fields": {"first_name": "Eve"}}"#;
    assert_eq!(post(&viewer, body).status, 403, "a viewer cannot add");
    let added = post(&admin, body);
    assert_eq!(added.status, 201, "{}", added.body);
    let again = post(&admin, body);
    assert_eq!(again.status, 200, "already subscribed");
    for (bad, says) in [
        (
            r#"{"email": "eve@x.invalid", "list": "Nope"}"#,
            "unknown list",
        ),
        (r#"{"email": "nope", "list": "Club"}"#, "email"),
        (
            r#"{"email": "f@x.invalid", "list": "Club", "fields": {"bad name": "1"}}"#,
            "field name",
        ),
        (
            r#"{"email": "f@x.invalid", "list": "Club", "confirm": true}"#,
            "--from",
        ),
    ] {
        let r = post(&admin, bad);
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
        assert!(r.body.contains(says), "{bad}: {}", r.body);
    }
    h.ok(&["contacts", "remove", "eve@x.invalid", "--list", "Club"]);
    assert_eq!(post(&admin, body).status, 409, "left the list");
    let shown = h.json(&["contacts", "show", "eve@x.invalid", "--json"]);
    assert_eq!(shown["contact"]["fields"]["first_name"], "Eve");
    assert_eq!(
        shown["consents"][0]["source"], "api:admin@x.invalid",
        "{shown:#}"
    );
    let export = h.run(&["contacts", "export", "--list", "Club"]);
    assert_eq!(
        String::from_utf8_lossy(&export.stdout).lines().count(),
        2,
        "the bad posts added nobody"
    );
    // The contact's page shows the standing per list and the consent record.
    let cookie = common::session_cookie(port, "viewer@x.invalid");
    let page = http(
        port,
        "GET",
        "/contacts/eve@x.invalid",
        &[("Cookie", &cookie)],
        None,
    );
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("<a href=\"/lists/Club\">Club</a></td><td>unsubscribed</td>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("<td>api:admin@x.invalid</td>"),
        "{}",
        page.body
    );
}

/// `POST /api/v1/public/subscribe`: a site's server signs visitors up as the hosted form does —
/// the same answer whatever the standing, the visitor's IP and agent in the consent record, no
/// CORS headers, the list's fields only.
#[test]
fn a_site_signs_visitors_up_through_the_api_as_the_form_does() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let data = tmp.path().join("data");
    let h = Herald::new(&data)
        .web_only(port)
        .env("HERALD__TRACKING__IP", "full")
        .env("HERALD__DELIVERY__SANDBOX", "true");
    // A single opt-in list greets whoever joins by themselves.
    let welcome = tmp.path().join("welcome.html");
    std::fs::write(
        &welcome,
        "<p>Hi {{ contact.first_name | default(\"friend\") }}! \
         <a href=\"{{ preferences_url }}\">Your settings</a></p>",
    )
    .unwrap();
    let subject = "Welcome to {{ list.name }}, {{ contact.first_name | default(\"friend\") }}";
    let no_sender = h.run(&[
        "lists",
        "create",
        "Club",
        "--welcome-subject",
        subject,
        "--welcome-html",
        welcome.to_str().unwrap(),
    ]);
    assert_eq!(no_sender.status.code(), Some(2), "a welcome needs --from");
    assert!(
        String::from_utf8_lossy(&no_sender.stderr).contains("--from"),
        "{}",
        String::from_utf8_lossy(&no_sender.stderr)
    );
    let no_html = h.run(&["lists", "create", "Club", "--welcome-subject", subject]);
    assert!(
        String::from_utf8_lossy(&no_html.stderr).contains("--welcome-html"),
        "{}",
        String::from_utf8_lossy(&no_html.stderr)
    );
    let list = h.json(&[
        "lists",
        "create",
        "Club",
        "--fields",
        "first_name",
        "--from",
        "The Club <club@x.invalid>",
        "--welcome-subject",
        subject,
        "--welcome-html",
        welcome.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(list["welcome_subject"], subject, "{list:#}");
    assert!(list["welcome_text"].is_null(), "derived from the HTML");
    // Someone the operator adds is not greeted: the welcome is for who joins by themselves.
    h.ok(&["contacts", "add", "op@x.invalid", "--list", "Club"]);
    common::add_user(&h, "site@x.invalid", "viewer");
    let token = common::bearer(&h, "site@x.invalid");
    let _serve = common::serve_sandbox(&h, port);
    let subscribe = |body: &str| {
        http(
            port,
            "POST",
            "/api/v1/public/subscribe",
            &[
                ("Content-Type", "application/json"),
                ("Authorization", &token),
                ("Origin", "https://elsewhere.example"),
            ],
            Some(body),
        )
    };
    let body = r#"{"list": "club", "email": "Vi@x.invalid", "fields": {"first_name": "Vi", "admin": "yes"}, "ip": "203.0.113.9", "user_agent": "Mozilla/5.0 Site"}"#;
    let first = subscribe(body);
    assert_eq!(first.status, 202, "{}", first.body);
    assert!(
        first.header("access-control-allow-origin").is_none(),
        "no CORS"
    );
    // Vi's welcome: personalised with the name she gave, list mail with its unsubscribe.
    let raw = common::captured(&data, "Vi@x.invalid", "Welcome to Club, Vi");
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert!(msg.header("List-Unsubscribe").is_some(), "list mail");
    assert!(
        msg.body_html(0)
            .unwrap()
            .contains(&format!("http://127.0.0.1:{port}/p/")),
        "her preference centre"
    );
    assert!(msg.body_text(0).unwrap().contains("Hi Vi!"), "text derived");
    // It counts in the health figures, under the sandbox: the CLI, the API and the page agree.
    let cli = common::wait_for(
        "the welcome in the health figures",
        std::time::Duration::from_secs(20),
        || {
            let r = h.json(&["health", "--days", "1", "--json"]);
            (r["overall"]["delivered"] == 1).then_some(r)
        },
    );
    assert_eq!(cli["providers"][0]["name"], "sandbox", "{cli:#}");
    assert_eq!(cli["senders"][0]["name"], "x.invalid", "{cli:#}");
    let api = http(
        port,
        "GET",
        "/api/v1/health?days=1",
        &[("Authorization", &token)],
        None,
    );
    assert_eq!(api.status, 200, "{}", api.body);
    let api: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(api["overall"], cli["overall"]);
    let bad = http(
        port,
        "GET",
        "/api/v1/health?days=0",
        &[("Authorization", &token)],
        None,
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    let cookie = common::session_cookie(port, "site@x.invalid");
    let page = http(port, "GET", "/health?days=1", &[("Cookie", &cookie)], None);
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<th scope=\"row\">sandbox</th>") && page.body.contains("Welcome: Club"),
        "{}",
        page.body
    );
    let again = subscribe(body);
    assert_eq!(
        (again.status, &again.body),
        (202, &first.body),
        "the same answer"
    );
    let shown = h.json(&["contacts", "show", "vi@x.invalid", "--json"]);
    assert_eq!(shown["contact"]["fields"]["first_name"], "Vi", "{shown:#}");
    assert!(
        shown["contact"]["fields"]["admin"].is_null(),
        "only the list's fields: {shown:#}"
    );
    let c = &shown["consents"][0];
    assert_eq!(
        (&c["source"], &c["ip"], &c["user_agent"]),
        (
            &serde_json::json!("api:site@x.invalid"),
            &serde_json::json!("203.0.113.9"),
            &serde_json::json!("Mozilla/5.0 Site")
        ),
        "{shown:#}"
    );
    // One welcome each: Vi's second sign-up changed nothing; the operator's add got none.
    let welcomes = |email: &str| -> Vec<String> {
        h.json(&["contacts", "show", email, "--json"])["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["campaign"]["name"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(welcomes("vi@x.invalid"), vec!["Welcome: Club".to_string()]);
    assert!(welcomes("op@x.invalid").is_empty());
    // Its carrier is the list's, not a campaign to pause; --no-welcome stops it.
    let carrier = msg
        .header_raw("X-Herald-Campaign")
        .unwrap()
        .trim()
        .to_string();
    let paused = h.run(&["campaign", "pause", &carrier]);
    assert!(
        String::from_utf8_lossy(&paused.stderr).contains("welcome messages"),
        "{}",
        String::from_utf8_lossy(&paused.stderr)
    );
    let off = h.json(&["lists", "update", "Club", "--no-welcome", "--json"]);
    assert!(off["welcome_subject"].is_null(), "{off:#}");
    let later = subscribe(r#"{"list": "club", "email": "wu@x.invalid"}"#);
    assert_eq!(later.status, 202);
    assert!(welcomes("wu@x.invalid").is_empty(), "no welcome any more");
    for (bad, status) in [
        (r#"{"list": "nope", "email": "a@x.invalid"}"#, 422),
        (r#"{"list": "club", "email": "not an address"}"#, 422),
    ] {
        assert_eq!(subscribe(bad).status, status, "{bad}");
    }
    let r = http(
        port,
        "POST",
        "/api/v1/public/subscribe",
        &[("Content-Type", "application/json")],
        Some(body),
    );
    assert_eq!(r.status, 401, "a token is needed");
}

/// Suppressions in bulk: `suppressions import FILE` (an `email` column, or one address per
/// line; `--remove` lifts) and the Suppressions page's upload, with each bad line named; a
/// viewer's upload changes nothing.
#[test]
fn suppressions_are_added_and_lifted_in_bulk_from_a_file_and_the_page() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = Herald::new(&tmp.path().join("data")).web_only(port);
    let csv = tmp.path().join("s.csv");
    std::fs::write(
        &csv,
        "name,Email\nAnn,Ann@X.invalid\nBob,not-an-address\nCy,cy@x.invalid\n",
    )
    .unwrap();
    let out = h.run(&[
        "suppressions",
        "import",
        csv.to_str().unwrap(),
        "--reason",
        "complained",
        "--json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report["added"].as_u64(), report["rejected_count"].as_u64()),
        (Some(2), Some(1)),
        "{report:#}"
    );
    assert_eq!(report["rejected"][0]["line"], 3, "{report:#}");
    let list = h.json(&["suppressions", "list", "--json"]);
    let reasons: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["email"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("ann@x.invalid", "complained"),
            ("cy@x.invalid", "complained")
        ]
    );

    // The page: an admin lifts Ann from a plain list of addresses; a viewer cannot.
    crate::common::add_user(&h, "admin@x.invalid", "admin");
    crate::common::add_user(&h, "viewer@x.invalid", "viewer");
    let _serve = crate::common::serve_sandbox(&h, port);
    let upload = |user: &str, file: &str| {
        let cookie = crate::common::session_cookie(port, user);
        let page = http(port, "GET", "/suppressions", &[("Cookie", &cookie)], None);
        let csrf = hidden(&page.body, "csrf");
        let b = "Bnd";
        let body = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\nremove\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.txt\"\r\n\
             Content-Type: text/plain\r\n\r\n{file}\r\n--{b}--\r\n"
        );
        let ct = format!("multipart/form-data; boundary={b}");
        let r = http(
            port,
            "POST",
            "/suppressions/import",
            &[("Cookie", &cookie), ("Content-Type", &ct)],
            Some(&body),
        );
        (r, cookie)
    };
    let (refused, _) = upload("viewer@x.invalid", "ann@x.invalid\n");
    assert_eq!(refused.status, 403, "{}", refused.body);
    let (done, cookie) = upload("admin@x.invalid", "ann@x.invalid\nnobody@x.invalid\nnope\n");
    assert_eq!(done.status, 303, "{}", done.body);
    let back = done.header("location").unwrap().to_string();
    let page = http(port, "GET", &back, &[("Cookie", &cookie)], None);
    assert!(
        page.body.contains("Lifted 1; 1 were not on the list.")
            && page.body.contains("line 3 (&#34;nope&#34;)"),
        "{}",
        page.body
    );
    let left = h.json(&["suppressions", "list", "--json"]);
    assert_eq!(left.as_array().map(Vec::len), Some(1), "{left:#}");
    assert_eq!(left[0]["email"], "cy@x.invalid");
}
