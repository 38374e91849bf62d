//! `herald bench segment`: a segment over N contacts, with a field condition and a human
//! engagement condition, in a temporary SQLite store built through the store's own batch
//! writes (contacts on a list, one earlier campaign delivered to all, opens and clicks from
//! people and machines). Times the count and a campaign's snapshot narrowed by the segment, and
//! the snapshot of a campaign to two overlapping lists minus a third.

use std::time::Instant;

use anyhow::Context;
use herald_domain::DeliveryState;
use herald_engine::audience::segments::{self, AudienceChange};
use herald_store::prelude::*;
use herald_store::{DeliveryId, EngagementRecord, NewContact};
use serde::Serialize;

use crate::output::{self, peak_rss_mb};
use crate::settings::Settings;
use crate::startup::App;

/// The rule measured: a field and human engagement, as the issue names it.
const RULE: &str = r#"field city = "Berlin" and opened by a person within 90d"#;
const CITIES: [&str; 10] = [
    "Berlin", "Paris", "Warsaw", "Madrid", "Rome", "Oslo", "Lisbon", "Vienna", "Prague", "Dublin",
];

#[derive(Serialize)]
struct SegmentBench {
    contacts: u64,
    events: u64,
    rule: &'static str,
    setup_seconds: f64,
    matched: u64,
    count_seconds: f64,
    /// A broad rule for comparison: `never engaged` (most contacts).
    never_engaged: u64,
    never_engaged_seconds: f64,
    snapshot_recipients: u64,
    snapshot_seconds: f64,
    /// For comparison: a campaign to the whole list (one list, no segment).
    list_snapshot_deliveries: u64,
    list_snapshot_seconds: f64,
    /// A campaign to the list and a second list holding every other contact, minus a third
    /// holding every tenth: each person once, the tenth recorded `not_sent: excluded`.
    lists_snapshot_deliveries: u64,
    lists_snapshot_seconds: f64,
    peak_rss_mb: f64,
}

