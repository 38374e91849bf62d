//! The composition root: builds every piece of state explicitly from the settings.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use herald_engine::deliver::mx::build_resolver;
use herald_engine::domains::gate::check_from;
use herald_engine::domains::verify::verify;
use herald_engine::domains::{Keyring, RecordContext};
use herald_store::AnyStore;
use herald_store::prelude::*;
use tokio::sync::oneshot;

use crate::settings::{Relay, RelayTls, Settings, Transport};

mod sandbox;
mod secrets;
mod servers;

pub use sandbox::Outstanding;

pub(crate) use secrets::*;

#[derive(Clone)]
pub struct App {
    /// The settings in force: defaults, herald.toml, the environment, then the run-time
    /// overrides (the Settings page) as they were when the command started.
    pub settings: Settings,
    /// The run-time settings' values from herald.toml and the environment (what a reset on the
    /// Settings page goes back to).
    pub runtime_base: herald_engine::runtime::RuntimeValues,
    /// In `serve`: the run-time settings as they change (read again every few seconds).
    pub live: Option<herald_engine::runtime::Live>,
    pub data_dir: PathBuf,
    pub store: AnyStore,
    /// The time of day everything this installation does is stamped and scheduled by: the
    /// system's, or a test's.
    pub clock: herald_engine::Clock,
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
    /// The recipients it simulates, still acting (late bounces, reads, scans).
    pub recipients: std::sync::Arc<Outstanding>,
    _stop: oneshot::Sender<()>,
}

/// How often a running node reads the run-time settings again.
pub const RUNTIME_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The run-time settings' values in `s`.
pub fn runtime_values(s: &Settings) -> herald_engine::runtime::RuntimeValues {
    herald_engine::runtime::RuntimeValues {
        signups_per_ip_per_hour: s.lists.signups_per_ip_per_hour,
        unsubscribe_leaves_list_only: s.lists.unsubscribe == "list",
        warmup: s.delivery.warmup.clone(),
        missing_after: s.placement.missing_after.0,
        rspamd_url: s.check.rspamd_url.clone(),
    }
}

/// Put run-time values into `s` (what every part started from `s` then reads).
pub fn apply_runtime(s: &mut Settings, v: &herald_engine::runtime::RuntimeValues) {
    s.lists.signups_per_ip_per_hour = v.signups_per_ip_per_hour;
    s.lists.unsubscribe = if v.unsubscribe_leaves_list_only {
        "list"
    } else {
        "everything"
    }
    .to_string();
    s.delivery.warmup = v.warmup.clone();
    s.placement.missing_after = crate::settings::Dur(v.missing_after);
    s.check.rspamd_url = v.rspamd_url.clone();
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
        let runtime_base = runtime_values(&settings);
        // A database that cannot say (an older schema being migrated) leaves the file's values.
        match store.runtime_settings().await {
            Ok(rows) => apply_runtime(&mut settings, &runtime_base.with_overrides(&rows)),
            Err(e) => tracing::warn!(error = %e, "reading the run-time settings failed"),
        }
        Ok(App {
            settings,
            runtime_base,
            live: None,
            data_dir: data_dir.to_path_buf(),
            store,
            clock: herald_engine::Clock::system(),
        })
    }

    /// The run-time settings in force now (herald.toml's, with the store's overrides).
    pub async fn runtime(&self) -> anyhow::Result<herald_engine::runtime::RuntimeValues> {
        if let Some(live) = &self.live {
            return Ok((*live.get()).clone());
        }
        let rows = self.store.runtime_settings().await?;
        Ok(self.runtime_base.with_overrides(&rows))
    }

    /// Follow the run-time settings from now on (`serve`): every part started afterwards reads
    /// changes made on any node within [`RUNTIME_EVERY`].
    pub async fn follow_runtime(&mut self) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        let first = self.store.runtime_settings().await?;
        let (live, task) = herald_engine::runtime::follow(
            self.store.clone(),
            self.runtime_base.clone(),
            first,
            RUNTIME_EVERY,
        );
        self.live = Some(live);
        Ok(task)
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
            self.clock.now_ms() - 3 * self.settings.delivery.lease.0.as_millis() as i64;
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
    /// refused when another process runs under the same name (its heartbeat is fresh). At each
    /// heartbeat the live nodes are counted and `paces` (the relay's rate) shared among them.
    pub async fn register_node(
        &self,
        owner: &str,
        paces: Vec<std::sync::Arc<herald_engine::deliver::Pace>>,
    ) -> anyhow::Result<AbortOnDrop> {
        let lease = self.settings.delivery.lease.0;
        let now = self.clock.now_ms();
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
        let clock = self.clock.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(lease / 3);
            loop {
                tick.tick().await;
                match store.node_heartbeat(&name, &owner, clock.now_ms()).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::error!(node = %name, "another process took over this node's name")
                    }
                    Err(e) => tracing::warn!(error = %e, "node heartbeat failed"),
                }
                if paces.is_empty() {
                    continue;
                }
                // A node that stopped keeps its share for up to three leases (its heartbeat
                // still looks fresh): the rate errs on the slow side, never the fast.
                let fresh_after = clock.now_ms() - 3 * lease.as_millis() as i64;
                match store.nodes().await {
                    Ok(nodes) => {
                        let live = nodes
                            .iter()
                            .filter(|n| {
                                n.heartbeat_at_ms >= fresh_after
                                    && !n.sandbox
                                    && !process_is_gone(&n.owner)
                            })
                            .count()
                            .max(1) as u32;
                        for p in &paces {
                            if p.nodes() != live {
                                tracing::info!(
                                    nodes = live,
                                    "the relay's rate is shared by {live} node(s)"
                                );
                            }
                            p.share_with(live);
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "counting the live nodes failed"),
                }
            }
        });
        Ok(AbortOnDrop(task))
    }

    /// The DKIM keys of connected domains (`<data dir>/dkim`).
    pub fn keyring(&self) -> Keyring {
        Keyring::new(self.data_dir.join("dkim"))
    }
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
