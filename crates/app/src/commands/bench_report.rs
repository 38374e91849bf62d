//! `herald bench report`: the performance page's and the health dashboard's reads at scale.
//! Generates one campaign of N recipients in realistic states, one attempt per recipient tried
//! (spread over 30 days and the big providers' MX hosts, so the health triggers fill their
//! rollup as sending would), a spam report per thousand delivered, and M open/click events
//! (human and machine) in a temporary SQLite store through the store's own batch writes, then
//! times the reads the pages make: the counts, the first page of every tab, a page deep in the
//! list (keyset pagination), and the 30-day health report.

use std::time::Instant;

use anyhow::Context;
use herald_domain::DeliveryState;
use herald_store::prelude::*;
use herald_store::{CampaignId, DeliveryId, EngagementRecord, RecipientFilter};
use serde::Serialize;

use crate::output::{self, peak_rss_mb};
use crate::settings::Settings;
use crate::startup::App;

#[derive(Serialize)]
struct Timing {
    read: String,
    p50_ms: f64,
    p95_ms: f64,
}

#[derive(Serialize)]
struct ReportBench {
    recipients: u64,
    events: u64,
    setup_seconds: f64,
    rounds: u32,
    reads: Vec<Timing>,
    peak_rss_mb: f64,
}

pub async fn report(recipients: u64, events: u64, rounds: u32, json: bool) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let app = App::with_settings(Settings::default(), dir.path()).await?;
    let t0 = Instant::now();
    let list = app.store.ensure_list("bench", app.clock.now_ms()).await?;
    let id = app
        .store
        .create_campaign(&super::bench_data::campaign(list, "bench"))
        .await?;
    eprintln!("generating {recipients} recipients …");
    // 80 % delivered, 8 % bounced, 4 % deferred, 3 % expired, 5 % not sent.
    let first = super::bench_data::deliveries(&app, id, recipients, 1000, |i| match i % 100 {
        0..=79 => (DeliveryState::Delivered, None),
        80..=87 => (DeliveryState::Bounced, Some("userunknown")),
        88..=91 => (DeliveryState::Deferred, Some("systemerror")),
        92..=94 => (DeliveryState::Expired, Some("expired")),
        _ => (DeliveryState::NotSent, Some("previously_bounced")),
    })
    .await?;
    attempts(&app, id, first, recipients).await?;
    engagement(&app, first, recipients, events).await?;
    let setup_seconds = t0.elapsed().as_secs_f64();

    let deep = first + recipients as i64 / 2;
    let reads: Vec<(&str, Option<RecipientFilter>, i64)> = vec![
        ("counts", None, 0),
        ("tab sent", Some(RecipientFilter::Sent), 0),
        (
            "tab delivered",
            Some(RecipientFilter::State(DeliveryState::Delivered)),
            0,
        ),
        (
            "tab bounced",
            Some(RecipientFilter::State(DeliveryState::Bounced)),
            0,
        ),
        (
            "tab deferred",
            Some(RecipientFilter::State(DeliveryState::Deferred)),
            0,
        ),
        (
            "tab not_sent",
            Some(RecipientFilter::State(DeliveryState::NotSent)),
            0,
        ),
        ("tab opened", Some(RecipientFilter::Event("open".into())), 0),
        (
            "tab clicked",
            Some(RecipientFilter::Event("click".into())),
            0,
        ),
        (
            "tab unsubscribed (empty)",
            Some(RecipientFilter::Event("unsubscribe".into())),
            0,
        ),
        (
            "tab delivered, page at 50 %",
            Some(RecipientFilter::State(DeliveryState::Delivered)),
            deep,
        ),
        (
            "tab opened, page at 50 %",
            Some(RecipientFilter::Event("open".into())),
            deep,
        ),
    ];
    let mut timings = time_reads(&app, id, &reads, rounds).await?;
    timings.push(time_health(&app, rounds).await?);
    let out = ReportBench {
        recipients,
        events,
        setup_seconds,
        rounds,
        reads: timings,
        peak_rss_mb: peak_rss_mb(),
    };
    if json {
        return output::json(&out);
    }
    println!(
        "{} recipients, {} events (generated in {:.0} s); {} rounds per read:",
        out.recipients, out.events, out.setup_seconds, out.rounds
    );
    for t in &out.reads {
        println!(
            "  {:<30} p50 {:>7.2} ms   p95 {:>7.2} ms",
            t.read, t.p50_ms, t.p95_ms
        );
    }
    Ok(())
}

