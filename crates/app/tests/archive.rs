//! A campaign's public archive page (issue 19): published from the CLI, the API or its page,
//! shown at a signed address once the send started — the HTML for no one in particular: no
//! contact's fields, no unsubscribe or tracking links — and gone when unpublished or tampered
//! with.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::{Herald, free_port, http, wait_for};

#[test]
fn a_published_campaign_has_a_public_page_without_personal_data() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let h = Herald::new(&data).web_only(port);
    common::add_user(&h, "admin@herald.test", "admin");
    common::add_user(&h, "viewer@herald.test", "viewer");
    let admin = common::bearer(&h, "admin@herald.test");
    let viewer = common::bearer(&h, "viewer@herald.test");
    let csv = tmp.path().join("c.csv");
    std::fs::write(&csv, "email,first_name\neve@people.invalid,Evelyn\n").unwrap();
    h.ok(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "news",
    ]);
    let id = common::draft(
        &h,
        tmp.path(),
        "news",
        "Spring",
        "Spring news",
        r#"<p>Hello {{ contact.first_name | default("reader") }}</p><p><a href="https://example.com/spring">Read</a> <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>"#,
    );
    let on = h.json(&["campaign", "archive", &id, "--json"]);
    assert_eq!(on["public"], true, "{on}");
    let url = on["url"].as_str().unwrap().to_string();
    let path = url
        .split_once(&format!("127.0.0.1:{port}"))
        .unwrap()
        .1
        .to_string();
    assert!(path.starts_with("/a/"), "{url}");
    assert_eq!(
        h.json(&["campaign", "show", &id, "--json"])["archive_url"],
        url.as_str()
    );

    let _serve = common::serve_sandbox(&h, port);
    assert_eq!(
        http(port, "GET", &path, &[], None).status,
        404,
        "a draft has no page yet"
    );
    h.ok(&["campaign", "send", &id]);
    wait_for("the send", Duration::from_secs(20), || {
        let r = h.json(&["campaign", "report", &id, "--json"]);
        (r["counts"]["delivered"] == 1).then_some(())
    });
    let page = http(port, "GET", &path, &[], None);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Hello reader"), "{}", page.body);
    assert!(
        page.body.contains("https://example.com/spring"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("Evelyn") && !page.body.contains("eve@") && !page.body.contains("/u/"),
        "nothing personal: {}",
        page.body
    );
    assert!(!page.body.contains("/t/"), "no tracking: {}", page.body);
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("sandbox")
    );
    assert_eq!(page.header("cache-control"), Some("public, max-age=300"));
    // Another campaign's number under the same signature, or a changed character: nothing.
    let tampered = {
        let mut b = path.clone().into_bytes();
        let i = b.len() - 10;
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).unwrap()
    };
    assert_eq!(http(port, "GET", &tampered, &[], None).status, 404);

    // The API takes it off (a viewer may not); the page is gone.
    let put = |token: &str, body: &str| {
        http(
            port,
            "PUT",
            &format!("/api/v1/campaigns/{id}/archive"),
            &[
                ("Authorization", token),
                ("Content-Type", "application/json"),
            ],
            Some(body),
        )
    };
    assert_eq!(put(&viewer, r#"{"public": false}"#).status, 403);
    let r = put(&admin, r#"{"public": false}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"url\":null"), "{}", r.body);
    assert_eq!(http(port, "GET", &path, &[], None).status, 404);

    // The campaign's page publishes it again, at the same address.
    let cookie = common::session_cookie(port, "admin@herald.test");
    let r = common::submit_form(
        port,
        &cookie,
        &format!("/campaigns/{id}"),
        &format!("/campaigns/{id}/archive"),
        "public=1",
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let page = http(
        port,
        "GET",
        r.header("location").unwrap(),
        &[("Cookie", &cookie)],
        None,
    );
    assert!(page.body.contains("id=\"archive-link\""), "{}", page.body);
    assert_eq!(http(port, "GET", &path, &[], None).status, 200);
}
