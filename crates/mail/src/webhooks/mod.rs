//! Sending providers' event webhooks (Mailgun, Postmark, SendGrid, Brevo, Amazon SES through
//! SNS): each request checked
//! the way its provider authenticates it, then read into one vocabulary of [`ProviderEvent`]s.
//!
//! Written by hand: no maintained crate reads these formats. The request is untrusted input
//! (anyone can post to the URL): every field is optional, nothing panics (fuzzed), and nothing
//! is read before the request is authenticated.
//!
//! How each provider authenticates (from its public documentation):
//! - Mailgun: `signature.signature` = hex HMAC-SHA256 of `timestamp` + `token` with the webhook
//!   signing key; the timestamp must be recent ([`TOLERANCE_S`]).
//! - SendGrid: ECDSA P-256 / SHA-256 (ASN.1 DER, base64) over the `…-Timestamp` header followed
//!   by the raw body, in `X-Twilio-Email-Event-Webhook-Signature`; key: the base64 DER public
//!   key the console shows; the timestamp must be recent.
//! - Postmark: HTTP basic auth on the webhook URL (it signs nothing).
//! - Brevo: a bearer token set on the webhook (it signs nothing).
//! - Amazon SES: through Amazon SNS, which signs each message with RSA by the key of a
//!   certificate it publishes ([`ses`]).
//!
//! Each event carries the delivery's id that Herald put in the provider's metadata header when
//! it sent the message ([`Provider::metadata_header`]).

use std::fmt;

use aws_lc_rs::{hmac, signature};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

pub mod ses;

/// How far a signed timestamp may be from now (replays of older requests are refused).
pub const TOLERANCE_S: i64 = 15 * 60;

/// A sending provider with an event webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Mailgun,
    Postmark,
    Sendgrid,
    Brevo,
    Ses,
}

