//! The API against its own OpenAPI document, by an independent generator: schemathesis (from
//! PyPI; `./scripts/test` installs it and sets `HERALD_SCHEMATHESIS`) sends schema-valid and
//! schema-violating requests to every operation of a running `herald serve --sandbox` with
//! data in it, and checks each answer: no 5xx, only documented statuses and content types,
//! bodies that match the documented schemas, valid requests accepted and invalid ones refused,
//! 405 with `Allow` for methods a path does not have.

mod common;

use std::process::Command;

use common::{Herald, free_port, http, serve_sandbox};

fn schemathesis() -> String {
    let st = std::env::var("HERALD_SCHEMATHESIS")
        .unwrap_or_else(|_| "/var/cache/herald/schemathesis/bin/st".into());
    assert!(
        std::path::Path::new(&st).exists(),
        "schemathesis is not installed at {st}: run ./scripts/test, or install it and set HERALD_SCHEMATHESIS"
    );
    st
}

#[test]
fn the_api_matches_its_openapi_document() {
    let st = schemathesis();
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = Herald::new(&tmp.path().join("data"))
        .web_only(port)
        // The recipient world's DNS: domain checks answer at once (nothing is published).
        .env(
            "HERALD__DNS__NAMESERVERS",
            &format!("[\"{}\"]", common::world_env()["WORLD_DNS"]),
        )
        // Drafts may carry files: `PUT …/attachments/{name}` is exercised, not only refused.
        .env("HERALD__ATTACHMENTS__ENABLED", "true");
    h.ok(&["init", "--admin", "admin@herald.test"]);
    let token = h
        .ok(&[
            "token",
            "create",
            "--user",
            "admin@herald.test",
            "--name",
            "schemathesis",
        ])
        .trim()
        .to_string();
    h.ok(&["domain", "add", "api.test", "--selector", "s1"]);
    let csv = tmp.path().join("c.csv");
    std::fs::write(
        &csv,
        "email,first_name,score\nann@example.com,Ann,3\nbob@example.com,Bob,\n",
    )
    .unwrap();
    h.ok(&["contacts", "import", csv.to_str().unwrap(), "--list", "l"]);
    let html = tmp.path().join("b.html");
    std::fs::write(&html, "<p>Hi {{ contact.first_name }}</p>").unwrap();
    for name in ["sent", "draft"] {
        h.ok(&[
            "campaign",
            "create",
            "--name",
            name,
            "--list",
            "l",
            "--from",
            "Ann <ann@api.test>",
            "--subject",
            "Hi",
            "--html",
            html.to_str().unwrap(),
            // Nothing is published for api.test in the world's DNS.
            "--allow-unverified",
        ]);
    }
    h.ok(&["suppressions", "add", "gone@example.com"]);
    let _serve = serve_sandbox(&h, port);
    let bearer = format!("Bearer {token}");
    let r = http(
        port,
        "POST",
        "/api/v1/campaigns/1/send",
        &[("Authorization", &bearer)],
        Some(""),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let r = http(
        port,
        "GET",
        "/api/v1/openapi.json",
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let doc = tmp.path().join("openapi.json");
    std::fs::write(&doc, &r.body).unwrap();

    let started = std::time::Instant::now();
    // Per-operation settings (why each is needed is said there).
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis.toml");
    let out = Command::new(&st)
        // Its example database and reports go to the temporary directory, not the tree.
        .current_dir(tmp.path())
        .args(["--config-file", config])
        .args(["run", doc.to_str().unwrap()])
        .args(["--url", &format!("http://127.0.0.1:{port}")])
        .args(["--header", &format!("Authorization: {bearer}")])
        .args(["--checks", "all", "--max-examples", "100", "--workers", "1"])
        // One seed: a failure is reproducible; change it to explore further.
        .args(["--seed", "20261203", "--no-color"])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    let summary = report
        .lines()
        .filter(|l| l.contains("generated") || l.contains("Selected") || l.contains("Tested"))
        .collect::<Vec<_>>()
        .join("; ");
    println!(
        "schemathesis: {summary} ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("Tested: 75"), "{report}");
}
