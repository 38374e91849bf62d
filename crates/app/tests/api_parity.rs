//! The whole job through `/api/v1`, as an integration does it: create a list, add a person,
//! create a campaign (the From gate and the template checks as in the CLI), send it and find
//! the personalised copy in the sandbox; lists are changed and deleted with the same rules as
//! `lists update|delete`, and only admins may.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{Herald, free_port, http};

fn json(r: &common::HttpReply) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
}

#[test]
fn an_integration_creates_a_list_and_a_campaign_and_sends_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let h = Herald::new(&data)
        .web_only(port)
        .env("HERALD__DNS__NAMESERVERS", "[\"127.0.0.1:9\"]")
        .env("HERALD__DNS__TIMEOUT", "1s");
    common::add_user(&h, "admin@herald.test", "admin");
    common::add_user(&h, "viewer@herald.test", "viewer");
    let admin = common::bearer(&h, "admin@herald.test");
    let viewer = common::bearer(&h, "viewer@herald.test");
    // Not sandboxed at first: the From gate applies (sandbox sends are exempt from it).
    let serve = common::Serve(
        h.command(&["serve"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    common::wait_for(
        "the HTTP server",
        std::time::Duration::from_secs(20),
        || std::net::TcpStream::connect(("127.0.0.1", port)).ok(),
    );
    let post = |method: &str, path: &str, token: &str, body: &str| {
        http(
            port,
            method,
            path,
            &[
                ("Authorization", token),
                ("Content-Type", "application/json"),
            ],
            Some(body),
        )
    };

    // Lists.
    let club = r#"{"name": "Club", "slug": "club", "opt_in": "single", "fields": ["first_name"]}"#;
    assert_eq!(post("POST", "/api/v1/lists", &viewer, club).status, 403);
    let r = post("POST", "/api/v1/lists", &admin, club);
    assert_eq!(r.status, 201, "{}", r.body);
    let l = json(&r);
    assert_eq!(l["name"], "Club");
    assert_eq!(l["fields"], serde_json::json!(["first_name"]));
    assert!(l["form_url"].as_str().unwrap().ends_with("/s/club"), "{l}");
    let r = post("POST", "/api/v1/lists", &admin, club);
    assert_eq!(r.status, 409, "{}", r.body);
    let r = post("POST", "/api/v1/lists", &admin, r#"{"slug": "nameless"}"#);
    assert_eq!(r.status, 422, "{}", r.body);
    let r = post(
        "POST",
        "/api/v1/lists",
        &admin,
        r#"{"name": "Bad", "fields": ["first name"]}"#,
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("first name"), "{}", r.body);
    let r = post(
        "PATCH",
        "/api/v1/lists/Club",
        &admin,
        r#"{"description": "Members"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json(&r)["description"], "Members");
    assert_eq!(json(&r)["slug"], "club", "what is not given is kept");
    let r = post(
        "PATCH",
        "/api/v1/lists/Nope",
        &admin,
        r#"{"description": "x"}"#,
    );
    assert_eq!(r.status, 404, "{}", r.body);

    // A person, then a campaign to them.
    let r = post(
        "POST",
        "/api/v1/contacts",
        &admin,
        r#"{"email": "eve@people.invalid", "list": "Club", "fields": {"first_name": "Eve"}}"#,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let campaign = |extra: &str| {
        format!(
            r#"{{"name": "Welcome", "list": "Club", "from": "News <news@sender.invalid>",
                "subject": "Hi {{{{ contact.first_name }}}}", "html": "<p>Hello {{{{ contact.first_name }}}}</p>"{extra}}}"#
        )
    };
    assert_eq!(
        post("POST", "/api/v1/campaigns", &viewer, &campaign("")).status,
        403
    );
    // The From gate: sender.invalid is not connected.
    let r = post("POST", "/api/v1/campaigns", &admin, &campaign(""));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("not connected"), "{}", r.body);
    assert!(r.body.contains("sender.invalid"), "{}", r.body);
    let r = post(
        "POST",
        "/api/v1/campaigns",
        &admin,
        &campaign(r#", "allow_unverified": true, "list": "Nope""#)
            .replace(r#""list": "Club", "#, ""),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Nope"), "{}", r.body);
    let r = post(
        "POST",
        "/api/v1/campaigns",
        &admin,
        &campaign(r#", "allow_unverified": true"#)
            .replace("contact.first_name }}</p>", "contact.first_name </p>"),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("template"), "{}", r.body);
    let r = post(
        "POST",
        "/api/v1/campaigns",
        &admin,
        &campaign(r#", "allow_unverified": true, "reply_to": "help@people.invalid""#),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = json(&r)["id"].as_str().unwrap().to_string();
    let shown = http(
        port,
        "GET",
        &format!("/api/v1/campaigns/{id}"),
        &[("Authorization", &admin)],
        None,
    );
    let shown = json(&shown);
    assert!(
        shown["campaign"]["gate_override"]
            .as_str()
            .unwrap()
            .contains("allow_unverified in the API by admin@herald.test"),
        "{shown}"
    );
    // Sent from a sandboxed server: the copy is captured, not delivered.
    drop(serve);
    let _serve = common::serve_sandbox(&h, port);
    let r = post("POST", &format!("/api/v1/campaigns/{id}/send"), &admin, "");
    assert_eq!(r.status, 202, "{}", r.body);
    let raw = common::captured(&data, "eve@people.invalid", "Hi Eve");
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains("Hello Eve"), "{text}");
    assert!(
        text.contains("Reply-To: <help@people.invalid>")
            || text.contains("Reply-To: help@people.invalid"),
        "{text}"
    );

    // A list a campaign used is kept; another is deleted.
    let r = post("DELETE", "/api/v1/lists/Club", &admin, "");
    assert_eq!(r.status, 409, "{}", r.body);
    let r = post("POST", "/api/v1/lists", &admin, r#"{"name": "Temp"}"#);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        post("DELETE", "/api/v1/lists/Temp", &viewer, "").status,
        403
    );
    assert_eq!(post("DELETE", "/api/v1/lists/Temp", &admin, "").status, 204);
    assert_eq!(post("DELETE", "/api/v1/lists/Temp", &admin, "").status, 404);
    let lists = h.json(&["lists", "list", "--json"]);
    let names: Vec<&str> = lists
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Club"], "{lists}");
}

/// A POST sent again with the same `Idempotency-Key` gets the first answer again, and does the
/// work once; the key with another request is refused, another user's key is their own.
#[test]
fn an_idempotency_key_gives_the_first_answer_again_and_does_the_work_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let h = Herald::new(&data)
        .web_only(port)
        .env("HERALD__DNS__NAMESERVERS", "[\"127.0.0.1:9\"]")
        .env("HERALD__DNS__TIMEOUT", "1s");
    common::add_user(&h, "admin@herald.test", "admin");
    common::add_user(&h, "other@herald.test", "admin");
    let admin = common::bearer(&h, "admin@herald.test");
    let other = common::bearer(&h, "other@herald.test");
    let _serve = common::serve_sandbox(&h, port);
    let post = |auth: &str, body: &str, key: Option<&str>| {
        let mut headers = vec![
            ("Authorization", auth),
            ("Content-Type", "application/json"),
        ];
        if let Some(k) = key {
            headers.push(("Idempotency-Key", k));
        }
        http(port, "POST", "/api/v1/lists", &headers, Some(body))
    };
    let first = post(&admin, r#"{"name": "Once"}"#, Some("req-1"));
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = post(&admin, r#"{"name": "Once"}"#, Some("req-1"));
    assert_eq!(
        (again.status, again.body.as_str()),
        (201, first.body.as_str()),
        "the first answer again"
    );
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let lists = http(
        port,
        "GET",
        "/api/v1/lists",
        &[("Authorization", &admin)],
        None,
    );
    assert_eq!(lists.body.matches("\"Once\"").count(), 1, "{}", lists.body);

    // The key with another request: refused, nothing made.
    let other_request = post(&admin, r#"{"name": "Twice"}"#, Some("req-1"));
    assert_eq!(other_request.status, 422, "{}", other_request.body);
    assert!(other_request.body.contains("different request"));
    // Without a key a repeat is a new request (the name is taken now).
    assert_eq!(post(&admin, r#"{"name": "Once"}"#, None).status, 409);
    // A refusal is an answer too: kept and given again.
    let taken = post(&admin, r#"{"name": "Once"}"#, Some("req-2"));
    assert_eq!(taken.status, 409);
    assert_eq!(
        post(&admin, r#"{"name": "Once"}"#, Some("req-2")).header("idempotent-replayed"),
        Some("true")
    );
    // Another user's key of the same name is theirs.
    let theirs = post(&other, r#"{"name": "Theirs"}"#, Some("req-1"));
    assert_eq!(theirs.status, 201, "{}", theirs.body);
    // A new token is shown once: a retry is told it was answered, not given the token again.
    let token = |key: &str| {
        http(
            port,
            "POST",
            "/api/v1/tokens",
            &[
                ("Authorization", &admin),
                ("Content-Type", "application/json"),
                ("Idempotency-Key", key),
            ],
            Some(r#"{"user": "other@herald.test", "name": "ci"}"#),
        )
    };
    let made = token("tok-1");
    assert_eq!(made.status, 201, "{}", made.body);
    let retried = token("tok-1");
    assert_eq!(retried.status, 409, "{}", retried.body);
    assert!(
        retried.body.contains("secret shown once"),
        "{}",
        retried.body
    );
    let shown = json(&made);
    let secret = shown["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{shown:#}"));
    assert!(!retried.body.contains(secret), "{}", retried.body);
    for bad in ["", "a b", &"k".repeat(256)] {
        let r = post(&admin, r#"{"name": "Bad"}"#, Some(bad));
        assert_eq!(r.status, 422, "{bad:?}: {}", r.body);
    }
    let lists = http(
        port,
        "GET",
        "/api/v1/lists",
        &[("Authorization", &admin)],
        None,
    );
    assert!(!lists.body.contains("\"Bad\""), "{}", lists.body);
}

/// Domains and seeds through the API as the CLI does them: connect a domain (its records), the
/// same again refused (409, naming it), rotate its keys (404 for one not connected); list the seeds without their passwords and remove
/// one (a viewer may list, not remove).
#[test]
fn domains_are_connected_and_rotated_and_seeds_listed_and_removed_through_the_api() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = Herald::new(&tmp.path().join("data"))
        .web_only(port)
        .env("HERALD__DNS__NAMESERVERS", "[\"127.0.0.1:9\"]")
        .env("HERALD__DNS__TIMEOUT", "1s");
    common::add_user(&h, "admin@herald.test", "admin");
    common::add_user(&h, "viewer@herald.test", "viewer");
    let admin = common::bearer(&h, "admin@herald.test");
    let viewer = common::bearer(&h, "viewer@herald.test");
    let pw = tmp.path().join("seed-pw");
    std::fs::write(&pw, "Seed-Secret-91\n").unwrap();
    h.ok(&[
        "seeds",
        "add",
        "--provider",
        "gmail",
        "--imap",
        "imap.gmail.test:993",
        "--user",
        "seed@gmail.test",
        "--password-file",
        pw.to_str().unwrap(),
    ]);
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

    let added = call(
        "POST",
        "/api/v1/domains",
        &admin,
        Some(r#"{"domain": "API.example", "selector": "s1"}"#),
    );
    assert_eq!(added.status, 201, "{}", added.body);
    let connected = json(&added);
    assert_eq!(connected["domain"], "api.example", "{connected:#}");
    assert!(
        connected["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "s1._domainkey.api.example"),
        "{connected:#}"
    );
    let again = call(
        "POST",
        "/api/v1/domains",
        &admin,
        Some(r#"{"domain": "api.example"}"#),
    );
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body.contains("already connected"), "{}", again.body);
    assert_eq!(
        call(
            "POST",
            "/api/v1/domains",
            &viewer,
            Some(r#"{"domain": "v.example"}"#)
        )
        .status,
        403
    );
    let listed = h.json(&["domain", "list", "--json"]);
    assert!(listed.to_string().contains("api.example"), "{listed:#}");
    let rotated = call("POST", "/api/v1/domains/api.example/rotate", &admin, None);
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let r = json(&rotated);
    assert_eq!(r["active"], "s1", "{r:#}");
    assert_ne!(r["next"], "s1", "{r:#}");
    let unknown = call(
        "POST",
        "/api/v1/domains/nowhere.example/rotate",
        &admin,
        None,
    );
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert!(unknown.body.contains("nowhere.example"), "{}", unknown.body);

    let seeds = call("GET", "/api/v1/seeds", &viewer, None);
    assert_eq!(seeds.status, 200, "{}", seeds.body);
    assert_eq!(json(&seeds)["seeds"][0]["address"], "seed@gmail.test");
    assert!(!seeds.body.contains("Seed-Secret-91"));
    assert_eq!(
        call("DELETE", "/api/v1/seeds/seed@gmail.test", &viewer, None).status,
        403
    );
    assert_eq!(
        call("DELETE", "/api/v1/seeds/seed@gmail.test", &admin, None).status,
        204
    );
    assert_eq!(
        call("DELETE", "/api/v1/seeds/seed@gmail.test", &admin, None).status,
        404
    );
    assert_eq!(
        json(&call("GET", "/api/v1/seeds", &admin, None))["seeds"],
        serde_json::json!([])
    );
}
