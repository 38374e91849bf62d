//! `herald health [--days N] [--json]`: deliverability per sending domain and receiving
//! provider against Gmail's and Yahoo's thresholds, seed placement, domain status.

use herald_engine::reports::health::{HealthFigures, HealthReport, health};

use crate::startup::App;

use herald_engine::reports::health::rate_text as pct;

fn line(name: &str, f: &HealthFigures) {
    println!(
        "  {name:<22} {:>8} sent  {:>8} delivered ({:>8})  bounces {:>8}  spam {:>8}  {:>7} deferrals  {}",
        f.sent,
        f.delivered,
        pct(f.delivery_rate),
        pct(f.bounce_rate),
        pct(f.complaint_rate),
        f.deferrals,
        f.verdict
    );
    for w in &f.why {
        println!("      {w}");
    }
}

fn print(r: &HealthReport) {
    println!(
        "deliverability since {} ({} days); spam-rate limits: {:.1} % recommended, {:.1} % enforced",
        r.since,
        r.days,
        r.thresholds.spam_rate_watch * 100.0,
        r.thresholds.spam_rate_limit * 100.0
    );
    if r.overall.sent == 0 && r.overall.deferrals == 0 {
        println!("nothing was sent in this period");
    }
    line("all mail", &r.overall);
    println!("by sending domain:");
    for g in &r.senders {
        line(&g.name, &g.figures);
    }
    println!("by receiving provider:");
    for g in &r.providers {
        line(&g.name, &g.figures);
    }
    if !r.seeds.is_empty() {
        println!("seed placement:");
        for s in &r.seeds {
            println!(
                "  {:<22} {} inbox, {} junk, {} other folder, {} missing ({} in the inbox)",
                s.provider,
                s.inbox,
                s.junk,
                s.other,
                s.missing,
                pct(s.inbox_rate)
            );
        }
    }
    if !r.domains.is_empty() {
        println!("connected domains (last re-verification):");
        for d in &r.domains {
            let state = if d.ok {
                "ok".to_string()
            } else {
                d.problems.clone()
            };
            println!("  {:<22} {} ({})", d.domain, state, d.checked_at);
        }
    }
}

pub async fn run(app: App, days: u32, json: bool) -> anyhow::Result<()> {
    let r = health(&app.store, days, app.clock.now_ms()).await?;
    if json {
        return crate::output::json(&r);
    }
    print(&r);
    Ok(())
}
