//! The composition root: builds every piece of state explicitly from the settings.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use herald_domain::RetrySchedule;
use herald_engine::deliver::mx::build_resolver;
use herald_engine::deliver::smtp::{SessionConfig, SourceIps, Timeouts};
use herald_engine::deliver::{
    Credentials, DeliverConfig, DnsMx, FixedRoute, MxHost, Pace, Rate, SharedResolver, TlsMode, tls,
};
use herald_engine::domains::drift::{self, Holds};
use herald_engine::domains::gate::check_from;
use herald_engine::domains::verify::verify;
use herald_engine::domains::{Keyring, RecordContext};
use herald_engine::feedback::engagement::{Cidr, Rules};
use herald_engine::feedback::{FeedbackPolicy, ReturnPath, process_spool};
use herald_engine::queue::{Queue, QueueConfig, TrackingSetup};
use herald_http::public::{IpPolicy, Public};
use herald_inbound::{Capture, Limits};
use herald_mail::verp::VerpKey;
use herald_mail::webhooks::{HookSecret, Provider};
use herald_store::AnyStore;
use herald_store::prelude::*;
use tokio::sync::oneshot;

use crate::settings::{Relay, RelayTls, Settings, Transport};

#[derive(Clone)]
pub struct App {
    pub settings: Settings,
    pub data_dir: PathBuf,
    pub store: AnyStore,
}

/// How the installation sends (see [`App::sending_mode`]).
#[derive(Debug, Clone)]
pub struct SendingMode {
    /// Names of the nodes running `herald serve` now.
    pub live: Vec<String>,
    pub sandbox: bool,
}

/// A running sandbox capture server; dropped = stopped.
pub struct SandboxServer {
    pub addr: SocketAddr,
    pub dir: PathBuf,
    _stop: oneshot::Sender<()>,
}

impl App {
    /// Read settings and open the store (creating the data directory if needed).
    pub async fn open(data_dir: &Path, config: Option<&Path>) -> anyhow::Result<App> {
        create_private_dir(data_dir)?;
        let file = config
            .map(Path::to_path_buf)
            .unwrap_or_else(|| data_dir.join("herald.toml"));
        let settings = Settings::load(&file).map_err(|e| crate::bad_input(format!("{e:#}")))?;
        Self::with_settings(settings, data_dir).await
    }

    /// Open the store named by already-loaded settings.
    pub async fn with_settings(mut settings: Settings, data_dir: &Path) -> anyhow::Result<App> {
        if settings.database.url.is_empty() {
            settings.database.url = format!("sqlite://{}", data_dir.join("herald.db").display());
        }
        let store = herald_store::open(&settings.database.url)
            .await
            .with_context(|| {
                format!(
                    "opening the database {}",
                    herald_store::redact_url(&settings.database.url)
                )
            })?;
        if let Some(path) = settings.database.url.strip_prefix("sqlite://") {
            // The database holds sessions, tokens' hashes and every recipient: owner only.
            for suffix in ["", "-wal", "-shm"] {
                let p = PathBuf::from(format!("{path}{suffix}"));
                if p.exists() {
                    set_private(&p, 0o600)?;
                }
            }
        }
        Ok(App {
            settings,
            data_dir: data_dir.to_path_buf(),
            store,
        })
    }

    /// The host of `[http] public_url` (where tracking records point).
    pub fn tracking_host(&self) -> String {
        let url = &self.settings.http.public_url;
        url.split("://")
            .nth(1)
            .and_then(|rest| rest.split(['/', ':']).next())
            .unwrap_or("localhost")
            .to_string()
    }

