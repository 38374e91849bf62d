//! Every action of the web UI through `/api/v1` (issue 20's parity): list routes page with
//! `?after=&limit=` and `next`; seeds are added (the login tried against the recipient world's
//! Dovecot) and tested; users added and removed; contacts imported, edited and taken off a
//! list; suppressions imported; segments changed and deleted; a campaign scheduled in a zone
//! and in each recipient's local time.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{Herald, free_port, http};
use serde_json::Value;

fn json(r: &common::HttpReply) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
}

struct Api {
    port: u16,
    admin: String,
    viewer: String,
}

impl Api {
    fn call(&self, method: &str, path: &str, token: &str, body: Option<&str>) -> common::HttpReply {
        http(
            self.port,
            method,
            path,
            &[
                ("Authorization", token),
                ("Content-Type", "application/json"),
            ],
            body,
        )
    }
    fn admin(&self, method: &str, path: &str, body: Option<&str>) -> common::HttpReply {
        self.call(method, path, &self.admin, body)
    }
    /// Every item of a list route, walking its pages of `limit`; and how many pages it took.
    fn walk(&self, path: &str, key: &str, limit: u32) -> (Vec<Value>, usize) {
        let (mut all, mut pages, mut after) = (Vec::new(), 0, None::<String>);
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let mut url = format!("{path}{sep}limit={limit}");
            if let Some(a) = &after {
                let a: String = a
                    .bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                            (b as char).to_string()
                        }
                        _ => format!("%{b:02X}"),
                    })
                    .collect();
                url.push_str(&format!("&after={a}"));
            }
            let r = self.call("GET", &url, &self.admin, None);
            assert_eq!(r.status, 200, "{url}: {}", r.body);
            let page = json(&r);
            let items = page[key].as_array().unwrap().clone();
            assert!(items.len() <= limit as usize, "{url}: {page}");
            pages += 1;
            all.extend(items);
            match page["next"].as_str() {
                Some(n) => after = Some(n.to_string()),
                None => break,
            }
            assert!(pages < 50, "{path} never ends");
        }
        (all, pages)
    }
}

