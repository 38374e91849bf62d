//! One typed settings tree: defaults → `herald.toml` → `HERALD__SECTION__KEY` environment.
//! Unknown keys are errors; durations are human (`"90s"`, `"72h"`).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Deserializer};

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

/// Sign-up forms and double opt-in (`[lists]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Lists {
    /// A confirmation link works this long; unconfirmed sign-ups are removed after it.
    pub confirm_within: Dur,
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
}

impl Default for Dns {
    fn default() -> Self {
        Self {
            nameservers: Vec::new(),
            timeout: Dur(Duration::from_secs(5)),
            blocklists: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Delivery {
    /// TCP port used for every MX (test worlds use a high port).
    pub mx_port: u16,
    /// Name sent in EHLO; should have a PTR record pointing at it from the sending IPs.
    pub helo_name: String,
    /// Local addresses to send from (the "sending IPs"); empty = the system's choice.
    pub source_ips: Vec<IpAddr>,
    /// Waits after the 1st, 2nd, … temporary failure; the last one repeats.
    pub retry_schedule: Vec<Dur>,
    /// Deferred longer than this (since the first attempt) → expired.
    pub expiry: Dur,
    /// `"mx"`: each recipient domain's MX; `"relay"`: everything through `[relay]`.
    pub transport: Transport,
    /// Replaced by `transport = "relay"` and `[relay]`; kept only to say so.
    pub relay: Option<String>,
    /// Deliver to the built-in capture server instead of the Internet (see `serve --sandbox`).
    pub sandbox: bool,
    /// Offer STARTTLS opportunistically when the server supports it.
    pub starttls: bool,
    pub connect_timeout: Dur,
    /// Wait for a reply to a command (RFC 5321 §4.5.3.2: 5 minutes).
    pub command_timeout: Dur,
    /// Wait for the reply after the message data (RFC 5321: 10 minutes).
    pub data_timeout: Dur,
    /// Claim lease; a crashed node's work is picked up after this.
    pub lease: Dur,
    pub max_connections: usize,
    pub max_connections_per_domain: usize,
    pub max_messages_per_connection: usize,
    /// This node's name among the nodes on one database (default: `helo_name`). Written into
    /// every attempt's evidence; a second `serve` under a name that is running is refused.
    pub node_name: Option<String>,
    /// Deliveries one claim leases at once. With several nodes on one database, smaller batches
    /// share a campaign more evenly; larger ones cost fewer round trips.
    pub claim_batch: u32,
    /// Deliveries this node holds leases on at most (claimed and not yet recorded).
    pub max_in_flight: usize,
}

impl Default for Delivery {
    fn default() -> Self {
        let m = |n: u64| Dur(Duration::from_secs(n * 60));
        Self {
            mx_port: 25,
            helo_name: hostname(),
            source_ips: Vec::new(),
            retry_schedule: vec![m(1), m(5), m(15), m(60), m(240)],
            expiry: Dur(Duration::from_secs(72 * 3600)),
            transport: Transport::Mx,
            relay: None,
            sandbox: false,
            starttls: true,
            connect_timeout: Dur(Duration::from_secs(30)),
            command_timeout: m(5),
            data_timeout: m(10),
            lease: Dur(Duration::from_secs(60)),
            max_connections: 200,
            max_connections_per_domain: 5,
            max_messages_per_connection: 100,
            node_name: None,
            claim_batch: 1000,
            max_in_flight: 5000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Mx,
    Relay,
}

/// How a relay connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RelayTls {
    /// STARTTLS required (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// Plaintext: only to a relay on this machine (loopback).
    None,
}

/// The relay or provider every message goes through when `[delivery] transport = "relay"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Relay {
    pub host: String,
    /// Default: 587 for `starttls`, 465 for `tls`, 25 for `none`.
    pub port: Option<u16>,
    pub tls: RelayTls,
    /// Log in (AUTH PLAIN or LOGIN) as this user; with `password_file`.
    pub username: Option<String>,
    /// A file holding the password (one line; owner-only, chmod 600). Never logged.
    pub password_file: Option<PathBuf>,
    /// Check the relay's certificate and name (off only for a relay you trust by other means).
    pub verify_certificate: bool,
    /// PEM file with the CA(s) of a relay whose certificate a private CA issued.
    pub ca_file: Option<PathBuf>,
    /// Connections this node opens to the relay at most.
    pub max_connections: usize,
    /// Messages per period this node sends through the relay, e.g. "14/s" (Amazon SES's
    /// starting quota), "100/min"; none: as fast as the connections go.
    pub rate: Option<String>,
    /// Ask the relay for delivery status notifications (RFC 3461) when it offers them: its
    /// success DSN moves a `relayed` recipient to `delivered` with the recipient's server's
    /// answer. Costs one inbound message per recipient.
    pub request_dsn: bool,
    /// Who runs the relay: "generic" (any SMTP relay), or a provider whose event webhook
    /// (`POST /hooks/<provider>`, `[hooks.<provider>]`) reports what happened next: "mailgun",
    /// "postmark", "sendgrid", "brevo".
    pub provider: String,
}

impl Default for Relay {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: None,
            tls: RelayTls::Starttls,
            username: None,
            password_file: None,
            verify_certificate: true,
            ca_file: None,
            max_connections: 20,
            rate: None,
            request_dsn: true,
            provider: "generic".into(),
        }
    }
}

impl Relay {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            RelayTls::Starttls => 587,
            RelayTls::Tls => 465,
            RelayTls::None => 25,
        })
    }

    /// The host as written, without the brackets of an IPv6 literal (`[::1]` → `::1`).
    pub fn bare_host(&self) -> &str {
        let h = self.host.trim();
        h.strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(h)
    }

    /// `host:port`, as errors name the relay.
    pub fn name(&self) -> String {
        let host = self.bare_host();
        if host.contains(':') {
            format!("[{host}]:{}", self.port())
        } else {
            format!("{host}:{}", self.port())
        }
    }

    /// The settings checks that need no network: see `Settings::load`.
    fn check(&self) -> anyhow::Result<()> {
        if self.host.trim().is_empty() {
            bail!(
                "[delivery] transport = \"relay\" needs [relay] host (e.g. host = \"smtp.example.com\")"
            );
        }
        let host = self.bare_host();
        if host.contains(':') && host.parse::<IpAddr>().is_err() {
            bail!(
                "[relay] host = {:?}: a host name or address only; the port goes in `port`",
                self.host
            );
        }
        if self.ca_file.is_some() && !self.verify_certificate {
            bail!(
                "[relay] ca_file is given but verify_certificate = false: the certificate would not be checked against it; drop one of the two"
            );
        }
        if self.provider != "generic"
            && herald_mail::webhooks::Provider::parse(&self.provider).is_none()
        {
            bail!(
                "[relay] provider = {:?}: expected \"generic\" (any SMTP relay), \"mailgun\", \"postmark\", \"sendgrid\" or \"brevo\"",
                self.provider
            );
        }
        if self.username.is_some() != self.password_file.is_some() {
            bail!("[relay] username and password_file go together: set both, or neither");
        }
        if self.tls == RelayTls::None && !is_loopback_host(self.bare_host()) {
            bail!(
                "[relay] tls = \"none\" is allowed only for a relay on this machine (loopback); {} would get the mail{} in clear text: use tls = \"starttls\" (587) or \"tls\" (465)",
                self.host,
                if self.username.is_some() {
                    " and the password"
                } else {
                    ""
                }
            );
        }
        if self.max_connections == 0 {
            bail!("[relay] max_connections must be at least 1");
        }
        if let Some(r) = &self.rate {
            r.parse::<herald_engine::deliver::Rate>()
                .map_err(|e| anyhow::anyhow!("[relay] {e}"))?;
        }
        Ok(())
    }
}