/// `events` opens and clicks spread over the delivered recipients (ids from `first`); a third
/// from machines.
async fn engagement(app: &App, first: i64, recipients: u64, events: u64) -> anyhow::Result<()> {
    let now = app.clock.now_ms();
    eprintln!("generating {events} events …");
    let mut ev = Vec::with_capacity(20_000);
    for i in 0..events {
        // Opens and clicks spread over the delivered recipients; a third from machines.
        let n = (i.wrapping_mul(2_654_435_761) % recipients.max(1)) as i64;
        let kind = if i % 4 == 0 {
            herald_domain::EventKind::Click
        } else {
            herald_domain::EventKind::Open
        };
        let machine = i % 3 == 0;
        ev.push(EngagementRecord {
            delivery: DeliveryId(first + n),
            kind,
            at_ms: now + i as i64,
            detail: if machine {
                r#"{"verdict":"machine","reason":"apple_mpp"}"#.into()
            } else {
                r#"{"verdict":"human","reason":null}"#.into()
            },
        });
        if ev.len() == 20_000 {
            app.store.record_engagement(&ev).await?;
            ev.clear();
        }
    }
    app.store.record_engagement(&ev).await?;
    Ok(())
}

/// One attempt per recipient tried (delivered, bounced, deferred, expired), ended on one of
/// the last 30 days at one of five providers' MX hosts, recorded with the outcomes' own batch
/// write; then a spam report per thousand delivered.
async fn attempts(app: &App, id: CampaignId, first: i64, recipients: u64) -> anyhow::Result<()> {
    const MX: [&str; 5] = [
        "gmail-smtp-in.l.google.com",
        "example-com.mail.protection.outlook.com",
        "mta5.am0.yahoodns.net",
        "mx01.mail.icloud.com",
        "mx.example.net",
    ];
    eprintln!("recording an attempt per recipient tried …");
    let now = app.clock.now_ms();
    let mut batch = Vec::with_capacity(1000);
    let mut complaints = Vec::new();
    for i in 0..recipients {
        let state = match i % 100 {
            0..=79 => DeliveryState::Delivered,
            80..=87 => DeliveryState::Bounced,
            88..=91 => DeliveryState::Deferred,
            92..=94 => DeliveryState::Expired,
            _ => continue,
        };
        let Some(outcome) = herald_domain::AttemptOutcome::of(state) else {
            continue;
        };
        let at = now - (i % 30) as i64 * 86_400_000;
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1_000_000)?;
        let mut ev =
            herald_engine::deliver::evidence(&format!("<{i}@sender.example>"), (t, t), "mx");
        ev.mx = Some(MX[(i % 5) as usize].to_string());
        let delivery = DeliveryId(first + i as i64);
        batch.push(herald_store::OutcomeRecord {
            delivery,
            campaign: id,
            state,
            reason: None,
            hard: state == DeliveryState::Bounced,
            next_attempt_at_ms: None,
            attempt: Some((outcome, ev)),
            at_ms: at,
        });
        if state == DeliveryState::Delivered && i % 1000 == 7 {
            complaints.push(EngagementRecord {
                delivery,
                kind: herald_domain::EventKind::Complaint,
                at_ms: at,
                detail: "{}".into(),
            });
        }
        if batch.len() == 1000 {
            app.store.record_outcomes(&batch).await?;
            batch.clear();
        }
    }
    app.store.record_outcomes(&batch).await?;
    app.store.record_engagement(&complaints).await?;
    Ok(())
}

/// The 30-day health report's p50 and p95 over `rounds` rounds.
async fn time_health(app: &App, rounds: u32) -> anyhow::Result<Timing> {
    let mut ms = Vec::with_capacity(rounds as usize);
    for _ in 0..rounds.max(1) {
        let t = Instant::now();
        herald_engine::reports::health::health(&app.store, 30, app.clock.now_ms()).await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(percentiles("health, 30 days", ms))
}

fn percentiles(read: &str, mut ms: Vec<f64>) -> Timing {
    ms.sort_by(f64::total_cmp);
    Timing {
        read: read.to_string(),
        p50_ms: output::percentile(&ms, 0.50),
        p95_ms: output::percentile(&ms, 0.95),
    }
}

/// Each read's p50 and p95 over `rounds` rounds.
async fn time_reads(
    app: &App,
    id: CampaignId,
    reads: &[(&str, Option<RecipientFilter>, i64)],
    rounds: u32,
) -> anyhow::Result<Vec<Timing>> {
    let mut timings = Vec::new();
    for (name, filter, after) in reads {
        let mut ms = Vec::with_capacity(rounds as usize);
        for _ in 0..rounds.max(1) {
            let t = Instant::now();
            match filter {
                None => {
                    app.store.counts(CampaignId(id.0)).await?;
                }
                Some(f) => {
                    app.store
                        .recipients_filtered(id, f, None, *after, 100)
                        .await?;
                }
            }
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        timings.push(percentiles(name, ms));
    }
    Ok(timings)
}