impl Provider {
    pub const ALL: [Provider; 5] = [
        Provider::Mailgun,
        Provider::Postmark,
        Provider::Sendgrid,
        Provider::Brevo,
        Provider::Ses,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Mailgun => "mailgun",
            Provider::Postmark => "postmark",
            Provider::Sendgrid => "sendgrid",
            Provider::Brevo => "brevo",
            Provider::Ses => "ses",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The header that carries the delivery's id through the provider to its events.
    pub fn metadata_header(self, delivery: i64) -> (&'static str, String) {
        match self {
            Provider::Mailgun => (
                "X-Mailgun-Variables",
                format!(r#"{{"herald_delivery": "{delivery}"}}"#),
            ),
            Provider::Postmark => ("X-PM-Metadata-herald_delivery", delivery.to_string()),
            Provider::Sendgrid => (
                "X-SMTPAPI",
                format!(r#"{{"unique_args": {{"herald_delivery": "{delivery}"}}}}"#),
            ),
            Provider::Brevo => ("X-Mailin-custom", format!("herald_delivery={delivery}")),
            // A message tag: SES puts it in the events of the configuration set it is sent with.
            Provider::Ses => ("X-SES-MESSAGE-TAGS", format!("herald_delivery={delivery}")),
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What authenticates a provider's requests (from `[hooks.<provider>]`).
#[derive(Clone)]
pub enum HookSecret {
    /// Mailgun's webhook signing key.
    HmacKey(Vec<u8>),
    /// SendGrid's verification key: DER SubjectPublicKeyInfo of a P-256 key.
    EcdsaP256(Vec<u8>),
    /// Postmark: the user and password of the webhook URL's basic auth.
    Basic { username: String, password: String },
    /// Brevo: the bearer token set on the webhook.
    Bearer(String),
    /// Amazon SES through SNS: the topics subscribed to, and the signing certificates (DER)
    /// pinned by `[hooks.ses] certificate_files`; none pinned: the web layer fetches the one a
    /// message names from Amazon ([`ses::certificate_url_ok`]).
    Sns {
        topic_arns: Vec<String>,
        pinned: Vec<Vec<u8>>,
    },
}

impl fmt::Debug for HookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HookSecret::HmacKey(_) => "HmacKey(<hidden>)",
            HookSecret::EcdsaP256(_) => "EcdsaP256(<public key>)",
            HookSecret::Basic { .. } => "Basic(<hidden>)",
            HookSecret::Bearer(_) => "Bearer(<hidden>)",
            HookSecret::Sns { .. } => "Sns(<topics and certificates>)",
        })
    }
}

impl HookSecret {
    /// SendGrid's key as the console shows it (base64 DER, with or without PEM lines).
    pub fn sendgrid_key(text: &str) -> Result<HookSecret, String> {
        let b64: String = text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>()
            .split_whitespace()
            .collect();
        let der = B64
            .decode(b64)
            .map_err(|e| format!("not a base64 public key: {e}"))?;
        p256_point(&der).ok_or("not a P-256 public key (DER SubjectPublicKeyInfo)")?;
        Ok(HookSecret::EcdsaP256(der))
    }
}

/// The DER prefix of a P-256 SubjectPublicKeyInfo (id-ecPublicKey, prime256v1, the BIT STRING
/// header); the uncompressed point (65 bytes) follows.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

fn p256_point(spki: &[u8]) -> Option<&[u8]> {
    let point = spki.strip_prefix(&P256_SPKI_PREFIX[..])?;
    (point.len() == 65 && point[0] == 0x04).then_some(point)
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    /// Not from the provider (no or a wrong signature, credentials or token), or too old: 401.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but not the provider's format: 400.
    #[error("{0}")]
    Malformed(String),
}

/// What happened to a message, as a provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// The recipient's server accepted it.
    Delivered,
    /// The provider gave up: `hard` when the address is bad.
    Bounced {
        hard: bool,
    },
    /// A temporary failure; the provider retries.
    Deferred,
    Complaint,
    Unsubscribe,
    Open,
    Click,
    /// Anything else (accepted, processed, dropped…): kept, without effect.
    Other(String),
}

/// One event, in the providers' common terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    /// Unique per provider: its event id, or a digest of the event.
    pub key: String,
    /// The `herald_delivery` metadata Herald sent with the message.
    pub delivery: Option<i64>,
    pub recipient: Option<String>,
    /// The provider's own message id.
    pub provider_message_id: Option<String>,
    pub at_ms: i64,
    pub kind: EventKind,
    /// The receiving server's reply, as the provider quotes it ("250 2.0.0 OK …").
    pub reply: Option<String>,
    /// The receiving server (MX host), when the provider names it.
    pub remote_mta: Option<String>,
    /// The provider's own words or category, when it gives them.
    pub description: Option<String>,
}

/// A request: its headers (by lower-case name) and raw body.
pub struct HookRequest<'a> {
    pub header: &'a dyn Fn(&str) -> Option<String>,
    pub body: &'a [u8],
    /// Now, in Unix seconds.
    pub now_s: i64,
}

/// Check `req` against `secret` the way `provider` authenticates, then read its events.
pub fn verify_and_parse(
    provider: Provider,
    secret: &HookSecret,
    req: &HookRequest<'_>,
) -> Result<Vec<ProviderEvent>, HookError> {
    match (provider, secret) {
        (Provider::Mailgun, HookSecret::HmacKey(key)) => mailgun_verify(key, req)?,
        (Provider::Sendgrid, HookSecret::EcdsaP256(key)) => sendgrid_verify(key, req)?,
        (Provider::Postmark, HookSecret::Basic { username, password }) => {
            basic_auth(req, username, password)?
        }
        (Provider::Brevo, HookSecret::Bearer(token)) => bearer(req, token)?,
        (Provider::Ses, HookSecret::Sns { topic_arns, pinned }) => {
            let env = ses::Envelope::parse(req.body)?;
            env.verify(topic_arns, pinned, req.now_s)?;
            return ses::events(&env, req.now_s.saturating_mul(1000));
        }
        _ => {
            return Err(HookError::Unauthorized(format!(
                "no {provider} credentials configured"
            )));
        }
    }
    read_verified(provider, req.body, req.now_s)
}