fn names(items: &[Value], field: &str) -> Vec<String> {
    items
        .iter()
        .map(|v| v[field].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_ui_action_is_in_the_api_and_every_list_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = Herald::new(&tmp.path().join("data"))
        .web_only(port)
        .env("HERALD__DNS__NAMESERVERS", "[\"127.0.0.1:9\"]")
        .env("HERALD__DNS__TIMEOUT", "1s");
    common::add_user(&h, "admin@herald.test", "admin");
    common::add_user(&h, "viewer@herald.test", "viewer");
    let api = Api {
        port,
        admin: common::bearer(&h, "admin@herald.test"),
        viewer: common::bearer(&h, "viewer@herald.test"),
    };
    let _serve = common::serve_sandbox(&h, port);

    // Contacts imported from a CSV: a bad row named by its line, the rest kept.
    let csv = "email,first_name,timezone\nann@people.invalid,Ann,Europe/Warsaw\nnot-an-address,X,\nbob@people.invalid,Bob,America/New_York\ncid@people.invalid,Cid,\n";
    let body = serde_json::json!({"list": "Club", "csv": csv}).to_string();
    assert_eq!(
        api.call("POST", "/api/v1/contacts/import", &api.viewer, Some(&body))
            .status,
        403
    );
    let r = api.admin("POST", "/api/v1/contacts/import", Some(&body));
    assert_eq!(r.status, 200, "{}", r.body);
    let report = json(&r);
    assert_eq!(report["imported"], 3, "{report}");
    assert_eq!(report["rejected_count"], 1, "{report}");
    assert_eq!(report["rejected"][0]["line"], 3, "{report}");
    let r = api.admin(
        "POST",
        "/api/v1/contacts/import",
        Some(r#"{"list": "Club", "csv": "name\nann\n"}"#),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("line 1"), "{}", r.body);

    // The list's members, a page at a time; one taken off; fields edited.
    let (members, pages) = api.walk("/api/v1/lists/Club/members", "members", 2);
    assert_eq!(pages, 2);
    assert_eq!(
        names(&members, "email"),
        [
            "ann@people.invalid",
            "bob@people.invalid",
            "cid@people.invalid"
        ]
    );
    assert_eq!(members[0]["status"], "subscribed");
    assert_eq!(members[0]["fields"]["first_name"], "Ann");
    let r = api.admin(
        "DELETE",
        "/api/v1/lists/Club/members/cid@people.invalid",
        None,
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let (members, _) = api.walk("/api/v1/lists/Club/members", "members", 10);
    assert_eq!(members[2]["status"], "unsubscribed", "{members:?}");
    let r = api.admin(
        "DELETE",
        "/api/v1/lists/Club/members/nobody@people.invalid",
        None,
    );
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(
        api.admin("GET", "/api/v1/lists/Nope/members", None).status,
        404
    );
    let r = api.admin(
        "PATCH",
        "/api/v1/contacts/ann@people.invalid",
        Some(r#"{"set": {"city": "Kraków"}, "unset": ["timezone"]}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let f = json(&r);
    assert_eq!(f["fields"]["city"], "Kraków", "{f}");
    assert!(f["fields"].get("timezone").is_none(), "{f}");
    let shown = h.json(&["contacts", "show", "ann@people.invalid", "--json"]);
    assert!(shown.to_string().contains("Kraków"), "{shown}");
    assert_eq!(
        api.admin(
            "PATCH",
            "/api/v1/contacts/ghost@people.invalid",
            Some(r#"{"set": {"a": "b"}}"#)
        )
        .status,
        404
    );

    // Suppressions in bulk: added, then some lifted; pages of the list.
    let body = serde_json::json!({"csv": "email\nx1@s.invalid\nx2@s.invalid\nbad line\nx3@s.invalid\n", "reason": "complained"}).to_string();
    let r = api.admin("POST", "/api/v1/suppressions/import", Some(&body));
    assert_eq!(r.status, 200, "{}", r.body);
    let b = json(&r);
    assert_eq!(
        (b["added"].as_u64(), b["rejected_count"].as_u64()),
        (Some(3), Some(1)),
        "{b}"
    );
    let (listed, pages) = api.walk("/api/v1/suppressions", "suppressions", 2);
    assert_eq!(pages, 2);
    assert_eq!(
        names(&listed, "email"),
        ["x1@s.invalid", "x2@s.invalid", "x3@s.invalid"]
    );
    let r = api.admin(
        "POST",
        "/api/v1/suppressions/import",
        Some(r#"{"csv": "x2@s.invalid\nnever@s.invalid\n", "remove": true}"#),
    );
    let b = json(&r);
    assert_eq!(
        (b["removed"].as_u64(), b["not_listed"].as_u64()),
        (Some(1), Some(1)),
        "{b}"
    );
    let r = api.admin(
        "POST",
        "/api/v1/suppressions/import",
        Some(r#"{"csv": "a@s.invalid", "remove": true, "reason": "complained"}"#),
    );
    assert_eq!(r.status, 422, "{}", r.body);

    // Segments: three, paged; one renamed with a new rule; one deleted.
    for (name, rule) in [
        ("a-seg", "field first_name = \"Ann\""),
        ("b-seg", "list \"Club\""),
        ("c-seg", "never engaged"),
    ] {
        let body = serde_json::json!({"name": name, "rule": rule}).to_string();
        let r = api.admin("POST", "/api/v1/segments", Some(&body));
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let (segs, pages) = api.walk("/api/v1/segments", "segments", 2);
    assert_eq!((names(&segs, "name").len(), pages), (3, 2));
    let r = api.admin(
        "PATCH",
        "/api/v1/segments/a-seg",
        Some(r#"{"name": "poles", "rule": "field city = \"Kraków\""}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (json(&r)["name"].as_str(), json(&r)["count"].as_u64()),
        (Some("poles"), Some(1))
    );
    let r = api.admin(
        "PATCH",
        "/api/v1/segments/poles",
        Some(r#"{"name": "b-seg"}"#),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(
        api.admin("DELETE", "/api/v1/segments/c-seg", None).status,
        204
    );
    assert_eq!(
        api.admin("DELETE", "/api/v1/segments/c-seg", None).status,
        404
    );
    let (segs, _) = api.walk("/api/v1/segments", "segments", 100);
    assert_eq!(names(&segs, "name"), ["b-seg", "poles"]);

    // Users: added with a password shown once (it logs in), listed in pages, removed.
    let r = api.admin(
        "POST",
        "/api/v1/users",
        Some(r#"{"email": "Editor@Herald.test", "role": "admin"}"#),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let u = json(&r);
    assert_eq!(
        (u["email"].as_str(), u["role"].as_str()),
        (Some("editor@herald.test"), Some("admin"))
    );
    let password = u["password"].as_str().unwrap();
    // The password is a token of URL-safe characters: it goes in the form as it is.
    let csrf = common::login_form(port);
    let login = common::post_login(port, &csrf, "editor@herald.test", password, "/");
    assert_eq!(login.status, 303, "{}", login.body);
    let (users, pages) = api.walk("/api/v1/users", "users", 2);
    assert_eq!(pages, 2);
    assert_eq!(
        names(&users, "email"),
        [
            "admin@herald.test",
            "editor@herald.test",
            "viewer@herald.test"
        ]
    );
    assert!(!users.iter().any(|u| u.to_string().contains(password)));
    assert_eq!(
        api.call("GET", "/api/v1/users", &api.viewer, None).status,
        403
    );
    assert_eq!(
        api.admin("DELETE", "/api/v1/users/editor@herald.test", None)
            .status,
        204
    );
    assert_eq!(
        api.admin("DELETE", "/api/v1/users/editor@herald.test", None)
            .status,
        404
    );
    let r = api.admin(
        "POST",
        "/api/v1/users",
        Some(r#"{"email": "admin@herald.test", "role": "viewer"}"#),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("last admin"), "{}", r.body);

    // Campaigns: three, paged newest first; a status filter pages too.
    let mut ids = Vec::new();
    for n in 1..=3 {
        let body = format!(
            r#"{{"name": "C{n}", "list": "Club", "from": "News <news@sender.invalid>", "subject": "Hi", "html": "<p>Hello</p>", "allow_unverified": true}}"#
        );
        let r = api.admin("POST", "/api/v1/campaigns", Some(&body));
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(json(&r)["id"].as_str().unwrap().to_string());
    }
    let (campaigns, pages) = api.walk("/api/v1/campaigns?status=draft", "campaigns", 2);
    assert_eq!(pages, 2);
    let shown: Vec<String> = campaigns
        .iter()
        .map(|c| c["campaign"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(shown, [ids[2].clone(), ids[1].clone(), ids[0].clone()]);
    let (sent, _) = api.walk("/api/v1/campaigns?status=sent", "campaigns", 2);
    assert!(sent.is_empty());
    // The compose page's preview: unsaved content, as the list's first contact gets it.
    let r = api.call(
        "POST",
        "/api/v1/campaigns/preview",
        &api.viewer,
        Some(r#"{"list": "Club", "subject": "Hi {{ contact.first_name }}", "html": "<p>{{ contact.city }}</p>"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let p = json(&r);
    assert_eq!(
        (p["email"].as_str(), p["subject"].as_str()),
        (Some("ann@people.invalid"), Some("Hi Ann")),
        "{p}"
    );
    assert!(p["html"].as_str().unwrap().contains("Kraków"), "{p}");
    let r = api.admin(
        "POST",
        "/api/v1/campaigns/preview",
        Some(r#"{"list": "Club", "subject": "Hi", "html": "<p>{{ contact.city </p>"}"#),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    // A campaign's details, as `campaign show --json` prints them.
    let r = api.call(
        "GET",
        &format!("/api/v1/campaigns/{}/details", ids[0]),
        &api.viewer,
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json(&r), h.json(&["campaign", "show", &ids[0], "--json"]));
    assert_eq!(
        api.admin("GET", "/api/v1/campaigns/999999/details", None)
            .status,
        404
    );
    // The Campaigns page shows 100 and links to older ones.
    for n in 4..=101 {
        let body = format!(
            r#"{{"name": "C{n}", "list": "Club", "from": "News <news@sender.invalid>", "subject": "Hi", "html": "<p>Hello</p>", "allow_unverified": true}}"#
        );
        assert_eq!(
            api.admin("POST", "/api/v1/campaigns", Some(&body)).status,
            201
        );
    }
    let cookie = common::session_cookie(port, "viewer@herald.test");
    let page = http(port, "GET", "/", &[("Cookie", &cookie)], None);
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(">C101<") && !page.body.contains(">C1<"),
        "{}",
        page.body
    );
    let older = format!("/?before={}", ids[1]);
    assert!(
        page.body
            .contains(&format!("href=\"{older}\" id=\"older\"")),
        "{}",
        page.body
    );
    let page = http(port, "GET", &older, &[("Cookie", &cookie)], None);
    assert!(
        page.body.contains(">C1<") && !page.body.contains(">C2<"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("id=\"older\""), "{}", page.body);

    // Scheduling as the CLI takes it: a local time in a zone; each recipient's own time.
    let r = api.admin(
        "POST",
        &format!("/api/v1/campaigns/{}/schedule", ids[0]),
        Some(r#"{"at": "2099-12-10T09:00", "tz": "Europe/Warsaw"}"#),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("more than a year ahead"), "{}", r.body);
    // Mid-January next year: ahead, and less than a year ahead, whenever the test runs.
    let next_year = format!("{}-01-15", time::OffsetDateTime::now_utc().year() + 1);
    let body =
        serde_json::json!({"at": format!("{next_year}T09:00"), "tz": "Europe/Warsaw"}).to_string();
    let r = api.admin(
        "POST",
        &format!("/api/v1/campaigns/{}/schedule", ids[0]),
        Some(&body),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let s = json(&r);
    assert_eq!(
        s["scheduled_at"],
        format!("{next_year}T08:00:00.000Z"),
        "{s}"
    );
    assert_eq!(s["tz"], "Europe/Warsaw", "{s}");
    let body = serde_json::json!({"at": next_year, "local_time": "09:00", "tz": "UTC"}).to_string();
    let r = api.admin(
        "POST",
        &format!("/api/v1/campaigns/{}/schedule", ids[1]),
        Some(&body),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let s = json(&r);
    assert_eq!(s["local_time"], format!("{next_year}T09:00"), "{s}");
    // `serve` starts it when the first zone on Earth reaches 09:00 (UTC+14: 19:00 UTC the
    // day before); each delivery then waits for its recipient's own 09:00.
    let eve = next_year.replace("-01-15", "-01-14");
    assert_eq!(s["scheduled_at"], format!("{eve}T19:00:00.000Z"), "{s}");
    let r = api.admin(
        "POST",
        &format!("/api/v1/campaigns/{}/schedule", ids[2]),
        Some(
            &serde_json::json!({"at": format!("{next_year}T09:00"), "tz": "Mars/Olympus"})
                .to_string(),
        ),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Mars/Olympus"), "{}", r.body);

    // A webhook's log refuses limit=0 as documented.
    let r = api.admin(
        "POST",
        "/api/v1/webhooks",
        Some(r#"{"url": "http://127.0.0.1:9/hook", "events": ["delivered"]}"#),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let wid = json(&r)["id"].clone();
    let r = api.admin(
        "GET",
        &format!("/api/v1/webhooks/{wid}/events?limit=0"),
        None,
    );
    assert_eq!(r.status, 422, "{}", r.body);
    let r = api.admin("GET", "/api/v1/webhooks?limit=1", None);
    assert_eq!(
        (
            json(&r)["webhooks"].as_array().unwrap().len(),
            json(&r)["next"].as_str().is_some()
        ),
        (1, true)
    );
    let r = api.admin("GET", "/api/v1/lists?limit=0", None);
    assert_eq!(r.status, 422, "{}", r.body);
}

/// A seed added through the API: the login is tried against the recipient world's Dovecot
/// first (a wrong password keeps nothing), the password never comes back, and the seed's
/// login can be tested again.
#[test]
fn a_seed_is_added_and_tested_through_the_api() {
    let world = common::world_env();
    let imap = world["WORLD_IMAP"].clone();
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = Herald::new(&tmp.path().join("data")).web_only(port);
    common::add_user(&h, "admin@herald.test", "admin");
    common::add_user(&h, "viewer@herald.test", "viewer");
    let api = Api {
        port,
        admin: common::bearer(&h, "admin@herald.test"),
        viewer: common::bearer(&h, "viewer@herald.test"),
    };
    let _serve = common::serve_sandbox(&h, port);
    let seed = |password: &str| {
        serde_json::json!({"provider": "inbox", "imap": imap, "security": "plain",
            "user": "seed@inbox.test", "password": password})
        .to_string()
    };
    assert_eq!(
        api.call("POST", "/api/v1/seeds", &api.viewer, Some(&seed("secret")))
            .status,
        403
    );
    let r = api.admin("POST", "/api/v1/seeds", Some(&seed("wrong-one")));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .contains("the seed was not added: login as seed@inbox.test"),
        "{}",
        r.body
    );
    assert_eq!(h.json(&["seeds", "list", "--json"]), serde_json::json!([]));
    let r = api.admin("POST", "/api/v1/seeds", Some(&seed("secret")));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(json(&r)["address"], "seed@inbox.test");
    assert!(!r.body.contains("secret"), "{}", r.body);
    let r = api.admin("POST", "/api/v1/seeds/seed@inbox.test/test", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (json(&r)["ok"].as_bool(), json(&r)["error"].is_null()),
        (Some(true), true),
        "{}",
        r.body
    );
    let r = api.admin("POST", "/api/v1/seeds/nobody@inbox.test/test", None);
    assert_eq!(r.status, 404, "{}", r.body);
    let (seeds, _) = api.walk("/api/v1/seeds", "seeds", 10);
    assert_eq!(names(&seeds, "address"), ["seed@inbox.test"]);
}
