//! `herald bench signup`: the hosted sign-up form under load, through the real router, form
//! token check, sign-up transaction and the queuing of each confirmation message, into a real
//! SQLite store. Keep-alive HTTP/1.1 clients on loopback, each posting new addresses to a
//! double opt-in list; prints sign-ups/s and latency percentiles.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use herald_engine::audience::{self, ListInput};
use herald_mail::tracking::TokenKind;
use herald_store::prelude::*;
use serde::Serialize;
use tokio::io::AsyncWriteExt;

use super::bench_track::read_response;
use crate::output::{self, peak_rss_mb};
use crate::settings::Settings;
use crate::startup::App;

#[derive(Serialize)]
struct SignupReport {
    signups: u64,
    connections: usize,
    seconds: f64,
    signups_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    pending: u64,
    confirmations_queued: u64,
    peak_rss_mb: f64,
}

pub async fn signup(signups: u64, connections: usize, json: bool) -> anyhow::Result<()> {
    if connections == 0 {
        bail!("--connections must be at least 1");
    }
    let dir = tempfile::tempdir().context("temporary directory")?;
    let mut settings = Settings::default();
    settings.http.listen = "127.0.0.1:0".into();
    // The bench is one client network posting at once: no fill time, no per-network limit.
    settings.lists.min_fill = crate::settings::Dur(Duration::ZERO);
    settings.lists.signups_per_ip_per_hour = 0;
    settings.http.max_connections_per_ip = 0;
    let app = App::with_settings(settings, dir.path()).await?;
    let list = audience::create_list(
        &app.store,
        ListInput {
            name: Some("Bench".into()),
            slug: Some("bench".into()),
            opt_in: Some(herald_domain::OptIn::Double),
            fields: Some(vec!["first_name".into()]),
            from: Some("Bench <bench@sender.example>".into()),
            ..Default::default()
        },
        app.clock.now_ms(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (addr, stop, task) = app.start_http().await?;
    let token = app.tracking_keys()?.sign(
        TokenKind::Form,
        list.id.0,
        app.clock.now_ms() / 1000 - 10,
        "bench",
    );

    eprintln!("{signups} sign-ups over {connections} keep-alive connections to {addr} …");
    let t0 = Instant::now();
    let mut clients = Vec::new();
    for c in 0..connections {
        let per =
            signups / connections as u64 + u64::from((c as u64) < signups % connections as u64);
        let token = token.clone();
        clients.push(tokio::spawn(
            async move { client(addr, &token, c, per).await },
        ));
    }
    let mut lat = Vec::with_capacity(signups as usize);
    for c in clients {
        lat.extend(c.await.context("client task")??);
    }
    let seconds = t0.elapsed().as_secs_f64();
    drop(stop);
    let _ = task.await;
    let rec = app
        .store
        .list_record("Bench", false)
        .await?
        .context("the bench list")?;
    let queued = app
        .store
        .waiting(app.clock.now_ms())
        .await?
        .iter()
        .filter(|g| g.state == herald_domain::DeliveryState::Queued)
        .map(|g| g.count)
        .sum::<u64>();
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| output::percentile(&lat, p);
    let report = SignupReport {
        signups: lat.len() as u64,
        connections,
        seconds,
        signups_per_sec: lat.len() as f64 / seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        pending: rec.pending,
        confirmations_queued: queued,
        peak_rss_mb: peak_rss_mb(),
    };
    if json {
        return output::json(&report);
    }
    println!(
        "{} sign-ups in {:.2} s: {:.0} sign-ups/s, p50 {:.2} ms, p99 {:.2} ms, {} connections; {} pending, {} confirmation messages queued; peak RSS {:.0} MB",
        report.signups,
        report.seconds,
        report.signups_per_sec,
        report.p50_ms,
        report.p99_ms,
        report.connections,
        report.pending,
        report.confirmations_queued,
        report.peak_rss_mb
    );
    Ok(())
}

/// One keep-alive connection posting `n` sign-ups of new addresses; latencies in ms.
async fn client(
    addr: std::net::SocketAddr,
    token: &str,
    c: usize,
    n: u64,
) -> anyhow::Result<Vec<f64>> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let mut lat = Vec::with_capacity(n as usize);
    let mut buf = vec![0u8; 16384];
    for i in 0..n {
        let body = format!(
            "t={token}&website=&email=user{c}x{i}%40d{}.bench.example&first_name=User{i}",
            i % 50
        );
        let req = format!(
            "POST /s/bench HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let t = Instant::now();
        s.write_all(req.as_bytes()).await?;
        read_response(&mut s, &mut buf).await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(lat)
}
