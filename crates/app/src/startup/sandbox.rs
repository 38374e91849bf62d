//! Sandbox mode: the capture server, and the recipients it simulates after accepting — the
//! server behind a gateway that bounces later (a DSN handed to Herald's own return-path
//! handler), a person who opens and clicks, a gateway's link scanner (requests to the tracking
//! links at `[http] public_url`). The rules that pick who does what are in
//! [`herald_inbound::capture`].

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use herald_engine::feedback::{ReturnPath, process_spool};
use herald_inbound::capture::{Accepted, late_bounce_dsn};
use herald_inbound::{Capture, Handler, Limits};
use tokio::sync::{Notify, oneshot};

use super::*;

/// More simulated recipients acting at once than this: the rest are skipped (and logged).
const MAX_OUTSTANDING: usize = 1_000;
/// How long after acceptance the server behind the gateway bounces a `late…@` message.
const LATE_BOUNCE_AFTER: Duration = Duration::from_secs(2);
/// What the simulated person's mail program calls itself.
const PERSON_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0";
/// Scanners pose as browsers; their timing gives them away.
const SCANNER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// The simulated recipients still acting.
#[derive(Default)]
pub struct Outstanding {
    n: AtomicUsize,
    done: Notify,
}

impl Outstanding {
    /// Wait until every simulated recipient has acted (true), or `limit` passed (false).
    pub async fn settled(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.done.notified();
            if self.n.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.n.load(Ordering::SeqCst) == 0;
            }
        }
    }

    fn end(&self) {
        if self.n.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.done.notify_waiters();
        }
    }
}

/// Counts a simulated recipient out when it is done, also if its task panics.
struct Acting(Arc<Outstanding>);

impl Drop for Acting {
    fn drop(&mut self) {
        self.0.end();
    }
}

type HttpClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Empty<hyper::body::Bytes>,
>;

/// What the simulated recipients need.
struct World {
    client: HttpClient,
    /// Herald's own return-path handler (its sandbox spool), for late bounces.
    returns: ReturnPath,
    /// `[http] public_url`, where the tracking links point.
    base_url: String,
    open_after: Duration,
    click_after: Duration,
    outstanding: Arc<Outstanding>,
}

impl App {
    /// Start the sandbox capture server (messages land in `<data dir>/sandbox/`) and its
    /// simulated recipients (late bounces go through a spool of their own,
    /// `<data dir>/inbound/sandbox-spool`, processed like the inbound listener's).
    pub async fn start_sandbox(&self) -> anyhow::Result<SandboxServer> {
        let dir = self.data_dir.join("sandbox");
        let spool = self.data_dir.join("inbound").join("sandbox-spool");
        let key = self.verp_key()?;
        let notify = Arc::new(Notify::new());
        let returns = ReturnPath::new(
            key.clone(),
            self.settings.inbound.return_path_domain.clone(),
            self.keyring(),
            spool.clone(),
            notify.clone(),
        )
        .with_context(|| format!("creating {}", spool.display()))?
        .with_clock(self.clock.clone());
        let outstanding = Arc::new(Outstanding::default());
        let t = &self.settings.tracking;
        let world = Arc::new(World {
            client: hyper_util::client::legacy::Client::builder(
                hyper_util::rt::TokioExecutor::new(),
            )
            .build_http(),
            returns,
            base_url: self
                .settings
                .http
                .public_url
                .trim_end_matches('/')
                .to_string(),
            open_after: t.min_open_delay.0 + Duration::from_secs(1),
            click_after: t.min_click_delay.0 + Duration::from_secs(1),
            outstanding: outstanding.clone(),
        });
        let capture = Capture::new(dir.clone())
            .with_context(|| format!("creating {}", dir.display()))?
            .with_aftermath(Arc::new(move |a: Accepted| {
                let o = &world.outstanding;
                if o.n.fetch_add(1, Ordering::SeqCst) >= MAX_OUTSTANDING {
                    o.end();
                    tracing::warn!(rcpt = %a.rcpt, "sandbox: too many simulated recipients at once; this one does nothing");
                    return;
                }
                let acting = Acting(o.clone());
                let w = world.clone();
                tokio::spawn(async move {
                    let _acting = acting;
                    act(w, a).await;
                });
            }));
        let listener = tokio::net::TcpListener::bind(self.settings.sandbox.listen)
            .await
            .with_context(|| {
                format!(
                    "binding the sandbox capture server to {}",
                    self.settings.sandbox.listen
                )
            })?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let stopped = shared_stop(stopped);
        let limits = Limits {
            hostname: "sandbox.herald.invalid".into(),
            // Every connection comes from this machine's own delivery workers.
            max_connections: 1024,
            max_connections_per_ip: 0,
            ..Limits::default()
        };
        tokio::spawn(herald_inbound::serve(
            listener,
            Arc::new(capture),
            limits,
            {
                let s = stopped.clone();
                async move { s.wait().await }
            },
        ));
        // One processor per spool: a second sandbox on the same data directory (a test send
        // from a running server, a demo beside `serve --sandbox`) leaves its files to the first,
        // which scans every few seconds.
        match lock_spool(&spool) {
            Some(lock) => {
                tokio::spawn(process_spool(
                    self.store.clone(),
                    key,
                    spool,
                    self.feedback_policy(),
                    notify,
                    async move {
                        stopped.wait().await;
                        drop(lock);
                    },
                ));
            }
            None => tracing::debug!("the sandbox spool has its processor already"),
        }
        Ok(SandboxServer {
            addr,
            dir,
            recipients: outstanding,
            _stop: stop,
        })
    }
}

