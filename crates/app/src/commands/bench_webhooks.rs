//! `herald bench webhooks`: N delivered outcomes recorded (each enqueues its event in the
//! outcome's transaction) in a temporary SQLite store, then posted by the webhook sender to a
//! receiver on loopback (hyper, keep-alive) that checks every signature; prints events/s.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Context;
use herald_domain::{DeliveryState, Evidence, Reply};
use herald_engine::webhooks::{self, Poster, SenderSettings};
use herald_store::prelude::*;
use herald_store::{CampaignId, DeliveryId, OutcomeRecord, WebhookStore};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};

use crate::settings::Settings;
use crate::startup::App;

#[derive(serde::Serialize)]
struct WebhookFigures {
    events: u64,
    enqueue_seconds: f64,
    outcomes_per_sec: f64,
    seconds: f64,
    events_per_sec: f64,
    received: u64,
    bad_signatures: u64,
    max_in_flight: usize,
}

/// What the loopback receiver counted.
#[derive(Default)]
struct Counts {
    received: AtomicU64,
    bad: AtomicU64,
}

async fn receive(
    req: hyper::Request<Incoming>,
    secret: Arc<String>,
    counts: Arc<Counts>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let sig = req
        .headers()
        .get(herald_mail::webhook_signature::HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let now = herald_engine::Clock::system().now_ms() / 1000;
    if herald_mail::webhook_signature::verify(&secret, &sig, &body, now, 300).is_ok() {
        counts.received.fetch_add(1, Ordering::Relaxed);
    } else {
        counts.bad.fetch_add(1, Ordering::Relaxed);
    }
    Ok(hyper::Response::new(Full::new(Bytes::from_static(b"ok"))))
}

/// A receiver on 127.0.0.1 (an ephemeral port); its address.
async fn start_receiver(
    secret: Arc<String>,
    counts: Arc<Counts>,
) -> anyhow::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (secret, counts) = (secret.clone(), counts.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    receive(req, secret.clone(), counts.clone())
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(addr)
}

fn outcome(id: i64, campaign: CampaignId, now_ms: i64) -> OutcomeRecord {
    let t = time::OffsetDateTime::now_utc();
    OutcomeRecord {
        delivery: DeliveryId(id),
        campaign,
        state: DeliveryState::Delivered,
        reason: None,
        hard: false,
        next_attempt_at_ms: None,
        attempt: Some((
            herald_domain::AttemptOutcome::Delivered,
            Evidence {
                started_at: t,
                ended_at: t,
                mx: Some("mx.d0.example".into()),
                mx_preference: Some(10),
                remote_ip: Some("192.0.2.25".into()),
                local_ip: Some("192.0.2.10".into()),
                tls: None,
                reply: Some(Reply {
                    code: 250,
                    enhanced: Some("2.0.0".into()),
                    lines: vec![format!("Ok: queued as Q{id}")],
                }),
                stage: Some("data".into()),
                error: None,
                remote_queue_id: Some(format!("Q{id}")),
                message_id: format!("<{id}@sender.example>"),
                bytes: 2048,
                route: "mx".into(),
                node: None,
                sent: None,
            },
        )),
        at_ms: now_ms,
    }
}

pub async fn webhooks(events: u64, max_in_flight: usize, json: bool) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let app = App::with_settings(Settings::default(), dir.path()).await?;
    let list = app.store.ensure_list("bench", app.clock.now_ms()).await?;
    let campaign = app
        .store
        .create_campaign(&super::bench_data::campaign(list, "bench"))
        .await?;
    let counts = Arc::new(Counts::default());
    let secret = Arc::new(
        herald_mail::webhook_signature::new_secret().context("the system's random source")?,
    );
    let addr = start_receiver(secret.clone(), counts.clone()).await?;
    let id = app
        .store
        .add_endpoint(&herald_store::NewEndpoint {
            url: format!("http://{addr}/hook"),
            events: "*".into(),
            secret: (*secret).clone(),
            description: "bench".into(),
            created_by: "bench".into(),
            created_at_ms: app.clock.now_ms(),
        })
        .await?;
    eprintln!("generating {events} queued recipients …");
    let first = super::bench_data::deliveries(&app, campaign, events, 100, |_| {
        (DeliveryState::Queued, None)
    })
    .await?;
    eprintln!("recording {events} delivered outcomes (each enqueues its event) …");
    let t0 = Instant::now();
    let now = app.clock.now_ms();
    let mut batch = Vec::with_capacity(500);
    for i in 0..events as i64 {
        batch.push(outcome(first + i, campaign, now));
        if batch.len() == 500 {
            app.store.record_outcomes(&batch).await?;
            batch.clear();
        }
    }
    app.store.record_outcomes(&batch).await?;
    let enqueue_seconds = t0.elapsed().as_secs_f64();
    eprintln!("posting {events} events to http://{addr}/hook …");
    let settings = SenderSettings {
        max_in_flight,
        ..SenderSettings::default()
    };
    let poster = Poster::new(settings.timeout, None)?;
    let t0 = Instant::now();
    loop {
        let r =
            webhooks::send_due(&app.store, &poster, "bench", &settings, app.clock.now_ms()).await?;
        if r.claimed == 0 {
            break;
        }
        if r.retrying + r.failed > 0 {
            anyhow::bail!(
                "{} posts were refused by the loopback receiver",
                r.retrying + r.failed
            );
        }
    }
    let seconds = t0.elapsed().as_secs_f64();
    let endpoint = app.store.endpoint(id).await?.context("the endpoint")?;
    let f = WebhookFigures {
        events,
        enqueue_seconds,
        outcomes_per_sec: events as f64 / enqueue_seconds,
        seconds,
        events_per_sec: endpoint.delivered as f64 / seconds,
        received: counts.received.load(Ordering::Relaxed),
        bad_signatures: counts.bad.load(Ordering::Relaxed),
        max_in_flight,
    };
    if json {
        println!("{}", serde_json::to_string(&f)?);
    } else {
        println!(
            "{} outcomes recorded with their events in {:.2}s ({:.0}/s); {} events posted in {:.2}s = {:.0} events/s ({} in flight; the receiver checked {} signatures, {} bad)",
            f.events,
            f.enqueue_seconds,
            f.outcomes_per_sec,
            endpoint.delivered,
            f.seconds,
            f.events_per_sec,
            f.max_in_flight,
            f.received,
            f.bad_signatures
        );
    }
    if f.received != events || f.bad_signatures > 0 {
        anyhow::bail!(
            "the receiver got {} good and {} badly signed posts of {events}",
            f.received,
            f.bad_signatures
        );
    }
    Ok(())
}
