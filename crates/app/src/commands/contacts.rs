//! `herald contacts import FILE --list NAME`, `add`, `show`, `edit`, `remove`, `export`.

use herald_store::prelude::*;
use std::time::Duration;

use anyhow::Context;
use herald_engine::contacts::{ImportError, import_csv};
use indicatif::{ProgressBar, ProgressStyle};

use herald_engine::audience::{self, ExportFormat, privacy};

use crate::cli::ContactsCmd;
use crate::commands::lists::cli_error;
use crate::startup::App;
use crate::{NotFound, bad_input, output};

/// `--field NAME=VALUE` arguments as pairs.
fn pairs(fields: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    fields
        .iter()
        .map(|f| {
            f.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .ok_or_else(|| bad_input(format!("--field {f:?}: expected NAME=VALUE")))
        })
        .collect()
}

pub async fn run(app: App, cmd: ContactsCmd) -> anyhow::Result<()> {
    match cmd {
        ContactsCmd::Import { file, list, json } => import(&app, file, list, json).await,
        ContactsCmd::Add {
            email,
            list,
            fields,
            confirm,
            json,
        } => add(&app, email, list, fields, confirm, json).await,
        ContactsCmd::Show { email, json } => show(&app, email, json).await,
        ContactsCmd::Edit {
            email,
            fields,
            unset,
        } => {
            let now = audience::edit_contact(
                &app.store,
                &email,
                &pairs(&fields)?,
                &unset,
                app.clock.now_ms(),
            )
            .await
            .map_err(|e| match e {
                audience::AudienceError::UnknownContact(_) => {
                    anyhow::Error::new(NotFound(e.to_string()))
                }
                other => cli_error(other),
            })?;
            println!("{email}: {}", serde_json::Value::Object(now));
            Ok(())
        }
        ContactsCmd::Remove { email, list } => {
            let l = audience::find(&app.store, &list).await.map_err(cli_error)?;
            audience::remove_from_list(&app.store, &l, &email, app.clock.now_ms())
                .await
                .map_err(|e| match e {
                    audience::AudienceError::NotMember(..) => {
                        anyhow::Error::new(NotFound(e.to_string()))
                    }
                    other => cli_error(other),
                })?;
            println!("{email} is off {list:?}");
            Ok(())
        }
        ContactsCmd::Export { list, json } => {
            let l = match &list {
                Some(name) => Some(audience::find(&app.store, name).await.map_err(cli_error)?),
                None => None,
            };
            let format = if json {
                ExportFormat::Json
            } else {
                ExportFormat::Csv
            };
            let out = std::io::BufWriter::new(std::io::stdout().lock());
            let n = audience::export(&app.store, l.as_ref(), format, out).await?;
            eprintln!("{n} contacts exported");
            Ok(())
        }
        ContactsCmd::Delete { email } => {
            let addr = herald_domain::EmailAddress::parse(email.trim())
                .map_err(|e| bad_input(format!("{email:?}: {e}")))?;
            if !PrivacyStore::delete_contact(&app.store, &addr.key()).await? {
                return Err(anyhow::Error::new(NotFound(format!(
                    "no contact {email:?}"
                ))));
            }
            println!(
                "contact {email} deleted (its campaign history stays; `contacts erase` removes that too)"
            );
            Ok(())
        }
        ContactsCmd::Erase { email, json } => erase(&app, email, json).await,
        ContactsCmd::ExportPerson { email } => {
            match privacy::export_person(&app.store, &email, app.clock.now_ms()).await? {
                Some(p) => output::json(&p),
                None => Err(anyhow::Error::new(NotFound(format!(
                    "Herald holds nothing on {email:?}"
                )))),
            }
        }
    }
}

