//! Closed vocabularies (issue 15): a stored value outside one is a corrupt record, reported as
//! such, never read as something else (a role that is not one does not become "viewer").

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::Herald;

/// Run one SQL statement on the installation's database (SQLite file, or the test's
/// PostgreSQL database).
fn execute(h: &Herald, sql: &'static str) {
    let url = h
        .env
        .iter()
        .find(|(k, _)| k == "HERALD__DATABASE__URL")
        .map(|(_, v)| v.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        match url {
            Some(pg) => {
                let pool = sqlx::PgPool::connect(&pg).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
            None => {
                let path = h.data_dir.join("herald.db");
                let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
                    .await
                    .unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
        }
    });
}

#[test]
fn an_unknown_role_is_a_corrupt_record_not_a_viewer() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Herald::new(&tmp.path().join("data"));
    let pw = tmp.path().join("pw");
    std::fs::write(&pw, "correct horse battery\n").unwrap();
    h.ok(&[
        "user",
        "add",
        "ann@herald.test",
        "--password-file",
        pw.to_str().unwrap(),
        "--role",
        "viewer",
    ]);
    let listed = h.json(&["user", "list", "--json"]);
    assert_eq!(listed[0]["role"], "viewer", "{listed:#}");

    execute(&h, "UPDATE users SET role = 'root'");
    let out = h.run(&["user", "list", "--json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "read as something: {err}");
    assert!(err.contains("unknown role \"root\""), "{err}");
}