    /// The From-alignment gate for mail From `from_address` (design §5): its domain, or a parent,
    /// must be connected and verify through DNS. Sandbox delivery is exempt: nothing leaves the
    /// machine.
    pub async fn check_from(&self, from_address: &str) -> anyhow::Result<()> {
        if self.settings.delivery.sandbox {
            return Ok(());
        }
        let from_domain = herald_domain::address::domain_part(from_address).to_ascii_lowercase();
        let verification = self.verify_from_domain(&from_domain).await?;
        // DNS not answering is not the domain's fault: a failure to try again (a scheduled
        // start is retried), not a refusal.
        if let Some(v) = &verification {
            use herald_engine::domains::verify::Status;
            let required = || v.records.iter().filter(|c| c.required);
            if required().any(|c| c.status == Status::DnsError)
                && required().all(|c| matches!(c.status, Status::Pass | Status::DnsError))
            {
                anyhow::bail!(
                    "DNS did not answer for {}'s records; try again in a moment",
                    v.domain
                );
            }
        }
        check_from(&from_domain, verification.as_ref()).map_err(|e| crate::bad_input(e.to_string()))
    }

    /// The verification, through DNS now, of the connected domain `from_domain` is (or is a
    /// subdomain of); None when it is not connected.
    pub async fn verify_from_domain(
        &self,
        from_domain: &str,
    ) -> anyhow::Result<Option<herald_engine::domains::verify::Verification>> {
        let keyring = self.keyring();
        Ok(match keyring.connected_for(from_domain)? {
            None => None,
            Some((domain, _, _)) => {
                let resolver =
                    build_resolver(&self.settings.dns.nameservers, self.settings.dns.timeout.0)
                        .map_err(anyhow::Error::msg)?;
                verify(&resolver, &keyring, &domain, &self.record_context()).await?
            }
        })
    }

    /// This installation's identity, as the records to publish name it.
    pub fn record_context(&self) -> RecordContext {
        let d = &self.settings.delivery;
        RecordContext {
            source_ips: d.source_ips.clone(),
            helo_name: d.helo_name.clone(),
            tracking_host: self.tracking_host(),
            existing_spf: Vec::new(),
        }
    }

