//! Delivery states and the evidence of every SMTP attempt (design §3).

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

/// The state of one recipient of one campaign. Final states: not_sent, relayed, delivered,
/// bounced, expired, failed. `relayed` is final for the queue (nothing is retried) but a later
/// report can still move it: a relay's success DSN or a provider's event to `delivered`, its
/// bounce to `bounced`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    NotSent,
    Queued,
    Deferred,
    /// A relay or provider accepted it (its 250); the recipient's server not heard from yet.
    Relayed,
    Delivered,
    Bounced,
    Expired,
    Failed,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 8] = [
        Self::NotSent,
        Self::Queued,
        Self::Deferred,
        Self::Relayed,
        Self::Delivered,
        Self::Bounced,
        Self::Expired,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotSent => "not_sent",
            Self::Queued => "queued",
            Self::Deferred => "deferred",
            Self::Relayed => "relayed",
            Self::Delivered => "delivered",
            Self::Bounced => "bounced",
            Self::Expired => "expired",
            Self::Failed => "failed",
        }
    }

    /// A final state never changes through delivery again (feedback adds events instead).
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Queued | Self::Deferred)
    }
}

impl fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeliveryState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown delivery state {s:?}"))
    }
}

impl schemars::JsonSchema for DeliveryState {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DeliveryState".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
        schemars::json_schema!({ "type": "string", "enum": names })
    }
}

impl serde::Serialize for DeliveryState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An SMTP reply as the server sent it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reply {
    pub code: u16,
    /// Enhanced status code (RFC 3463) such as "5.1.1", when the server sent one.
    pub enhanced: Option<String>,
    /// Every line of the reply text, without the code prefix.
    pub lines: Vec<String>,
}

impl Reply {
    /// The reply text, lines joined by a space.
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }

    /// The full reply in wire form ("250-first\n250 last"), one line per line received.
    pub fn full(&self) -> String {
        let n = self.lines.len();
        let mut out = String::new();
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i + 1 == n { ' ' } else { '-' };
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&format!("{}{}", self.code, sep));
            if let Some(e) = &self.enhanced {
                out.push_str(e);
                out.push(' ');
            }
            out.push_str(line);
        }
        out
    }

    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }
    pub fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
    }
}

/// TLS parameters of a session.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TlsInfo {
    pub version: String,
    pub cipher: String,
}

impl fmt::Display for TlsInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.version, self.cipher)
    }
}

/// What one attempt to hand a message to a server recorded (design §3). Append-only.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Evidence {
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub ended_at: OffsetDateTime,
    /// The MX host name (or the relay) the message went to; None when no host was reached.
    pub mx: Option<String>,
    pub mx_preference: Option<u16>,
    pub remote_ip: Option<String>,
    pub local_ip: Option<String>,
    pub tls: Option<TlsInfo>,
    /// The reply that decided the attempt: the DATA reply, or the one that refused earlier.
    pub reply: Option<Reply>,
    /// The SMTP stage of that reply: connect, ehlo, mail, rcpt, data.
    pub stage: Option<String>,
    /// A local error (DNS, connect, timeout, TLS) when there was no decisive reply.
    pub error: Option<String>,
    pub remote_queue_id: Option<String>,
    pub message_id: String,
    pub bytes: u64,
    /// "mx" for direct delivery, "relay" when sent through a smarthost.
    pub route: String,
    /// The Herald node that made the attempt (`[delivery] node_name`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The message as this recipient got it (personalised subject and From, the hash of the
    /// bytes sent); None for attempts recorded before Herald kept it, and when nothing was
    /// rendered (a DNS failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<SentMessage>,
}

/// What one recipient's copy looked like, as sent: what their mail admin searches by.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SentMessage {
    /// The Subject after personalisation (decoded text, as the recipient's client shows it).
    pub subject: String,
    /// The From header: `Name <address>` or the address.
    pub from: String,
    /// SHA-256 of the bytes handed over after DATA (the signed message, dot-stuffed, with the
    /// final `.` line: the bytes `Evidence::bytes` counts), lower-case hex.
    pub sha256: String,
}
