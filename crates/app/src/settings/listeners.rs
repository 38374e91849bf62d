//! The listeners' settings: `[http]`, `[tracking]`, `[inbound]` and the provider hooks.

use std::path::PathBuf;
use std::time::Duration;

use super::*;
use serde::Deserialize;

/// `[hooks.<provider>]`: how each provider's webhook requests are authenticated. A provider
/// without its section has no webhook (its URL answers 404).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct HooksSettings {
    pub mailgun: Option<MailgunHook>,
    pub postmark: Option<PostmarkHook>,
    pub sendgrid: Option<SendgridHook>,
    pub brevo: Option<BrevoHook>,
    pub ses: Option<SesHook>,
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SesHook {
    /// The SNS topics (ARNs) the configuration set's event destination publishes to; a message
    /// of any other topic is refused, and only these topics' subscriptions are confirmed.
    pub topic_arns: Vec<String>,
    /// SNS's signing certificates (PEM), pinned: only they verify. None: the certificate a
    /// message names is fetched from Amazon SNS's own address over verified HTTPS.
    #[serde(default)]
    pub certificate_files: Vec<PathBuf>,
}

impl SesHook {
    /// `arn:aws:sns:<region>:<account>:<name>` (also the `aws-cn` and `aws-us-gov` partitions).
    pub fn check(&self) -> Result<(), String> {
        if self.topic_arns.is_empty() {
            return Err("[hooks.ses] topic_arns: name at least one SNS topic ARN".into());
        }
        for arn in &self.topic_arns {
            let parts: Vec<&str> = arn.split(':').collect();
            let ok = parts.len() == 6
                && parts[0] == "arn"
                && parts[1].starts_with("aws")
                && parts[2] == "sns"
                && !parts[3].is_empty()
                && parts[4].len() == 12
                && parts[4].bytes().all(|b| b.is_ascii_digit())
                && !parts[5].is_empty()
                && herald_mail::webhooks::ses::topic_region(arn).is_some();
            if !ok {
                return Err(format!(
                    "[hooks.ses] topic_arns: {arn:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"
                ));
            }
        }
        Ok(())
    }
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