/// `contacts import`: stream a CSV into a list; rejected rows are listed with their line.
async fn import(
    app: &App,
    file: std::path::PathBuf,
    list: String,
    json: bool,
) -> anyhow::Result<()> {
    if list.trim().is_empty() {
        return Err(bad_input("--list must not be empty"));
    }
    let f =
        std::fs::File::open(&file).map_err(|e| bad_input(format!("{}: {e}", file.display())))?;
    let pb = ProgressBar::new_spinner().with_message(format!("importing {}", file.display()));
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg}: {pos} rows ({per_sec})")
            .context("progress style")?,
    );
    pb.enable_steady_tick(Duration::from_millis(200));
    let report = import_csv(
        &app.store,
        app.erasure_key().await?,
        Box::new(f),
        list.trim(),
        |n| pb.set_position(n),
        app.clock.now_ms(),
    )
    .await;
    pb.finish_and_clear();
    let report = report.map_err(|e| match e {
        ImportError::NoEmailColumn(_) | ImportError::BadHeader(_) => {
            bad_input(format!("{}: {e}", file.display()))
        }
        other => anyhow::Error::new(other).context(format!("importing {}", file.display())),
    })?;
    if json {
        return output::json(&report);
    }
    println!(
        "list {:?}: imported {}, updated {}, rejected {}",
        report.list, report.imported, report.updated, report.rejected_count
    );
    if report.unsubscribed + report.suppressed + report.consents > 0 {
        println!(
            "  carried over: {} unsubscribed from this list, {} suppressed (bounced or complained), {} consent records",
            report.unsubscribed, report.suppressed, report.consents
        );
    }
    for r in &report.rejected {
        println!(
            "  {}:{}: {:?}: {}",
            file.display(),
            r.line,
            r.value,
            r.reason
        );
    }
    if report.rejected_count > report.rejected.len() as u64 {
        println!(
            "  … and {} more",
            report.rejected_count - report.rejected.len() as u64
        );
    }
    Ok(())
}

/// `contacts add`.
async fn add(
    app: &App,
    email: String,
    list: String,
    fields: Vec<String>,
    confirm: bool,
    json: bool,
) -> anyhow::Result<()> {
    let l = audience::find(&app.store, &list).await.map_err(cli_error)?;
    let added = audience::add_contact(
        &app.store,
        &*app.erasure_key().await?,
        &l,
        (&email, &pairs(&fields)?),
        confirm,
        "cli",
        app.clock.now_ms(),
    )
    .await
    .map_err(cli_error)?;
    if json {
        return output::json(&added);
    }
    match (added.before.as_deref(), added.confirmation_queued) {
        (Some("subscribed"), _) => {
            println!("{} is already subscribed to {:?}", added.email, added.list)
        }
        (_, true) => println!(
            "{} is pending on {:?}: a confirmation message is queued (`herald serve` sends it)",
            added.email, added.list
        ),
        _ => println!("{} is {} on {:?}", added.email, added.status, added.list),
    }
    Ok(())
}

/// `contacts show`: the contact's fields, lists, consents and deliveries.
async fn show(app: &App, email: String, json: bool) -> anyhow::Result<()> {
    let Some(t) = herald_engine::reports::contact_timeline(&app.store, &email).await? else {
        return Err(anyhow::Error::new(NotFound(format!(
            "no contact {email:?}"
        ))));
    };
    if json {
        return output::json(&t);
    }
    println!("{}", t.email);
    if let Some(c) = &t.contact {
        for (k, v) in &c.fields {
            println!("  {k}: {}", v.text());
        }
        for m in &c.memberships {
            println!("  list {:?}: {}", m.list, m.status);
        }
    }
    for c in &t.consents {
        println!(
            "  consent: {} via {} at {}{}{}",
            c.list,
            c.source,
            c.at,
            c.ip.as_deref()
                .map(|ip| format!(" from {ip}"))
                .unwrap_or_default(),
            c.confirmed_at
                .as_deref()
                .map(|at| format!(", confirmed {at}"))
                .unwrap_or_default()
        );
    }
    for d in &t.deliveries {
        println!(
            "  campaign {} {:?}: {}{}",
            d.campaign.id,
            d.subject,
            d.state,
            d.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// `contacts erase`: the person's data gone (GDPR), the counts kept.
async fn erase(app: &App, email: String, json: bool) -> anyhow::Result<()> {
    let done = privacy::erase(
        &app.store,
        &*app.erasure_key().await?,
        &email,
        "cli",
        app.clock.now_ms(),
    )
    .await
    .map_err(|e| match e {
        audience::AudienceError::UnknownContact(_) => {
            anyhow::Error::new(NotFound(format!("Herald holds nothing on {email:?}")))
        }
        audience::AudienceError::EraseInFlight(_) => {
            anyhow::Error::new(crate::Conflict(e.to_string()))
        }
        other => cli_error(other),
    })?;
    if json {
        return output::json(&done);
    }
    println!(
        "erased {email}: contact {}, {} list memberships, {} consent records; \
         {} deliveries kept for the counts without the address ({} not yet sent: now not_sent), \
         {} attempts and {} events scrubbed, {} inbound messages emptied; \
         the address stays suppressed by a keyed hash",
        if done.contact { "removed" } else { "none" },
        done.memberships,
        done.consents,
        done.deliveries,
        done.cancelled,
        done.attempts,
        done.events,
        done.inbound,
    );
    Ok(())
}
