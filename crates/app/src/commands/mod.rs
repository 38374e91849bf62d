//! One file per subcommand.

mod bench;
mod bench_data;
mod bench_hooks;
mod bench_report;
mod bench_segment;
mod bench_signup;
mod bench_track;
mod bench_webhooks;
mod bounce;
mod campaign;
mod contacts;
mod demo;
mod dmarc;
mod domain;
mod health;
mod init;
mod ips;
pub(crate) mod lists;
mod migrate;
mod seeds;
pub use seeds::{add_seed, test_seed};
mod segments;
pub mod serve;
mod settings;
mod suppressions;
pub(crate) mod templates;
mod users;
mod webhooks;
mod why;

use herald_store::CampaignId;

pub use campaign::{
    ab_test, check_campaign, control as control_campaign, delete_draft,
    details as campaign_details, duplicate as duplicate_campaign, edit_campaign,
    schedule as schedule_campaign, schedule_as_given, schedule_local_time, set_ab, set_archive,
    start_send, start_send_despite, test_send, unschedule as unschedule_campaign,
};
pub use dmarc::report as dmarc_report;
pub use domain::{connect_domain, domain_statuses, rotate_domain, verify_domain};
pub use ips::ips_report;
pub use why::diagnose_for;

use crate::bad_input;
use crate::cli::{Cli, Command};
use crate::startup::App;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let open = || App::open(&cli.data_dir, cli.config.as_deref());
    match cli.command {
        Command::Init { admin, json } => {
            init::run(&cli.data_dir, cli.config.as_deref(), &admin, json).await
        }
        Command::Serve { sandbox } => serve::run(open().await?, sandbox).await,
        Command::Demo { json, ui } => {
            demo::run(&cli.data_dir, cli.config.as_deref(), json, ui).await
        }
        Command::Domain(d) => domain::run(open().await?, d).await,
        Command::Ips { json } => ips::run(open().await?, json).await,
        Command::Contacts(c) => contacts::run(open().await?, c).await,
        Command::Lists(c) => lists::run(open().await?, c).await,
        Command::Segments(c) => segments::run(open().await?, c).await,
        Command::Webhooks(c) => webhooks::run(open().await?, c).await,
        Command::Campaign(c) => campaign::run(open().await?, c).await,
        Command::Why {
            id,
            email,
            it_report,
            html,
            json,
        } => why::run(open().await?, &id, &email, it_report, html, json).await,
        Command::Bounce(b) => bounce::run(b),
        Command::Suppressions(s) => suppressions::run(open().await?, s).await,
        Command::Settings(s) => settings::run(open().await?, s).await,
        Command::Templates(t) => templates::run(open().await?, t).await,
        Command::Tracking(crate::cli::TrackingCmd::RotateKey) => {
            let app = open().await?;
            let (new, old) = crate::tracking_keys::rotate(&app.data_dir.join("secrets"))?;
            println!(
                "tracking key {new} signs new links; links signed with key {old} keep working for {}",
                humantime::format_duration(app.settings.tracking.key_grace.0)
            );
            Ok(())
        }
        Command::Seeds(c) => seeds::run(open().await?, c).await,
        Command::Migrate { from, to, json } => migrate::run(&from, &to, json).await,
        Command::User(c) => users::user(open().await?, c).await,
        Command::Token(c) => users::token(open().await?, c).await,
        Command::Placement { id, json } => seeds::placement(open().await?, &id, json).await,
        Command::Bench(b) => bench::run(b, &cli.data_dir, cli.config.as_deref()).await,
        Command::Queue { json } => queue(open().await?, json).await,
        Command::Health { days, json } => health::run(open().await?, days, json).await,
        Command::Dmarc(c) => dmarc::run(open().await?, c).await,
    }
}

/// `herald queue`: what waits to be sent, per destination domain, and why.
async fn queue(app: App, json: bool) -> anyhow::Result<()> {
    let r = herald_engine::reports::waiting::queue_report(&app.store, app.clock.now_ms()).await?;
    if json {
        return crate::output::json(&r);
    }
    if r.waiting == 0 {
        println!("nothing waits to be sent");
        return Ok(());
    }
    println!("{} waiting ({} being sent now)", r.waiting, r.in_flight);
    for d in &r.destinations {
        println!(
            "{}: {} queued, {} deferred{}",
            d.domain,
            d.queued,
            d.deferred,
            d.next_attempt_at
                .as_deref()
                .map(|t| format!(", next attempt {t}"))
                .unwrap_or_default()
        );
        for w in &d.why {
            println!("  {:>6}  {}", w.count, w.text);
        }
    }
    Ok(())
}

/// Create a campaign and snapshot its audience (the demo and the benchmarks).
pub async fn create_and_snapshot(
    app: &App,
    input: &herald_engine::campaign::CampaignInput,
) -> anyhow::Result<herald_store::CampaignId> {
    let id = herald_engine::campaign::create(&app.store, input, app.clock.now_ms()).await?;
    herald_engine::campaign::snapshot(&app.store, id, app.clock.now_ms()).await?;
    Ok(id)
}

pub fn campaign_id(s: &str) -> anyhow::Result<CampaignId> {
    s.parse()
        .map_err(|_| bad_input(format!("campaign id {s:?} is not a number")))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
