//! The application in-process: [`spawn_app`] runs `herald serve` (the same composition as the
//! binary: queue, HTTP, scheduler, purger, webhooks) as a task of the test's runtime, on free
//! loopback ports, over a temporary data directory, sending through a [`ScriptedPeer`], with a
//! clock the test moves by hand. A retry due in ten minutes, a schedule tomorrow, a
//! confirmation window of a week are then tested by moving the clock, not by sleeping.
//!
//! The data directory holds a `herald.toml` with the same settings, so `herald` commands run
//! on it (as subprocesses, on the system's clock) see the same installation.
//!
//! Move the clock while the node is idle: leases (`[delivery] lease`, 60 s) and node heartbeats
//! are on the same clock, so jumping past a lease while a message is in flight makes it look
//! abandoned, as a real jump of the system clock would.
//!
//! Why a hand-moved clock and not tokio's paused time: the SQLite driver runs its queries on a
//! thread of its own, and a paused runtime waiting for it auto-advances its timers, so a
//! timeout around a query would fire at once. Only the time of day is moved here; the
//! runtime's timers (polling, pacing) stay real and short.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use herald_app::commands::serve::{Listening, run_until};
use herald_app::startup::App;
use herald_engine::Clock;
use time::OffsetDateTime;

use crate::{ScriptedPeer, start_peer};

/// How [`spawn_app_with`] sets the installation up.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// More settings, as TOML appended to the generated `herald.toml` (sections not generated:
    /// `[lists]`, `[webhooks]`, `[tracking]`…; generated ones may not be repeated).
    pub settings: String,
    /// Lines added to the generated `[delivery]` section (e.g. `retry_schedule = ["10m"]`).
    pub delivery: String,
    /// Where the clock starts (default: now by the system's clock).
    pub start: Option<OffsetDateTime>,
    /// Send to the sandbox's capture server instead of through the peer.
    pub sandbox: bool,
    /// This node's name (`[delivery] node_name`).
    pub node: String,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            settings: String::new(),
            delivery: String::new(),
            start: None,
            sandbox: false,
            node: "node-a".into(),
        }
    }
}

/// A running in-process installation; stopped when dropped (or by [`TestApp::stop`]).
pub struct TestApp {
    /// The installation, as the commands see it (its clock is [`TestApp::clock`]).
    pub app: App,
    pub clock: Clock,
    pub listening: Listening,
    /// `http://127.0.0.1:PORT` (also `[http] public_url`).
    pub base_url: String,
    /// The relay every message goes through (unless sandboxed); script its answers.
    pub peer: Arc<ScriptedPeer>,
    pub data_dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    _peer_stop: Option<tokio::sync::oneshot::Sender<()>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// [`spawn_app_with`] the defaults: a node sending through a fresh scripted peer.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

/// Start an installation in a new temporary data directory.
pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data_dir = tmp.path().join("data");
    let clock = Clock::manual(options.start.unwrap_or_else(OffsetDateTime::now_utc));
    let peer = Arc::new(ScriptedPeer::default());
    let (relay, peer_stop) = start_peer(peer.clone()).await;
    let mut t = start(&data_dir, &options, clock, peer, relay).await;
    t._tmp = Some(tmp);
    t._peer_stop = Some(peer_stop);
    t
}

/// Another node of `first`'s installation (same database, data directory, clock and peer),
/// named `options.node`: what several `herald serve` processes on one database are. Stop or
/// drop it before `first`, which owns the data directory.
pub async fn spawn_node(first: &TestApp, options: AppOptions) -> TestApp {
    let relay = first
        .app
        .settings
        .relay
        .port
        .map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
        .expect("the first node sends through the peer");
    // The same data directory (keys, database), its own settings file (HTTP port, name).
    let mut options = options;
    options.settings.push_str(&format!(
        "\n[database]\nurl = {:?}\n",
        first.app.settings.database.url
    ));
    start(
        &first.data_dir,
        &options,
        first.clock.clone(),
        first.peer.clone(),
        relay,
    )
    .await
}