/// `[hooks.<provider>]`: how each provider's webhook requests are authenticated. A provider
/// without its section has no webhook (its URL answers 404).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct HooksSettings {
    pub mailgun: Option<MailgunHook>,
    pub postmark: Option<PostmarkHook>,
    pub sendgrid: Option<SendgridHook>,
    pub brevo: Option<BrevoHook>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailgunHook {
    /// Mailgun's "HTTP webhook signing key" (owner-only file).
    pub signing_key_file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostmarkHook {
    /// The basic-auth user and password put in the webhook URL at Postmark.
    pub username: String,
    pub password_file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendgridHook {
    /// The Signed Event Webhook's verification key (base64, as SendGrid shows it).
    pub public_key_file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrevoHook {
    /// The bearer token set on the webhook at Brevo (owner-only file).
    pub token_file: PathBuf,
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Inbound {
    pub listen: String,
    /// Start the listener with `herald serve` (off: bounces are not collected on this node).
    pub enabled: bool,
    /// Return-path domain for campaigns whose From domain is not connected (default: none; a
    /// connected domain uses `bounces.<domain>`).
    pub return_path_domain: Option<String>,
    /// Suppress an address after this many soft bounces in a row (0: never).
    pub soft_bounce_limit: u32,
    pub max_message_bytes: usize,
    pub max_connections: usize,
    /// Connections at once from one address; more get `421` (0: no cap).
    pub max_connections_per_ip: usize,
    /// Each command must be complete within this, and a DATA transfer within this plus one
    /// second per `min_data_rate` bytes it brings.
    pub timeout: Dur,
    /// Bytes per second a DATA transfer must average.
    pub min_data_rate: u64,
    /// Raw inbound messages (bounces, complaints, reports) are kept this long, then dropped
    /// (their classification and effects stay).
    pub retention: Dur,
    /// PEM certificate chain and key: offer STARTTLS (both or neither).
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

impl Default for Inbound {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:25".into(),
            enabled: true,
            return_path_domain: None,
            soft_bounce_limit: 3,
            max_message_bytes: 10 * 1024 * 1024,
            max_connections: 100,
            max_connections_per_ip: 10,
            timeout: Dur(Duration::from_secs(60)),
            min_data_rate: 500,
            retention: Dur(Duration::from_secs(30 * 24 * 3600)),
            tls_cert: None,
            tls_key: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Http {
    pub listen: String,
    /// Base of tracking and unsubscribe links (what recipients' browsers reach).
    pub public_url: String,
    /// Behind a reverse proxy: take the client address from `X-Forwarded-For` (the rightmost
    /// address that is not one of `trusted_proxies`).
    pub trust_forwarded_for: bool,
    /// The reverse proxies in front of Herald (addresses or networks, "10.0.0.0/8"). Empty
    /// with `trust_forwarded_for`: the direct peer is the one proxy.
    pub trusted_proxies: Vec<String>,
    /// Connections open at once; more get a 503 and are closed.
    pub max_connections: usize,
    /// Connections open at once from one address (0: no cap; set 0 behind a proxy).
    pub max_connections_per_ip: usize,
    /// A request's head must arrive within this; also how long an idle keep-alive connection
    /// is kept.
    pub header_timeout: Dur,
    /// A request's body must arrive and its answer be ready within this (else 503).
    pub request_timeout: Dur,
    /// Password checks running at once (0: one per CPU); four times as many may wait, more
    /// are answered 429 at once.
    pub login_concurrency: usize,
    /// Failed logins from one address (IPv6: its /64) before each further failure makes it
    /// wait, twice as long each time (429 with Retry-After).
    pub login_failures_per_ip: u32,
    /// The same, per account.
    pub login_failures_per_account: u32,
    /// The longest such wait.
    pub login_max_backoff: Dur,
}

impl Default for Http {
    fn default() -> Self {
        let server = herald_http::ServerLimits::default();
        let login = herald_http::LoginLimits::default();
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: "http://127.0.0.1:8080".into(),
            trust_forwarded_for: false,
            trusted_proxies: Vec::new(),
            max_connections: server.max_connections,
            max_connections_per_ip: server.max_connections_per_ip,
            header_timeout: Dur(server.header_timeout),
            request_timeout: Dur(server.request_timeout),
            login_concurrency: 0,
            login_failures_per_ip: login.failures_per_ip,
            login_failures_per_account: login.failures_per_account,
            login_max_backoff: Dur(login.max_backoff),
        }
    }
}

impl Http {
    /// `trusted_proxies` parsed (a bare address is a /32 or /128).
    pub fn proxies(&self) -> anyhow::Result<Vec<herald_engine::feedback::engagement::Cidr>> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                let with_prefix = if p.contains('/') {
                    p.clone()
                } else if p.contains(':') {
                    format!("{p}/128")
                } else {
                    format!("{p}/32")
                };
                herald_engine::feedback::engagement::Cidr::parse(&with_prefix)
                    .map_err(|e| anyhow::anyhow!("[http] trusted_proxies: {e}"))
            })
            .collect()
    }
}

/// Opens, clicks and the human-or-machine rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tracking {
    /// Off: no open pixel and no click redirects in any campaign (the unsubscribe link stays).
    pub enabled: bool,
    /// What is kept of visitors' IP addresses: "full", "anonymized" (/24, /48) or "none".
    pub ip: String,
    /// Networks of image proxies that fetch for everyone (Apple Mail Privacy Protection).
    pub proxy_networks: Vec<String>,
    /// A click sooner than this after sending is a scanner's.
    pub min_click_delay: Dur,
    /// An open sooner than this after sending is a prefetch.
    pub min_open_delay: Dur,
    /// This many other links of one message clicked within 2 s before: a scanner's burst.
    pub burst_clicks: usize,
    /// After `herald tracking rotate-key`, links signed with the old key work this long.
    pub key_grace: Dur,
}

impl Default for Tracking {
    fn default() -> Self {
        Self {
            enabled: true,
            ip: "anonymized".into(),
            proxy_networks: vec!["17.0.0.0/8".into()],
            min_click_delay: Dur(Duration::from_secs(10)),
            min_open_delay: Dur(Duration::from_secs(2)),
            burst_clicks: 2,
            key_grace: Dur(Duration::from_secs(180 * 24 * 3600)),
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
        }
        if s.delivery.retry_schedule.is_empty() {
            bail!("[delivery] retry_schedule must have at least one interval");
        }
        if s.webhooks.retry_schedule.is_empty() {
            bail!("[webhooks] retry_schedule must have at least one interval");
        }
        if s.webhooks.max_in_flight == 0 || s.webhooks.batch == 0 {
            bail!("[webhooks] max_in_flight and batch must be at least 1");
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

/// The config file `init` writes: every setting with its default, commented.
pub const TEMPLATE: &str = r#"# Herald settings. Every key is optional; environment variables override them as
# HERALD__SECTION__KEY (e.g. HERALD__DELIVERY__MX_PORT=2525). Unknown keys are errors.

[database]
# url = "sqlite://herald-data/herald.db"   # default: herald.db in the data directory

[dns]
# nameservers = []            # e.g. ["127.0.0.1:5353"]; empty = system resolver
# timeout = "5s"
# blocklists = []            # DNSBL zones `herald ips` checks, e.g. ["zen.spamhaus.org"]

[delivery]
# mx_port = 25
# helo_name = "mail.example.com"
# source_ips = []             # local addresses to send from (the "sending IPs")
# retry_schedule = ["1m", "5m", "15m", "1h", "4h"]   # then every last interval
# expiry = "72h"              # deferred longer than this -> expired
# transport = "mx"            # "relay": everything through the [relay] below
# sandbox = false             # deliver to the built-in capture server instead
# starttls = true
# connect_timeout = "30s"
# command_timeout = "5m"
# data_timeout = "10m"
# lease = "60s"
# max_connections = 200
# max_connections_per_domain = 5
# max_messages_per_connection = 100
# node_name = "mx1"           # this node's name on a shared database (default: helo_name)
# claim_batch = 1000          # deliveries leased per claim (smaller: nodes share more evenly)
# max_in_flight = 5000        # leased and not yet recorded, per node

[relay]                        # used when [delivery] transport = "relay"
# host = "smtp.example.com"
# port = 587                  # default: 587 (starttls), 465 (tls), 25 (none)
# tls = "starttls"            # "starttls" (required, not opportunistic), "tls", "none" (loopback only)
# username = "herald@example.com"
# password_file = "/etc/herald/relay-password"   # chmod 600; never logged
# verify_certificate = true
# ca_file = "/etc/herald/relay-ca.pem"   # a private CA's certificate(s), PEM
# max_connections = 20
# rate = "14/s"               # messages per second/min/h through the relay (none: no cap)
# request_dsn = true          # ask for success DSNs: relayed -> delivered with the remote reply
# provider = "generic"

# [hooks.mailgun]              # POST /hooks/mailgun: events of a relay with provider = "mailgun"
# signing_key_file = "/etc/herald/mailgun-signing-key"
# [hooks.postmark]
# username = "herald"
# password_file = "/etc/herald/postmark-hook-password"
# [hooks.sendgrid]
# public_key_file = "/etc/herald/sendgrid-verification-key"
# [hooks.brevo]
# token_file = "/etc/herald/brevo-hook-token"

[webhooks]                     # outbound webhooks (herald webhooks add URL --events …), posted by serve
# timeout = "10s"             # one post: connect, TLS, request, answer
# max_in_flight = 32          # posts at once, per node
# batch = 256                 # events claimed per round
# retry_schedule = ["10s", "1m", "5m", "30m", "1h", "2h", "4h", "8h"]   # then every last interval
# expiry = "72h"              # still failing this long after the event -> failed (replayable)
# retention = "30d"           # posted and failed events kept in each endpoint's log
# ca_file = "/etc/herald/webhook-ca.pem"   # a private CA for your endpoints, PEM

[inbound]
# listen = "0.0.0.0:25"          # return-path / feedback SMTP listener (herald serve)
# enabled = true
# return_path_domain = "bounces.example.com"   # for From domains that are not connected
# soft_bounce_limit = 3          # suppress after N soft bounces in a row (0: never)
# max_message_bytes = 10485760
# max_connections = 100
# max_connections_per_ip = 10    # more from one address get 421 (0: no cap)
# timeout = "60s"                # per command, and the base allowance of a DATA
# min_data_rate = 500            # bytes/s a DATA must average (each byte earns 1/rate s)
# retention = "30d"              # raw inbound messages kept this long (their effects stay)
# tls_cert = "/etc/ssl/herald/fullchain.pem"   # offer STARTTLS (with tls_key)
# tls_key = "/etc/ssl/herald/key.pem"

[http]
# listen = "127.0.0.1:8080"
# public_url = "http://127.0.0.1:8080"   # base of tracking and unsubscribe links
# trust_forwarded_for = false            # behind a reverse proxy
# trusted_proxies = []                   # e.g. ["10.0.0.0/8"]; empty: the peer is the proxy
# max_connections = 1024                 # more get 503 and are closed
# max_connections_per_ip = 64            # 0: no cap (set 0 behind a reverse proxy)
# header_timeout = "10s"                 # request head, and idle keep-alive
# request_timeout = "60s"                # body and answer
# login_concurrency = 0                  # password checks at once; 0: one per CPU
# login_failures_per_ip = 10             # then each failure doubles the wait (429)
# login_failures_per_account = 5
# login_max_backoff = "15m"

[tracking]
# enabled = true                 # open pixel + click redirects (unsubscribe links are always on)
# ip = "anonymized"              # full | anonymized | none
# proxy_networks = ["17.0.0.0/8"]   # image proxies (Apple Mail Privacy Protection)
# min_click_delay = "10s"        # sooner: a scanner
# min_open_delay = "2s"          # sooner: a prefetch
# burst_clicks = 2               # other links clicked within 2 s before: a scanner
# key_grace = "180d"             # old links keep working this long after a key rotation

[placement]
# poll_interval = "30s"          # how often `serve` searches the seed mailboxes
# missing_after = "15m"          # a seed copy not found by then is "missing"
# poll_timeout = "60s"           # per seed mailbox and poll

[sandbox]
# listen = "127.0.0.1:0"      # the capture server of sandbox mode

[domains]
# reverify_every = "1h"       # `serve` re-checks connected domains; a failing one holds its sends

[lists]
# confirm_within = "7d"          # double opt-in links work this long; unconfirmed sign-ups then go
# min_fill = "2s"                # a sign-up form posted sooner after it was served is not taken
# signups_per_ip_per_hour = 20   # per client network (IPv4 address, IPv6 /64); 0: no limit
# unsubscribe = "everything"     # an unsubscribe link leaves everything, or "list": only its list
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_parses_and_unknown_keys_fail() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("herald.toml");
        std::fs::write(&f, TEMPLATE).unwrap();
        let s = Settings::load(&f).unwrap();
        assert_eq!(s.delivery.mx_port, 25);
        assert_eq!(s.delivery.expiry, Dur(Duration::from_secs(72 * 3600)));
        std::fs::write(&f, "[delivery]\nmx_prot = 25\n").unwrap();
        let e = Settings::load(&f).unwrap_err().to_string();
        assert!(e.contains("mx_prot"), "{e}");
        std::fs::write(&f, "[delivery]\nexpiry = \"soon\"\n").unwrap();
        let e = Settings::load(&f).unwrap_err().to_string();
        assert!(e.contains("soon"), "{e}");
    }

    #[test]
    fn env_values_are_typed() {
        assert_eq!(env_value("2525"), toml::Value::Integer(2525));
        assert_eq!(
            env_value("[\"127.0.0.1:53\"]").as_array().map(|a| a.len()),
            Some(1)
        );
        assert_eq!(env_value("72h"), toml::Value::String("72h".into()));
    }
}
