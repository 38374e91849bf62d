//! One typed settings tree: defaults → `herald.toml` → `HERALD__SECTION__KEY` environment.
//! Unknown keys are errors; durations are human (`"90s"`, `"72h"`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Deserializer};

mod delivery;
mod listeners;
mod template;

pub use delivery::*;
pub use listeners::*;
pub use template::*;

/// A human duration ("90s", "72h", "1h 30m").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map(Dur).map_err(|e| {
            serde::de::Error::custom(format!(
                "{s:?} is not a duration like \"90s\" or \"72h\": {e}"
            ))
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[derive(Default)]
pub struct Settings {
    pub database: Database,
    pub dns: Dns,
    pub delivery: Delivery,
    pub relay: Relay,
    pub hooks: HooksSettings,
    pub inbound: Inbound,
    pub http: Http,
    pub tracking: Tracking,
    pub placement: Placement,
    pub sandbox: Sandbox,
    pub domains: Domains,
    pub lists: Lists,
    pub webhooks: Webhooks,
    pub check: Check,
    pub attachments: Attachments,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Database {
    /// `sqlite://PATH`; empty means `sqlite://<data dir>/herald.db`.
    pub url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Dns {
    /// Nameservers as `IP:PORT`; empty = the system resolver.
    pub nameservers: Vec<SocketAddr>,
    /// Per-query timeout.
    pub timeout: Dur,
    /// DNS blocklist zones `herald ips` checks the sending IPs against (e.g. "zen.spamhaus.org").
    pub blocklists: Vec<String>,
    /// URI blocklist zones the pre-send check looks a campaign's link and image hosts up in
    /// (e.g. "dbl.spamhaus.org", "multi.uribl.com").
    pub uri_blocklists: Vec<String>,
}

impl Default for Dns {
    fn default() -> Self {
        Self {
            nameservers: Vec::new(),
            timeout: Dur(Duration::from_secs(5)),
            blocklists: Vec::new(),
            uri_blocklists: Vec::new(),
        }
    }
}

/// Sign-up forms and double opt-in (`[lists]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Lists {
    /// A confirmation link works this long; unconfirmed sign-ups are removed after it.
    pub confirm_within: Dur,
    /// A preference-centre link works this long after its message was sent.
    pub preferences_within: Dur,
    /// A sign-up form posted sooner than this after it was served is not taken.
    pub min_fill: Dur,
    /// Sign-ups taken per client network per hour; 0: no limit.
    pub signups_per_ip_per_hour: u32,
    /// What an unsubscribe link (and one-click unsubscribe) does: "everything" (the address
    /// is suppressed) or "list" (it leaves the list the message was sent to).
    pub unsubscribe: String,
}

impl Default for Lists {
    fn default() -> Self {
        Self {
            confirm_within: Dur(Duration::from_secs(7 * 24 * 3600)),
            preferences_within: Dur(Duration::from_secs(90 * 24 * 3600)),
            min_fill: Dur(Duration::from_secs(2)),
            signups_per_ip_per_hour: 20,
            unsubscribe: "everything".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Domains {
    /// How often `herald serve` re-verifies every connected domain through DNS (drift); a
    /// domain that stops verifying has its new sends held until it verifies again.
    pub reverify_every: Dur,
}

impl Default for Domains {
    fn default() -> Self {
        Self {
            reverify_every: Dur(Duration::from_secs(3600)),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Placement {
    /// How often `herald serve` searches the seed mailboxes.
    pub poll_interval: Dur,
    /// A seed copy not found this long after delivery is `missing`.
    pub missing_after: Dur,
    /// Time allowed per seed mailbox and poll (a slow or dead server waits no longer).
    pub poll_timeout: Dur,
}

impl Default for Placement {
    fn default() -> Self {
        Self {
            poll_interval: Dur(Duration::from_secs(30)),
            missing_after: Dur(Duration::from_secs(900)),
            poll_timeout: Dur(Duration::from_secs(60)),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sandbox {
    /// Where the capture server listens (port 0 = any free port).
    pub listen: SocketAddr,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

/// The pre-send check (`[check]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Check {
    /// rspamd's HTTP API (its normal worker, e.g. `http://127.0.0.1:11333`): the check asks it
    /// to score each campaign's message. None: no spam score.
    pub rspamd_url: Option<String>,
    /// How long the check waits for rspamd's verdict.
    pub rspamd_timeout: Dur,
}

impl Default for Check {
    fn default() -> Self {
        Self {
            rspamd_url: None,
            rspamd_timeout: Dur(std::time::Duration::from_secs(10)),
        }
    }
}

/// Campaign attachments (`herald campaign attach`): off by default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Attachments {
    pub enabled: bool,
    /// Every attachment of one campaign together, in bytes (at most 10 MiB).
    pub max_bytes: u64,
}

impl Default for Attachments {
    fn default() -> Self {
        let p = herald_engine::campaign::attachments::Policy::default();
        Self {
            enabled: p.enabled,
            max_bytes: p.max_bytes,
        }
    }
}

impl Attachments {
    pub fn policy(&self) -> herald_engine::campaign::attachments::Policy {
        herald_engine::campaign::attachments::Policy {
            enabled: self.enabled,
            max_bytes: self.max_bytes,
        }
    }
}

/// The outbound webhook sender of `herald serve` (`[webhooks]`; endpoints: `herald webhooks add`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Webhooks {
    /// One post's whole time (connect, TLS, request, the answer's status).
    pub timeout: Dur,
    /// Posts in flight at once, per node.
    pub max_in_flight: usize,
    /// Events claimed per round.
    pub batch: u32,
    /// Waits after the 1st, 2nd, … failed post of an event; the last repeats.
    pub retry_schedule: Vec<Dur>,
    /// An event still failing this long after it happened (or was replayed) is given up.
    pub expiry: Dur,
    /// How long posted and given-up events stay in the log.
    pub retention: Dur,
    /// A private CA's certificate(s) (PEM) for endpoints it issued, beside Mozilla's roots.
    pub ca_file: Option<PathBuf>,
}

impl Default for Webhooks {
    fn default() -> Self {
        let d = herald_engine::webhooks::SenderSettings::default();
        Self {
            timeout: Dur(d.timeout),
            max_in_flight: d.max_in_flight,
            batch: d.batch,
            retry_schedule: d.retry.intervals.iter().map(|x| Dur(*x)).collect(),
            expiry: Dur(d.retry.expiry),
            retention: Dur(d.retention),
            ca_file: None,
        }
    }
}

impl Webhooks {
    /// The sender's settings.
    pub fn sender(&self) -> herald_engine::webhooks::SenderSettings {
        herald_engine::webhooks::SenderSettings {
            timeout: self.timeout.0,
            max_in_flight: self.max_in_flight,
            batch: self.batch,
            retry: herald_domain::RetrySchedule {
                intervals: self.retry_schedule.iter().map(|x| x.0).collect(),
                expiry: self.expiry.0,
            },
            retention: self.retention.0,
            ..herald_engine::webhooks::SenderSettings::default()
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| s.contains('.'))
        .unwrap_or_else(|| "localhost.localdomain".into())
}

/// Parse an environment value as a TOML value (`25`, `true`, `["a"]`), else as a string.
fn env_value(raw: &str) -> toml::Value {
    let doc = format!("v = {raw}");
    match doc.parse::<toml::Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.into())),
        Err(_) => toml::Value::String(raw.into()),
    }
}

impl Settings {
    /// Load from `file` (if it exists) and the environment.
    pub fn load(file: &Path) -> anyhow::Result<Self> {
        let mut table = if file.exists() {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            text.parse::<toml::Table>()
                .with_context(|| format!("{}: invalid TOML", file.display()))?
        } else {
            toml::Table::new()
        };
        for (key, value) in std::env::vars() {
            let Some(path) = key.strip_prefix("HERALD__") else {
                continue;
            };
            let parts: Vec<String> = path.split("__").map(str::to_lowercase).collect();
            let [section, field] = parts.as_slice() else {
                bail!("environment {key}: expected HERALD__SECTION__KEY");
            };
            let entry = table
                .entry(section.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let Some(t) = entry.as_table_mut() else {
                bail!("environment {key}: [{section}] is not a table")
            };
            t.insert(field.clone(), env_value(&value));
        }
        let s: Settings = Settings::deserialize(toml::Value::Table(table)).map_err(|e| {
            anyhow::anyhow!(
                "{} (or HERALD__… environment): {}",
                file.display(),
                e.to_string().trim()
            )
        })?;
        if let Some(old) = &s.delivery.relay {
            bail!(
                "[delivery] relay = {old:?} is replaced by [delivery] transport = \"relay\" and a [relay] section (host, port, tls, username, password_file): see the README's \"Sending through a relay\""
            );
        }
        if s.delivery.transport == Transport::Relay {
            s.relay.check()?;
        } else if let Some(i) = s.relay.route.iter().position(|r| r.via == Transport::Relay) {
            s.relay
                .check()
                .with_context(|| format!("[[relay.route]] rule {} has via = \"relay\"", i + 1))?;
        }
        s.relay.check_routes()?;
        if s.delivery.retry_schedule.is_empty() {
            bail!("[delivery] retry_schedule must have at least one interval");
        }
        s.delivery.limits().map_err(anyhow::Error::msg)?;
        if s.delivery.warmup.len() > 366 || s.delivery.warmup.contains(&0) {
            bail!(
                "[delivery] warmup: at most 366 days, each at least 1 message (e.g. [50, 100, 500, 1000, 5000, 10000, 20000, 50000]; [] for none)"
            );
        }
        if s.webhooks.retry_schedule.is_empty() {
            bail!("[webhooks] retry_schedule must have at least one interval");
        }
        if s.webhooks.max_in_flight == 0 || s.webhooks.batch == 0 {
            bail!("[webhooks] max_in_flight and batch must be at least 1");
        }
        let t = s.check.rspamd_timeout.0;
        if t.is_zero() || t > Duration::from_secs(60) {
            bail!(
                "[check] rspamd_timeout = {t:?}: between 1 ms and 60 s (create, schedule and send wait for it)"
            );
        }
        let cap = herald_engine::campaign::attachments::MAX_CAP;
        if s.attachments.max_bytes == 0 || s.attachments.max_bytes > cap {
            bail!(
                "[attachments] max_bytes = {}: between 1 and {cap} (10 MiB; base64 makes every copy a third larger, and many receivers refuse messages past 20–25 MB)",
                s.attachments.max_bytes
            );
        }
        if let Some(u) = &s.check.rspamd_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            bail!("[check] rspamd_url = {u:?}: expected http://HOST:PORT (rspamd's normal worker)");
        }
        if s.lists.preferences_within.0.is_zero() || s.lists.confirm_within.0.is_zero() {
            bail!(
                "[lists] confirm_within and preferences_within must be longer than 0 (a link that never works)"
            );
        }
        if !matches!(s.lists.unsubscribe.as_str(), "everything" | "list") {
            bail!(
                "[lists] unsubscribe = {:?}: expected \"everything\" or \"list\"",
                s.lists.unsubscribe
            );
        }
        let url = &s.http.public_url;
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url.contains(|c: char| {
                c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '?' | '#')
            })
        {
            bail!(
                "[http] public_url = {url:?}: expected an http(s) base URL such as \"https://links.example.com\""
            );
        }
        if !matches!(s.tracking.ip.as_str(), "full" | "anonymized" | "none") {
            bail!(
                "[tracking] ip = {:?}: expected \"full\", \"anonymized\" or \"none\"",
                s.tracking.ip
            );
        }
        s.http.proxies()?;
        if s.http.max_connections == 0 {
            bail!("[http] max_connections must be at least 1");
        }
        for n in &s.tracking.proxy_networks {
            herald_engine::feedback::engagement::Cidr::parse(n)
                .map_err(|e| anyhow::anyhow!("[tracking] proxy_networks: {e}"))?;
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests;
