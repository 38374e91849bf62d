//! The preference centre and a list-only unsubscribe.

use std::path::Path;

use super::*;
use crate::common::{Herald, captured, free_port, http, recipient};

/// The path of the preference-centre link in the captured message to `to` with `subject`.
fn preferences_path(data: &Path, port: u16, to: &str, subject: &str) -> String {
    let raw = captured(data, to, subject);
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let html = msg.body_html(0).unwrap().to_string();
    let prefix = format!("http://127.0.0.1:{port}");
    let at = html
        .find(&format!("{prefix}/p/"))
        .unwrap_or_else(|| panic!("no {prefix}/p/ link in {html}"));
    html[at + prefix.len()..]
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

/// Create a campaign to `list` and send it; the report.
fn send(h: &Herald, tmp: &Path, list: &str, subject: &str) -> serde_json::Value {
    let html = tmp.join("p.html");
    std::fs::write(
        &html,
        "<p>Hello {{ contact.first_name }}</p><p><a href=\"{{ preferences_url }}\">Your preferences</a></p>",
    )
    .unwrap();
    let id = h.json(&[
        "campaign",
        "create",
        "--name",
        subject,
        "--list",
        list,
        "--from",
        "News <news@sender.invalid>",
        "--subject",
        subject,
        "--html",
        html.to_str().unwrap(),
        "--allow-unverified",
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    h.sent(&id, "60s")
}

fn state(report: &serde_json::Value, email: &str) -> (String, String) {
    let r = recipient(report, email);
    (
        r["state"].as_str().unwrap_or("").to_string(),
        r["reason"].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn the_preference_centre_and_a_list_only_unsubscribe_leave_one_list_and_keep_the_other() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let h = Herald::new(&data)
        .web_only(port)
        .env("HERALD__DNS__NAMESERVERS", "[\"127.0.0.1:9\"]")
        .env("HERALD__DNS__TIMEOUT", "1s")
        .env("HERALD__LISTS__UNSUBSCRIBE", "list");
    let csv = tmp.path().join("c.csv");
    std::fs::write(
        &csv,
        format!(
            "email,first_name\nann@a.invalid,Ann\nbob@b.invalid,Bob\ncy@c.invalid,{}\n",
            "y".repeat(300)
        ),
    )
    .unwrap();
    for list in ["Sports", "Cooking"] {
        h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", list]);
    }
    h.ok(&["lists", "update", "Sports", "--fields", "first_name"]);
    let cooking = h.json(&["lists", "show", "Cooking", "--json"])["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let _serve = common::serve_sandbox(&h, port);

    let first = send(&h, tmp.path(), "Sports", "Sports 1");
    assert_eq!(state(&first, "ann@a.invalid").0, "delivered", "{first:#}");
    let path = preferences_path(&data, port, "ann@a.invalid", "Sports 1");
    assert!(
        path.starts_with("/p/"),
        "{path}: not rewritten into a click redirect"
    );

    // The page lists both lists, ticked, and the field the lists ask for.
    let page = http(port, "GET", &path, &[], None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("ann@a.invalid"), "{}", page.body);
    assert_eq!(page.body.matches(" checked>").count(), 2, "{}", page.body);
    assert!(
        page.body
            .contains("name=\"field_first_name\" value=\"Ann\"")
    );
    let mut tampered = path.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(http(port, "GET", &tampered, &[], None).status, 404);
    let long = "x".repeat(300);
    let refused = form_post(
        port,
        &path,
        &format!("action=save&list={cooking}&field_first_name={long}"),
    );
    assert_eq!(refused.status, 422, "an oversized field changes nothing");

    // Ann keeps Cooking only, and gives another name.
    let saved = form_post(
        port,
        &path,
        &format!("action=save&list={cooking}&field_first_name=Annie"),
    );
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(saved.body.contains("Saved."));
    assert_eq!(saved.body.matches(" checked>").count(), 1, "{}", saved.body);

    // Bob's one-click unsubscribe (RFC 8058) from a Sports message leaves Sports only.
    let raw = captured(&data, "bob@b.invalid", "Sports 1");
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let unsub = msg
        .header_raw("List-Unsubscribe")
        .unwrap()
        .split(['<', '>'])
        .find(|p| p.starts_with("http"))
        .unwrap()
        .to_string();
    let unsub_path = unsub
        .strip_prefix(&format!("http://127.0.0.1:{port}"))
        .unwrap();
    let one_click = form_post(port, unsub_path, "List-Unsubscribe=One-Click");
    assert_eq!(one_click.status, 200, "{}", one_click.body);

    let sports = send(&h, tmp.path(), "Sports", "Sports 2");
    assert_eq!(
        state(&sports, "ann@a.invalid"),
        ("not_sent".into(), "unsubscribed".into()),
        "{sports:#}"
    );
    assert_eq!(
        state(&sports, "bob@b.invalid"),
        ("not_sent".into(), "unsubscribed".into()),
        "{sports:#}"
    );
    let cooking_report = send(&h, tmp.path(), "Cooking", "Cooking 1");
    assert_eq!(state(&cooking_report, "ann@a.invalid").0, "delivered");
    assert_eq!(state(&cooking_report, "bob@b.invalid").0, "delivered");
    let raw = captured(&data, "ann@a.invalid", "Cooking 1");
    assert!(
        String::from_utf8_lossy(&raw).contains("Hello Annie"),
        "the field changed in the preference centre"
    );
    let why = h.json(&[
        "why",
        first["campaign"]["id"].as_str().unwrap_or_default(),
        "ann@a.invalid",
        "--json",
    ]);
    assert!(why.to_string().contains("unsubscribed"), "{why:#}");
    // Leaving Sports from a Sports message is that message's unsubscribe in its report.
    let report = h.json(&[
        "campaign",
        "report",
        first["campaign"]["id"].as_str().unwrap_or_default(),
        "--json",
    ]);
    assert_eq!(
        report["counts"]["unsubscribed"], 2,
        "ann and bob: {report:#}"
    );

    // Cy's name came from an import, longer than a form allows: leaving a list still works (only
    // changed fields are checked), and the name stays as it was.
    let cy = preferences_path(&data, port, "cy@c.invalid", "Sports 1");
    let left = form_post(
        port,
        &cy,
        &format!(
            "action=save&list={cooking}&field_first_name={}",
            "y".repeat(300)
        ),
    );
    assert_eq!(left.status, 200, "{}", left.body);
    assert_eq!(left.body.matches(" checked>").count(), 1);
    // Suppressed for another reason: shown as not mailed, the lists as they stand.
    h.ok(&[
        "suppressions",
        "add",
        "cy@c.invalid",
        "--reason",
        "complained",
    ]);
    let page = http(port, "GET", &cy, &[], None);
    assert!(
        page.body.contains("We do not send email to this address"),
        "{}",
        page.body
    );
    assert_eq!(page.body.matches(" checked>").count(), 1, "{}", page.body);
    let shown = h.json(&["contacts", "show", "cy@c.invalid", "--json"]);
    assert_eq!(
        shown["contact"]["fields"]["first_name"]
            .as_str()
            .map(str::len),
        Some(300)
    );

    // A list an operator took Bob off is not offered back in his preference centre.
    let bob = preferences_path(&data, port, "bob@b.invalid", "Sports 1");
    assert!(http(port, "GET", &bob, &[], None).body.contains("Cooking"));
    h.ok(&["contacts", "remove", "bob@b.invalid", "--list", "Cooking"]);
    let page = http(port, "GET", &bob, &[], None);
    assert!(!page.body.contains("Cooking"), "{}", page.body);
    let tried = form_post(port, &bob, &format!("action=save&list={cooking}"));
    assert_eq!(tried.status, 200);
    let shown = h.json(&["contacts", "show", "bob@b.invalid", "--json"]);
    assert!(
        shown["contact"]["memberships"]
            .to_string()
            .contains(r#"{"list":"Cooking","status":"unsubscribed"}"#),
        "{shown:#}"
    );

    // Everything: no list gets Ann any more; ticking Cooking again brings her back to it only.
    let all = form_post(port, &path, "action=everything");
    assert_eq!(all.status, 200);
    assert!(
        all.body.contains("unsubscribed from everything"),
        "{}",
        all.body
    );
    let report = send(&h, tmp.path(), "Cooking", "Cooking 2");
    assert_eq!(
        state(&report, "ann@a.invalid"),
        ("not_sent".into(), "unsubscribed".into())
    );
    let back = form_post(port, &path, &format!("action=save&list={cooking}"));
    assert_eq!(back.status, 200);
    let report = send(&h, tmp.path(), "Cooking", "Cooking 3");
    assert_eq!(state(&report, "ann@a.invalid").0, "delivered", "{report:#}");
    let report = send(&h, tmp.path(), "Sports", "Sports 3");
    assert_eq!(
        state(&report, "ann@a.invalid"),
        ("not_sent".into(), "unsubscribed".into())
    );
}