/// The events of a body whose request [`verify_and_parse`] has authenticated (also what the
/// fuzz target reads, the signatures aside).
pub fn read_verified(
    provider: Provider,
    body: &[u8],
    now_s: i64,
) -> Result<Vec<ProviderEvent>, HookError> {
    let now_ms = now_s.saturating_mul(1000);
    match provider {
        Provider::Mailgun => mailgun_events(&json(body)?, now_ms),
        Provider::Sendgrid => sendgrid_events(body, now_ms),
        Provider::Postmark => each_object(body, |v| postmark(v, now_ms)),
        Provider::Brevo => each_object(body, |v| brevo(v, now_ms)),
        Provider::Ses => ses::events(&ses::Envelope::parse(body)?, now_ms),
    }
}

fn unauthorized(why: &str) -> HookError {
    HookError::Unauthorized(why.to_string())
}

fn json(body: &[u8]) -> Result<Value, HookError> {
    serde_json::from_slice(body).map_err(|e| HookError::Malformed(format!("not JSON: {e}")))
}

fn recent(ts: i64, now_s: i64) -> Result<(), HookError> {
    if (now_s - ts).abs() > TOLERANCE_S {
        return Err(unauthorized(
            "timestamp more than 15 minutes from now (a replay, or a clock far off)",
        ));
    }
    Ok(())
}

/// Equal without telling, by timing, how much of it was.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn basic_auth(req: &HookRequest<'_>, user: &str, password: &str) -> Result<(), HookError> {
    let given = (req.header)("authorization").ok_or_else(|| unauthorized("no credentials"))?;
    let expected = format!("Basic {}", B64.encode(format!("{user}:{password}")));
    if same(given.trim().as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(unauthorized("wrong credentials"))
    }
}

fn bearer(req: &HookRequest<'_>, token: &str) -> Result<(), HookError> {
    let given = (req.header)("authorization").ok_or_else(|| unauthorized("no token"))?;
    let given = given.trim();
    let given = given
        .strip_prefix("Bearer ")
        .or_else(|| given.strip_prefix("bearer "))
        .unwrap_or(given);
    if same(given.trim().as_bytes(), token.as_bytes()) {
        Ok(())
    } else {
        Err(unauthorized("wrong token"))
    }
}

/// A JSON object or an array of them, each read by `read`.
fn each_object(
    body: &[u8],
    read: impl Fn(&Value) -> ProviderEvent,
) -> Result<Vec<ProviderEvent>, HookError> {
    match json(body)? {
        Value::Array(items) => Ok(items.iter().filter(|v| v.is_object()).map(&read).collect()),
        v @ Value::Object(_) => Ok(vec![read(&v)]),
        _ => Err(HookError::Malformed(
            "expected a JSON object or array".into(),
        )),
    }
}

/// A string or number field, trimmed; without NULs (PostgreSQL keeps no NUL in text).
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().replace('\0', "")),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn delivery_id(v: &Value) -> Option<i64> {
    text(v)?.parse().ok()
}

