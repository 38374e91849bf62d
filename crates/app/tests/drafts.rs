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
    let shown = h.json(&["campaign", "show", "1", "--json"]);
    assert_eq!(shown["name"], "Nov v2", "a refused edit changes nothing");

    // Duplicate and delete a draft.
    let copy = h.json(&["campaign", "duplicate", "1", "--json"]);
    let copy_id = copy["id"].as_str().unwrap().to_string();
    let shown = h.json(&["campaign", "show", &copy_id, "--json"]);
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
