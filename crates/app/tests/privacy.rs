//! Erasure and right of access (GDPR), through the real binary on the configured backend:
//! after `contacts erase` (and the API's), the person is nowhere in the database files or a
//! PostgreSQL dump, the campaign's counts are unchanged, and the address is refused when
//! imported or added again.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::{Herald, free_port, http, wait_for};

/// Everything the database holds, as lower-case text: a PostgreSQL dump, or the SQLite files.
fn database_text(h: &Herald) -> String {
    if let Some((_, url)) = h.env.iter().find(|(k, _)| k == "HERALD__DATABASE__URL") {
        let out = std::process::Command::new("pg_dump")
            .arg(url)
            .output()
            .expect("pg_dump (postgresql-client)");
        assert!(
            out.status.success(),
            "pg_dump: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return String::from_utf8_lossy(&out.stdout).to_lowercase();
    }
    let mut all = String::new();
    for f in ["herald.db", "herald.db-wal"] {
        if let Ok(b) = std::fs::read(h.data_dir.join(f)) {
            all.push_str(&String::from_utf8_lossy(&b).to_lowercase());
        }
    }
    all
}

#[test]
fn an_erased_person_is_nowhere_the_counts_stay_and_the_address_is_refused_again() {
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
        "email,first_name\nEve.Erasable@People.invalid,Evelynne\nbob@people.invalid,Bob\ncarol.kept@people.invalid,Carol\n",
    )
    .unwrap();
    h.ok(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "club",
    ]);
    h.ok(&["lists", "create", "Second"]);
    h.ok(&[
        "contacts",
        "add",
        "eve.erasable@people.invalid",
        "--list",
        "Second",
        "--field",
        "city=Zanzibarville",
    ]);
    common::add_user(&h, "admin@people.invalid", "admin");
    let auth = common::bearer(&h, "admin@people.invalid");
    let _serve = common::serve_sandbox(&h, port);

    let id = common::draft(
        &h,
        tmp.path(),
        "club",
        "Hello",
        "Hi {{ contact.first_name }}",
        "<p>Hello {{ contact.first_name }}</p>",
    );
    let sent = h.sent(&id, "60s");
    assert_eq!(sent["counts"]["delivered"], 3, "{sent:#}");

    // Eve opens it: an event with her IP and user agent.
    common::open_copy(
        &data,
        port,
        "Eve.Erasable@people.invalid",
        "Hi Evelynne",
        Some("Mozilla/5.0 ErasureTestAgent/1.0"),
    );
    wait_for("the open to be recorded", Duration::from_secs(20), || {
        let t = h.json(&["contacts", "show", "eve.erasable@people.invalid", "--json"]);
        (!t["deliveries"][0]["events"].as_array()?.is_empty()).then_some(())
    });

    // Right of access: everything, before.
    let export = h.json(&["contacts", "export-person", "EVE.erasable@people.invalid"]);
    let text = export.to_string().to_lowercase();
    for said in [
        "evelynne",
        "zanzibarville",
        "erasuretestagent",
        "hi evelynne",
    ] {
        assert!(text.contains(said), "the export holds {said:?}: {export:#}");
    }
    assert_eq!(
        export["attempts"].as_array().map(Vec::len),
        Some(1),
        "{export:#}"
    );
    assert_eq!(
        export["timeline"]["consents"].as_array().map(Vec::len),
        Some(1)
    );
    let before = database_text(&h);
    assert!(
        before.contains("eve.erasable"),
        "the search sees what is there"
    );

    let counts = h.json(&["campaign", "show", &id, "--json"])["counts"].clone();
    let done = h.json(&["contacts", "erase", "eve.erasable@people.invalid", "--json"]);
    assert_eq!(
        (
            &done["contact"],
            &done["memberships"],
            &done["consents"],
            &done["deliveries"]
        ),
        (
            &serde_json::json!(true),
            &serde_json::json!(2),
            &serde_json::json!(1),
            &serde_json::json!(1)
        ),
        "{done:#}"
    );
    assert_eq!(done["events"], 1, "{done:#}");
    // Bob, through the API.
    let r = http(
        port,
        "POST",
        "/api/v1/contacts/bob@people.invalid/erase",
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = http(
        port,
        "POST",
        "/api/v1/contacts/bob@people.invalid/erase",
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(r.status, 404, "nothing is left: {}", r.body);

    let report = h.json(&["campaign", "show", &id, "--json"]);
    assert_eq!(report["counts"], counts, "the counts are unchanged");
    let text = database_text(&h).to_lowercase();
    for gone in [
        "eve.erasable",
        "evelynne",
        "zanzibarville",
        "erasuretestagent",
        "bob@people",
    ] {
        assert!(!text.contains(gone), "the database still holds {gone:?}");
    }
    assert!(
        text.contains("carol.kept@people.invalid"),
        "others are kept"
    );
    for args in [
        vec!["contacts", "show", "eve.erasable@people.invalid"],
        vec!["contacts", "export-person", "eve.erasable@people.invalid"],
    ] {
        assert_eq!(h.run(&args).status.code(), Some(2), "{args:?}");
    }

    // The address is refused from now on, naming the line.
    std::fs::write(
        &csv,
        "email,first_name\ncarol.kept@people.invalid,C\nEVE.ERASABLE@people.invalid,E\n",
    )
    .unwrap();
    let report = h.json(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "club",
        "--json",
    ]);
    assert_eq!(report["rejected_count"], 1, "{report:#}");
    assert_eq!(report["rejected"][0]["line"], 3, "{report:#}");
    assert!(
        report["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("erased"),
        "{report:#}"
    );
    assert_eq!(
        (&report["imported"], &report["updated"]),
        (&serde_json::json!(0), &serde_json::json!(1))
    );
    let out = h.run(&[
        "contacts",
        "add",
        "eve.erasable@people.invalid",
        "--list",
        "Second",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("erased"));
    let r = http(
        port,
        "POST",
        "/api/v1/contacts",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        Some(r#"{"email":"bob@people.invalid","list":"club"}"#),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        !database_text(&h).contains("eve.erasable"),
        "nothing came back"
    );

    // The erasure key cannot be lost or swapped silently: a new key would forget every erasure.
    let key = data.join("secrets").join("erasure.key");
    let original = std::fs::read(&key).unwrap();
    std::fs::remove_file(&key).unwrap();
    let out = h.run(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "club",
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("erasure.key is missing"));
    assert!(!key.exists(), "no new key was made");
    std::fs::write(&key, [9u8; 32]).unwrap();
    let out = h.run(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "club",
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not the erasure key"));
    std::fs::write(&key, &original).unwrap();
    let report = h.json(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "club",
        "--json",
    ]);
    assert_eq!(report["rejected_count"], 1, "{report:#}");
}

/// After an erasure the list's first contact can be one the template fails for: a test send
/// is then refused as the user's to fix (exit 2, 422), not an internal error (schemathesis
/// found the 500).
#[test]
fn a_test_send_whose_template_fails_for_the_first_contact_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data")).env("HERALD__DELIVERY__SANDBOX", "true");
    let csv = tmp.path().join("c.csv");
    std::fs::write(&csv, "email,first_name\nann@x.invalid,Ann\n").unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "l"]);
    let id = common::draft(
        &h,
        tmp.path(),
        "l",
        "t",
        "Hi",
        "<p>Hi {{ contact.first_name }}</p>",
    );
    h.ok(&["campaign", "test", &id, "--to", "t@x.invalid"]);
    h.ok(&["contacts", "add", "zed@x.invalid", "--list", "l"]);
    h.ok(&["contacts", "erase", "ann@x.invalid"]);
    let out = h.run(&["campaign", "test", &id, "--to", "t@x.invalid"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("first_name"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `contacts delete` removes the contact (not an erasure: it can come back by import).
#[test]
fn a_deleted_contact_is_gone_from_its_lists_and_can_be_imported_again() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data"));
    let csv = tmp.path().join("c.csv");
    std::fs::write(
        &csv,
        "email,first_name\nann@x.invalid,Ann\nbob@x.invalid,Bob\n",
    )
    .unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "l"]);
    h.ok(&["contacts", "delete", "ANN@x.invalid"]);
    assert_eq!(
        h.run(&["contacts", "show", "ann@x.invalid"]).status.code(),
        Some(2)
    );
    assert_eq!(
        h.run(&["contacts", "delete", "ann@x.invalid"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        h.run(&["contacts", "delete", "not-an-address"])
            .status
            .code(),
        Some(2)
    );
    let lists = h.json(&["lists", "list", "--json"]);
    assert!(lists.to_string().contains("\"subscribed\":1"), "{lists:#}");
    let again = h.json(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "l",
        "--json",
    ]);
    assert_eq!(
        (&again["imported"], &again["updated"]),
        (&serde_json::json!(1), &serde_json::json!(1))
    );
}

/// `{{ view_in_browser_url }}`: the web copy is the recipient's own message (personalised, its
/// unsubscribe link working) with tracking off, served so no script runs; a tampered link is
/// unknown, and once the person is erased their copy is gone.
#[test]
fn the_web_copy_is_personalised_untracked_and_gone_with_the_person() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = Herald::new(&tmp.path().join("data")).web_only(port);
    let csv = tmp.path().join("c.csv");
    std::fs::write(&csv, "email,first_name\nann@x.invalid,Ann\n").unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "l"]);
    let id = common::draft(
        &h,
        tmp.path(),
        "l",
        "web",
        "Hi",
        "<p>Hello {{ contact.first_name }}</p><p><a href=\"https://example.com/deal\">Deal</a> \
         <a href=\"{{ view_in_browser_url }}\">View in your browser</a> \
         <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p><script>window.x=1</script>",
    );
    let _serve = common::serve_sandbox(&h, port);
    h.ok(&["campaign", "send", &id, "--wait"]);
    let raw = common::captured(&h.data_dir, "ann@x.invalid", "Hi");
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let html = msg.body_html(0).unwrap().into_owned();
    // The message itself is tracked; its view link is not a tracked click.
    assert!(html.contains("/t/o/") && html.contains("/t/c/"), "{html}");
    let at = html.find("/v/").expect("a view-in-browser link");
    let view = html[at..].split('"').next().unwrap().to_string();

    let page = http(port, "GET", &view, &[], None);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Hello Ann"), "{}", page.body);
    assert!(
        page.body.contains("href=\"https://example.com/deal\""),
        "links go straight to their destination: {}",
        page.body
    );
    assert!(!page.body.contains("/t/o/") && !page.body.contains("/t/c/"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'")
            && csp.contains("sandbox")
            && !csp.contains("script-src"),
        "{csp}"
    );
    assert_eq!(page.header("cache-control"), Some("private, no-store"));
    // Its unsubscribe link is the recipient's own page.
    let at = page.body.find("/u/").unwrap();
    let unsubscribe = page.body[at..].split('"').next().unwrap().to_string();
    assert_eq!(http(port, "GET", &unsubscribe, &[], None).status, 200);
    // Viewing records nothing.
    let report = h.json(&["campaign", "report", &id, "--recipients", "--json"]);
    assert_eq!(report["counts"]["opened"].as_u64(), Some(0), "{report:#}");

    let mut tampered = view.clone().into_bytes();
    let middle = "/v/".len() + (tampered.len() - "/v/".len()) / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_eq!(http(port, "GET", &tampered, &[], None).status, 404);

    h.ok(&["contacts", "erase", "ann@x.invalid"]);
    let gone = http(port, "GET", &view, &[], None);
    assert_eq!(gone.status, 410, "{}", gone.body);
    assert!(!gone.body.contains("Ann"));
}