/// The lock that makes this process the spool's one processor (None: another has it).
fn lock_spool(spool: &std::path::Path) -> Option<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(spool.join(".processor.lock"))
        .ok()?;
    file.try_lock().ok()?;
    Some(file)
}

/// What one simulated recipient does with the message it got.
async fn act(w: Arc<World>, a: Accepted) {
    let started = tokio::time::Instant::now();
    let links = tracking_links(&a.message, &w.base_url);
    if a.aftermath.late_bounce {
        tokio::time::sleep(LATE_BOUNCE_AFTER).await;
        let w = w.clone();
        // The return-path handler writes and syncs a spool file: off the async workers.
        let _ = tokio::task::spawn_blocking(move || return_late_bounce(&w, &a)).await;
        return;
    }
    if a.aftermath.link_scanner {
        // The gateway fetches everything the moment it arrives, in a burst.
        for url in links.opens.iter().chain(&links.clicks) {
            get(&w.client, url, SCANNER_AGENT).await;
        }
    }
    if a.aftermath.person_reads {
        tokio::time::sleep_until(started + w.open_after).await;
        for url in &links.opens {
            get(&w.client, url, PERSON_AGENT).await;
        }
        tokio::time::sleep_until(started + w.click_after).await;
        if let Some(url) = links.clicks.first() {
            get(&w.client, url, PERSON_AGENT).await;
        }
    }
}

/// The DSN goes to the message's return path through Herald's own return-path handler, as if
/// the receiver had connected to the inbound listener.
fn return_late_bounce(w: &World, a: &Accepted) {
    let accepted = w.returns.rcpt("", &a.from);
    if a.from.is_empty() || accepted.code != 250 {
        tracing::info!(
            rcpt = %a.rcpt,
            "sandbox: no late bounce for this message: it has no return path here (connect its From domain, or set [inbound] return_path_domain)"
        );
        return;
    }
    let dsn = late_bounce_dsn(
        &a.from,
        &a.rcpt,
        &a.queue_id,
        &a.message,
        time::OffsetDateTime::now_utc(),
    );
    let stored = w.returns.data("", std::slice::from_ref(&a.from), &dsn);
    if stored.code != 250 {
        tracing::warn!(rcpt = %a.rcpt, reply = %stored.text, "sandbox: the late bounce was not taken");
    }
}

struct Links {
    opens: Vec<String>,
    clicks: Vec<String>,
}

/// The tracking URLs in a message's HTML part: the open pixel and the tracked links.
fn tracking_links(message: &[u8], base: &str) -> Links {
    let html = mail_parser::MessageParser::default()
        .parse(message)
        .and_then(|m| m.body_html(0).map(|h| h.into_owned()))
        .unwrap_or_default();
    let mut links = Links {
        opens: Vec::new(),
        clicks: Vec::new(),
    };
    let open = format!("{base}/t/o/");
    let click = format!("{base}/t/c/");
    let mut seen = std::collections::HashSet::new();
    for piece in html.split('"') {
        let url = piece.replace("&amp;", "&");
        if !(url.starts_with(&open) || url.starts_with(&click)) || !seen.insert(url.clone()) {
            continue;
        }
        if url.starts_with(&open) {
            links.opens.push(url);
        } else {
            links.clicks.push(url);
        }
    }
    links
}

/// One GET, its answer ignored (a redirect is not followed: it leads off this machine).
async fn get(client: &HttpClient, url: &str, agent: &str) {
    let request = match hyper::Request::get(url)
        .header(hyper::header::USER_AGENT, agent)
        .body(http_body_util::Empty::new())
    {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(url, error = %e, "sandbox: not a URL to follow");
            return;
        }
    };
    match tokio::time::timeout(Duration::from_secs(10), client.request(request)).await {
        Ok(Ok(r)) if r.status().is_client_error() || r.status().is_server_error() => {
            tracing::warn!(url, status = %r.status(), "sandbox: a simulated recipient's request was refused");
        }
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            tracing::warn!(url, error = %e, "sandbox: a simulated recipient's request failed")
        }
        Err(_) => tracing::warn!(url, "sandbox: a simulated recipient's request timed out"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_pixel_and_each_tracked_link_once() {
        let msg = b"Content-Type: text/html\r\n\r\n<a href=\"http://h:1/t/c/AA?u=x&amp;v=1\">a</a> <a href=\"http://h:1/t/c/AA?u=x&amp;v=1\">again</a> <a href=\"https://elsewhere.example/\">b</a><img src=\"http://h:1/t/o/BB\">";
        let l = tracking_links(msg, "http://h:1");
        assert_eq!(l.opens, vec!["http://h:1/t/o/BB".to_string()]);
        assert_eq!(l.clicks, vec!["http://h:1/t/c/AA?u=x&v=1".to_string()]);
    }
}
