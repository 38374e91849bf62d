//! `herald demo`: sandbox delivery, the bundled sample list, a sample campaign sent, its report.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use herald_engine::campaign::CampaignInput;
use herald_engine::contacts::import_csv;
use herald_engine::queue::Until;
use herald_engine::reports::campaign_report;
use herald_store::prelude::*;

use super::campaign::print_report;
use super::shutdown_signal;
use crate::output;
use crate::settings::{Dur, Settings};
use crate::startup::App;

const CONTACTS: &str = include_str!("../../assets/demo-contacts.csv");
const HTML: &str = include_str!("../../assets/demo-campaign.html");

pub async fn run(
    data_dir: &Path,
    config: Option<&Path>,
    json: bool,
    ui: bool,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let file = config
        .map(Path::to_path_buf)
        .unwrap_or_else(|| data_dir.join("herald.toml"));
    let mut settings = Settings::load(&file).map_err(|e| crate::bad_input(format!("{e:#}")))?;
    // The demo never leaves the machine, and shows a greylisted retry within seconds.
    settings.delivery.sandbox = true;
    settings.delivery.retry_schedule = vec![Dur(Duration::from_secs(1))];
    let app = App::with_settings(settings, data_dir).await?;

    let imported = import_csv(
        &app.store,
        app.erasure_key().await?,
        Box::new(std::io::Cursor::new(CONTACTS)),
        "demo",
        |_| {},
        app.clock.now_ms(),
    )
    .await?;
    eprintln!(
        "imported the sample list \"demo\": {} new, {} merged, {} rejected",
        imported.imported, imported.updated, imported.rejected_count
    );
    for r in &imported.rejected {
        eprintln!("  line {}: {:?}: {}", r.line, r.value, r.reason);
    }
    let when = app.clock.now();
    let id = super::create_and_snapshot(
        &app,
        &CampaignInput {
            name: format!("Demo {}", herald_engine::reports::rfc3339_ms(when)),
            list: "demo".into(),
            from: "Herald Demo <demo@herald.example>".into(),
            subject: "Welcome, {{ contact.first_name | default(\"friend\") }}".into(),
            html: HTML.into(),
            text: None,
            gate_override: None,
            reply_to: None,
            tracking: Default::default(),
        },
    )
    .await?;
    let sandbox = app.start_sandbox().await?;
    let queue = app.queue(Some(&sandbox))?;
    eprintln!(
        "sending campaign {id} to the sandbox capture server on {} …",
        sandbox.addr
    );
    queue
        .run(
            Some(id),
            Until::Finished,
            Some(tokio::time::Instant::now() + Duration::from_secs(60)),
            shutdown_signal(),
        )
        .await?;
    let report = campaign_report(&app.store, id, true)
        .await?
        .context("the demo campaign vanished")?;
    if json {
        return output::json(&report);
    }
    print_report(&report);
    println!();
    println!("Captured messages: {}", sandbox.dir.display());
    println!(
        "Again, as JSON:    herald --data-dir {} campaign report {id} --recipients --json",
        data_dir.display()
    );
    if !ui {
        println!(
            "In the browser:    herald --data-dir {} demo --ui",
            data_dir.display()
        );
        return Ok(());
    }
    // The UI over the same data: a demo login with a fresh password, until Ctrl-C.
    let password = herald_http::auth::random_token()?;
    app.store
        .add_user(&herald_store::NewUser {
            email: "demo@herald.example".into(),
            password_hash: herald_http::auth::hash_password(&password)?,
            role: herald_domain::Role::Admin,
            created_at_ms: app.clock.now_ms(),
        })
        .await?;
    let (addr, stop, task) = app.start_http().await?;
    println!();
    println!("Web UI:            http://{addr}/campaigns/{id}");
    println!("Log in as:         demo@herald.example");
    println!("Password:          {password}");
    println!("Ctrl-C stops.");
    shutdown_signal().await;
    drop(stop);
    let _ = task.await;
    Ok(())
}