/// A digest of the event as posted: its key when the provider gives no event id.
fn digest(v: &Value) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, v.to_string().as_bytes());
    format!("sha256:{}", hex(d.as_ref()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// "smtp;550 5.1.1 …" → "550 5.1.1 …".
fn strip_diagnostic_type(s: String) -> String {
    match s.split_once(';') {
        Some((t, rest)) if t.trim().eq_ignore_ascii_case("smtp") => rest.trim().to_string(),
        _ => s,
    }
}

fn seconds_to_ms(v: &Value) -> Option<i64> {
    let s = v.as_f64().or_else(|| text(v)?.parse().ok())?;
    (s.is_finite() && s > 0.0 && s < 1e11).then_some((s * 1000.0) as i64)
}

fn rfc3339_ms(v: &Value) -> Option<i64> {
    let s = v.as_str()?;
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

fn mailgun_verify(key: &[u8], req: &HookRequest<'_>) -> Result<(), HookError> {
    let doc = json(req.body).map_err(|_| unauthorized("not a signed Mailgun event"))?;
    let sig = &doc["signature"];
    let (Some(ts), Some(token), Some(signature)) = (
        text(&sig["timestamp"]),
        sig["token"].as_str(),
        sig["signature"].as_str(),
    ) else {
        return Err(unauthorized("no Mailgun signature"));
    };
    let tag = crate::webhook_signature::unhex(signature)
        .ok_or_else(|| unauthorized("malformed signature"))?;
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::verify(&k, format!("{ts}{token}").as_bytes(), &tag)
        .map_err(|_| unauthorized("wrong signature"))?;
    recent(
        ts.parse()
            .map_err(|_| unauthorized("malformed timestamp"))?,
        req.now_s,
    )
}

fn mailgun_events(doc: &Value, now_ms: i64) -> Result<Vec<ProviderEvent>, HookError> {
    let token = text(&doc["signature"]["token"])
        .ok_or_else(|| HookError::Malformed("no signature token".into()))?;
    let e = &doc["event-data"];
    if !e.is_object() {
        return Err(HookError::Malformed("no event-data".into()));
    }
    let status = &e["delivery-status"];
    let reason = e["reason"].as_str().unwrap_or("");
    let kind = match e["event"].as_str().unwrap_or("") {
        "delivered" => EventKind::Delivered,
        "failed" if e["severity"] == "temporary" => EventKind::Deferred,
        // Not sent by Mailgun (its own suppression list): nothing happened to the message.
        "failed" if reason.starts_with("suppress-") => EventKind::Other(format!("failed:{reason}")),
        // `bounce`: the receiving server refused the address; `old` (gave up retrying),
        // `espblock` and the rest are no verdict on the address.
        "failed" => EventKind::Bounced {
            hard: reason == "bounce" && status["code"].as_u64().is_some_and(|c| c >= 500),
        },
        "complained" => EventKind::Complaint,
        "unsubscribed" => EventKind::Unsubscribe,
        "opened" => EventKind::Open,
        "clicked" => EventKind::Click,
        other => EventKind::Other(other.to_string()),
    };
    let code = status["code"].as_u64().filter(|c| (200..600).contains(c));
    let message = text(&status["message"]).or_else(|| text(&status["description"]));
    let reply = match (code, message) {
        (Some(c), Some(m)) if !m.starts_with(&c.to_string()) => Some(format!("{c} {m}")),
        (_, Some(m)) => Some(m),
        (Some(c), None) => Some(c.to_string()),
        (None, None) => None,
    };
    Ok(vec![ProviderEvent {
        // The token: unique per request (one event each) and covered by the signature, which
        // does not cover the event itself. Keyed by it, a captured signature cannot carry a
        // second, different event.
        key: format!("token:{token}"),
        delivery: delivery_id(&e["user-variables"]["herald_delivery"]),
        recipient: text(&e["recipient"]),
        provider_message_id: text(&e["message"]["headers"]["message-id"]),
        at_ms: seconds_to_ms(&e["timestamp"]).unwrap_or(now_ms),
        kind,
        reply,
        remote_mta: text(&status["mx-host"]),
        description: text(&e["reason"]).or_else(|| text(&status["description"])),
    }])
}

fn sendgrid_verify(key: &[u8], req: &HookRequest<'_>) -> Result<(), HookError> {
    let sig = (req.header)("x-twilio-email-event-webhook-signature")
        .ok_or_else(|| unauthorized("no SendGrid signature"))?;
    let ts = (req.header)("x-twilio-email-event-webhook-timestamp")
        .ok_or_else(|| unauthorized("no SendGrid timestamp"))?;
    let sig = B64
        .decode(sig.trim())
        .map_err(|_| unauthorized("malformed signature"))?;
    let point = p256_point(key).ok_or_else(|| unauthorized("unusable SendGrid key"))?;
    let mut signed = Vec::with_capacity(ts.len() + req.body.len());
    signed.extend_from_slice(ts.trim().as_bytes());
    signed.extend_from_slice(req.body);
    signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, point)
        .verify(&signed, &sig)
        .map_err(|_| unauthorized("wrong signature"))?;
    recent(
        ts.trim()
            .parse()
            .map_err(|_| unauthorized("malformed timestamp"))?,
        req.now_s,
    )
}

fn sendgrid_events(body: &[u8], now_ms: i64) -> Result<Vec<ProviderEvent>, HookError> {
    let Value::Array(items) = json(body)? else {
        return Err(HookError::Malformed(
            "expected a JSON array of events".into(),
        ));
    };
    Ok(items
        .iter()
        .filter(|e| e.is_object())
        .map(|e| {
            let kind = match e["event"].as_str().unwrap_or("") {
                "delivered" => EventKind::Delivered,
                "deferred" => EventKind::Deferred,
                // `blocked`: refused for now (often reputation), not a bad address.
                "bounce" => EventKind::Bounced {
                    hard: e["type"] != "blocked",
                },
                "spamreport" => EventKind::Complaint,
                "unsubscribe" | "group_unsubscribe" => EventKind::Unsubscribe,
                "open" => EventKind::Open,
                "click" => EventKind::Click,
                other => EventKind::Other(other.to_string()),
            };
            let reply = text(&e["response"]).or_else(|| {
                let reason = text(&e["reason"])?;
                Some(match text(&e["status"]) {
                    Some(st) if !reason.contains(&st) => format!("{st} {reason}"),
                    _ => reason,
                })
            });
            ProviderEvent {
                key: text(&e["sg_event_id"]).unwrap_or_else(|| digest(e)),
                delivery: delivery_id(&e["herald_delivery"]),
                recipient: text(&e["email"]),
                provider_message_id: text(&e["sg_message_id"]),
                at_ms: seconds_to_ms(&e["timestamp"]).unwrap_or(now_ms),
                kind,
                reply,
                remote_mta: None,
                description: text(&e["bounce_classification"]),
            }
        })
        .collect())
}

fn postmark(e: &Value, now_ms: i64) -> ProviderEvent {
    let record = e["RecordType"].as_str().unwrap_or("");
    let bounce_type = e["Type"].as_str().unwrap_or("");
    let kind = match record {
        "Delivery" => EventKind::Delivered,
        // Postmark's bounce types: only these say something about delivering to the address;
        // the rest (auto-responders, subscribe requests, challenge and virus notifications,
        // address changes…) are mail about mail.
        "Bounce" => match bounce_type {
            "HardBounce" | "BadEmailAddress" => EventKind::Bounced { hard: true },
            "SoftBounce" | "Blocked" | "DMARCPolicy" | "SMTPApiError" => {
                EventKind::Bounced { hard: false }
            }
            "Transient" | "DnsError" => EventKind::Deferred,
            "SpamComplaint" => EventKind::Complaint,
            other => EventKind::Other(format!("bounce:{other}")),
        },
        "SpamComplaint" => EventKind::Complaint,
        // Also sent when Postmark itself suppresses after a hard bounce or a complaint, which
        // arrive as their own events: only the recipient's own request is an unsubscribe.
        "SubscriptionChange"
            if e["SuppressSending"] == true && e["SuppressionReason"] == "ManualSuppression" =>
        {
            EventKind::Unsubscribe
        }
        "Open" => EventKind::Open,
        "Click" => EventKind::Click,
        other => EventKind::Other(other.to_string()),
    };
    let at = ["DeliveredAt", "BouncedAt", "ReceivedAt", "ChangedAt"]
        .iter()
        .find_map(|k| rfc3339_ms(&e[*k]));
    ProviderEvent {
        key: digest(e),
        delivery: delivery_id(&e["Metadata"]["herald_delivery"]),
        recipient: text(&e["Recipient"]).or_else(|| text(&e["Email"])),
        provider_message_id: text(&e["MessageID"]),
        at_ms: at.unwrap_or(now_ms),
        kind,
        reply: text(&e["Details"]).map(strip_diagnostic_type),
        remote_mta: None,
        description: text(&e["Description"]).or_else(|| text(&e["Name"])),
    }
}

fn brevo(e: &Value, now_ms: i64) -> ProviderEvent {
    let kind = match e["event"].as_str().unwrap_or("") {
        "delivered" => EventKind::Delivered,
        "hard_bounce" | "invalid_email" => EventKind::Bounced { hard: true },
        "soft_bounce" | "blocked" => EventKind::Bounced { hard: false },
        "deferred" => EventKind::Deferred,
        "spam" | "complaint" => EventKind::Complaint,
        "unsubscribed" | "unsubscribe" => EventKind::Unsubscribe,
        "opened" | "unique_opened" | "proxy_open" | "unique_proxy_open" => EventKind::Open,
        "click" => EventKind::Click,
        other => EventKind::Other(other.to_string()),
    };
    let custom = text(&e["X-Mailin-custom"]).unwrap_or_default();
    let delivery = custom.split([';', ',', '&']).find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k.trim() == "herald_delivery")
            .then(|| v.trim().parse().ok())
            .flatten()
    });
    ProviderEvent {
        key: digest(e),
        delivery,
        recipient: text(&e["email"]),
        provider_message_id: text(&e["message-id"]),
        at_ms: e["ts_epoch"]
            .as_i64()
            .or_else(|| seconds_to_ms(&e["ts_event"]))
            .unwrap_or(now_ms),
        kind,
        reply: text(&e["reason"]),
        remote_mta: None,
        description: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(headers: &'a dyn Fn(&str) -> Option<String>, body: &'a [u8]) -> HookRequest<'a> {
        HookRequest {
            header: headers,
            body,
            now_s: 1_800_000_000,
        }
    }

    fn mailgun_body(key: &[u8], ts: i64, token: &str, event: &str) -> Vec<u8> {
        let k = hmac::Key::new(hmac::HMAC_SHA256, key);
        let sig = hex(hmac::sign(&k, format!("{ts}{token}").as_bytes()).as_ref());
        format!(
            r#"{{"signature":{{"timestamp":"{ts}","token":"{token}","signature":"{sig}"}},"event-data":{event}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn mailgun_signature_freshness_and_fields() {
        let key = b"key-mailgun-signing";
        let none = |_: &str| None;
        let event = r#"{"event":"delivered","id":"ev1","timestamp":1800000000.5,"recipient":"ann@x.test",
            "message":{"headers":{"message-id":"abc@mg.example"}},
            "delivery-status":{"code":250,"message":"2.0.0 OK: queued as Q1","mx-host":"mx.x.test"},
            "user-variables":{"herald_delivery":"42"}}"#;
        let body = mailgun_body(key, 1_800_000_000, "tok1", event);
        let events = verify_and_parse(
            Provider::Mailgun,
            &HookSecret::HmacKey(key.to_vec()),
            &req(&none, &body),
        )
        .unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(
            (
                e.kind.clone(),
                e.delivery,
                e.reply.as_deref(),
                e.remote_mta.as_deref(),
                e.at_ms
            ),
            (
                EventKind::Delivered,
                Some(42),
                Some("250 2.0.0 OK: queued as Q1"),
                Some("mx.x.test"),
                1_800_000_000_500
            )
        );
        // The signature covers the timestamp and token, not the event: a captured one put on
        // another event gives the same key, so it is a repeat, not a second event.
        let forged = mailgun_body(
            key,
            1_800_000_000,
            "tok1",
            r#"{"event":"failed","severity":"permanent","id":"other","user-variables":{"herald_delivery":"43"}}"#,
        );
        let f = verify_and_parse(
            Provider::Mailgun,
            &HookSecret::HmacKey(key.to_vec()),
            &req(&none, &forged),
        )
        .unwrap();
        assert_eq!(f[0].key, e.key);
        // Another key, a changed body part, an old timestamp: refused.
        let wrong = HookSecret::HmacKey(b"other".to_vec());
        assert!(matches!(
            verify_and_parse(Provider::Mailgun, &wrong, &req(&none, &body)),
            Err(HookError::Unauthorized(_))
        ));
        let old = mailgun_body(key, 1_800_000_000 - 3600, "tok2", event);
        let err = verify_and_parse(
            Provider::Mailgun,
            &HookSecret::HmacKey(key.to_vec()),
            &req(&none, &old),
        )
        .unwrap_err();
        assert!(err.to_string().contains("15 minutes"), "{err}");
    }

    #[test]
    fn postmark_and_brevo_check_their_credentials() {
        let auth = format!("Basic {}", B64.encode("hooks:pw"));
        let good = move |h: &str| (h == "authorization").then(|| auth.clone());
        let none = |_: &str| None;
        let body = br#"{"RecordType":"Bounce","Type":"HardBounce","Email":"ann@x.test","BouncedAt":"2027-01-15T10:00:00Z",
            "Details":"smtp;550 5.1.1 The email account that you tried to reach does not exist","Metadata":{"herald_delivery":"7"}}"#;
        let secret = HookSecret::Basic {
            username: "hooks".into(),
            password: "pw".into(),
        };
        let e = verify_and_parse(Provider::Postmark, &secret, &req(&good, body)).unwrap();
        assert_eq!(e[0].kind, EventKind::Bounced { hard: true });
        assert_eq!(e[0].delivery, Some(7));
        assert!(e[0].reply.as_deref().unwrap().starts_with("550 5.1.1"));
        assert!(verify_and_parse(Provider::Postmark, &secret, &req(&none, body)).is_err());

        let token = |h: &str| (h == "authorization").then(|| "Bearer t0ken".to_string());
        let body = br#"[{"event":"delivered","email":"ann@x.test","message-id":"<m@x>","ts_epoch":1800000000123,"X-Mailin-custom":"herald_delivery=9"},
                        {"event":"spam","email":"bob@x.test","X-Mailin-custom":"herald_delivery=10"}]"#;
        let e = verify_and_parse(
            Provider::Brevo,
            &HookSecret::Bearer("t0ken".into()),
            &req(&token, body),
        )
        .unwrap();
        assert_eq!(
            (e[0].delivery, e[1].delivery, e[1].kind.clone()),
            (Some(9), Some(10), EventKind::Complaint)
        );
        assert_ne!(e[0].key, e[1].key);
        assert!(
            verify_and_parse(
                Provider::Brevo,
                &HookSecret::Bearer("other".into()),
                &req(&token, body)
            )
            .is_err()
        );
    }

    #[test]
    fn sendgrid_ecdsa_over_timestamp_and_body() {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair};
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref())
                .unwrap();
        let spki = pair.public_key().as_der().unwrap();
        let console = B64.encode(spki.as_ref());
        let secret = HookSecret::sendgrid_key(&console).unwrap();
        let body = br#"[{"event":"bounce","email":"ann@x.test","timestamp":1800000000,"sg_event_id":"e1","type":"bounce",
            "status":"5.1.1","reason":"550 5.1.1 user unknown","herald_delivery":"3"}]"#;
        let ts = "1800000000";
        let mut signed = ts.as_bytes().to_vec();
        signed.extend_from_slice(body);
        let sig = B64.encode(pair.sign(&rng, &signed).unwrap().as_ref());
        let headers = move |h: &str| match h {
            "x-twilio-email-event-webhook-signature" => Some(sig.clone()),
            "x-twilio-email-event-webhook-timestamp" => Some(ts.to_string()),
            _ => None,
        };
        let e = verify_and_parse(Provider::Sendgrid, &secret, &req(&headers, body)).unwrap();
        assert_eq!(
            (e[0].kind.clone(), e[0].delivery, e[0].key.as_str()),
            (EventKind::Bounced { hard: true }, Some(3), "e1")
        );
        // One byte of the body changed: refused.
        let mut tampered = body.to_vec();
        tampered[12] ^= 1;
        assert!(verify_and_parse(Provider::Sendgrid, &secret, &req(&headers, &tampered)).is_err());
    }

    #[test]
    fn garbage_never_panics() {
        let none = |_: &str| None;
        let secrets = [
            (Provider::Mailgun, HookSecret::HmacKey(b"k".to_vec())),
            (Provider::Sendgrid, HookSecret::EcdsaP256(vec![0; 91])),
            (
                Provider::Postmark,
                HookSecret::Basic {
                    username: "u".into(),
                    password: "p".into(),
                },
            ),
            (Provider::Brevo, HookSecret::Bearer("t".into())),
            (
                Provider::Ses,
                HookSecret::Sns {
                    topic_arns: vec!["t".into()],
                    pinned: vec![vec![0; 8]],
                },
            ),
        ];
        for body in [
            &b""[..],
            b"[]",
            b"{}",
            b"null",
            b"\xff\xfe",
            br#"{"signature":{"signature":"zz"}}"#,
            br#"{"Type":"Notification","MessageId":"m","TopicArn":"t","Message":"{}","Timestamp":"x","SignatureVersion":"1","Signature":"AAAA","SigningCertURL":"u"}"#,
        ] {
            for (p, s) in &secrets {
                let _ = verify_and_parse(*p, s, &req(&none, body));
            }
        }
        assert_eq!(
            Provider::Sendgrid.metadata_header(5),
            (
                "X-SMTPAPI",
                r#"{"unique_args": {"herald_delivery": "5"}}"#.to_string()
            )
        );
    }
}
