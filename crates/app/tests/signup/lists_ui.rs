//! Lists in the browser: create one, share its form, add people (at once, or asked to confirm),
//! give it a welcome message, take someone off, delete a list — as an admin, with the same
//! checks as `lists create|update` and `contacts add|remove`; a viewer only looks.

use super::*;
use crate::common::{Herald, add_user, captured, free_port, session_cookie};

/// `application/x-www-form-urlencoded` for `pairs`.
fn encoded(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// GET `path` as the session `cookie`.
fn get(port: u16, cookie: &str, path: &str) -> common::HttpReply {
    http(port, "GET", path, &[("Cookie", cookie)], None)
}

/// POST the form `pairs` (with the page's CSRF token) to `path` as the session `cookie`.
fn post(port: u16, cookie: &str, path: &str, pairs: &[(&str, &str)]) -> common::HttpReply {
    let csrf = hidden(&get(port, cookie, "/lists").body, "csrf");
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(pairs);
    http(
        port,
        "POST",
        path,
        &[
            ("Cookie", cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(&encoded(&all)),
    )
}

/// The settings form of `list` as shown, with `changes` made.
fn settings(
    h: &Herald,
    list: &str,
    changes: &[(&'static str, &str)],
) -> Vec<(&'static str, String)> {
    let v = h.json(&["lists", "show", list, "--json"]);
    let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
    let mut form: Vec<(&'static str, String)> = vec![
        ("name", s("name")),
        ("slug", s("slug")),
        ("opt_in", s("opt_in")),
        (
            "fields",
            v["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
                .collect::<Vec<_>>()
                .join(","),
        ),
        ("from", s("from")),
        ("description", s("description")),
        ("confirm_subject", s("confirm_subject")),
        ("confirm_html", s("confirm_html")),
        ("confirm_text", s("confirm_text")),
        ("welcome_subject", s("welcome_subject")),
        ("welcome_html", s("welcome_html")),
        ("welcome_text", s("welcome_text")),
    ];
    for (k, new) in changes {
        if let Some(slot) = form.iter_mut().find(|(name, _)| name == k) {
            slot.1 = new.to_string();
        }
    }
    form
}

fn pairs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn an_admin_runs_lists_in_the_browser_and_a_viewer_only_looks() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let data = tmp.path().join("data");
    let h = Herald::new(&data)
        .web_only(port)
        .env("HERALD__DELIVERY__SANDBOX", "true");
    add_user(&h, "admin@x.invalid", "admin");
    add_user(&h, "viewer@x.invalid", "viewer");
    let _serve = common::serve_sandbox(&h, port);
    let admin = session_cookie(port, "admin@x.invalid");
    let viewer = session_cookie(port, "viewer@x.invalid");

    // A new installation: the first run, step by step, from the campaigns page.
    let home = get(port, &admin, "/");
    assert!(
        home.body.contains("id=\"getting-started\"") && home.body.contains("href=\"/start\""),
        "{}",
        home.body
    );
    let start = get(port, &admin, "/start");
    assert_eq!(start.status, 200);
    assert!(
        start.body.contains("<strong>0</strong> of 6 steps done"),
        "{}",
        start.body
    );
    let empty = get(port, &admin, "/lists");
    assert_eq!(empty.status, 200);
    assert!(empty.body.contains("id=\"no-lists\""), "{}", empty.body);

    // A double opt-in list needs a sender: refused, what was typed kept.
    let refused = post(
        port,
        &admin,
        "/lists",
        &[
            ("name", "Weekly news"),
            ("opt_in", "double"),
            ("fields", "first_name"),
        ],
    );
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("needs --from") && refused.body.contains("value=\"Weekly news\"")
    );
    let created = post(
        port,
        &admin,
        "/lists",
        &[
            ("name", "Weekly news"),
            ("opt_in", "double"),
            ("fields", "first_name"),
            ("from", "The News <news@x.invalid>"),
        ],
    );
    assert_eq!(created.status, 303, "{}", created.body);
    assert!(
        created
            .header("location")
            .unwrap()
            .starts_with("/lists/Weekly%20news?flash=")
    );
    let page = get(port, &admin, "/lists/Weekly%20news");
    assert_eq!(page.status, 200);
    let form_url = format!("http://127.0.0.1:{port}/s/weekly-news");
    assert!(page.body.contains(&form_url), "the form's address");
    assert!(page.body.contains("id=\"embed\""), "a snippet to embed");
    assert!(page.body.contains("id=\"no-members\""));
    let taken = post(
        port,
        &admin,
        "/lists",
        &[("name", "Weekly news"), ("opt_in", "single")],
    );
    assert_eq!(taken.status, 409, "a name taken");

    // People: Ann added at once with her name, Bo asked to confirm, a malformed field line.
    let ann = post(
        port,
        &admin,
        "/lists/Weekly%20news/members",
        &[("email", "ann@x.invalid"), ("fields", "first_name=Ann\n")],
    );
    assert_eq!(ann.status, 303, "{}", ann.body);
    let bo = post(
        port,
        &admin,
        "/lists/Weekly%20news/members",
        &[("email", "bo@x.invalid"), ("confirm", "1")],
    );
    assert_eq!(bo.status, 303, "{}", bo.body);
    captured(
        &data,
        "bo@x.invalid",
        "Please confirm your subscription to Weekly news",
    );
    let bad = post(
        port,
        &admin,
        "/lists/Weekly%20news/members",
        &[("email", "cy@x.invalid"), ("fields", "first_name Cy")],
    );
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("fields, line 1") && bad.body.contains("value=\"cy@x.invalid\""),
        "{}",
        bad.body
    );
    let page = get(port, &admin, "/lists/Weekly%20news").body;
    assert!(
        page.contains("ann@x.invalid</a></td><td>subscribed"),
        "{page}"
    );
    assert!(page.contains("bo@x.invalid</a></td><td>pending"), "{page}");
    assert!(
        page.contains("ui:admin@x.invalid"),
        "the consent record names who added them"
    );
    let ann_now = h.json(&["contacts", "show", "ann@x.invalid", "--json"]);
    assert_eq!(
        ann_now["contact"]["fields"]["first_name"], "Ann",
        "{ann_now:#}"
    );
    let start = get(port, &admin, "/start").body;
    assert!(
        start.contains("<strong>1</strong> of 6 steps done")
            && start.contains("<li class=\"done\">\n  <strong>✓ Bring your contacts</strong>"),
        "{start}"
    );

    // Ann's own page: her fields edited (a line removed removes the field), a malformed line
    // refused, and she is put on a second list.
    let fields = |f: &str| {
        post(
            port,
            &admin,
            "/contacts/ann%40x.invalid/fields",
            &[("fields", f)],
        )
    };
    assert_eq!(fields("first_name=Ann\ncity=Berlin").status, 303);
    assert_eq!(fields("city=Berlin").status, 303);
    let refused = fields("city Paris");
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("fields, line 1") && refused.body.contains(">city Paris</textarea>"),
        "what was typed is kept: {}",
        refused.body
    );
    let ann_now = h.json(&["contacts", "show", "ann@x.invalid", "--json"]);
    assert_eq!(
        ann_now["contact"]["fields"],
        serde_json::json!({"city": "Berlin"}),
        "{ann_now:#}"
    );
    assert_eq!(
        post(
            port,
            &admin,
            "/lists",
            &[("name", "Club"), ("opt_in", "single")]
        )
        .status,
        303
    );
    let joined = post(
        port,
        &admin,
        "/contacts/ann%40x.invalid/lists",
        &[("list", "Club")],
    );
    assert_eq!(joined.status, 303);
    let page = get(port, &admin, joined.header("location").unwrap()).body;
    assert!(page.contains("On the list Club: subscribed."), "{page}");
    assert!(
        page.contains("href=\"/lists/Club\""),
        "her lists link to their pages"
    );

    // Settings: a confirmation without its link is refused and changes nothing; a welcome is
    // saved with the rest of the form as it was.
    let no_link = settings(
        &h,
        "Weekly news",
        &[
            ("confirm_subject", "Join us"),
            ("confirm_html", "<p>no link</p>"),
        ],
    );
    let r = post(port, &admin, "/lists/Weekly%20news", &pairs(&no_link));
    assert_eq!(r.status, 422);
    assert!(r.body.contains("{{ confirm_url }}"), "{}", r.body);
    assert!(
        r.body.contains("value=\"Join us\""),
        "what was typed is kept"
    );
    assert!(h.json(&["lists", "show", "Weekly news", "--json"])["confirm_subject"].is_null());
    let greeted = settings(
        &h,
        "Weekly news",
        &[
            (
                "welcome_subject",
                "Welcome, {{ contact.first_name | default(\"you\") }}",
            ),
            ("welcome_html", "<p>Glad you are here.</p>"),
            ("description", "Every Friday"),
        ],
    );
    let r = post(port, &admin, "/lists/Weekly%20news", &pairs(&greeted));
    assert_eq!(r.status, 303, "{}", r.body);
    let shown = h.json(&["lists", "show", "Weekly news", "--json"]);
    assert_eq!(
        (
            &shown["welcome_subject"],
            &shown["description"],
            &shown["opt_in"],
            &shown["slug"]
        ),
        (
            &serde_json::json!("Welcome, {{ contact.first_name | default(\"you\") }}"),
            &serde_json::json!("Every Friday"),
            &serde_json::json!("double"),
            &serde_json::json!("weekly-news")
        ),
        "{shown:#}"
    );
    assert!(
        shown["confirm_subject"].is_null(),
        "still the built-in confirmation"
    );

    // Ann taken off: the list counts her as unsubscribed.
    let off = post(
        port,
        &admin,
        "/lists/Weekly%20news/remove",
        &[("email", "ann@x.invalid")],
    );
    assert_eq!(off.status, 303);
    let shown = h.json(&["lists", "show", "Weekly news", "--json"]);
    assert_eq!(
        (
            &shown["subscribed"],
            &shown["pending"],
            &shown["unsubscribed"]
        ),
        (
            &serde_json::json!(0),
            &serde_json::json!(1),
            &serde_json::json!(1)
        )
    );

    // A viewer sees the lists but no form, and cannot change anything.
    let seen = get(port, &viewer, "/lists/Weekly%20news");
    assert_eq!(seen.status, 200);
    assert!(
        !seen.body.contains("id=\"list-settings\"") && !seen.body.contains("id=\"add-member\"")
    );
    for path in [
        "/lists",
        "/lists/Weekly%20news",
        "/lists/Weekly%20news/delete",
        "/lists/Weekly%20news/members",
        "/lists/Weekly%20news/remove",
    ] {
        assert_eq!(
            post(
                port,
                &viewer,
                path,
                &[("name", "x"), ("email", "z@x.invalid")]
            )
            .status,
            403,
            "{path}"
        );
    }

    // A list a campaign used is kept (its confirmations count); another is deleted.
    let kept = post(port, &admin, "/lists/Weekly%20news/delete", &[]);
    assert_eq!(kept.status, 303);
    assert!(h.run(&["lists", "show", "Weekly news"]).status.success());
    assert_eq!(
        post(
            port,
            &admin,
            "/lists",
            &[("name", "Spare"), ("opt_in", "single")]
        )
        .status,
        303
    );
    assert_eq!(post(port, &admin, "/lists/Spare/delete", &[]).status, 303);
    assert!(!h.run(&["lists", "show", "Spare"]).status.success());
    assert_eq!(get(port, &admin, "/lists/Spare").status, 404);
}