async fn start(
    data_dir: &Path,
    options: &AppOptions,
    clock: Clock,
    peer: Arc<ScriptedPeer>,
    relay: SocketAddr,
) -> TestApp {
    std::fs::create_dir_all(data_dir).expect("data dir");
    let port = free_port();
    let base_url = format!("http://127.0.0.1:{port}");
    let database = if options.settings.contains("[database]") {
        String::new()
    } else if std::env::var("HERALD_TEST_BACKEND").as_deref() == Ok("postgres") {
        format!("[database]\nurl = {:?}\n", pg_database(data_dir))
    } else {
        String::new()
    };
    let toml = format!(
        r#"{database}
[delivery]
transport = "relay"
helo_name = "{node}.herald.test"
node_name = "{node}"
{delivery}

[relay]
host = "127.0.0.1"
port = {relay_port}
tls = "none"

[http]
listen = "127.0.0.1:{port}"
public_url = "{base_url}"

[inbound]
enabled = false

{settings}
"#,
        node = options.node,
        delivery = options.delivery,
        relay_port = relay.port(),
        settings = options.settings,
    );
    // The first node's file is the installation's (`herald` commands read it); others have
    // their own beside it.
    let file = match data_dir.join("herald.toml") {
        f if f.exists() => data_dir.join(format!("herald-{}.toml", options.node)),
        f => f,
    };
    std::fs::write(&file, toml).expect("writing herald.toml");
    let mut app = App::open(data_dir, Some(&file))
        .await
        .expect("opening the installation");
    app.clock = clock.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (ready, listening) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(run_until(
        app.clone(),
        options.sandbox,
        async {
            let _ = stopped.await;
        },
        Some(ready),
    ));
    let listening = match listening.await {
        Ok(l) => l,
        Err(_) => panic!(
            "herald serve did not start: {:?}",
            task.await.map(|r| r.map_err(|e| format!("{e:#}")))
        ),
    };
    TestApp {
        app,
        clock,
        listening,
        base_url,
        peer,
        data_dir: data_dir.to_path_buf(),
        _tmp: None,
        _peer_stop: None,
        stop: Some(stop),
        task: Some(task),
    }
}

impl TestApp {
    /// Move the installation's clock forward.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Stop serving: what is in flight is finished and recorded first.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await?,
            None => Ok(()),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A loopback port free now, for a server a test starts (bound and released: the server binds
/// it a moment later).
///
/// Taken below the kernel's ephemeral range (`net.ipv4.ip_local_port_range`), not from it: a
/// port the kernel handed out for `127.0.0.1:0` is also what it hands out as the local end of
/// outgoing connections, and a test running alongside (a busy HTTP client) could take it
/// before the server binds, which then exits with "address in use" (seen in CI). Below the
/// range only another server can take it. Ports come from a process-wide counter started at an
/// offset of the process id, so two tests of one binary never get the same one; each is
/// checked by binding. Falls back to `127.0.0.1:0` where the range leaves no room below it.
pub fn free_port() -> u16 {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 20_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    static EPHEMERAL_LOW: OnceLock<u32> = OnceLock::new();
    let ephemeral_low = *EPHEMERAL_LOW.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u32>().ok())
            .unwrap_or(32_768)
            .min(65_536)
    });
    if ephemeral_low > LOW + 1_000 {
        let span = ephemeral_low - LOW;
        let offset = std::process::id().wrapping_mul(7_919) % span;
        for _ in 0..span {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let port = LOW + (offset + n) % span;
            if let Ok(port) = u16::try_from(port)
                && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
            {
                return port;
            }
        }
    }
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The URL of a PostgreSQL database for `data_dir`, created if needed (on the server at
/// `HERALD_TEST_POSTGRES`; `scripts/test` drops the `herald_apptest_*` databases before a run).
pub fn pg_database(data_dir: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let server = std::env::var("HERALD_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data_dir.hash(&mut h);
    let name = format!("herald_apptest_{:016x}", h.finish());
    let out = std::process::Command::new("psql")
        .arg(format!("{server}/postgres"))
        .args(["-v", "ON_ERROR_STOP=1", "-qc"])
        .arg(format!("CREATE DATABASE {name}"))
        .output()
        .expect("psql (apt-get install postgresql-client)");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() || err.contains("already exists"),
        "creating {name}: {err}"
    );
    format!("{server}/{name}")
}
