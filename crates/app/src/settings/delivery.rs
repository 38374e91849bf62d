//! `[delivery]` and `[relay]`: how mail leaves (direct to MX, or through a relay).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::*;
use anyhow::bail;
use serde::Deserialize;

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
    /// Warm-up: campaign messages per From domain on its 1st, 2nd, … day of sending (UTC days
    /// on which it sent); past the last, no cap. Empty: no warm-up.
    pub warmup: Vec<u64>,
    /// `[[delivery.limit]]`: a receiver's limits, over the defaults for the big ones.
    pub limit: Vec<ReceiverLimit>,
}

/// One `[[delivery.limit]]`: a receiver (the group of its MX hosts, e.g. `google.com`,
/// `outlook.com`, `yahoodns.net`, or a company's own `example.com`) and its limits per node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverLimit {
    pub mx: String,
    pub connections: Option<usize>,
    pub messages_per_connection: Option<usize>,
    /// e.g. "600/min".
    pub rate: Option<String>,
}

impl Delivery {
    /// The per-receiver limits: the defaults with `[[delivery.limit]]` over them.
    pub fn limits(&self) -> Result<herald_engine::deliver::limits::Limits, String> {
        let settings: Vec<herald_engine::deliver::limits::LimitSetting> = self
            .limit
            .iter()
            .map(|l| herald_engine::deliver::limits::LimitSetting {
                mx: l.mx.clone(),
                connections: l.connections,
                messages_per_connection: l.messages_per_connection,
                rate: l.rate.clone(),
            })
            .collect();
        herald_engine::deliver::limits::Limits::new(
            &settings,
            (
                self.max_connections_per_domain.max(1),
                self.max_messages_per_connection.max(1),
            ),
        )
    }
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
            warmup: Vec::new(),
            limit: Vec::new(),
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
    /// Messages per period sent through the relay, e.g. "14/s" (Amazon SES's starting quota),
    /// "100/min": the account's rate, shared by the live `serve` nodes (each takes rate ÷
    /// nodes); none: as fast as the connections go.
    pub rate: Option<String>,
    /// Ask the relay for delivery status notifications (RFC 3461) when it offers them: its
    /// success DSN moves a `relayed` recipient to `delivered` with the recipient's server's
    /// answer. Costs one inbound message per recipient.
    pub request_dsn: bool,
    /// Who runs the relay: "generic" (any SMTP relay), or a provider whose event webhook
    /// (`POST /hooks/<provider>`, `[hooks.<provider>]`) reports what happened next: "mailgun",
    /// "postmark", "sendgrid", "brevo", "ses" (Amazon SES, whose events come through Amazon SNS).
    pub provider: String,
    /// `[[relay.route]]`: which mail goes the other way than `[delivery] transport` (the first
    /// rule that matches decides).
    pub route: Vec<RelayRoute>,
}

/// One `[[relay.route]]` rule: mail From one of `from_domains` and/or to one of
/// `recipient_domains` (a missing list matches any) goes `via` the relay or straight to the
/// recipient's MX hosts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayRoute {
    #[serde(default)]
    pub from_domains: Vec<String>,
    #[serde(default)]
    pub recipient_domains: Vec<String>,
    pub via: Transport,
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
            route: Vec::new(),
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

    /// `[[relay.route]]`: each rule names at least one domain, each a plain domain name.
    pub(super) fn check_routes(&self) -> anyhow::Result<()> {
        if self.route.len() > 1000 {
            bail!("[[relay.route]]: at most 1000 rules");
        }
        for (i, r) in self.route.iter().enumerate() {
            let n = i + 1;
            if r.from_domains.is_empty() && r.recipient_domains.is_empty() {
                bail!(
                    "[[relay.route]] rule {n}: give from_domains, recipient_domains or both (a rule for all mail is [delivery] transport)"
                );
            }
            for d in r.from_domains.iter().chain(&r.recipient_domains) {
                let ok = !d.is_empty()
                    && d.len() <= 253
                    && !d.starts_with('.')
                    && !d.ends_with('.')
                    && d.contains('.')
                    && d.chars()
                        .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
                if !ok {
                    bail!(
                        "[[relay.route]] rule {n}: {d:?} is not a domain name (e.g. \"outlook.com\"; no @, no wildcards)"
                    );
                }
            }
        }
        Ok(())
    }

    /// The settings checks that need no network: see `Settings::load`.
    pub(crate) fn check(&self) -> anyhow::Result<()> {
        if self.host.trim().is_empty() {
            bail!(
                "[delivery] transport = \"relay\" (or a [[relay.route]] with via = \"relay\") needs [relay] host (e.g. host = \"smtp.example.com\")"
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
                "[relay] provider = {:?}: expected \"generic\" (any SMTP relay), \"ses\", \"mailgun\", \"postmark\", \"sendgrid\" or \"brevo\"",
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

pub(super) fn is_loopback_host(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}
