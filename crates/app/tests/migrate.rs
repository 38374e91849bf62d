//! `herald migrate`: an installation with a sent campaign (the demo: deliveries, a bounce, a
//! greylisted retry, a rejected row) moves from SQLite into an empty PostgreSQL database and
//! reports the same there; a second run is refused and changes nothing.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{Herald, pg_database};

#[test]
fn an_installation_moves_to_postgres_with_everything_in_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // The source is SQLite whatever backend the other tests use.
    let sqlite = Herald {
        data_dir: data.clone(),
        env: Vec::new(),
    };
    sqlite.ok(&["demo", "--json"]);
    // A draft with a file: attachments move too.
    let sqlite = sqlite.env("HERALD__ATTACHMENTS__ENABLED", "true");
    let list = sqlite.json(&["campaign", "show", "1", "--json"])["list"]
        .as_str()
        .unwrap()
        .to_string();
    let draft = common::draft(&sqlite, tmp.path(), &list, "Files", "Files", "<p>Files</p>");
    let file = tmp.path().join("programme.bin");
    std::fs::write(&file, (0..=255u8).cycle().take(50_000).collect::<Vec<u8>>()).unwrap();
    sqlite.ok(&["campaign", "attach", &draft, file.to_str().unwrap()]);
    let files = sqlite.json(&["campaign", "show", &draft, "--json"])["attachments"].clone();
    let before = sqlite.json(&["campaign", "report", "1", "--recipients", "--json"]);
    let db = pg_database(&tmp.path().join("target"));
    let from = format!("sqlite://{}", data.join("herald.db").display());

    let out = sqlite.json(&["migrate", "--from", &from, "--to", &db, "--json"]);
    assert_eq!(out["verified"], true, "{out:#}");
    let rows = |t: &str| {
        out["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["table"] == t)
            .unwrap()["rows"]
            .as_u64()
            .unwrap()
    };
    assert!(
        rows("deliveries") > 0 && rows("attempts") > rows("deliveries") / 2,
        "{out:#}"
    );
    assert_eq!(rows("campaign_attachments"), 1, "{out:#}");

    // The same data dir (keys, settings) on PostgreSQL: the same report.
    let pg = Herald {
        data_dir: data.clone(),
        env: vec![("HERALD__DATABASE__URL".into(), db.clone())],
    };
    let after = pg.json(&["campaign", "report", "1", "--recipients", "--json"]);
    assert_eq!(after["counts"], before["counts"]);
    assert_eq!(after["recipients"], before["recipients"]);
    let moved = pg.json(&["campaign", "show", &draft, "--json"])["attachments"].clone();
    assert_eq!(moved, files, "the file, its size and SHA-256");
    // New rows continue after the copied ids.
    let csv = tmp.path().join("more.csv");
    std::fs::write(&csv, "email\nnew@example.com\n").unwrap();
    let imported = pg.json(&[
        "contacts",
        "import",
        csv.to_str().unwrap(),
        "--list",
        "more",
        "--json",
    ]);
    assert_eq!(imported["imported"], 1, "{imported:#}");

    // Twice: refused, named, and nothing changed.
    let again = sqlite.run(&["migrate", "--from", &from, "--to", &db]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already holds Herald data"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let still = pg.json(&["campaign", "report", "1", "--recipients", "--json"]);
    assert_eq!(still["counts"], before["counts"]);
    // Bad input: a missing file, a wrong scheme.
    let bad = sqlite.run(&["migrate", "--from", "sqlite:///nonexistent.db", "--to", &db]);
    assert_eq!(bad.status.code(), Some(2));
    let bad = sqlite.run(&["migrate", "--from", &from, "--to", "mysql://x"]);
    assert_eq!(bad.status.code(), Some(2));
}
