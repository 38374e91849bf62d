//! `herald bench track`: the public endpoints under load, through the real router, token
//! checks, verdicts and batched event writes into a real SQLite store. Keep-alive HTTP/1.1
//! clients on loopback (written here: a few lines, and no client library's overhead in the
//! figure); 70 % opens, 30 % clicks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use herald_engine::campaign::CampaignInput;
use herald_mail::tracking::{TokenKind, encode_url};
use herald_store::NewContact;
use herald_store::prelude::*;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::output::{self, peak_rss_mb};
use crate::settings::Settings;
use crate::startup::App;

#[derive(Serialize)]
struct TrackReport {
    requests: u64,
    connections: usize,
    seconds: f64,
    requests_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    events_written: u64,
    peak_rss_mb: f64,
}

pub async fn track(
    requests: u64,
    connections: usize,
    recipients: u64,
    json: bool,
) -> anyhow::Result<()> {
    if connections == 0 || recipients == 0 {
        bail!("--connections and --recipients must be at least 1");
    }
    let dir = tempfile::tempdir().context("temporary directory")?;
    let mut settings = Settings::default();
    settings.http.listen = "127.0.0.1:0".into();
    settings.tracking.min_click_delay = crate::settings::Dur(Duration::ZERO);
    let app = App::with_settings(settings, dir.path()).await?;

    eprintln!("preparing {recipients} recipients …");
    let list = app.store.ensure_list("bench", app.clock.now_ms()).await?;
    let contacts: Vec<NewContact> = (0..recipients)
        .map(|i| {
            let email = format!("user{i}@bench.example");
            NewContact {
                email_key: email.clone(),
                erased_token: None,
                email,
                fields: "{}".into(),
            }
        })
        .collect();
    for chunk in contacts.chunks(5000) {
        app.store
            .upsert_contacts(list, chunk, app.clock.now_ms())
            .await?;
    }
    let campaign = super::create_and_snapshot(
        &app,
        &CampaignInput {
            name: "bench".into(),
            list: "bench".into(),
            from: "Bench <bench@sender.example>".into(),
            subject: "Hello".into(),
            html: "<p>Hello</p>".into(),
            text: None,
            gate_override: None,
            reply_to: None,
            tracking: Default::default(),
        },
    )
    .await?;
    let ids: Vec<i64> = app
        .store
        .recipients(campaign, 0, recipients as u32)
        .await?
        .iter()
        .map(|r| r.id.0)
        .collect();

    let (addr, stop, task) = app.start_http().await?;
    let paths = Arc::new(request_paths(&app, &ids)?);

    eprintln!("{requests} requests over {connections} keep-alive connections to {addr} …");
    let t0 = Instant::now();
    let mut clients = Vec::new();
    for c in 0..connections {
        let per =
            requests / connections as u64 + u64::from((c as u64) < requests % connections as u64);
        let paths = paths.clone();
        clients.push(tokio::spawn(
            async move { client(addr, paths, c, per).await },
        ));
    }
    let mut lat = Vec::with_capacity(requests as usize);
    for c in clients {
        lat.extend(c.await.context("client task")??);
    }
    let seconds = t0.elapsed().as_secs_f64();
    drop(stop);
    // Every request's event is written before the server task ends.
    let events_written = task.await.context("HTTP task")?;
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| output::percentile(&lat, p);
    let report = TrackReport {
        requests: lat.len() as u64,
        connections,
        seconds,
        requests_per_sec: lat.len() as f64 / seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        events_written,
        peak_rss_mb: peak_rss_mb(),
    };
    if json {
        return output::json(&report);
    }
    println!(
        "{} requests in {:.2} s: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, {} connections; events written {}; peak RSS {:.0} MB",
        report.requests,
        report.seconds,
        report.requests_per_sec,
        report.p50_ms,
        report.p99_ms,
        report.connections,
        report.events_written,
        report.peak_rss_mb
    );
    Ok(())
}

/// One keep-alive connection sending `n` requests one after another; latencies in ms.
async fn client(
    addr: std::net::SocketAddr,
    paths: Arc<Vec<String>>,
    seed: usize,
    n: u64,
) -> anyhow::Result<Vec<f64>> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let mut lat = Vec::with_capacity(n as usize);
    let mut buf = vec![0u8; 8192];
    let mut i = seed.wrapping_mul(7919);
    for _ in 0..n {
        i = (i + 1) % paths.len();
        let req = format!(
            "GET {} HTTP/1.1\r\nHost: bench\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Bench/1.0\r\n\r\n",
            paths[i]
        );
        let t = Instant::now();
        s.write_all(req.as_bytes()).await?;
        read_response(&mut s, &mut buf).await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(lat)
}

/// Read one response: headers, then Content-Length bytes.
pub(super) async fn read_response(
    s: &mut tokio::net::TcpStream,
    buf: &mut [u8],
) -> anyhow::Result<()> {
    let mut have = 0;
    loop {
        let n = s.read(&mut buf[have..]).await?;
        if n == 0 {
            bail!("the server closed the connection");
        }
        have += n;
        if let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            if !(head.starts_with("http/1.1 200") || head.starts_with("http/1.1 302")) {
                bail!("unexpected answer: {}", head.lines().next().unwrap_or(""));
            }
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let mut body = have - (end + 4);
            while body < len {
                let n = s.read(&mut buf[..]).await?;
                if n == 0 {
                    bail!("the server closed the connection");
                }
                body += n;
            }
            return Ok(());
        }
        if have == buf.len() {
            bail!("response headers too large");
        }
    }
}

/// One request path per recipient: seven in ten are opens, the rest clicks on one link,
/// signed as an hour-old message's.
fn request_paths(app: &App, ids: &[i64]) -> anyhow::Result<Vec<String>> {
    let keys = app.tracking_keys()?;
    let sent_at = app.clock.now_ms() / 1000 - 3600;
    let url = "https://shop.example/sale?utm=bench";
    Ok(ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            if i % 10 < 7 {
                format!("/t/o/{}", keys.sign(TokenKind::Open, *id, sent_at, ""))
            } else {
                format!(
                    "/t/c/{}?u={}",
                    keys.sign(TokenKind::Click, *id, sent_at, url),
                    encode_url(url)
                )
            }
        })
        .collect())
}
