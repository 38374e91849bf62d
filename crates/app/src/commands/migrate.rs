//! `herald migrate --from sqlite://… --to postgres://…`: move an installation to PostgreSQL.
//! The keys and settings stay in the data directory; afterwards set `[database] url` to the
//! PostgreSQL URL (on every node).

use herald_store::migrate::{MigrateError, sqlite_to_postgres};
use herald_store::{AnyStore, open};

use crate::{bad_input, output};

pub async fn run(from: &str, to: &str, json: bool) -> anyhow::Result<()> {
    let path = from
        .strip_prefix("sqlite://")
        .ok_or_else(|| bad_input(format!("--from {from:?}: expected sqlite://PATH")))?;
    if !std::path::Path::new(path).is_file() {
        return Err(bad_input(format!("--from {from:?}: no such database file")));
    }
    if !(to.starts_with("postgres://") || to.starts_with("postgresql://")) {
        return Err(bad_input(format!(
            "--to {:?}: expected postgres://…",
            herald_store::redact_url(to)
        )));
    }
    let AnyStore::Sqlite(source) = open(from).await? else {
        return Err(bad_input("--from must be an SQLite database"));
    };
    let AnyStore::Postgres(target) = open(to).await? else {
        return Err(bad_input("--to must be a PostgreSQL database"));
    };
    let copied = match sqlite_to_postgres(&source, &target).await {
        Ok(c) => c,
        Err(e @ MigrateError::TargetNotEmpty(..)) => return Err(bad_input(e.to_string())),
        Err(e) => return Err(anyhow::Error::new(e).context("migrating")),
    };
    if json {
        return output::json(&serde_json::json!({
            "from": from, "to": redact(to), "verified": true, "tables": copied,
        }));
    }
    for c in &copied {
        println!("{:<18} {:>10} rows", c.table, c.rows);
    }
    println!(
        "Copied and verified (row counts and report counts match). Now set [database] url = \"{}\" on every node.",
        redact(to)
    );
    Ok(())
}

/// The URL without its password, for printing.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