pub async fn segment(contacts: u64, json: bool) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let app = App::with_settings(Settings::default(), dir.path()).await?;
    let t0 = Instant::now();
    let now = app.clock.now_ms();
    let list = app.store.ensure_list("bench", now).await?;
    eprintln!("generating {contacts} contacts …");
    add_contacts(&app, list, (0..contacts).step_by(1), now, |i| {
        format!(
            r#"{{"first_name":"User{i}","city":"{}"}}"#,
            CITIES[(i % 10) as usize]
        )
    })
    .await?;
    // An earlier campaign, delivered to everyone.
    let earlier = app
        .store
        .create_campaign(&super::bench_data::campaign(list, "earlier"))
        .await?;
    eprintln!("generating an earlier campaign and its events …");
    let first = super::bench_data::deliveries(&app, earlier, contacts, 1000, |_| {
        (DeliveryState::Delivered, None)
    })
    .await?;
    // A fifth of the contacts opened or clicked; a third of those events are machines'.
    let events = contacts / 5;
    let mut ev = Vec::with_capacity(20_000);
    for i in 0..events {
        let n = (i.wrapping_mul(2_654_435_761) % contacts.max(1)) as i64;
        ev.push(EngagementRecord {
            delivery: DeliveryId(first + n),
            kind: if i % 4 == 0 {
                herald_domain::EventKind::Click
            } else {
                herald_domain::EventKind::Open
            },
            at_ms: now - (i as i64 % 120) * 86_400_000,
            detail: if i % 3 == 0 {
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
    segments::create(&app.store, "berlin readers", RULE, app.clock.now_ms()).await?;
    let setup_seconds = t0.elapsed().as_secs_f64();

    eprintln!("counting …");
    let t = Instant::now();
    let matched = segments::count(&app.store, RULE, now).await?.count;
    let count_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let never_engaged = segments::count(&app.store, "never engaged", now)
        .await?
        .count;
    let never_engaged_seconds = t.elapsed().as_secs_f64();

    eprintln!("snapshotting a campaign narrowed by the segment …");
    let id = app
        .store
        .create_campaign(&super::bench_data::campaign(list, "next"))
        .await?;
    segments::set_campaign_audience(
        &app.store,
        id,
        &AudienceChange {
            segment: Some(Some("berlin readers".into())),
            ..AudienceChange::default()
        },
        app.clock.now_ms(),
    )
    .await?;
    let (snapshot_recipients, snapshot_seconds) = timed_snapshot(&app, id).await?;

    eprintln!("a campaign to the whole list …");
    let whole = app
        .store
        .create_campaign(&super::bench_data::campaign(list, "whole"))
        .await?;
    let (list_snapshot_deliveries, list_snapshot_seconds) = timed_snapshot(&app, whole).await?;

    eprintln!("a campaign to two lists minus a third …");
    let (lists_snapshot_deliveries, lists_snapshot_seconds) =
        two_lists_minus_a_third(&app, list, contacts, now).await?;

    let r = SegmentBench {
        contacts,
        events,
        rule: RULE,
        setup_seconds,
        matched,
        count_seconds,
        never_engaged,
        never_engaged_seconds,
        snapshot_recipients,
        snapshot_seconds,
        list_snapshot_deliveries,
        list_snapshot_seconds,
        lists_snapshot_deliveries,
        lists_snapshot_seconds,
        peak_rss_mb: peak_rss_mb(),
    };
    if json {
        return output::json(&r);
    }
    r.print();
    Ok(())
}

impl SegmentBench {
    fn print(&self) {
        let r = self;
        println!(
            "segment over {} contacts ({} events), SQLite: {RULE}",
            r.contacts, r.events
        );
        println!("  matched    {}", r.matched);
        println!("  count      {:.2} s", r.count_seconds);
        println!(
            "  never engaged: {} counted in {:.2} s",
            r.never_engaged, r.never_engaged_seconds
        );
        println!(
            "  snapshot   {:.2} s ({} deliveries)",
            r.snapshot_seconds, r.snapshot_recipients
        );
        println!(
            "  the whole list: snapshot {:.2} s ({} deliveries)",
            r.list_snapshot_seconds, r.list_snapshot_deliveries
        );
        println!(
            "  two lists minus a third: snapshot {:.2} s ({} deliveries, each person once)",
            r.lists_snapshot_seconds, r.lists_snapshot_deliveries
        );
        println!(
            "  setup      {:.1} s, peak RSS {:.0} MB",
            r.setup_seconds, r.peak_rss_mb
        );
    }
}

/// Put the contacts numbered `ids` on `list` (their fields from `fields`), in batches.
async fn add_contacts(
    app: &App,
    list: herald_store::ListId,
    ids: impl Iterator<Item = u64>,
    now: i64,
    fields: impl Fn(u64) -> String,
) -> anyhow::Result<()> {
    let mut batch = Vec::with_capacity(5000);
    for i in ids {
        let email = super::bench_data::address(i, 1000);
        batch.push(NewContact {
            email_key: email.clone(),
            erased_token: None,
            email,
            fields: fields(i),
        });
        if batch.len() == 5000 {
            app.store.upsert_contacts(list, &batch, now).await?;
            batch.clear();
        }
    }
    app.store.upsert_contacts(list, &batch, now).await?;
    Ok(())
}

/// Snapshot `id`'s audience: the deliveries made and the seconds it took.
async fn timed_snapshot(app: &App, id: herald_store::CampaignId) -> anyhow::Result<(u64, f64)> {
    let t = Instant::now();
    let n = herald_engine::campaign::snapshot(&app.store, id, app.clock.now_ms()).await?;
    Ok((n, t.elapsed().as_secs_f64()))
}

/// A campaign to `list` and a second list of every other contact, minus a third of every
/// tenth: its snapshot timed.
async fn two_lists_minus_a_third(
    app: &App,
    list: herald_store::ListId,
    contacts: u64,
    now: i64,
) -> anyhow::Result<(u64, f64)> {
    let half = app.store.ensure_list("half", now).await?;
    let tenth = app.store.ensure_list("tenth", now).await?;
    add_contacts(app, half, (0..contacts).step_by(2), now, |_| "{}".into()).await?;
    add_contacts(app, tenth, (0..contacts).step_by(10), now, |_| "{}".into()).await?;
    let id = app
        .store
        .create_campaign(&super::bench_data::campaign(list, "lists"))
        .await?;
    segments::set_campaign_audience(
        &app.store,
        id,
        &AudienceChange {
            also_lists: Some(vec!["half".into()]),
            exclude_lists: Some(vec!["tenth".into()]),
            ..AudienceChange::default()
        },
        app.clock.now_ms(),
    )
    .await?;
    timed_snapshot(app, id).await
}
