//! `herald demo`: sandbox delivery, the bundled sample list and seeds, a sample campaign sent to
//! the sandbox's simulated receivers, its report and the stories "Delivered" hides — a copy
//! filed in Junk, one held in a quarantine, a bounce after acceptance, a person reading, a link
//! scanner clicking — each as `herald why` tells it.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use herald_engine::campaign::CampaignInput;
use herald_engine::contacts::import_csv;
use herald_engine::queue::Until;
use herald_engine::reports::{CampaignReport, campaign_report};
use herald_store::prelude::*;
use herald_store::{CampaignId, NewSeed};

use super::campaign::print_report;
use super::shutdown_signal;
use crate::output;
use crate::settings::{Dur, Settings};
use crate::startup::App;

const CONTACTS: &str = include_str!("../../assets/demo-contacts.csv");
const HTML: &str = include_str!("../../assets/demo-campaign.html");
const LIST: &str = "demo";
/// The demo's seed mailboxes: one at each simulated receiver that files differently.
const SEEDS: [(&str, &str); 3] = [
    ("seed@example.com", "Example Mail (sandbox)"),
    ("seed@junk.example", "Junk Example (sandbox)"),
    ("seed@quarantine.example", "Quarantine Example (sandbox)"),
];
/// A seed copy not found this long after delivery counts as missing (the demo's own setting:
/// an installation waits `[placement] missing_after`, 15 minutes by default).
const MISSING_AFTER: Duration = Duration::from_secs(5);

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
    settings.placement.missing_after = Dur(MISSING_AFTER);
    // A return path, so the late bounce finds its way back (VERP).
    if settings.inbound.return_path_domain.is_none() {
        settings.inbound.return_path_domain = Some("bounces.herald.example".into());
    }
    // The simulated readers follow the tracking links: they point at this process.
    let addr = free_listen(&settings.http.listen)?;
    settings.http.listen = addr.to_string();
    settings.http.public_url = format!("http://{addr}");
    let app = App::with_settings(settings, data_dir).await?;

    let existing = if ui { last_demo(&app).await? } else { None };
    let id = match existing {
        Some(id) => {
            eprintln!("serving the demo campaign {id} already sent in this data directory");
            id
        }
        None => {
            let (addr, stop, task) = app.start_http().await?;
            let id = send(&app).await?;
            // Every open and click is written before the report is read.
            drop(stop);
            let _ = task.await;
            tracing::debug!(%addr, "demo HTTP stopped");
            id
        }
    };
    let report = campaign_report(&app.store, id, true)
        .await?
        .context("the demo campaign vanished")?;
    if json {
        return output::json(&report);
    }
    print_report(&report);
    println!();
    print_stories(&app, &report).await?;
    println!();
    println!("Captured messages: {}", data_dir.join("sandbox").display());
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
    serve_ui(&app, id).await
}