    /// The IPs mail may come from: this node's `[delivery] source_ips` and those of every node
    /// registered on the database (what a recipient's IT should allowlist).
    pub async fn all_sending_ips(&self) -> Vec<String> {
        let mut ips: Vec<String> = self
            .settings
            .delivery
            .source_ips
            .iter()
            .map(|ip| ip.to_string())
            .collect();
        let nodes = self.store.nodes().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "reading the other nodes' sending IPs failed; listing this node's");
            Vec::new()
        });
        for n in nodes {
            ips.extend(serde_json::from_str::<Vec<String>>(&n.source_ips).unwrap_or_default());
        }
        ips.sort();
        ips.dedup();
        ips
    }

    /// This node's name (`[delivery] node_name`, default the EHLO name).
    pub fn node_name(&self) -> String {
        let d = &self.settings.delivery;
        d.node_name.clone().unwrap_or_else(|| d.helo_name.clone())
    }

    /// How this installation sends now: the nodes whose heartbeat is fresh, and whether it is
    /// in sandbox mode — by its settings, or because the newest `serve` on its database ran
    /// with `--sandbox` (until a `serve` without it starts). Every command that sends honours
    /// it, so a CLI send never leaves the machine while the installation is a sandbox.
    pub async fn sending_mode(&self) -> anyhow::Result<SendingMode> {
        let nodes = self.store.nodes().await?;
        let fresh_after =
            herald_engine::now_ms() - 3 * self.settings.delivery.lease.0.as_millis() as i64;
        let newest_sandbox = nodes
            .iter()
            .max_by_key(|n| n.started_at_ms)
            .is_some_and(|n| n.sandbox);
        Ok(SendingMode {
            // A fresh heartbeat, and not a process of this machine that is gone (killed: its
            // heartbeat looks fresh for a while yet).
            live: nodes
                .into_iter()
                .filter(|n| n.heartbeat_at_ms >= fresh_after && !process_is_gone(&n.owner))
                .map(|n| n.name)
                .collect(),
            sandbox: self.settings.delivery.sandbox || newest_sandbox,
        })
    }

    /// Register this `serve` process as its node on the database and keep its heartbeat;
    /// refused when another process runs under the same name (its heartbeat is fresh).
    pub async fn register_node(&self, owner: &str) -> anyhow::Result<AbortOnDrop> {
        let lease = self.settings.delivery.lease.0;
        let now = herald_engine::now_ms();
        let name = self.node_name();
        let record = herald_store::NodeRecord {
            name: name.clone(),
            owner: owner.to_string(),
            helo_name: self.settings.delivery.helo_name.clone(),
            source_ips: serde_json::to_string(&self.settings.delivery.source_ips)?,
            started_at_ms: now,
            heartbeat_at_ms: now,
            sandbox: self.settings.delivery.sandbox,
        };
        let stale_before = now - 3 * lease.as_millis() as i64;
        let mut live = self.store.register_node(&record, stale_before).await?;
        // Its previous process on this very machine, no longer running (a crash, a kill -9):
        // take the name over now rather than after the heartbeat goes stale.
        if let Some(l) = &live
            && process_is_gone(&l.owner)
        {
            live = self.store.register_node(&record, i64::MAX).await?;
        }
        if let Some(live) = live {
            return Err(crate::bad_input(format!(
                "node {name:?} is already running on this database (process {}, heartbeat {}); give each node its own [delivery] node_name",
                live.owner,
                herald_engine::reports::ms_to_rfc3339(live.heartbeat_at_ms)
            )));
        }
        let store = self.store.clone();
        let owner = owner.to_string();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(lease / 3);
            loop {
                tick.tick().await;
                match store
                    .node_heartbeat(&name, &owner, herald_engine::now_ms())
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::error!(node = %name, "another process took over this node's name")
                    }
                    Err(e) => tracing::warn!(error = %e, "node heartbeat failed"),
                }
            }
        });
        Ok(AbortOnDrop(task))
    }

    /// Re-verify the connected domains now, then every `[domains] reverify_every` (drift).
    /// The holds start as the last recorded checks left them and are brought up to date before
    /// this returns, so a restarted node never sends from a domain that broke meanwhile. The
    /// task stops when the returned guard is dropped.
    pub async fn spawn_drift(&self) -> anyhow::Result<(Arc<Holds>, AbortOnDrop)> {
        let holds = Arc::new(Holds::load(&self.store).await?);
        let resolver = build_resolver(&self.settings.dns.nameservers, self.settings.dns.timeout.0)
            .map_err(anyhow::Error::msg)?;
        let keyring = self.keyring();
        if let Err(e) = drift::check_all(
            &self.store,
            &keyring,
            &resolver,
            &self.record_context(),
            &holds,
        )
        .await
        {
            tracing::error!(error = %e, "re-verifying sending domains");
        }
        let task = tokio::spawn(drift::run(
            self.store.clone(),
            Arc::new(keyring),
            resolver,
            self.record_context(),
            holds.clone(),
            self.settings.domains.reverify_every.0,
            std::future::pending::<()>(),
        ));
        Ok((holds, AbortOnDrop(task)))
    }

    /// The outbound webhook sender of this node (`[webhooks]`), posting as `owner`.
    pub fn spawn_webhooks(&self, owner: &str) -> anyhow::Result<AbortOnDrop> {
        let w = &self.settings.webhooks;
        let poster = herald_engine::webhooks::Poster::new(w.timeout.0, w.ca_file.as_deref())
            .context("[webhooks] ca_file")?;
        Ok(AbortOnDrop(tokio::spawn(herald_engine::webhooks::run(
            self.store.clone(),
            poster,
            owner.to_string(),
            w.sender(),
            std::future::pending(),
        ))))
    }

    /// The DKIM keys of connected domains (`<data dir>/dkim`).
    pub fn keyring(&self) -> Keyring {
        Keyring::new(self.data_dir.join("dkim"))
    }

    /// Start the sandbox capture server (messages land in `<data dir>/sandbox/`).
    pub async fn start_sandbox(&self) -> anyhow::Result<SandboxServer> {
        let dir = self.data_dir.join("sandbox");
        let capture =
            Capture::new(dir.clone()).with_context(|| format!("creating {}", dir.display()))?;
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
            async {
                let _ = stopped.await;
            },
        ));
        Ok(SandboxServer {
            addr,
            dir,
            _stop: stop,
        })
    }

    /// The delivery queue of this node. `sandbox`: route everything to that capture server.
    pub fn queue(&self, sandbox: Option<&SandboxServer>) -> anyhow::Result<Queue<AnyStore>> {
        let d = &self.settings.delivery;
        tls::install_crypto_provider();
        let opportunistic = || -> anyhow::Result<TlsMode> {
            Ok(if d.starttls {
                TlsMode::Opportunistic(tls::opportunistic_config().context("TLS configuration")?)
            } else {
                TlsMode::Off
            })
        };
        let direct = |resolver: SharedResolver, name, port| -> anyhow::Result<Route> {
            Ok(Route {
                resolver,
                name,
                port,
                relay: false,
                provider: None,
                tls: opportunistic()?,
                auth: None,
                request_dsn: false,
                pace: None,
                max_connections: d.max_connections.max(1),
            })
        };
        let route = if let Some(sb) = sandbox {
            let host = MxHost {
                name: "sandbox".into(),
                preference: None,
                addrs: vec![sb.addr.ip()],
            };
            direct(Arc::new(FixedRoute { host }), "sandbox", sb.addr.port())?
        } else if d.transport == Transport::Relay {
            relay_route(&self.settings.relay, d.max_connections.max(1))?
        } else {
            let dns = DnsMx::new(&self.settings.dns.nameservers, self.settings.dns.timeout.0)
                .map_err(anyhow::Error::msg)?;
            direct(Arc::new(dns), "mx", d.mx_port)?
        };
        let source_ips = SourceIps::new(d.source_ips.clone());
        let cfg = QueueConfig {
            deliver: DeliverConfig {
                session: SessionConfig {
                    helo_name: d.helo_name.clone(),
                    source_ips,
                    timeouts: Timeouts {
                        connect: d.connect_timeout.0,
                        command: d.command_timeout.0,
                        data: d.data_timeout.0,
                    },
                    tls: route.tls,
                    auth: route.auth,
                    request_dsn: route.request_dsn,
                },
                mx_port: route.port,
                route: route.name,
                relay: route.relay,
                provider: route.provider,
                pace: route.pace,
                pace_idle: std::time::Duration::from_secs(30),
                max_reconnects: 2,
            },
            retry: RetrySchedule {
                intervals: d.retry_schedule.iter().map(|x| x.0).collect(),
                expiry: d.expiry.0,
            },
            lease: d.lease.0,
            node: self.node_name(),
            claim_batch: d.claim_batch.max(1),
            max_in_flight: d.max_in_flight.max(1),
            max_connections_per_domain: d.max_connections_per_domain.max(1),
            max_connections: route.max_connections,
            max_messages_per_connection: d.max_messages_per_connection.max(1),
            poll: std::time::Duration::from_millis(500),
        };
        // host:pid:unique — the host and pid let a restarted node tell its own dead
        // predecessor from another machine using the same name (see `register_node`).
        let owner = format!(
            "{}:{}:{}",
            hostname(),
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        );
        Ok(Queue::new(self.store.clone(), cfg, route.resolver, owner)
            .with_keyring(Arc::new(self.keyring()))
            .with_return_path(
                self.verp_key()?,
                self.settings.inbound.return_path_domain.clone(),
            )
            .with_tracking(TrackingSetup {
                keys: self.tracking_keys()?,
                base_url: self.settings.http.public_url.clone(),
                track: self.settings.tracking.enabled,
            }))
    }

    /// The key that signs VERP return paths (`<data dir>/secrets/verp.key`, 0600), created
    /// on first use. Losing it only means bounces to messages sent before are not matched.
    pub fn verp_key(&self) -> anyhow::Result<Arc<VerpKey>> {
        Ok(Arc::new(VerpKey::new(
            &self.secret_file("verp.key", "the VERP key")?,
        )))
    }

    /// The key behind erasure tokens (`<data dir>/secrets/erasure.key`, 0600), created on
    /// first use. It must never change: with another key, erased people could be imported
    /// again. So the database keeps a check value of the key it was first used with, and a
    /// key that does not match it (replaced, lost and re-created, not copied to this node) is
    /// refused, naming the file.
    pub async fn erasure_key(&self) -> anyhow::Result<Arc<herald_mail::erasure::ErasureKey>> {
        let path = self.data_dir.join("secrets").join("erasure.key");
        let kept = self.store.key_check("erasure").await?;
        if kept.is_some() && !path.exists() {
            bail!(
                "{} is missing, but this database was used with an erasure key: restore the file \
                 from a backup (or copy it from the first node's secrets/); a new key would let \
                 erased people be imported again",
                path.display()
            );
        }
        let key = herald_mail::erasure::ErasureKey::new(
            &self.secret_file("erasure.key", "the erasure key")?,
        );
        let check = key.token("herald-erasure-key-check");
        let claimed = self
            .store
            .claim_key_check("erasure", &check, herald_engine::now_ms())
            .await?;
        if claimed != check {
            bail!(
                "{} is not the erasure key this database was used with: restore the original \
                 (from a backup, or the first node's secrets/)",
                path.display()
            );
        }
        Ok(Arc::new(key))
    }

    /// The 32 or more secret bytes in `<data dir>/secrets/<name>` (0600), created on first use.
    fn secret_file(&self, name: &str, what: &str) -> anyhow::Result<Vec<u8>> {
        use std::io::Write;
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let dir = self.data_dir.join("secrets");
        let path = dir.join(name);
        if let Ok(bytes) = std::fs::read(&path) {
            if bytes.len() < 32 {
                bail!(
                    "{} is shorter than 32 bytes: remove it to create a new key",
                    path.display()
                );
            }
            return Ok(bytes);
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        let secret = VerpKey::generate_secret()
            .with_context(|| format!("no system randomness for {what}"))?;
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        f.write_all(&secret)?;
        f.sync_all()?;
        // Linked into place only if no other process made the file meanwhile; then its key
        // is the one (both processes agree on it).
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(secret.to_vec()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
            }
            Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
        }
    }

    /// The keys that sign tracking and unsubscribe links (`<data dir>/secrets/tracking.keys`,
    /// 0600), created on first use. The newest signs; older ones verify until their grace ends.
    pub fn tracking_keys(&self) -> anyhow::Result<Arc<herald_mail::tracking::Keyset>> {
        let stored = crate::tracking_keys::load_or_create(&self.data_dir.join("secrets"))?;
        let grace = self.settings.tracking.key_grace.0.as_millis() as i64;
        crate::tracking_keys::keyset(&stored, grace)
    }

    /// The human-or-machine rules and the IP policy from `[tracking]`.
    pub fn tracking_rules(&self) -> anyhow::Result<(Rules, IpPolicy)> {
        let t = &self.settings.tracking;
        let proxy_networks = t
            .proxy_networks
            .iter()
            .map(|n| {
                Cidr::parse(n)
                    .map_err(|e| crate::bad_input(format!("[tracking] proxy_networks: {e}")))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let rules = Rules {
            proxy_networks,
            min_click_seconds: t.min_click_delay.0.as_secs() as i64,
            min_open_seconds: t.min_open_delay.0.as_secs() as i64,
            burst_clicks: t.burst_clicks.max(1),
        };
        let ip = match t.ip.as_str() {
            "full" => IpPolicy::Full,
            "none" => IpPolicy::None,
            _ => IpPolicy::Anonymized,
        };
        Ok((rules, ip))
    }

    /// Start the HTTP server (`[http] listen`): the UI, `/api/v1`, and the public endpoints
    /// (open pixel, click redirect, unsubscribe). Returns the address, a stop sender, and the task that ends once every
    /// queued event is written (with how many were).
    pub async fn start_http(
        &self,
    ) -> anyhow::Result<(
        SocketAddr,
        oneshot::Sender<()>,
        tokio::task::JoinHandle<u64>,
    )> {
        let listener = tokio::net::TcpListener::bind(&self.settings.http.listen)
            .await
            .with_context(|| {
                format!(
                    "binding the HTTP server to [http] listen = {:?}",
                    self.settings.http.listen
                )
            })?;
        let addr = listener.local_addr()?;
        let (rules, ip_policy) = self.tracking_rules()?;
        let http = &self.settings.http;
        let client_ip = herald_http::ClientIp {
            trust_forwarded: http.trust_forwarded_for,
            trusted_proxies: http
                .proxies()
                .map_err(|e| crate::bad_input(format!("{e:#}")))?,
        };
        let mut login = herald_http::LoginLimits {
            failures_per_ip: http.login_failures_per_ip,
            failures_per_account: http.login_failures_per_account,
            max_backoff: http.login_max_backoff.0,
            ..herald_http::LoginLimits::default()
        };
        if http.login_concurrency > 0 {
            login.concurrency = http.login_concurrency;
            login.queue = http.login_concurrency * 4;
        }
        let limits = herald_http::ServerLimits {
            max_connections: http.max_connections,
            max_connections_per_ip: http.max_connections_per_ip,
            header_timeout: http.header_timeout.0,
            request_timeout: http.request_timeout.0,
        };
        // Read (and checked against the database) once for the public pages and the UI/API.
        let erasure = self.erasure_key().await?;
        let (events, writer) = herald_http::public::writer::start(self.store.clone());
        let state = Arc::new(
            Public::new(
                self.store.clone(),
                self.tracking_keys()?,
                rules,
                ip_policy,
                client_ip.clone(),
                events,
            )
            .with_signup(herald_http::public::signup::SignupRules {
                confirm_within: self.settings.lists.confirm_within.0,
                min_fill: self.settings.lists.min_fill.0,
                per_ip_per_hour: self.settings.lists.signups_per_ip_per_hour,
                unsubscribe_leaves_list_only: self.settings.lists.unsubscribe == "list",
                erasure: erasure.clone(),
            }),
        );
        let web = Arc::new(herald_http::Web {
            store: self.store.clone(),
            actions: Arc::new(crate::web::AppActions(Arc::new(self.clone()))),
            secure_cookies: self.settings.http.public_url.starts_with("https://"),
            public_url: self.settings.http.public_url.clone(),
            session_ttl_ms: 12 * 3600 * 1000,
            login: herald_http::LoginGuard::new(login),
            client_ip,
            erasure,
            ip_policy,
        });
        let hooks = Arc::new(herald_http::hooks::Hooks {
            store: self.store.clone(),
            secrets: self.hook_secrets()?,
            policy: self.feedback_policy(),
        });
        let router = herald_http::app(web, state, hooks);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            if let Err(e) = herald_http::serve(listener, router, limits, async {
                let _ = stopped.await;
            })
            .await
            {
                tracing::error!(error = %e, "HTTP server stopped");
            }
            // The router (and its event sender) is gone: the writer drains and ends.
            let n = writer.await.unwrap_or(0);
            tracing::info!(events = n, "engagement events written");
            n
        });
        Ok((addr, stop, task))
    }

    /// How feedback (bounces, complaints; from the inbound listener and from webhooks) acts.
    fn feedback_policy(&self) -> FeedbackPolicy {
        let cfg = &self.settings.inbound;
        FeedbackPolicy {
            soft_bounce_limit: cfg.soft_bounce_limit,
            retention: cfg.retention.0,
            ..FeedbackPolicy::default()
        }
    }

    /// The providers' webhook credentials of `[hooks.*]`, read from their files.
    pub fn hook_secrets(&self) -> anyhow::Result<std::collections::HashMap<Provider, HookSecret>> {
        let h = &self.settings.hooks;
        let mut out = std::collections::HashMap::new();
        if let Some(m) = &h.mailgun {
            let key =
                read_secret(&m.signing_key_file).context("[hooks.mailgun] signing_key_file")?;
            out.insert(Provider::Mailgun, HookSecret::HmacKey(key.into_bytes()));
        }
        if let Some(p) = &h.postmark {
            let password =
                read_secret(&p.password_file).context("[hooks.postmark] password_file")?;
            out.insert(
                Provider::Postmark,
                HookSecret::Basic {
                    username: p.username.clone(),
                    password,
                },
            );
        }
        if let Some(sg) = &h.sendgrid {
            let text = std::fs::read_to_string(&sg.public_key_file).with_context(|| {
                format!(
                    "[hooks.sendgrid] public_key_file {}",
                    sg.public_key_file.display()
                )
            })?;
            let key = HookSecret::sendgrid_key(&text).map_err(|e| {
                anyhow::anyhow!(
                    "[hooks.sendgrid] public_key_file {}: {e}",
                    sg.public_key_file.display()
                )
            })?;
            out.insert(Provider::Sendgrid, key);
        }
        if let Some(b) = &h.brevo {
            let token = read_secret(&b.token_file).context("[hooks.brevo] token_file")?;
            out.insert(Provider::Brevo, HookSecret::Bearer(token));
        }
        Ok(out)
    }

    /// Start the return-path / feedback listener (`[inbound] listen`) and its processor.
    /// Both stop when the returned sender is dropped.
    pub async fn start_inbound(&self) -> anyhow::Result<(SocketAddr, oneshot::Sender<()>)> {
        let cfg = &self.settings.inbound;
        let key = self.verp_key()?;
        let spool = self.data_dir.join("inbound").join("spool");
        let notify = Arc::new(tokio::sync::Notify::new());
        let handler = ReturnPath::new(
            key.clone(),
            cfg.return_path_domain.clone(),
            self.keyring(),
            spool.clone(),
            notify.clone(),
        )
        .with_context(|| format!("creating {}", spool.display()))?;
        let listener = tokio::net::TcpListener::bind(&cfg.listen)
            .await
            .with_context(|| {
                format!(
                    "binding the inbound listener to [inbound] listen = {:?}",
                    cfg.listen
                )
            })?;
        let addr = listener.local_addr()?;
        let tls = match (&cfg.tls_cert, &cfg.tls_key) {
            (Some(cert), Some(key)) => Some(
                herald_inbound::tls::server_config(cert, key)
                    .map_err(|e| crate::bad_input(format!("[inbound] tls_cert / tls_key: {e}")))?,
            ),
            (None, None) => None,
            _ => {
                return Err(crate::bad_input(
                    "[inbound] tls_cert and tls_key go together: give both or neither",
                ));
            }
        };
        let limits = Limits {
            hostname: self.settings.delivery.helo_name.clone(),
            max_message_bytes: cfg.max_message_bytes,
            max_recipients: 50,
            max_connections: cfg.max_connections.max(1),
            max_connections_per_ip: cfg.max_connections_per_ip,
            timeout: cfg.timeout.0,
            min_data_rate: cfg.min_data_rate,
            tls,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let stopped = shared_stop(stopped);
        tokio::spawn(herald_inbound::serve(
            listener,
            Arc::new(handler),
            limits,
            {
                let s = stopped.clone();
                async move { s.wait().await }
            },
        ));
        let policy = self.feedback_policy();
        tokio::spawn(process_spool(
            self.store.clone(),
            key,
            spool,
            policy,
            notify,
            async move { stopped.wait().await },
        ));
        Ok((addr, stop))
    }
}

