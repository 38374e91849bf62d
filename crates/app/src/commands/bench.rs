//! `herald bench send | import` (`track` in bench_track.rs): benchmarks that print their figures (never asserted in tests).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use herald_engine::campaign::CampaignInput;
use herald_engine::contacts::import_csv;
use herald_engine::queue::Until;
use herald_inbound::{Handler, Limits, ServerReply};
use herald_store::NewContact;
use herald_store::prelude::*;
use serde::Serialize;

use crate::cli::BenchCmd;
use crate::output::{self, peak_rss_mb};
use crate::settings::Settings;
use crate::startup::App;

pub async fn run(cmd: BenchCmd, data_dir: &Path, config: Option<&Path>) -> anyhow::Result<()> {
    match cmd {
        BenchCmd::Send {
            messages,
            sink,
            size,
            sessions,
            signed,
            compare_smtp_source,
            relay,
            recipient_domain,
            smtp_source_to,
            database,
            nodes,
            pause_at,
            json,
        } => {
            // --relay: the installation's [relay], as `herald serve` reads it.
            let relay = match relay {
                true => {
                    let file = config
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| data_dir.join("herald.toml"));
                    let s =
                        Settings::load(&file).map_err(|e| crate::bad_input(format!("{e:#}")))?;
                    if s.relay.host.is_empty() {
                        return Err(crate::bad_input(format!(
                            "--relay: no [relay] host in {} (or HERALD__RELAY__HOST)",
                            file.display()
                        )));
                    }
                    // What `serve` refuses (tls = "none" to another host with a password…).
                    s.relay
                        .check()
                        .map_err(|e| crate::bad_input(format!("--relay: {e:#}")))?;
                    if recipient_domain.is_none() {
                        return Err(crate::bad_input(
                            "--relay sends real mail: name a domain the relay accepts and discards with --recipient-domain",
                        ));
                    }
                    Some(s.relay)
                }
                false => None,
            };
            let recipient_domain = recipient_domain.unwrap_or_else(|| "bench.example".into());
            send(SendArgs {
                messages,
                sink,
                size,
                sessions,
                signed,
                compare: compare_smtp_source,
                relay,
                domain: recipient_domain,
                smtp_source_to,
                database,
                nodes,
                pause_at,
                json,
            })
            .await
        }
        BenchCmd::Import { rows, json } => import(rows, json).await,
        BenchCmd::Hooks { events, json } => super::bench_hooks::hooks(events, json).await,
        BenchCmd::Webhooks {
            events,
            max_in_flight,
            json,
        } => super::bench_webhooks::webhooks(events, max_in_flight, json).await,
        BenchCmd::Segment { contacts, json } => super::bench_segment::segment(contacts, json).await,
        BenchCmd::Signup {
            signups,
            connections,
            json,
        } => super::bench_signup::signup(signups, connections, json).await,
        BenchCmd::Report {
            recipients,
            events,
            rounds,
            json,
        } => super::bench_report::report(recipients, events, rounds, json).await,
        BenchCmd::Track {
            requests,
            connections,
            recipients,
            json,
        } => super::bench_track::track(requests, connections, recipients, json).await,
    }
}

#[derive(Serialize)]
struct SendFigures {
    messages: u64,
    delivered: u64,
    seconds: f64,
    messages_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    peak_rss_mb: f64,
    message_bytes: usize,
    sessions: usize,
    sink: String,
    signed: bool,
    durable: bool,
    database: &'static str,
    nodes: usize,
    /// The share of the wall time each node's outcome writer (which commits every attempt's
    /// evidence and state) spent waiting for the database, averaged over the nodes.
    db_share_writes: f64,
    /// The same for each node's claim loop (claiming due deliveries, looking for work).
    db_share_claims: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    smtp_source: Option<SmtpSourceFigures>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pause: Option<PauseFigures>,
}

/// `--pause-at`: a pause and resume in the middle of the send, and what the sink received.
#[derive(Serialize, Default)]
struct PauseFigures {
    /// Messages the sink had accepted when the pause was asked for.
    accepted_at_pause: u64,
    /// How long the pause call took (the status changes first; then the waiting deliveries
    /// are moved out of the due range).
    pause_call_ms: f64,
    /// Accepted by a second after the pause (those in flight finish and are recorded).
    accepted_after_1s: u64,
    /// Accepted in the 3 s after that: new attempts while paused (0 expected).
    accepted_while_paused: u64,
    resume_call_ms: f64,
    /// Recipients the sink never received a copy for, and those it received more than once.
    lost: u64,
    doubled: u64,
}

