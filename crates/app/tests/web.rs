//! The web UI and `/api/v1` through the real binary (`herald serve --sandbox`): every API route
//! without a token (401), with a viewer's token on an admin route (403), with the right token;
//! the UI's login (CSRF, wrong password), the performance page with its definitions, tabs and See
//! details, escaping of user-supplied text, CSRF on forms, the idempotent send, "Didn't receive
//! it?" with the IT report download, logout and an expired session.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Herald, free_port, hidden, http};

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cookie_value(set_cookie: &[&str], name: &str) -> Option<String> {
    set_cookie.iter().find_map(|c| {
        c.split(';')
            .next()
            .and_then(|kv| kv.split_once('='))
            .filter(|(k, v)| k.trim() == name && !v.is_empty())
            .map(|(_, v)| v.to_string())
    })
}

#[test]
fn api_and_ui_answer_only_whom_they_should() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = Herald::new(&tmp.path().join("data"))
        .env("HERALD__HTTP__LISTEN", &format!("127.0.0.1:{port}"))
        .env(
            "HERALD__HTTP__PUBLIC_URL",
            &format!("http://127.0.0.1:{port}"),
        )
        .env("HERALD__INBOUND__ENABLED", "false")
        // The recipient world's DNS, where nothing is published for webui.test.
        .env(
            "HERALD__DNS__NAMESERVERS",
            &format!("[\"{}\"]", common::world_env()["WORLD_DNS"]),
        );
    let pw = tmp.path().join("pw");
    std::fs::write(&pw, "correct horse battery\n").unwrap();
    h.ok(&[
        "user",
        "add",
        "admin@herald.test",
        "--password-file",
        pw.to_str().unwrap(),
    ]);
    h.ok(&[
        "user",
        "add",
        "viewer@herald.test",
        "--password-file",
        pw.to_str().unwrap(),
        "--role",
        "viewer",
    ]);
    let short = tmp.path().join("short");
    std::fs::write(&short, "short\n").unwrap();
    assert_eq!(
        h.run(&[
            "user",
            "add",
            "x@herald.test",
            "--password-file",
            short.to_str().unwrap()
        ])
        .status
        .code(),
        Some(2)
    );
    let admin = h
        .ok(&[
            "token",
            "create",
            "--user",
            "admin@herald.test",
            "--name",
            "ci",
        ])
        .trim()
        .to_string();
    let viewer = h
        .ok(&[
            "token",
            "create",
            "--user",
            "viewer@herald.test",
            "--name",
            "ro",
        ])
        .trim()
        .to_string();

    h.ok(&["domain", "add", "webui.test", "--selector", "s1"]);
    let csv = tmp.path().join("c.csv");
    std::fs::write(
        &csv,
        "email,first_name\nann@example.com,<script>alert(1)</script>\nbounce.bob@example.com,Bob\n",
    )
    .unwrap();
    let html = tmp.path().join("b.html");
    std::fs::write(&html, "<p>Hi {{ contact.first_name }}</p>").unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "l"]);
    h.ok(&[
        "campaign",
        "create",
        "--name",
        "<b>Nov</b>",
        "--list",
        "l",
        "--from",
        "Ann <ann@example.com>",
        "--subject",
        "Hi",
        "--html",
        html.to_str().unwrap(),
        "--allow-unverified",
    ]);

    let _serve = Serve(
        h.command(&["serve", "--sandbox"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let bearer = |t: &str| format!("Bearer {t}");
    let json = "application/json";
    // A GET as the viewer: its status and JSON body (null when not JSON).
    let get = |path: &str| {
        let r = http(
            port,
            "GET",
            path,
            &[("Authorization", &bearer(&viewer))],
            None,
        );
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
        (r.status, v)
    };

    // ---- API: every route needs a token; admin routes need an admin.
    let routes: [(&str, &str, Option<&str>); 15] = [
        ("GET", "/api/v1/campaigns", None),
        ("GET", "/api/v1/campaigns/1", None),
        ("GET", "/api/v1/campaigns/1/recipients?tab=delivered", None),
        ("GET", "/api/v1/campaigns/1/why/ann@example.com", None),
        ("POST", "/api/v1/campaigns/1/send", Some("")),
        (
            "POST",
            "/api/v1/campaigns/1/test",
            Some(r#"{"to":"t@example.com"}"#),
        ),
        ("GET", "/api/v1/suppressions", None),
        (
            "POST",
            "/api/v1/suppressions",
            Some(r#"{"email":"x@example.com"}"#),
        ),
        ("DELETE", "/api/v1/suppressions/x@example.com", None),
        ("GET", "/api/v1/contacts?q=ann", None),
        ("GET", "/api/v1/contacts/ann@example.com", None),
        ("GET", "/api/v1/domains", None),
        ("POST", "/api/v1/domains/webui.test/verify", Some("")),
        ("GET", "/api/v1/ips", None),
        ("GET", "/api/v1/openapi.json", None),
    ];
    for (m, p, body) in routes {
        let r = http(port, m, p, &[("Content-Type", json)], body);
        assert_eq!(r.status, 401, "{m} {p} without a token");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        let r = http(
            port,
            m,
            p,
            &[("Authorization", "Bearer nope"), ("Content-Type", json)],
            body,
        );
        assert_eq!(r.status, 401, "{m} {p} with a bogus token");
        let admin_only = m != "GET";
        let r = http(
            port,
            m,
            p,
            &[("Authorization", &bearer(&viewer)), ("Content-Type", json)],
            body,
        );
        if admin_only {
            assert_eq!(r.status, 403, "{m} {p} with a viewer's token");
        } else {
            // Authorised (the answer itself may be a 404 before the campaign is sent).
            assert!(
                ![401, 403].contains(&r.status),
                "{m} {p} with a viewer's token: {} {}",
                r.status,
                r.body
            );
        }
    }

    // Send twice (a double click): one audience, the second answer the same.
    for _ in 0..2 {
        let r = http(
            port,
            "POST",
            "/api/v1/campaigns/1/send",
            &[("Authorization", &bearer(&admin))],
            Some(""),
        );
        assert_eq!(r.status, 202, "{}", r.body);
    }
    let report = loop {
        let (_, v) = get("/api/v1/campaigns/1");
        if v["campaign"]["status"] == "sent" {
            break v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "campaign did not finish: {v:#}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(report["counts"]["recipients"], 2, "{report:#}");
    assert_eq!(report["counts"]["bounced"], 1, "{report:#}");
    let (_, v) = get("/api/v1/campaigns/1/recipients?tab=bounced");
    assert_eq!(
        v["recipients"][0]["email"], "bounce.bob@example.com",
        "{v:#}"
    );
    assert_eq!(get("/api/v1/campaigns/1/recipients?tab=nope").0, 422);
    // A method the path does not have is a 405 naming the ones it has.
    let r = http(
        port,
        "PUT",
        "/api/v1/campaigns/1/recipients",
        &[("Authorization", &bearer(&viewer))],
        Some(""),
    );
    assert_eq!(r.status, 405, "{}", r.body);
    assert!(
        r.headers.iter().any(|(k, v)| k == "allow" && v == "GET"),
        "{:?}",
        r.headers
    );
    let (_, v) = get("/api/v1/campaigns/1/why/ann@example.com");
    assert_eq!(v["state"], "delivered", "{v:#}");
    assert!(v["it_report"].as_str().unwrap().contains("Message-ID"));
    assert_eq!(get("/api/v1/campaigns/1/why/stranger@example.com").0, 404);
    let r = http(
        port,
        "POST",
        "/api/v1/suppressions",
        &[("Authorization", &bearer(&admin)), ("Content-Type", json)],
        Some(r#"{"email":"Zed@Example.com","reason":"suppressed"}"#),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        http(
            port,
            "DELETE",
            "/api/v1/suppressions/zed@example.com",
            &[("Authorization", &bearer(&admin))],
            None
        )
        .status,
        204
    );
    assert_eq!(
        http(
            port,
            "DELETE",
            "/api/v1/suppressions/zed@example.com",
            &[("Authorization", &bearer(&admin))],
            None
        )
        .status,
        404
    );
    let (_, doc) = get("/api/v1/openapi.json");
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(
        doc["paths"]["/api/v1/campaigns/{id}/why/{email}"]["get"].is_object(),
        "{doc:#}"
    );

    // A test copy: delivered (to the sandbox here) and counted nowhere.
    let r = http(
        port,
        "POST",
        "/api/v1/campaigns/1/test",
        &[("Authorization", &bearer(&admin)), ("Content-Type", json)],
        Some(r#"{"to":"Tester@Example.com"}"#),
    );
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        (r.status, &v["accepted"]),
        (200, &serde_json::json!(true)),
        "{v:#}"
    );
    let test_id = v["message_id"].as_str().unwrap().to_string();
    let captured = std::fs::read_dir(tmp.path().join("data/sandbox"))
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
        .find(|m| m.contains(&test_id))
        .expect("the test copy in the sandbox");
    assert!(
        captured.contains("Hi <script>") || captured.contains("Hi &lt;script&gt;"),
        "personalised for the first contact: {captured}"
    );
    let r = http(
        port,
        "POST",
        "/api/v1/campaigns/1/test",
        &[("Authorization", &bearer(&admin)), ("Content-Type", json)],
        Some(r#"{"to":"not an address"}"#),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    // Each kind of failure has its one status: an unknown campaign is a 404 whatever the
    // action (it was a 409 for send), a bad address in the path a 422.
    for (m, p, body) in [
        ("POST", "/api/v1/campaigns/999/send", ""),
        (
            "POST",
            "/api/v1/campaigns/999/test",
            r#"{"to":"t@example.com"}"#,
        ),
    ] {
        let r = http(
            port,
            m,
            p,
            &[("Authorization", &bearer(&admin)), ("Content-Type", json)],
            Some(body),
        );
        assert_eq!(r.status, 404, "{p}: {}", r.body);
        assert!(r.body.contains("unknown campaign 999"), "{}", r.body);
    }
    // A path that is not an address names no recipient: 404, saying why.
    let (status, v) = get("/api/v1/campaigns/1/why/not-an-address");
    assert_eq!(status, 404, "{v:#}");
    assert!(v["error"].as_str().unwrap().contains("no '@'"), "{v:#}");
    let (_, v) = get("/api/v1/campaigns/1");
    assert_eq!(
        v["counts"]["recipients"], 2,
        "the test copy is not a recipient: {v:#}"
    );

    // Contacts across campaigns, domains, IPs.
    let (_, v) = get("/api/v1/contacts?q=ANN");
    assert_eq!(v["contacts"][0]["email"], "ann@example.com", "{v:#}");
    assert_eq!(v["contacts"][0]["lists"][0], "l", "{v:#}");
    let (_, v) = get("/api/v1/contacts?q=%25");
    assert_eq!(
        v["contacts"].as_array().map(Vec::len),
        Some(0),
        "% is literal: {v:#}"
    );
    let (_, v) = get("/api/v1/contacts/Ann@Example.com");
    assert_eq!(v["deliveries"][0]["campaign"]["id"], "1", "{v:#}");
    assert_eq!(v["deliveries"][0]["state"], "delivered", "{v:#}");
    // The subject the copy had (recorded with the attempt), beside the campaign's.
    assert_eq!(v["deliveries"][0]["subject"], "Hi", "{v:#}");
    assert_eq!(v["deliveries"][0]["campaign"]["subject"], "Hi", "{v:#}");
    assert_eq!(get("/api/v1/contacts/nobody@example.com").0, 404);
    let (_, v) = get("/api/v1/domains");
    assert_eq!(v["domains"][0]["domain"], "webui.test", "{v:#}");
    assert_eq!(v["domains"][0]["records"][0]["kind"], "dkim", "{v:#}");
    let (status, v) = get("/api/v1/ips");
    assert_eq!(status, 200, "{v:#}");
    assert!(v["ips"].is_array(), "{v:#}");
    let r = http(
        port,
        "POST",
        "/api/v1/domains/webui.test/verify",
        &[("Authorization", &bearer(&admin))],
        Some(""),
    );
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        (r.status, &v["ok"]),
        (200, &serde_json::json!(false)),
        "{v:#}"
    );
    assert_eq!(v["records"][0]["status"], "missing", "{v:#}");
    assert_eq!(
        http(
            port,
            "POST",
            "/api/v1/domains/nope.example/verify",
            &[("Authorization", &bearer(&admin))],
            Some("")
        )
        .status,
        404
    );

    // ---- UI: no session → the login page.
    for path in [
        "/domains",
        "/ips",
        "/suppressions",
        "/contacts/ann%40example.com",
    ] {
        assert_eq!(http(port, "GET", path, &[], None).status, 303, "{path}");
    }
    let r = http(port, "GET", "/campaigns/1", &[], None);
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/login?next=/campaigns/1"));
    let r = http(
        port,
        "GET",
        "/campaigns/1",
        &[("Cookie", "herald_session=forged")],
        None,
    );
    assert!(
        r.header("location").unwrap_or("").contains("expired=1"),
        "{:?}",
        r.headers
    );

    let login = http(port, "GET", "/login?next=/campaigns/1", &[], None);
    assert_eq!(login.status, 200);
    let csrf = hidden(&login.body, "csrf");
    assert_eq!(
        cookie_value(&login.all("set-cookie"), "herald_login_csrf").as_deref(),
        Some(csrf.as_str())
    );
    let cookie = format!("herald_login_csrf={csrf}");
    let form = "application/x-www-form-urlencoded";
    let creds = |pw: &str, token: &str| {
        format!(
            "csrf={token}&next=%2Fcampaigns%2F1&email=admin%40herald.test&password={}",
            pw.replace(' ', "+")
        )
    };
    // Without the matching CSRF cookie/field: refused.
    let r = http(
        port,
        "POST",
        "/login",
        &[("Content-Type", form)],
        Some(&creds("correct horse battery", &csrf)),
    );
    assert_eq!(r.status, 403);
    let r = http(
        port,
        "POST",
        "/login",
        &[("Content-Type", form), ("Cookie", &cookie)],
        Some(&creds("correct horse battery", "wrong")),
    );
    assert_eq!(r.status, 403);
    let r = http(
        port,
        "POST",
        "/login",
        &[("Content-Type", form), ("Cookie", &cookie)],
        Some(&creds("bad password", &csrf)),
    );
    assert_eq!(r.status, 401);
    assert!(r.body.contains("Wrong email or password"));
    let r = http(
        port,
        "POST",
        "/login",
        &[("Content-Type", form), ("Cookie", &cookie)],
        Some(&creds("correct horse battery", &csrf)),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/campaigns/1"));
    let session = cookie_value(&r.all("set-cookie"), "herald_session").expect("a session cookie");
    assert!(
        r.all("set-cookie")
            .iter()
            .any(|c| c.contains("HttpOnly") && c.contains("SameSite=Lax"))
    );
    let s = format!("herald_session={session}");

    // The performance page.
    let page = http(port, "GET", "/campaigns/1", &[("Cookie", &s)], None);
    assert_eq!(page.status, 200);
    let b = &page.body;
    assert!(b.contains("Delivered: the recipient&#39;s server accepted the message. It may still be in Junk or held by a security filter.")
        || b.contains("Delivered: the recipient's server accepted the message. It may still be in Junk or held by a security filter."), "{b}");
    for tab in [
        "Sent",
        "Delivered",
        "Deferred",
        "Bounced",
        "Opened",
        "Clicked",
        "Unsubscribed",
        "Spam reports",
        "Not sent",
    ] {
        assert!(b.contains(&format!(">{tab} <small>")), "tab {tab} missing");
    }
    assert!(
        b.contains("See details") && b.contains("Sending domain"),
        "{b}"
    );
    // User-supplied text is escaped.
    assert!(
        b.contains("&#60;b&#62;Nov&#60;/b&#62;") || b.contains("&lt;b&gt;Nov&lt;/b&gt;"),
        "campaign name not escaped: {b}"
    );
    assert!(!b.contains("<b>Nov</b>") && !b.contains("<script>"), "{b}");
    let bounced = http(
        port,
        "GET",
        "/campaigns/1?tab=bounced",
        &[("Cookie", &s)],
        None,
    );
    assert!(
        bounced.body.contains("<td>bounce.bob@example.com</td>")
            && !bounced.body.contains("<td>ann@example.com</td>"),
        "{}",
        bounced.body
    );

    // The chart over time.
    assert!(
        b.contains("id=\"chart\"") && b.contains("<rect class=\"delivered\""),
        "{b}"
    );

    // A contact's timeline, from the search.
    let found = http(port, "GET", "/contacts?q=ann", &[("Cookie", &s)], None);
    assert!(
        found.body.contains("href=\"/contacts/ann%40example.com\""),
        "{}",
        found.body
    );
    let contact = http(
        port,
        "GET",
        "/contacts/ann%40example.com",
        &[("Cookie", &s)],
        None,
    );
    assert_eq!(contact.status, 200, "{}", contact.body);
    assert!(
        contact.body.contains("<td>delivered</td>") && !contact.body.contains("<script>alert"),
        "{}",
        contact.body
    );

    // Domains: the records with copy buttons; verifying needs the CSRF token.
    let domains = http(port, "GET", "/domains", &[("Cookie", &s)], None);
    assert!(
        domains.body.contains("s1._domainkey.webui.test")
            && domains.body.contains("class=\"copy\""),
        "{}",
        domains.body
    );
    let token = hidden(&domains.body, "csrf");
    let r = http(
        port,
        "POST",
        "/domains/webui.test/verify",
        &[("Cookie", &s), ("Content-Type", form)],
        Some("csrf=nope"),
    );
    assert_eq!(r.status, 403);
    let r = http(
        port,
        "POST",
        "/domains/webui.test/verify",
        &[("Cookie", &s), ("Content-Type", form)],
        Some(&format!("csrf={token}")),
    );
    assert!(
        r.status == 200
            && r.body.contains("id=\"verification-webui.test\"")
            && r.body.contains("class=\"status-missing\""),
        "{} {}",
        r.status,
        r.body
    );
    // Connecting a domain from the page: its records are shown to publish; a name that is not
    // one is refused with what was typed kept; new keys wait for their records.
    let added = http(
        port,
        "POST",
        "/domains",
        &[("Cookie", &s), ("Content-Type", form)],
        Some(&format!("csrf={token}&domain=News.WebUI.test")),
    );
    assert_eq!(added.status, 303, "{}", added.body);
    let page = http(
        port,
        "GET",
        added.header("location").unwrap(),
        &[("Cookie", &s)],
        None,
    );
    assert!(
        page.body.contains("Connected news.webui.test")
            && page.body.contains("._domainkey.news.webui.test"),
        "{}",
        page.body
    );
    assert!(
        h.json(&["domain", "list", "--json"])
            .to_string()
            .contains("news.webui.test")
    );
    let bad = http(
        port,
        "POST",
        "/domains",
        &[("Cookie", &s), ("Content-Type", form)],
        Some(&format!("csrf={token}&domain=not+a+domain")),
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(
        bad.body.contains("id=\"domain-problem\"") && bad.body.contains("value=\"not a domain\"")
    );
    let again = http(
        port,
        "POST",
        "/domains",
        &[("Cookie", &s), ("Content-Type", form)],
        Some(&format!("csrf={token}&domain=news.webui.test")),
    );
    assert_eq!(again.status, 409, "already connected: {}", again.body);
    let rotated = http(
        port,
        "POST",
        "/domains/news.webui.test/rotate",
        &[("Cookie", &s), ("Content-Type", form)],
        Some(&format!("csrf={token}")),
    );
    assert_eq!(rotated.status, 303, "{}", rotated.body);
    let page = http(
        port,
        "GET",
        rotated.header("location").unwrap(),
        &[("Cookie", &s)],
        None,
    );
    assert!(
        page.body.contains("New DKIM keys for news.webui.test")
            && page.body.contains("rotating to"),
        "{}",
        page.body
    );
    let vs = common::session_cookie(port, "viewer@herald.test");
    let vtoken = hidden(
        &http(port, "GET", "/domains", &[("Cookie", &vs)], None).body,
        "csrf",
    );
    for path in [
        "/domains",
        "/domains/news.webui.test/rotate",
        "/seeds",
        "/seeds/test",
        "/seeds/remove",
        "/users",
        "/users/remove",
        "/users/tokens",
        "/users/tokens/revoke",
    ] {
        let r = http(
            port,
            "POST",
            path,
            &[("Cookie", &vs), ("Content-Type", form)],
            Some(&format!("csrf={vtoken}&domain=other.webui.test")),
        );
        assert_eq!(r.status, 403, "a viewer on {path}");
    }
    // Seed mailboxes from the page, against the recipient world's Dovecot: the login is tried
    // before anything is kept, and the password never comes back.
    let imap = common::world_env()["WORLD_IMAP"].clone();
    let seed_form = |password: &str| {
        format!(
            "csrf={token}&provider=inbox&imap={imap}&security=plain&user=seed%40inbox.test&password={password}&address="
        )
    };
    let refused = http(
        port,
        "POST",
        "/seeds",
        &[("Cookie", &s), ("Content-Type", form)],
        Some(&seed_form("wrong-one")),
    );
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("the seed was not added: login as seed@inbox.test")
            && refused.body.contains("value=\"inbox\"")
            && !refused.body.contains("wrong-one"),
        "{}",
        refused.body
    );
    assert_eq!(h.json(&["seeds", "list", "--json"]), serde_json::json!([]));
    let added = http(
        port,
        "POST",
        "/seeds",
        &[("Cookie", &s), ("Content-Type", form)],
        Some(&seed_form("secret")),
    );
    assert_eq!(added.status, 303, "{}", added.body);
    assert_eq!(
        h.json(&["seeds", "list", "--json"])[0]["address"],
        "seed@inbox.test"
    );
    let tested = http(
        port,
        "POST",
        "/seeds/test",
        &[("Cookie", &s), ("Content-Type", form)],
        Some(&format!("csrf={token}&address=seed%40inbox.test")),
    );
    let page = http(
        port,
        "GET",
        tested.header("location").unwrap(),
        &[("Cookie", &s)],
        None,
    );
    assert!(
        page.body.contains("The login to seed@inbox.test works.") && !page.body.contains("secret"),
        "{}",
        page.body
    );
    let removed = http(
        port,
        "POST",
        "/seeds/remove",
        &[("Cookie", &s), ("Content-Type", form)],
        Some(&format!("csrf={token}&address=seed%40inbox.test")),
    );
    assert_eq!(removed.status, 303);
    assert_eq!(
        h.json(&["seeds", "list", "--json"]),
        serde_json::json!([]),
        "a removed seed is sent no more copies"
    );
    // API tokens through the API (admins only): made, working, listed without its secret,
    // revoked.
    let json = "application/json";
    let api = |method: &str, path: &str, token: &str, body: Option<&str>| {
        http(
            port,
            method,
            path,
            &[("Authorization", &bearer(token)), ("Content-Type", json)],
            body,
        )
    };
    assert_eq!(api("GET", "/api/v1/tokens", &viewer, None).status, 403);
    let made = api(
        "POST",
        "/api/v1/tokens",
        &admin,
        Some(r#"{"user": "viewer@herald.test", "name": "made-by-api", "expires": "1d"}"#),
    );
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.header("cache-control"), Some("no-store"));
    let made: serde_json::Value = serde_json::from_str(&made.body).unwrap();
    let secret = made["token"].as_str().unwrap().to_string();
    assert_eq!(api("GET", "/api/v1/campaigns", &secret, None).status, 200);
    let listed = api("GET", "/api/v1/tokens", &admin, None);
    assert!(
        listed.body.contains("made-by-api") && !listed.body.contains(&secret),
        "{}",
        listed.body
    );
    for (body, why) in [
        (
            r#"{"user": "nobody@herald.test", "name": "x"}"#,
            "an unknown user",
        ),
        (
            r#"{"user": "viewer@herald.test", "name": "x", "expires": "soon"}"#,
            "a bad lifetime",
        ),
        (
            r#"{"user": "viewer@herald.test", "name": "x", "expires": "20000d"}"#,
            "past 10 years",
        ),
    ] {
        assert_eq!(
            api("POST", "/api/v1/tokens", &admin, Some(body)).status,
            422,
            "{why}"
        );
    }
    let gone = api(
        "DELETE",
        "/api/v1/tokens/viewer@herald.test/made-by-api",
        &admin,
        None,
    );
    assert_eq!(gone.status, 204, "{}", gone.body);
    assert_eq!(api("GET", "/api/v1/campaigns", &secret, None).status, 401);
    assert_eq!(
        api(
            "DELETE",
            "/api/v1/tokens/viewer@herald.test/made-by-api",
            &admin,
            None
        )
        .status,
        404
    );

    // Users and tokens in the browser (admins only): a new user with a password shown once,
    // who can log in with it; the last admin is kept.
    assert_eq!(
        http(port, "GET", "/users", &[("Cookie", &vs)], None).status,
        403
    );
    let users_page = http(port, "GET", "/users", &[("Cookie", &s)], None);
    assert!(
        users_page.body.contains("viewer@herald.test"),
        "{}",
        users_page.body
    );
    let added = http(
        port,
        "POST",
        "/users",
        &[("Cookie", &s), ("Content-Type", form)],
        Some(&format!("csrf={token}&email=kim%40herald.test&role=viewer")),
    );
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(added.header("cache-control"), Some("no-store"));
    let password = {
        let at = added.body.find("<code id=\"secret\">").unwrap() + "<code id=\"secret\">".len();
        added.body[at..].split('<').next().unwrap().to_string()
    };
    let csrf = common::login_form(port);
    let kim = common::post_login(port, &csrf, "kim@herald.test", &password, "/");
    assert_eq!(kim.status, 303, "the shown password logs in: {}", kim.body);
    let made = http(
        port,
        "POST",
        "/users/tokens",
        &[("Cookie", &s), ("Content-Type", form)],
        Some(&format!(
            "csrf={token}&user=kim%40herald.test&name=laptop&expires="
        )),
    );
    assert!(
        made.status == 200
            && made
                .body
                .contains("API token &#34;laptop&#34; for kim@herald.test"),
        "{}",
        made.body
    );
    let revoked = http(
        port,
        "POST",
        "/users/tokens/revoke",
        &[("Cookie", &s), ("Content-Type", form)],
        Some(&format!("csrf={token}&user=kim%40herald.test&name=laptop")),
    );
    assert_eq!(revoked.status, 303);
    let last = http(
        port,
        "POST",
        "/users/remove",
        &[("Cookie", &s), ("Content-Type", form)],
        Some(&format!("csrf={token}&email=admin%40herald.test")),
    );
    assert_eq!(last.status, 422);
    assert!(last.body.contains("is the last admin"), "{}", last.body);
    let removed = http(
        port,
        "POST",
        "/users/remove",
        &[("Cookie", &s), ("Content-Type", form)],
        Some(&format!("csrf={token}&email=kim%40herald.test")),
    );
    assert_eq!(removed.status, 303);
    assert!(!h.ok(&["user", "list"]).contains("kim@herald.test"));
    let ips = http(port, "GET", "/ips", &[("Cookie", &s)], None);
    assert!(
        ips.status == 200 && ips.body.contains("id=\"ips\""),
        "{}",
        ips.body
    );

    // A test copy from the campaign page: back to it with what the server said.
    let r = http(
        port,
        "POST",
        "/campaigns/1/test",
        &[("Cookie", &s), ("Content-Type", form)],
        Some(&format!("csrf={token}&to=me%40example.com")),
    );
    let back = r.header("location").unwrap_or("").to_string();
    assert!(back.starts_with("/campaigns/1?flash="), "{:?}", r.headers);
    let page = http(port, "GET", &back, &[("Cookie", &s)], None);
    assert!(
        page.body
            .contains("id=\"notice\">Test copy to me@example.com accepted"),
        "{}",
        page.body
    );
    let r = http(
        port,
        "POST",
        "/campaigns/1/test",
        &[("Cookie", &s), ("Content-Type", form)],
        Some("csrf=nope&to=me%40example.com"),
    );
    assert_eq!(r.status, 403);

    // Suppressions: add and lift from the page.
    let r = http(
        port,
        "POST",
        "/suppressions",
        &[("Cookie", &s), ("Content-Type", form)],
        Some(&format!("csrf={token}&email=Kim%40Example.com")),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let list = http(port, "GET", "/suppressions", &[("Cookie", &s)], None);
    assert!(
        list.body.contains("<td>kim@example.com</td>"),
        "{}",
        list.body
    );
    let r = http(
        port,
        "POST",
        "/suppressions",
        &[("Cookie", &s), ("Content-Type", form)],
        Some(&format!("csrf={token}&email=not-an-address")),
    );
    let back = r.header("location").unwrap_or("").to_string();
    assert!(back.starts_with("/suppressions?flash="), "{:?}", r.headers);
    let page = http(port, "GET", &back, &[("Cookie", &s)], None);
    assert!(
        page.body.contains("is not an email address"),
        "{}",
        page.body
    );
    let r = http(
        port,
        "POST",
        "/suppressions/remove",
        &[("Cookie", &s), ("Content-Type", form)],
        Some(&format!("csrf={token}&email=kim%40example.com")),
    );
    assert_eq!(r.status, 303);
    let list = http(port, "GET", "/suppressions", &[("Cookie", &s)], None);
    assert!(
        !list.body.contains("<td>kim@example.com</td>"),
        "{}",
        list.body
    );

    // Forms need the session's CSRF token.
    let r = http(
        port,
        "POST",
        "/campaigns/1/send",
        &[("Cookie", &s), ("Content-Type", form)],
        Some("csrf=nope"),
    );
    assert_eq!(r.status, 403);

    // "Didn't receive it?" and the IT report.
    let why = http(
        port,
        "GET",
        "/campaigns/1/why/ann%40example.com",
        &[("Cookie", &s)],
        None,
    );
    assert_eq!(why.status, 200, "{}", why.body);
    assert!(why.body.contains("data-code=\"accepted\""), "{}", why.body);
    let it = http(
        port,
        "GET",
        "/campaigns/1/why/ann%40example.com/it-report.txt",
        &[("Cookie", &s)],
        None,
    );
    assert!(
        it.header("content-disposition")
            .unwrap_or("")
            .starts_with("attachment")
    );
    assert!(it.body.contains("Message-ID"));

    // Log out: the session is gone.
    let csrf = hidden(&page.body, "csrf");
    let r = http(
        port,
        "POST",
        "/logout",
        &[("Cookie", &s), ("Content-Type", form)],
        Some(&format!("csrf={csrf}")),
    );
    assert_eq!(r.status, 303);
    assert_eq!(http(port, "GET", "/", &[("Cookie", &s)], None).status, 303);
}
