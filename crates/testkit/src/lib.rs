//! Dev-only helpers: a fresh store, a scripted SMTP peer, misbehaving servers, a static DNS
//! table, and a queue wired to them. Tests assert on recorded outcomes, never on log text.

pub mod app;
pub mod noise;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_domain::RetrySchedule;
use herald_engine::deliver::smtp::{SessionConfig, Timeouts};
use herald_engine::deliver::{DeliverConfig, MxAnswer, MxHost, StaticMx};
use herald_engine::queue::{Queue, QueueConfig};
use herald_inbound::{Handler, Limits, ServerReply};
use herald_store::SqliteStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Now, by the system's clock (milliseconds since the epoch), for tests that do not move time.
pub fn now_ms() -> i64 {
    herald_engine::Clock::system().now_ms()
}

/// A temporary SQLite store; the directory lives as long as the value.
pub struct TestStore {
    pub store: SqliteStore,
    pub dir: tempfile::TempDir,
}

pub async fn test_store() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("herald.db"))
        .await
        .expect("open store");
    TestStore { store, dir }
}

/// What the scripted peer answers for one recipient.
#[derive(Debug, Clone)]
pub enum Script {
    Accept,
    /// Refuse at RCPT with this reply.
    Rcpt(u16, &'static str, &'static str),
    /// Accept RCPT, refuse after the data.
    Data(u16, &'static str, &'static str),
}

/// An SMTP peer that answers per recipient as scripted and records what it received.
#[derive(Default)]
pub struct ScriptedPeer {
    pub scripts: Mutex<HashMap<String, Script>>,
    /// Every accepted message: (recipients, raw bytes).
    pub received: Mutex<Vec<(Vec<String>, Vec<u8>)>>,
    /// Sleep this long before answering DATA (blocks one worker thread; keep it small).
    pub data_delay: Mutex<Duration>,
    /// Every RCPT TO it was given, in order, whatever it answered.
    pub rcpts: Mutex<Vec<String>>,
}

impl ScriptedPeer {
    pub fn script(&self, rcpt: &str, s: Script) {
        self.scripts
            .lock()
            .expect("lock")
            .insert(rcpt.to_ascii_lowercase(), s);
    }
    pub fn count_for(&self, rcpt: &str) -> usize {
        let r = self.received.lock().expect("lock");
        r.iter()
            .filter(|(rc, _)| rc.iter().any(|x| x.eq_ignore_ascii_case(rcpt)))
            .count()
    }
    fn lookup(&self, rcpt: &str) -> Script {
        self.scripts
            .lock()
            .expect("lock")
            .get(&rcpt.to_ascii_lowercase())
            .cloned()
            .unwrap_or(Script::Accept)
    }
}

impl Handler for ScriptedPeer {
    fn rcpt(&self, _from: &str, rcpt: &str) -> ServerReply {
        self.rcpts
            .lock()
            .expect("lock")
            .push(rcpt.to_ascii_lowercase());
        match self.lookup(rcpt) {
            Script::Rcpt(code, enh, text) => ServerReply::new(code, enh, text),
            _ => ServerReply::new(250, "2.1.5", "Ok"),
        }
    }
    fn data(&self, _from: &str, rcpts: &[String], message: &[u8]) -> ServerReply {
        let delay = *self.data_delay.lock().expect("lock");
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        if let Some(Script::Data(code, enh, text)) = rcpts.first().map(|r| self.lookup(r)) {
            return ServerReply::new(code, enh, text);
        }
        let mut r = self.received.lock().expect("lock");
        r.push((rcpts.to_vec(), message.to_vec()));
        ServerReply::new(250, "2.0.0", format!("Ok: queued as PEER{:04}", r.len()))
    }
}

/// Start `peer` on a loopback port; it stops when the returned sender is dropped.
pub async fn start_peer(peer: Arc<ScriptedPeer>) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    start_peer_with(peer, Limits::default()).await
}

/// [`start_peer`] with its own limits (e.g. a short idle `timeout`).
pub async fn start_peer_with(
    peer: Arc<ScriptedPeer>,
    limits: Limits,
) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(herald_inbound::serve(l, peer, limits, async {
        let _ = rx.await;
    }));
    (addr, tx)
}