#[derive(Serialize)]
struct SmtpSourceFigures {
    command: String,
    seconds: f64,
    messages_per_sec: f64,
}

/// A sink that accepts everything (used when no --sink is given) and counts the copies each
/// bench recipient (`user<N>@<domain>`) received.
struct NullSink {
    accepted: AtomicU64,
    copies: Vec<std::sync::atomic::AtomicU8>,
    /// `@<domain>`.
    suffix: String,
}

impl NullSink {
    fn new(recipients: u64, domain: &str) -> Self {
        Self {
            accepted: AtomicU64::new(0),
            suffix: format!("@{domain}"),
            copies: (0..recipients)
                .map(|_| std::sync::atomic::AtomicU8::new(0))
                .collect(),
        }
    }

    fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Recipients without a copy, and with more than one.
    fn lost_and_doubled(&self) -> (u64, u64) {
        self.copies.iter().fold((0, 0), |(lost, doubled), c| {
            match c.load(Ordering::Relaxed) {
                0 => (lost + 1, doubled),
                1 => (lost, doubled),
                _ => (lost, doubled + 1),
            }
        })
    }
}

impl Handler for NullSink {
    fn rcpt(&self, _: &str, _: &str) -> ServerReply {
        ServerReply::new(250, "2.1.5", "Ok")
    }
    fn data(&self, _: &str, rcpts: &[String], _: &[u8]) -> ServerReply {
        for r in rcpts {
            let n = r
                .strip_prefix("user")
                .and_then(|r| r.strip_suffix(self.suffix.as_str()))
                .and_then(|n| n.parse::<usize>().ok());
            if let Some(c) = n.and_then(|n| self.copies.get(n)) {
                // Saturating: a count of 255 still says "more than once".
                let _ = c.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_add(1));
            }
        }
        let n = self.accepted.fetch_add(1, Ordering::Relaxed);
        ServerReply::new(250, "2.0.0", format!("Ok: queued as B{n:X}"))
    }
}

/// Latencies in a fixed histogram (buckets 1 % wide from 1 µs to about 20 min), so reading a
/// million of them holds 17 KB, not a million floats.
struct Histogram {
    buckets: Vec<u64>,
    n: u64,
}

impl Histogram {
    const GROWTH: f64 = 1.01;
    const FLOOR_MS: f64 = 0.001;

    fn new() -> Self {
        Self {
            buckets: vec![0; 2100],
            n: 0,
        }
    }

    fn add(&mut self, ms: f64) {
        let i = if ms > Self::FLOOR_MS {
            ((ms / Self::FLOOR_MS).ln() / Self::GROWTH.ln()).ceil() as usize
        } else {
            0
        };
        let last = self.buckets.len() - 1;
        self.buckets[i.min(last)] += 1;
        self.n += 1;
    }

    /// The `p` quantile (0–1), as its bucket's upper bound (within 1 %).
    fn percentile(&self, p: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let rank = ((self.n as f64 - 1.0) * p).round() as u64 + 1;
        let mut seen = 0;
        for (i, count) in self.buckets.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Self::FLOOR_MS * Self::GROWTH.powi(i as i32);
            }
        }
        Self::FLOOR_MS * Self::GROWTH.powi(self.buckets.len() as i32 - 1)
    }
}

struct SendArgs {
    messages: u64,
    sink: Option<String>,
    size: usize,
    sessions: usize,
    signed: bool,
    compare: bool,
    /// Through this relay (the installation's) instead of a sink.
    relay: Option<crate::settings::Relay>,
    /// The recipients' domain.
    domain: String,
    /// Where smtp-source sends, when not the sink.
    smtp_source_to: Option<String>,
    database: Option<String>,
    nodes: usize,
    pause_at: Option<u64>,
    json: bool,
}