/// Where and how a node's sessions go.
struct Route {
    resolver: SharedResolver,
    name: &'static str,
    port: u16,
    relay: bool,
    provider: Option<Provider>,
    tls: TlsMode,
    auth: Option<Arc<Credentials>>,
    request_dsn: bool,
    pace: Option<Arc<Pace>>,
    max_connections: usize,
}

/// The route through `[relay]`: its address resolved now (a name that does not resolve is a
/// start-up error, not a queue of deferrals), TLS as configured, the password read from its
/// owner-only file.
fn relay_route(r: &Relay, node_max: usize) -> anyhow::Result<Route> {
    let name = r.name();
    // Every address the name has, tried in turn by each connection (resolved at start: a
    // relay whose addresses change needs a restart).
    let addrs: Vec<std::net::IpAddr> = (r.bare_host(), r.port())
        .to_socket_addrs()
        .with_context(|| format!("[relay] host {name}: cannot resolve it"))?
        .map(|a| a.ip())
        .collect();
    if addrs.is_empty() {
        bail!("[relay] host {name} has no address");
    }
    let tls = match r.tls {
        RelayTls::None => TlsMode::Off,
        mode => {
            let config = if r.verify_certificate {
                tls::verified_config(r.ca_file.as_deref())
                    .with_context(|| format!("[relay] TLS for {name}"))?
            } else {
                tracing::warn!(
                    relay = %name,
                    "[relay] verify_certificate = false: the relay's certificate is not checked, so anyone on the path can pose as it{}",
                    if r.username.is_some() { " and take the password" } else { "" }
                );
                tls::opportunistic_config().context("TLS configuration")?
            };
            if mode == RelayTls::Tls {
                TlsMode::Implicit(config)
            } else {
                TlsMode::Required(config)
            }
        }
    };
    let auth = match (&r.username, &r.password_file) {
        (Some(user), Some(file)) => Some(Arc::new(Credentials::new(
            user.clone(),
            read_secret(file).context("[relay] password_file")?,
        ))),
        _ => None,
    };
    let provider = Provider::parse(&r.provider);
    let pace = match &r.rate {
        Some(rate) => Some(Arc::new(Pace::new(
            rate.parse::<Rate>().map_err(anyhow::Error::msg)?,
        ))),
        None => None,
    };
    Ok(Route {
        resolver: Arc::new(FixedRoute {
            host: MxHost {
                name: r.bare_host().to_string(),
                preference: None,
                addrs,
            },
        }),
        name: match provider {
            None => "relay:generic",
            Some(Provider::Mailgun) => "relay:mailgun",
            Some(Provider::Postmark) => "relay:postmark",
            Some(Provider::Sendgrid) => "relay:sendgrid",
            Some(Provider::Brevo) => "relay:brevo",
        },
        port: r.port(),
        relay: true,
        provider,
        tls,
        auth,
        request_dsn: r.request_dsn,
        pace,
        max_connections: r.max_connections.min(node_max).max(1),
    })
}

