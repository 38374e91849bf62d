//! One path for sending (issue 19's first defect): with `herald serve --sandbox` running, a
//! `campaign send` from the CLI only starts the campaign and the server sends it into its
//! capture folder; after the server stops, the installation is still a sandbox, so a CLI send
//! captures too. Nothing is looked up in DNS or sent off the machine: the recipients' domains
//! here do not resolve, so an escape would show as `bounced/hostunknown` instead of delivered.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{Herald, free_port, recipient};

fn captured(data: &std::path::Path) -> usize {
    std::fs::read_dir(data.join("sandbox"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .count()
        })
        .unwrap_or(0)
}

fn create(h: &Herald, tmp: &std::path::Path, name: &str) -> String {
    let html = tmp.join("b.html");
    std::fs::write(&html, "<p>Hello</p>").unwrap();
    h.ok(&[
        "campaign",
        "create",
        "--name",
        name,
        "--list",
        "l",
        "--from",
        "Ann <ann@sender.invalid>",
        "--subject",
        "Hi",
        "--html",
        html.to_str().unwrap(),
        "--allow-unverified",
    ])
    .trim()
    .to_string()
}

#[test]
fn a_cli_send_under_a_sandboxed_server_lands_in_the_capture_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let h = Herald::new(&data)
        .env("HERALD__HTTP__LISTEN", &format!("127.0.0.1:{port}"))
        .env("HERALD__INBOUND__ENABLED", "false")
        // If anything escaped the sandbox it would ask this (dead) resolver and fail.
        .env("HERALD__DNS__NAMESERVERS", "[\"127.0.0.1:9\"]")
        .env("HERALD__DNS__TIMEOUT", "1s");
    let csv = tmp.path().join("c.csv");
    std::fs::write(
        &csv,
        "email\nann@customer-one.invalid\nbob@customer-two.invalid\n",
    )
    .unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "l"]);
    let first = create(&h, tmp.path(), "first");

    let serve = common::serve_sandbox(&h, port);
    let out = h.run(&[
        "campaign",
        "send",
        &first,
        "--wait",
        "--wait-timeout",
        "60s",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("sends it") && said.contains("sandbox"),
        "{said}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for email in ["ann@customer-one.invalid", "bob@customer-two.invalid"] {
        let r = recipient(&report, email);
        assert_eq!(r["state"], "delivered", "{r:#}");
        assert_eq!(r["evidence"]["mx"], "sandbox", "{r:#}");
    }
    assert_eq!(captured(&data), 2);

    // The server stops; the installation is still a sandbox (its newest `serve` was).
    drop(serve);
    let second = create(&h, tmp.path(), "second");
    let report = h.json(&["campaign", "send", &second, "--wait", "--json"]);
    for email in ["ann@customer-one.invalid", "bob@customer-two.invalid"] {
        assert_eq!(
            recipient(&report, email)["state"],
            "delivered",
            "{report:#}"
        );
    }
    assert_eq!(captured(&data), 4);
}
