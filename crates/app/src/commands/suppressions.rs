//! `herald suppressions list|add|remove|import`: the addresses Herald will not mail.

use herald_domain::{EmailAddress, SuppressionReason};
use herald_engine::api_types::SuppressionView;
use herald_store::Suppression;
use herald_store::prelude::*;

use crate::bad_input;
use crate::cli::SuppressionsCmd;
use crate::output;
use crate::startup::App;

const PAGE: u32 = 10_000;

pub async fn run(app: App, cmd: SuppressionsCmd) -> anyhow::Result<()> {
    match cmd {
        SuppressionsCmd::List { json } => {
            let mut rows = Vec::new();
            let mut after = String::new();
            loop {
                let page = app.store.suppressions(&after, PAGE).await?;
                let Some(last) = page.last() else { break };
                after = last.email_key.clone();
                rows.extend(page.iter().map(SuppressionView::from));
            }
            if json {
                return output::json(&rows);
            }
            if rows.is_empty() {
                println!("no suppressed addresses");
            }
            for r in rows {
                println!("{}  {}  {}  {}", r.email, r.reason, r.source, r.at);
            }
            Ok(())
        }
        SuppressionsCmd::Add { email, reason } => {
            let key = address_key(&email)?;
            let reason = settable(&reason)?;
            let added = app
                .store
                .add_suppression(&Suppression {
                    email_key: key.clone(),
                    reason,
                    source: "manual".into(),
                    created_at_ms: app.clock.now_ms(),
                })
                .await?;
            if added {
                println!("suppressed {key} ({reason})");
            } else {
                println!("{key} was already suppressed");
            }
            Ok(())
        }
        SuppressionsCmd::Import {
            file,
            reason,
            remove,
            json,
        } => import(&app, &file, &reason, remove, json).await,
        SuppressionsCmd::Remove { email } => {
            let key = address_key(&email)?;
            if app
                .store
                .remove_suppression(&key, "manual", app.clock.now_ms())
                .await?
            {
                println!("removed {key} from the suppression list");
                Ok(())
            } else {
                Err(bad_input(format!("{key} is not on the suppression list")))
            }
        }
    }
}

/// `suppressions import FILE [--reason R | --remove] [--json]`.
async fn import(
    app: &App,
    file: &std::path::Path,
    reason: &str,
    remove: bool,
    json: bool,
) -> anyhow::Result<()> {
    use herald_engine::contacts::suppress::{BulkAction, suppress_csv};
    let action = if remove {
        BulkAction::Remove
    } else {
        BulkAction::Add(settable(reason)?)
    };
    let input =
        std::fs::File::open(file).map_err(|e| bad_input(format!("{}: {e}", file.display())))?;
    let report = suppress_csv(&app.store, input, action, "import", app.clock.now_ms())
        .await
        .map_err(|e| match e {
            herald_engine::contacts::ImportError::Store(s) => anyhow::Error::new(s),
            other => bad_input(format!("{}: {other}", file.display())),
        })?;
    if json {
        return output::json(&report);
    }
    if remove {
        println!(
            "lifted {}; {} were not on the list",
            report.removed, report.not_listed
        );
    } else {
        println!(
            "suppressed {}; {} were on the list already",
            report.added, report.already
        );
    }
    for r in &report.rejected {
        eprintln!(
            "  {}: line {}: {:?}: {}",
            file.display(),
            r.line,
            r.value,
            r.reason
        );
    }
    if report.rejected_count > report.rejected.len() as u64 {
        eprintln!("  … {} rejected lines in all", report.rejected_count);
    }
    Ok(())
}

fn settable(reason: &str) -> anyhow::Result<SuppressionReason> {
    SuppressionReason::settable(reason).ok_or_else(|| {
        bad_input(format!(
            "--reason {reason:?}: expected one of unsubscribed, previously_bounced, complained, suppressed"
        ))
    })
}

fn address_key(email: &str) -> anyhow::Result<String> {
    EmailAddress::parse(email)
        .map(|a| a.key())
        .map_err(|e| bad_input(format!("{email:?}: {e}")))
}