/// `listen` if it is free now, else any free port on loopback (a `herald serve` may hold it).
fn free_listen(listen: &str) -> anyhow::Result<std::net::SocketAddr> {
    let listener = std::net::TcpListener::bind(listen)
        .or_else(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .context("finding a free port for the demo's web server")?;
    Ok(listener.local_addr()?)
}

/// The newest demo campaign of this data directory.
async fn last_demo(app: &App) -> anyhow::Result<Option<CampaignId>> {
    Ok(app
        .store
        .campaigns(None, None, 200)
        .await?
        .into_iter()
        .filter(|c| c.list_name == LIST && c.name.starts_with("Demo "))
        .max_by_key(|c| c.id.0)
        .map(|c| c.id))
}

/// Import the sample list, add the sandbox seeds, send the sample campaign and wait until the
/// simulated receivers have done everything they do (about 15 seconds: a person clicks only
/// after `[tracking] min_click_delay`). Ctrl-C stops waiting; the demo's seeds are removed
/// again however it ends.
async fn send(app: &App) -> anyhow::Result<CampaignId> {
    let imported = import_csv(
        &app.store,
        app.erasure_key().await?,
        Box::new(std::io::Cursor::new(CONTACTS)),
        LIST,
        |_| {},
        app.clock.now_ms(),
    )
    .await?;
    eprintln!(
        "imported the sample list \"{LIST}\": {} new, {} merged, {} rejected",
        imported.imported, imported.updated, imported.rejected_count
    );
    for r in &imported.rejected {
        eprintln!("  line {}: {:?}: {}", r.line, r.value, r.reason);
    }
    // A seed the installation has already is left as it is (and serves the demo too).
    let existing: Vec<String> = app
        .store
        .seeds()
        .await?
        .into_iter()
        .map(|s| s.address)
        .collect();
    let mut added = Vec::new();
    let result = async {
        for (address, provider) in SEEDS {
            if existing.iter().any(|e| e == address) {
                continue;
            }
            app.store
                .add_seed(&NewSeed {
                    provider: provider.into(),
                    address: address.into(),
                    imap_host: "sandbox.herald.invalid".into(),
                    imap_port: 993,
                    username: address.into(),
                    security: "tls".into(),
                    created_at_ms: app.clock.now_ms(),
                })
                .await?;
            added.push(address);
        }
        send_and_watch(app).await
    }
    .await;
    // The demo's seeds were for this campaign only: the installation's later campaigns do not
    // copy them (their placements stay recorded).
    for address in added {
        if let Err(e) = app.store.remove_seed(address).await {
            eprintln!("warning: could not remove the demo seed {address}: {e}");
        }
    }
    result
}

async fn send_and_watch(app: &App) -> anyhow::Result<CampaignId> {
    let when = app.clock.now();
    let id = super::create_and_snapshot(
        app,
        &CampaignInput {
            name: format!("Demo {}", herald_engine::reports::rfc3339_ms(when)),
            list: LIST.into(),
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
    // One Ctrl-C stops the send and every wait after it.
    let (interrupt, interrupted) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = interrupt.send(true);
    });
    let stopped = || {
        let mut rx = interrupted.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };
    let sandbox = app.start_sandbox().await?;
    let queue = app.queue(Some(&sandbox))?;
    eprintln!(
        "sending campaign {id} to the sandbox's simulated receivers on {} …",
        sandbox.addr
    );
    let started = tokio::time::Instant::now();
    queue
        .run(
            Some(id),
            Until::Finished,
            Some(started + Duration::from_secs(60)),
            stopped(),
        )
        .await?;
    let watch = async {
        eprintln!("sent; the receivers are filing, bouncing, reading and scanning it …");
        if !sandbox.recipients.settled(Duration::from_secs(60)).await {
            eprintln!("(some simulated recipients did not finish within a minute)");
        }
        wait_for_spool(&app.data_dir.join("inbound").join("sandbox-spool")).await;
        // The seeds' copies: found where the receivers filed them, or missing once the wait
        // passed (counted from each copy's delivery, so polled until none is waiting).
        tokio::time::sleep_until(started + MISSING_AFTER).await;
        let deadline = tokio::time::Instant::now() + MISSING_AFTER + Duration::from_secs(10);
        loop {
            let poll = super::seeds::poll(
                &app.store,
                &app.data_dir,
                &app.settings.placement,
                app.clock.now_ms(),
            )
            .await?;
            if poll.waiting == 0 || tokio::time::Instant::now() >= deadline {
                return anyhow::Ok(());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    };
    tokio::select! {
        r = watch => r?,
        _ = stopped() => eprintln!("interrupted: the report shows what was recorded so far"),
    }
    Ok(id)
}

/// Until the late bounces handed back are recorded (at most 20 seconds).
async fn wait_for_spool(spool: &Path) {
    let pending = || {
        std::fs::read_dir(spool).is_ok_and(|d| {
            d.flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "msg"))
        })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while pending() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The recipients whose stories "Delivered" hides, as `herald why` tells them.
async fn print_stories(app: &App, report: &CampaignReport) -> anyhow::Result<()> {
    const TOLD: [&str; 5] = [
        "seed_placement",
        "likely_quarantine",
        "late_bounce",
        "engaged",
        "machine_engagement_only",
    ];
    let id = report.campaign.id.clone();
    let campaign = super::campaign_id(&id)?;
    println!("What \"delivered\" does not tell you (herald why {id} EMAIL):");
    for r in report.recipients.iter().flatten() {
        let Some(d) = super::diagnose_for(app, campaign, &r.email).await? else {
            continue;
        };
        let told: Vec<&str> = d
            .findings
            .iter()
            .filter(|f| TOLD.contains(&f.code))
            .filter(|f| f.code != "seed_placement" || d.placement != "inbox")
            .map(|f| f.text.as_str())
            .collect();
        if told.is_empty() {
            continue;
        }
        println!("  {} ({})", d.email, d.state);
        for t in told {
            println!("    {t}");
        }
        if d.findings.iter().any(|f| f.code == "likely_quarantine") {
            println!("    For their IT: herald why {id} {} --it-report", d.email);
        }
    }
    Ok(())
}

/// The UI over the demo's data: a demo login with a fresh password, until Ctrl-C.
async fn serve_ui(app: &App, id: CampaignId) -> anyhow::Result<()> {
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