async fn send(a: SendArgs) -> anyhow::Result<()> {
    let SendArgs {
        messages,
        sink,
        size,
        sessions,
        signed,
        compare,
        relay,
        domain,
        smtp_source_to,
        database,
        nodes,
        pause_at,
        json,
    } = a;
    if pause_at.is_some() && sink.is_some() {
        return Err(crate::bad_input(
            "--pause-at counts each recipient's copies at the in-process sink: leave out --sink",
        ));
    }
    if pause_at.is_some_and(|n| n == 0 || n >= messages) {
        return Err(crate::bad_input(
            "--pause-at N: between 1 and --messages − 1 (the pause comes mid-way)",
        ));
    }
    let nodes = nodes.max(1);
    if nodes > 1
        && !database
            .as_deref()
            .is_some_and(|d| d.starts_with("postgres"))
    {
        return Err(crate::bad_input(
            "--nodes above 1 needs --database postgres://… (nodes share work through it)",
        ));
    }
    if compare && relay.is_some() && smtp_source_to.is_none() {
        return Err(crate::bad_input(
            "--compare-smtp-source with --relay: name the relay's plain port with --smtp-source-to HOST:PORT (smtp-source speaks neither AUTH nor TLS)",
        ));
    }
    let dir = tempfile::tempdir().context("temporary directory")?;
    let (sink, null, _stop, settings) = match relay {
        Some(r) => {
            let name = format!("{}:{} (relay)", r.bare_host(), r.port());
            (
                name,
                None,
                None,
                relay_settings(r, sessions, database.as_deref()),
            )
        }
        None => {
            let (sink, null, stop) = sink_or_null(sink, messages, &domain).await?;
            tokio::net::TcpStream::connect(&sink)
                .await
                .with_context(|| format!("the sink {sink} does not accept connections (start one, e.g. `smtp-sink -u nobody -c {sink} 1000 &`)"))?;
            let settings = sink_settings(&sink, sessions, database.as_deref())?;
            (sink, null, stop, settings)
        }
    };
    let app = App::with_settings(settings.clone(), dir.path()).await?;
    if signed {
        let ctx = herald_engine::domains::RecordContext {
            helo_name: "bench.example".into(),
            tracking_host: "bench.example".into(),
            ..Default::default()
        };
        app.keyring()
            .add("sender.example", Some("bench"), &ctx)
            .context("creating DKIM keys")?;
    }

    let id = bench_campaign(&app, messages, size, &domain).await?;
    // Each node: its own App (connection pool) and queue (lease owner), one data directory.
    let mut apps = vec![app];
    for _ in 1..nodes {
        apps.push(App::with_settings(settings.clone(), dir.path()).await?);
    }
    let app = &apps[0];
    let queues = apps
        .iter()
        .map(|a| a.queue(None))
        .collect::<anyhow::Result<Vec<_>>>()?;
    eprintln!(
        "sending {messages} messages to {sink} over {sessions} sessions × {nodes} node(s) ({}) …",
        app.store.backend()
    );
    let t0 = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1800);
    // The runs end (finished, or failed): a pause still waiting for its moment gives up.
    let ended = std::sync::atomic::AtomicBool::new(false);
    let runs = async {
        loop {
            let runs = queues.iter().map(|q| {
                q.run(
                    Some(id),
                    Until::Finished,
                    Some(deadline),
                    std::future::pending(),
                )
            });
            for r in futures_util::future::join_all(runs).await {
                if let Err(e) = r {
                    ended.store(true, Ordering::Relaxed);
                    return Err(anyhow::Error::new(e));
                }
            }
            // A run also ends when nothing is due because the campaign is paused: wait for
            // its resume and send the rest. Until the campaign is sent: a resume can come
            // between a run ending on the pause and this read (then it reads `sending`).
            let status = match app.store.campaign(id).await {
                Ok(c) => c.map(|c| c.status),
                Err(e) => {
                    ended.store(true, Ordering::Relaxed);
                    return Err(e.into());
                }
            };
            let going = matches!(
                status,
                Some(herald_store::CampaignStatus::Paused | herald_store::CampaignStatus::Sending)
            );
            if !going || tokio::time::Instant::now() >= deadline {
                if going {
                    eprintln!(
                        "warning: the bench's 30-minute limit passed before the campaign was sent: the figures are partial"
                    );
                }
                ended.store(true, Ordering::Relaxed);
                return anyhow::Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let pause = async {
        match (pause_at, &null) {
            (Some(n), Some(sink)) => pause_round(app, id, sink, n, &ended).await,
            _ => Ok(None),
        }
    };
    let (runs, pause) = tokio::join!(runs, pause);
    runs?;
    let seconds = t0.elapsed().as_secs_f64();
    let mut pause = pause?;
    if let (Some(p), Some(sink)) = (pause.as_mut(), &null) {
        (p.lost, p.doubled) = sink.lost_and_doubled();
    }
    let share = |f: fn(&herald_engine::queue::DbBusy) -> Duration| {
        queues
            .iter()
            .map(|q| f(&q.db_busy()).as_secs_f64())
            .sum::<f64>()
            / (seconds * nodes as f64)
    };
    let db_share_writes = share(|b| b.write);
    let db_share_claims = share(|b| b.claim);

    // Accepted by the sink (a relay, so recorded as relayed).
    let counts = app.store.counts(id).await?;
    let delivered = counts.get(herald_domain::DeliveryState::Delivered)
        + counts.get(herald_domain::DeliveryState::Relayed);
    let (lat, bytes) = latencies(app, id).await?;
    let smtp_source = if compare {
        let to = smtp_source_to.as_deref().unwrap_or(&sink);
        Some(run_smtp_source(
            to,
            messages,
            bytes.max(size),
            sessions,
            &domain,
        )?)
    } else {
        None
    };
    let figures = SendFigures {
        messages,
        delivered,
        seconds,
        messages_per_sec: delivered as f64 / seconds,
        p50_ms: lat.percentile(0.50),
        p99_ms: lat.percentile(0.99),
        peak_rss_mb: peak_rss_mb(),
        message_bytes: bytes,
        sessions,
        sink,
        signed,
        durable: true,
        database: app.store.backend(),
        nodes,
        db_share_writes,
        db_share_claims,
        smtp_source,
        pause,
    };
    if json {
        return output::json(&figures);
    }
    print_send(&figures, messages, nodes, bytes, signed);
    Ok(())
}

/// Settings that send everything to the sink as a relay on loopback (plaintext, no login: its
/// 250s make deliveries `relayed`), `sessions` at a time, on `database` if given.
fn sink_settings(sink: &str, sessions: usize, database: Option<&str>) -> anyhow::Result<Settings> {
    let mut settings = Settings::default();
    // The sink is a relay on loopback: plaintext, no login; its 250s make deliveries `relayed`.
    let (host, port) = sink
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
        .with_context(|| format!("--sink {sink:?}: expected host:port"))?;
    settings.delivery.transport = crate::settings::Transport::Relay;
    settings.relay.host = host;
    settings.relay.port = Some(port);
    settings.relay.tls = crate::settings::RelayTls::None;
    settings.relay.max_connections = sessions;
    settings.delivery.starttls = false;
    settings.delivery.max_connections_per_domain = sessions;
    settings.delivery.max_connections = sessions;
    settings.delivery.max_messages_per_connection = 1000;
    if let Some(url) = database {
        settings.database.url = url.to_string();
    }
    Ok(settings)
}

/// Settings that send everything through the installation's relay `r` (its TLS, login and
/// CA as `serve` uses them), `sessions` at a time, without asking it for DSNs (the bench times
/// what the relay accepts; a DSN per message would come back to a return path nobody reads).
fn relay_settings(
    mut r: crate::settings::Relay,
    sessions: usize,
    database: Option<&str>,
) -> Settings {
    let mut settings = Settings::default();
    settings.delivery.transport = crate::settings::Transport::Relay;
    r.max_connections = sessions;
    r.request_dsn = false;
    r.route.clear();
    settings.relay = r;
    settings.delivery.max_connections_per_domain = sessions;
    settings.delivery.max_connections = sessions;
    settings.delivery.max_messages_per_connection = 1000;
    if let Some(url) = database {
        settings.database.url = url.to_string();
    }
    settings
}

/// `--pause-at n`: once the sink accepted `n`, pause the campaign (as `campaign pause` does),
/// watch the sink for a second and then three more, and resume.
async fn pause_round(
    app: &App,
    id: herald_store::CampaignId,
    sink: &NullSink,
    n: u64,
    ended: &std::sync::atomic::AtomicBool,
) -> anyhow::Result<Option<PauseFigures>> {
    use herald_engine::campaign::{Control, control};
    while sink.accepted() < n {
        if ended.load(Ordering::Relaxed) {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut f = PauseFigures {
        accepted_at_pause: sink.accepted(),
        ..Default::default()
    };
    let t = Instant::now();
    control(&app.store, id, Control::Pause, app.clock.now_ms()).await?;
    f.pause_call_ms = t.elapsed().as_secs_f64() * 1000.0;
    tokio::time::sleep_until((t + Duration::from_secs(1)).into()).await;
    f.accepted_after_1s = sink.accepted();
    tokio::time::sleep(Duration::from_secs(3)).await;
    f.accepted_while_paused = sink.accepted() - f.accepted_after_1s;
    eprintln!(
        "paused at {} accepted; {} a second later, {} more in the next 3 s; resuming …",
        f.accepted_at_pause, f.accepted_after_1s, f.accepted_while_paused
    );
    let t = Instant::now();
    control(&app.store, id, Control::Resume, app.clock.now_ms()).await?;
    f.resume_call_ms = t.elapsed().as_secs_f64() * 1000.0;
    Ok(Some(f))
}

/// The sink to send to: `sink` (host:port), or a null sink started here on loopback (it
/// accepts everything, keeps nothing but a count of each of the `recipients`' copies, and is
/// returned too), running until the returned sender is dropped.
async fn sink_or_null(
    sink: Option<String>,
    recipients: u64,
    domain: &str,
) -> anyhow::Result<(
    String,
    Option<Arc<NullSink>>,
    Option<tokio::sync::oneshot::Sender<()>>,
)> {
    if let Some(s) = sink {
        return Ok((s, None, None));
    }
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = l.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let limits = Limits {
        max_connections: 1024,
        max_connections_per_ip: 0,
        ..Limits::default()
    };
    let null = Arc::new(NullSink::new(recipients, domain));
    tokio::spawn(herald_inbound::serve(l, null.clone(), limits, async {
        let _ = rx.await;
    }));
    Ok((addr.to_string(), Some(null), Some(tx)))
}

/// `messages` contacts on a `bench` list and a campaign of about `size` bytes to them,
/// snapshotted (its deliveries queued).
async fn bench_campaign(
    app: &App,
    messages: u64,
    size: usize,
    domain: &str,
) -> anyhow::Result<herald_store::CampaignId> {
    eprintln!("preparing {messages} contacts …");
    let list = app.store.ensure_list("bench", app.clock.now_ms()).await?;
    let mut batch = Vec::with_capacity(5000);
    for i in 0..messages {
        let email = format!("user{i}@{domain}");
        batch.push(NewContact {
            email_key: email.clone(),
            erased_token: None,
            email,
            fields: format!(r#"{{"first_name":"User{i}","plan":"gold"}}"#),
        });
        if batch.len() == 5000 {
            app.store
                .upsert_contacts(list, &batch, app.clock.now_ms())
                .await?;
            batch.clear();
        }
    }
    app.store
        .upsert_contacts(list, &batch, app.clock.now_ms())
        .await?;
    // About `size` bytes on the wire: the derived text part and the MIME encoding add about as
    // much again as the HTML, so the HTML gets half.
    let para = "<p>Hello {{ contact.first_name }}, this paragraph fills the message to a realistic size for a newsletter.</p>\n";
    let html = format!(
        "<html><body><h1>News for {{{{ contact.first_name }}}}</h1>\n{}</body></html>",
        para.repeat(size / 2 / para.len())
    );
    let id = super::create_and_snapshot(
        app,
        &CampaignInput {
            name: "bench".into(),
            list: "bench".into(),
            from: "Bench <bench@sender.example>".into(),
            subject: "Hello {{ contact.first_name }}".into(),
            html,
            text: None,
            gate_override: None,
            reply_to: None,
            tracking: Default::default(),
        },
    )
    .await?;
    Ok(id)
}

/// Each recorded session's latency (ms) and the message's size on the wire, read a page of
/// recipients at a time.
async fn latencies(app: &App, id: herald_store::CampaignId) -> anyhow::Result<(Histogram, usize)> {
    let mut lat = Histogram::new();
    let mut bytes = 0;
    let mut after = 0;
    loop {
        let page = app.store.recipients(id, after, 1_000).await?;
        let Some(last) = page.last() else { break };
        after = last.id.0;
        for e in page.iter().filter_map(|r| r.evidence.as_ref()) {
            lat.add((e.ended_at - e.started_at).as_seconds_f64() * 1000.0);
            bytes = e.bytes as usize;
        }
    }
    Ok((lat, bytes))
}

/// `bench send`'s figures in words.
fn print_send(figures: &SendFigures, messages: u64, nodes: usize, bytes: usize, signed: bool) {
    println!(
        "herald ({}, {} node(s)): {} of {} delivered in {:.2}s = {:.0} msg/s; the outcome writer waited for the database {:.0}% of the time, the claim loop {:.0}%; latency p50 {:.2} ms, p99 {:.2} ms; peak RSS {:.0} MB; {} bytes/message, {}, durable per-recipient records",
        figures.database,
        nodes,
        figures.delivered,
        messages,
        figures.seconds,
        figures.messages_per_sec,
        figures.db_share_writes * 100.0,
        figures.db_share_claims * 100.0,
        figures.p50_ms,
        figures.p99_ms,
        figures.peak_rss_mb,
        bytes,
        if signed {
            "DKIM-signed (RSA-2048 + Ed25519)"
        } else {
            "unsigned"
        }
    );
    if let Some(p) = &figures.pause {
        println!(
            "pause/resume: paused at {} accepted (the pause call took {:.0} ms); {} accepted a second later, {} in the 3 s after that (new attempts while paused); resume took {:.0} ms; at the end: {} recipient(s) lost, {} doubled",
            p.accepted_at_pause,
            p.pause_call_ms,
            p.accepted_after_1s,
            p.accepted_while_paused,
            p.resume_call_ms,
            p.lost,
            p.doubled
        );
    }
    if let Some(s) = &figures.smtp_source {
        println!(
            "smtp-source: {:.2}s = {:.0} msg/s ({})",
            s.seconds, s.messages_per_sec, s.command
        );
    }
}

fn run_smtp_source(
    sink: &str,
    messages: u64,
    bytes: usize,
    sessions: usize,
    domain: &str,
) -> anyhow::Result<SmtpSourceFigures> {
    let bin = ["/usr/sbin/smtp-source", "/usr/bin/smtp-source"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .context("smtp-source not found (apt-get install postfix)")?;
    let args = [
        "-d".to_string(),
        "-s".into(),
        sessions.to_string(),
        "-m".into(),
        messages.to_string(),
        "-l".into(),
        bytes.to_string(),
        "-f".into(),
        "bench@sender.example".into(),
        "-t".into(),
        format!("user@{domain}"),
        sink.to_string(),
    ];
    let t0 = Instant::now();
    let status = std::process::Command::new(bin)
        .args(&args)
        .status()
        .context("running smtp-source")?;
    let seconds = t0.elapsed().as_secs_f64();
    if !status.success() {
        bail!("smtp-source failed: {status}");
    }
    Ok(SmtpSourceFigures {
        command: format!("{bin} {}", args.join(" ")),
        seconds,
        messages_per_sec: messages as f64 / seconds,
    })
}

#[derive(Serialize)]
struct ImportFigures {
    rows: u64,
    imported: u64,
    seconds: f64,
    rows_per_sec: f64,
    peak_rss_mb: f64,
    file_mb: f64,
}

async fn import(rows: u64, json: bool) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let csv = dir.path().join("contacts.csv");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&csv)?);
        writeln!(w, "email,first_name,last_name,city,plan")?;
        for i in 0..rows {
            writeln!(
                w,
                "person{i}@example{}.com,First{i},Last{i},City {},gold",
                i % 1000,
                i % 97
            )?;
        }
        w.flush()?;
    }
    let file_mb = std::fs::metadata(&csv)?.len() as f64 / 1_048_576.0;
    let app = App::with_settings(Settings::default(), dir.path()).await?;
    eprintln!("importing {rows} rows ({file_mb:.0} MB) …");
    let t0 = Instant::now();
    let report = import_csv(
        &app.store,
        app.erasure_key().await?,
        Box::new(std::fs::File::open(&csv)?),
        "bench",
        |_| {},
        app.clock.now_ms(),
    )
    .await?;
    let seconds = t0.elapsed().as_secs_f64();
    let f = ImportFigures {
        rows,
        imported: report.imported,
        seconds,
        rows_per_sec: rows as f64 / seconds,
        peak_rss_mb: peak_rss_mb(),
        file_mb,
    };
    if json {
        return output::json(&f);
    }
    println!(
        "import: {} rows in {:.2}s = {:.0} rows/s; peak RSS {:.0} MB ({:.0} MB file)",
        f.rows, f.seconds, f.rows_per_sec, f.peak_rss_mb, f.file_mb
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Histogram;

    #[test]
    fn the_histogram_answers_within_one_percent() {
        let mut h = Histogram::new();
        assert_eq!(h.percentile(0.5), 0.0);
        // 1..=1000 ms: the median 500 (or 501), p99 990.
        for ms in 1..=1000 {
            h.add(ms as f64);
        }
        let (p50, p99) = (h.percentile(0.50), h.percentile(0.99));
        assert!((500.0..=506.1).contains(&p50), "{p50}");
        assert!((990.0..=1000.0).contains(&p99), "{p99}");
        // Out of range both ways: counted, never a panic.
        h.add(0.0);
        h.add(-1.0);
        h.add(1e12);
        assert_eq!(h.n, 1003);
        assert!(h.percentile(1.0) > 1e6);
    }
}