/// A secret's first line, from a file only its owner may read (a password readable by
/// others is refused rather than used).
fn read_secret(path: &Path) -> anyhow::Result<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        bail!(
            "{} must be readable by its owner only (chmod 600): it holds a password",
            path.display()
        );
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let secret = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if secret.is_empty() {
        bail!(
            "{} is empty: put the password on its first line",
            path.display()
        );
    }
    Ok(secret.to_string())
}

/// Owner-only permissions on `path` (0700 for folders, 0600 for files).
pub fn set_private(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("making {} private ({mode:o})", path.display()))
}

/// Create `dir` (and its parents) if needed and make it owner-only: the data directory holds
/// keys, the spool (working unsubscribe addresses) and the database.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating data directory {}", dir.display()))?;
    set_private(dir, 0o700)
}

/// A stop signal several tasks can wait on.
#[derive(Clone)]
struct SharedStop(tokio::sync::watch::Receiver<bool>);

impl SharedStop {
    async fn wait(mut self) {
        let _ = self.0.wait_for(|v| *v).await;
    }
}

fn shared_stop(stopped: oneshot::Receiver<()>) -> SharedStop {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let _ = stopped.await;
        let _ = tx.send(true);
    });
    SharedStop(rx)
}

/// A background task that stops when this is dropped.
pub struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// This machine's host name (for lease owners), or "localhost".
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The lease owner `host:pid:unique` ran on this machine and its process is gone.
fn process_is_gone(owner: &str) -> bool {
    let mut parts = owner.split(':');
    let (Some(host), Some(pid)) = (parts.next(), parts.next()) else {
        return false;
    };
    host == hostname()
        && pid.parse::<u32>().is_ok_and(|pid| {
            pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        })
}