/// A server that accepts connections and then says `greeting` (raw bytes), or nothing at all.
pub async fn misbehaving_server(greeting: Option<&'static [u8]>) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                if let Some(g) = greeting {
                    let _ = s.write_all(g).await;
                }
                let mut buf = [0u8; 1024];
                // Read and ignore everything until the client gives up.
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// A queue delivering through a static DNS table to loopback servers on `port`.
pub fn test_queue(
    store: SqliteStore,
    table: Vec<(&str, MxAnswer)>,
    port: u16,
    command_timeout: Duration,
) -> Queue<SqliteStore> {
    test_queue_from(store, table, port, command_timeout, Vec::new())
}

/// [`test_queue`], sending from `source_ips` (bound in turn, one per connection).
pub fn test_queue_from(
    store: SqliteStore,
    table: Vec<(&str, MxAnswer)>,
    port: u16,
    command_timeout: Duration,
    source_ips: Vec<std::net::IpAddr>,
) -> Queue<SqliteStore> {
    let mx = StaticMx {
        table: table.into_iter().map(|(d, a)| (d.to_string(), a)).collect(),
    };
    let cfg = test_config(port, command_timeout, source_ips);
    Queue::new(store, cfg, Arc::new(mx), "test-node".into())
}

/// [`test_queue`] with its configuration changed by `tweak` (connection and chunk sizes).
pub fn test_queue_with(
    store: SqliteStore,
    table: Vec<(&str, MxAnswer)>,
    port: u16,
    tweak: impl FnOnce(&mut QueueConfig),
) -> Queue<SqliteStore> {
    let mx = StaticMx {
        table: table.into_iter().map(|(d, a)| (d.to_string(), a)).collect(),
    };
    let mut cfg = test_config(port, Duration::from_secs(5), Vec::new());
    tweak(&mut cfg);
    Queue::new(store, cfg, Arc::new(mx), "test-node".into())
}

/// A queue sending everything through the relay at `relay` (plaintext, no login): its 250s
/// make deliveries `relayed`. `pace`: a rate, and how long a session may wait for a slot.
pub fn test_relay_queue(
    store: SqliteStore,
    relay: SocketAddr,
    pace: Option<(herald_engine::deliver::Rate, Duration)>,
) -> Queue<SqliteStore> {
    let mut cfg = test_config(relay.port(), Duration::from_secs(5), Vec::new());
    cfg.deliver.route = "relay:generic";
    cfg.deliver.relay = true;
    if let Some((rate, idle)) = pace {
        cfg.deliver.pace = Some(Arc::new(herald_engine::deliver::Pace::new(rate)));
        cfg.deliver.pace_idle = idle;
    }
    let route = herald_engine::deliver::FixedRoute {
        host: MxHost {
            name: relay.ip().to_string(),
            preference: None,
            addrs: vec![relay.ip()],
        },
    };
    Queue::new(store, cfg, Arc::new(route), "test-node".into())
}

fn test_config(
    port: u16,
    command_timeout: Duration,
    source_ips: Vec<std::net::IpAddr>,
) -> QueueConfig {
    QueueConfig {
        deliver: DeliverConfig {
            session: SessionConfig {
                helo_name: "sender.test".into(),
                source_ips: herald_engine::deliver::smtp::SourceIps::new(source_ips),
                timeouts: Timeouts {
                    connect: Duration::from_secs(2),
                    command: command_timeout,
                    data: command_timeout,
                },
                tls: herald_engine::deliver::TlsMode::Off,
                auth: None,
                request_dsn: false,
            },
            mx_port: port,
            route: "mx",
            relay: false,
            provider: None,
            pace: None,
            pace_idle: Duration::from_secs(30),
            max_reconnects: 2,
            clock: herald_engine::Clock::system(),
        },
        retry: RetrySchedule {
            intervals: vec![Duration::from_millis(200)],
            expiry: Duration::from_secs(3600),
        },
        lease: Duration::from_secs(30),
        claim_batch: 100,
        max_in_flight: 1000,
        max_connections_per_domain: 2,
        max_connections: 10,
        max_messages_per_connection: 50,
        poll: Duration::from_millis(50),
        node: "test-node".into(),
        warmup: Vec::new(),
        limits: Arc::default(),
    }
}

/// A host on loopback for the static table.
pub fn loopback(name: &str, preference: u16) -> MxHost {
    MxHost {
        name: name.into(),
        preference: Some(preference),
        addrs: vec![std::net::Ipv4Addr::LOCALHOST.into()],
    }
}
