//! `herald suppressions list|add|remove`: the addresses Herald will not mail.

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
            let reason = SuppressionReason::settable(&reason).ok_or_else(|| {
                bad_input(format!(
                    "--reason {reason:?}: expected one of unsubscribed, previously_bounced, complained, suppressed"
                ))
            })?;
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

fn address_key(email: &str) -> anyhow::Result<String> {
    EmailAddress::parse(email)
        .map(|a| a.key())
        .map_err(|e| bad_input(format!("{email:?}: {e}")))
}
