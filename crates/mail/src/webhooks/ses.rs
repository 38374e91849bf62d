//! Amazon SES events, delivered through Amazon SNS: the SNS envelope's signature checked
//! against Amazon's signing certificate, the topic checked against the configured ones, then
//! the SES event inside read into [`ProviderEvent`]s.
//!
//! From the public documentation of SNS ("Verifying the signatures of Amazon SNS messages") and
//! SES ("Contents of event data that Amazon SES publishes to Amazon SNS"):
//! - An SNS post is a JSON object with `Type` (`Notification`, `SubscriptionConfirmation`,
//!   `UnsubscribeConfirmation`), `MessageId`, `TopicArn`, `Message`, `Timestamp`,
//!   `SignatureVersion`, `Signature` (base64) and `SigningCertURL`; confirmations add `Token`
//!   and `SubscribeURL`, a notification may carry a `Subject`.
//! - The signed text is, for a notification, `Message`, `MessageId`, `Subject` (when present),
//!   `Timestamp`, `TopicArn`, `Type`; for a confirmation `Message`, `MessageId`, `SubscribeURL`,
//!   `Timestamp`, `Token`, `TopicArn`, `Type`: each as its name, a newline, its value, a
//!   newline. `SignatureVersion` 1 is RSA PKCS#1 v1.5 with SHA-1, 2 with SHA-256, by the key of
//!   the X.509 certificate at `SigningCertURL` (an `sns.<region>.amazonaws.com` address).
//! - The notification's `Message` is the SES event, itself JSON: `eventType` (event publishing
//!   through a configuration set) or `notificationType` (an identity's notifications), `mail`
//!   (with `tags`, where `X-SES-MESSAGE-TAGS` values land) and one object per kind (`delivery`,
//!   `bounce`, `complaint`, `deliveryDelay`, `open`, `click`, …).
//!
//! Written by hand for the same reason as the other providers (no maintained crate reads these);
//! the certificate is parsed by rustls-webpki and the signature checked by aws-lc-rs.

use aws_lc_rs::signature;
use base64::Engine as _;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{
    AlgorithmIdentifier, CertificateDer, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};
use serde_json::Value;

use super::{EventKind, HookError, ProviderEvent, digest, rfc3339_ms, strip_diagnostic_type, text};

/// How far an SNS message's `Timestamp` (its publication) may be from now. SNS retries an HTTP
/// delivery for at most an hour under the longest delivery policy it allows; a message older
/// than that is a replay. (A replay within the hour is a repeat: each message is applied once.)
pub const TOLERANCE_S: i64 = 60 * 60;

/// What an SNS post is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    Notification,
    SubscriptionConfirmation,
    UnsubscribeConfirmation,
}

/// An SNS post, read but not yet verified.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub kind: MessageType,
    pub message_id: String,
    pub topic_arn: String,
    pub subject: Option<String>,
    pub message: String,
    pub timestamp: String,
    pub signature_version: String,
    pub signature: Vec<u8>,
    pub signing_cert_url: String,
    pub subscribe_url: Option<String>,
    pub token: Option<String>,
}

fn unauthorized(why: &str) -> HookError {
    HookError::Unauthorized(why.to_string())
}

impl Envelope {
    /// Read an SNS post. Anything that is not one is refused as unauthenticated (401): nothing
    /// about it can be trusted yet.
    pub fn parse(body: &[u8]) -> Result<Envelope, HookError> {
        let v: Value =
            serde_json::from_slice(body).map_err(|_| unauthorized("not an SNS message"))?;
        let field = |name: &str| v[name].as_str().map(str::to_string);
        let need = |name: &str| field(name).ok_or_else(|| unauthorized(&format!("no {name}")));
        let kind = match need("Type")?.as_str() {
            "Notification" => MessageType::Notification,
            "SubscriptionConfirmation" => MessageType::SubscriptionConfirmation,
            "UnsubscribeConfirmation" => MessageType::UnsubscribeConfirmation,
            _ => return Err(unauthorized("not an SNS message type")),
        };
        let signature = base64::engine::general_purpose::STANDARD
            .decode(need("Signature")?.trim())
            .map_err(|_| unauthorized("malformed signature"))?;
        let env = Envelope {
            kind,
            message_id: need("MessageId")?,
            topic_arn: need("TopicArn")?,
            subject: field("Subject"),
            message: need("Message")?,
            timestamp: need("Timestamp")?,
            signature_version: need("SignatureVersion")?,
            signature,
            signing_cert_url: need("SigningCertURL")?,
            subscribe_url: field("SubscribeURL"),
            token: field("Token"),
        };
        if kind != MessageType::Notification && (env.subscribe_url.is_none() || env.token.is_none())
        {
            return Err(unauthorized("no SubscribeURL or Token"));
        }
        Ok(env)
    }

    /// The text SNS signs for this message.
    pub fn string_to_sign(&self) -> String {
        let mut s = String::new();
        let mut add = |name: &str, value: &str| {
            s.push_str(name);
            s.push('\n');
            s.push_str(value);
            s.push('\n');
        };
        add("Message", &self.message);
        add("MessageId", &self.message_id);
        match self.kind {
            MessageType::Notification => {
                if let Some(subject) = &self.subject {
                    add("Subject", subject);
                }
                add("Timestamp", &self.timestamp);
            }
            MessageType::SubscriptionConfirmation | MessageType::UnsubscribeConfirmation => {
                add("SubscribeURL", self.subscribe_url.as_deref().unwrap_or(""));
                add("Timestamp", &self.timestamp);
                add("Token", self.token.as_deref().unwrap_or(""));
            }
        }
        add("TopicArn", &self.topic_arn);
        add(
            "Type",
            match self.kind {
                MessageType::Notification => "Notification",
                MessageType::SubscriptionConfirmation => "SubscriptionConfirmation",
                MessageType::UnsubscribeConfirmation => "UnsubscribeConfirmation",
            },
        );
        s
    }

    /// Check the message: its topic is one of `topics`, it is signed by the key of one of
    /// `certificates` (DER), and it was published within [`TOLERANCE_S`] of `now_s`.
    pub fn verify(
        &self,
        topics: &[String],
        certificates: &[impl AsRef<[u8]>],
        now_s: i64,
    ) -> Result<(), HookError> {
        if !topics.iter().any(|t| t == &self.topic_arn) {
            return Err(unauthorized(
                "a topic this installation does not subscribe to",
            ));
        }
        let alg: &dyn SignatureVerificationAlgorithm = match self.signature_version.as_str() {
            "1" => &RsaPkcs1(&signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY),
            "2" => &RsaPkcs1(&signature::RSA_PKCS1_2048_8192_SHA256),
            _ => return Err(unauthorized("an unknown SignatureVersion")),
        };
        let signed = self.string_to_sign();
        let good = certificates.iter().any(|der| {
            let der = CertificateDer::from(der.as_ref());
            webpki::EndEntityCert::try_from(&der).is_ok_and(|cert| {
                cert.verify_signature(alg, signed.as_bytes(), &self.signature)
                    .is_ok()
            })
        });
        if !good {
            return Err(unauthorized("wrong signature"));
        }
        let at = rfc3339_ms(&Value::String(self.timestamp.clone()))
            .ok_or_else(|| unauthorized("malformed Timestamp"))?;
        if (now_s - at / 1000).abs() > TOLERANCE_S {
            return Err(unauthorized(
                "published more than an hour from now (a replay, or a clock far off)",
            ));
        }
        Ok(())
    }
}

/// RSA PKCS#1 v1.5 with a given hash, for webpki's check of a signature by a certificate's key
/// (webpki itself offers no SHA-1, which SNS's SignatureVersion 1 uses).
#[derive(Debug)]
struct RsaPkcs1(&'static signature::RsaParameters);

impl SignatureVerificationAlgorithm for RsaPkcs1 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        sig: &[u8],
    ) -> Result<(), InvalidSignature> {
        signature::UnparsedPublicKey::new(self.0, public_key)
            .verify(message, sig)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        // Only used when checking certificates' own signatures, which this never does.
        alg_id::RSA_PKCS1_SHA256
    }
}

/// The certificates (DER) of a PEM file, each one webpki can read.
pub fn certificates_from_pem(pem: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| format!("not a PEM certificate: {e}"))?;
        webpki::EndEntityCert::try_from(&cert)
            .map_err(|e| format!("not a certificate webpki can read: {e}"))?;
        out.push(cert.as_ref().to_vec());
    }
    if out.is_empty() {
        return Err("no certificate in it".into());
    }
    Ok(out)
}

/// The region of an SNS topic ARN (`arn:aws:sns:<region>:<account>:<name>`), when it has the
/// shape of one (`us-east-1`, `cn-north-1`, `us-gov-west-1`).
pub fn topic_region(topic_arn: &str) -> Option<&str> {
    let mut parts = topic_arn.split(':');
    let (arn, _partition, service, region) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    (arn == "arn" && service == "sns" && region_shape(region)).then_some(region)
}

/// Two letters, then `-word`s, then `-<digits>`: a name `sns.s3.amazonaws.com` (an S3 bucket
/// called "sns") or `sns.s3-accelerate…` cannot pass for a region.
fn region_shape(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// `https://sns.<the topic's region>.amazonaws.com[.cn]/…`: Amazon SNS in the topic's own
/// region, over HTTPS, with no user, port or fragment. `path_ok` decides about the rest.
fn sns_url(url: &str, topic_arn: &str, path_ok: impl Fn(&str) -> bool) -> bool {
    let Some(region) = topic_region(topic_arn) else {
        return false;
    };
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let ok_host = host == format!("sns.{region}.amazonaws.com")
        || host == format!("sns.{region}.amazonaws.com.cn");
    ok_host && !path.contains('#') && !path.contains("..") && path_ok(path)
}

/// May Herald fetch a signing certificate for a message of `topic_arn` from this
/// `SigningCertURL`? Only Amazon SNS's own in that topic's region
/// (`https://sns.<region>.amazonaws.com/SimpleNotificationService-….pem`).
pub fn certificate_url_ok(url: &str, topic_arn: &str) -> bool {
    sns_url(url, topic_arn, |path| {
        path.strip_prefix("/SimpleNotificationService-")
            .and_then(|p| p.strip_suffix(".pem"))
            .is_some_and(|name| {
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    })
}

/// May Herald visit this `SubscribeURL` to confirm a subscription to `topic_arn`? Only Amazon
/// SNS's `ConfirmSubscription` action for that topic, in its region.
pub fn subscribe_url_ok(url: &str, topic_arn: &str) -> bool {
    sns_url(url, topic_arn, |path| {
        let Some(query) = path.strip_prefix("/?") else {
            return false;
        };
        let mut action = false;
        let mut topic = false;
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("Action", "ConfirmSubscription")) => action = true,
                Some(("TopicArn", v)) => topic = percent_decoded(v) == topic_arn,
                _ => {}
            }
        }
        action && topic
    })
}

fn percent_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The SES events of a verified notification (none for a confirmation).
pub fn events(env: &Envelope, now_ms: i64) -> Result<Vec<ProviderEvent>, HookError> {
    if env.kind != MessageType::Notification {
        return Ok(Vec::new());
    }
    let e: Value = serde_json::from_str(&env.message)
        .map_err(|e| HookError::Malformed(format!("the SNS Message is not an SES event: {e}")))?;
    if !e.is_object() {
        return Err(HookError::Malformed(
            "the SNS Message is not an SES event".into(),
        ));
    }
    let kind_name = e["eventType"]
        .as_str()
        .or_else(|| e["notificationType"].as_str())
        .unwrap_or("");
    let mail = &e["mail"];
    let delivery = mail["tags"]["herald_delivery"]
        .get(0)
        .and_then(text)
        .and_then(|v| v.parse().ok());
    let message_id = text(&mail["messageId"]);
    // (recipient, kind, reply, at) for each recipient the event is about.
    let mut each: Vec<(Option<String>, EventKind, Option<String>)> = Vec::new();
    let mut at = None;
    let mut remote_mta = None;
    let mut description = None;
    let recipients = |list: &Value, field: &str| -> Vec<Value> {
        list.as_array()
            .map(|a| {
                a.iter()
                    .take(1000)
                    .map(|r| {
                        if field.is_empty() {
                            r.clone()
                        } else {
                            r[field].clone()
                        }
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    match kind_name {
        "Delivery" => {
            let d = &e["delivery"];
            at = rfc3339_ms(&d["timestamp"]);
            remote_mta = text(&d["remoteMtaIp"]);
            description = text(&d["reportingMTA"]).map(|m| format!("reported by {m}"));
            for r in recipients(&d["recipients"], "") {
                each.push((text(&r), EventKind::Delivered, text(&d["smtpResponse"])));
            }
        }
        "Bounce" => {
            let b = &e["bounce"];
            at = rfc3339_ms(&b["timestamp"]);
            let bounce_type = b["bounceType"].as_str().unwrap_or("");
            let sub = b["bounceSubType"].as_str().unwrap_or("");
            description = Some(format!("{bounce_type}/{sub}"));
            let kind = match (bounce_type, sub) {
                // `Suppressed`, `OnAccountSuppressionList`: SES did not send, the address is on
                // its (or the account's) list of addresses that bounced or complained; SES
                // asks senders to stop mailing them, so Herald suppresses them too.
                (
                    "Permanent",
                    "General" | "NoEmail" | "Suppressed" | "OnAccountSuppressionList",
                ) => EventKind::Bounced { hard: true },
                _ => EventKind::Bounced { hard: false },
            };
            if let Some(list) = b["bouncedRecipients"].as_array() {
                for r in list.iter().take(1000) {
                    let reply = text(&r["diagnosticCode"]).map(strip_diagnostic_type);
                    each.push((text(&r["emailAddress"]), kind.clone(), reply));
                }
            }
        }
        "Complaint" => {
            let c = &e["complaint"];
            at = rfc3339_ms(&c["timestamp"]);
            description = text(&c["complaintFeedbackType"]);
            // Not sent (the address is on the account's suppression list): no one complained.
            let kind = if c["complaintSubType"] == "OnAccountSuppressionList" {
                EventKind::Other("complaint:OnAccountSuppressionList".into())
            } else {
                EventKind::Complaint
            };
            for r in recipients(&c["complainedRecipients"], "emailAddress") {
                each.push((text(&r), kind.clone(), None));
            }
        }
        "DeliveryDelay" => {
            let d = &e["deliveryDelay"];
            at = rfc3339_ms(&d["timestamp"]);
            description = text(&d["delayType"]);
            if let Some(list) = d["delayedRecipients"].as_array() {
                for r in list.iter().take(1000) {
                    let reply = text(&r["diagnosticCode"]).map(strip_diagnostic_type);
                    each.push((text(&r["emailAddress"]), EventKind::Deferred, reply));
                }
            }
        }
        "Open" | "Click" => {
            let o = if kind_name == "Open" {
                &e["open"]
            } else {
                &e["click"]
            };
            at = rfc3339_ms(&o["timestamp"]);
            let kind = if kind_name == "Open" {
                EventKind::Open
            } else {
                EventKind::Click
            };
            for r in recipients(&mail["destination"], "") {
                each.push((text(&r), kind.clone(), None));
            }
        }
        other => {
            let name = if other.is_empty() { "unknown" } else { other };
            for r in recipients(&mail["destination"], "") {
                each.push((text(&r), EventKind::Other(name.to_string()), None));
            }
        }
    }
    if each.is_empty() {
        // Kept, so the message is spent: an event naming nobody.
        each.push((None, EventKind::Other(kind_name.to_string()), None));
    }
    // The SES event's own identity (its message, kind, feedback id or time), so one event
    // published to two topics, or posted twice, is applied once; else the SNS message's.
    let when = text(&e[kind_object(kind_name)]["feedbackId"])
        .or_else(|| text(&e[kind_object(kind_name)]["timestamp"]));
    let base = match (&message_id, when) {
        (Some(m), Some(w)) => format!("ses:{m}:{kind_name}:{w}"),
        _ if !env.message_id.is_empty() => format!("sns:{}", env.message_id),
        _ => digest(&e),
    };
    Ok(each
        .into_iter()
        .enumerate()
        .map(|(i, (recipient, kind, reply))| ProviderEvent {
            key: format!(
                "{base}:{}",
                recipient
                    .as_deref()
                    .map_or_else(|| i.to_string(), str::to_ascii_lowercase)
            ),
            delivery,
            recipient,
            provider_message_id: message_id.clone(),
            at_ms: at.unwrap_or(now_ms),
            kind,
            reply,
            remote_mta: remote_mta.clone(),
            description: description.clone(),
        })
        .collect())
}

/// The member of an SES event that holds its details.
fn kind_object(kind_name: &str) -> &'static str {
    match kind_name {
        "Delivery" => "delivery",
        "Bounce" => "bounce",
        "Complaint" => "complaint",
        "DeliveryDelay" => "deliveryDelay",
        "Open" => "open",
        "Click" => "click",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_amazon_sns_urls_are_fetched_or_visited() {
        let topic = "arn:aws:sns:us-east-1:123456789012:herald";
        let cert = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem";
        assert!(certificate_url_ok(cert, topic));
        assert!(certificate_url_ok(
            "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
            "arn:aws-cn:sns:cn-north-1:123456789012:herald"
        ));
        assert!(certificate_url_ok(
            "https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
            "arn:aws-us-gov:sns:us-gov-west-1:123456789012:herald"
        ));
        for bad in [
            "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
            "https://sns.us-east-1.amazonaws.com.evil.test/SimpleNotificationService-1.pem",
            "https://evil.test/sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
            "https://sns.us-east-1.amazonaws.com@evil.test/SimpleNotificationService-1.pem",
            "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-1.pem",
            "https://sns..amazonaws.com/SimpleNotificationService-1.pem",
            "https://sns.us-east-1.amazonaws.com/other.pem",
            "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem?x=1",
            "https://s3.amazonaws.com/SimpleNotificationService-1.pem",
            // S3 bucket names that look like SNS hosts, and another region than the topic's.
            "https://sns.s3.amazonaws.com/SimpleNotificationService-1.pem",
            "https://sns.s3-us-west-2.amazonaws.com/SimpleNotificationService-1.pem",
            "https://sns.s3-accelerate.amazonaws.com/SimpleNotificationService-1.pem",
            "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-1.pem",
        ] {
            assert!(!certificate_url_ok(bad, topic), "{bad}");
        }
        assert!(!certificate_url_ok(
            cert,
            "arn:aws:sns:s3:123456789012:herald"
        ));
        assert!(!certificate_url_ok(cert, "not an arn"));
        let confirm = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aherald&Token=2336412f37";
        assert!(subscribe_url_ok(confirm, topic));
        assert!(!subscribe_url_ok(
            confirm,
            "arn:aws:sns:us-east-1:123456789012:other"
        ));
        assert!(!subscribe_url_ok(
            &confirm.replace("ConfirmSubscription", "Unsubscribe"),
            topic
        ));
        assert!(!subscribe_url_ok(
            &confirm.replace("https://sns.us-east-1.amazonaws.com", "https://evil.test"),
            topic
        ));
    }

    /// `envelope("{}")` as SNS signs it (`version` 1: SHA-1, 2: SHA-256): the signatures were
    /// made with `openssl dgst -sign` by the key of `testdata/sns-test.pem` (`openssl req
    /// -x509`; the key was not kept).
    fn signed(version: &str) -> Envelope {
        let sig = match version {
            "1" => include_str!("../../testdata/sns-v1.sig"),
            _ => include_str!("../../testdata/sns-v2.sig"),
        };
        let mut env = envelope("{}");
        env.signature_version = version.into();
        env.signature = base64::engine::general_purpose::STANDARD
            .decode(sig.trim())
            .unwrap();
        env
    }

    #[test]
    fn signatures_are_checked_against_the_certificate_topic_and_time() {
        let cert = certificates_from_pem(include_bytes!("../../testdata/sns-test.pem")).unwrap();
        let other = certificates_from_pem(include_bytes!("../../testdata/sns-other.pem")).unwrap();
        let topics = vec!["arn:aws:sns:us-east-1:1:t".to_string()];
        let now = 1_800_007_200;
        for version in ["1", "2"] {
            let env = signed(version);
            assert_eq!(env.verify(&topics, &cert, now), Ok(()), "version {version}");
            // Another certificate, another topic, a changed message, an hour and more later.
            assert!(env.verify(&topics, &other, now).is_err());
            assert!(
                env.verify(&["arn:aws:sns:us-east-1:1:u".into()], &cert, now)
                    .is_err()
            );
            let mut changed = env.clone();
            changed.message = "{ }".into();
            assert!(changed.verify(&topics, &cert, now).is_err());
            let late = env
                .verify(&topics, &cert, now + TOLERANCE_S + 1)
                .unwrap_err();
            assert!(late.to_string().contains("an hour"), "{late}");
        }
        // Signed with SHA-256 but claimed as version 1 (or an unknown version): refused.
        let mut env = signed("2");
        env.signature_version = "1".into();
        assert!(env.verify(&topics, &cert, now).is_err());
        env.signature_version = "3".into();
        assert!(env.verify(&topics, &cert, now).is_err());
        assert!(
            certificates_from_pem(
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
            )
            .is_err()
        );
        assert!(certificates_from_pem(b"nothing").is_err());
    }

    fn envelope(message: &str) -> Envelope {
        Envelope {
            kind: MessageType::Notification,
            message_id: "m-1".into(),
            topic_arn: "arn:aws:sns:us-east-1:1:t".into(),
            subject: None,
            message: message.into(),
            timestamp: "2027-01-15T10:00:00.000Z".into(),
            signature_version: "1".into(),
            signature: Vec::new(),
            signing_cert_url: String::new(),
            subscribe_url: None,
            token: None,
        }
    }

    #[test]
    fn the_signed_text_follows_the_documented_order() {
        let mut e = envelope("hello");
        e.subject = Some("Subj".into());
        assert_eq!(
            e.string_to_sign(),
            "Message\nhello\nMessageId\nm-1\nSubject\nSubj\nTimestamp\n2027-01-15T10:00:00.000Z\nTopicArn\narn:aws:sns:us-east-1:1:t\nType\nNotification\n"
        );
        e.kind = MessageType::SubscriptionConfirmation;
        e.subscribe_url = Some("https://x".into());
        e.token = Some("tok".into());
        assert_eq!(
            e.string_to_sign(),
            "Message\nhello\nMessageId\nm-1\nSubscribeURL\nhttps://x\nTimestamp\n2027-01-15T10:00:00.000Z\nToken\ntok\nTopicArn\narn:aws:sns:us-east-1:1:t\nType\nSubscriptionConfirmation\n"
        );
    }

    #[test]
    fn ses_events_map_to_the_common_vocabulary() {
        let bounce = r#"{"eventType":"Bounce","mail":{"messageId":"0100-abc","destination":["a@x.test","b@x.test"],"tags":{"herald_delivery":["42"]}},
            "bounce":{"bounceType":"Permanent","bounceSubType":"General","timestamp":"2027-01-15T10:00:01.000Z",
            "bouncedRecipients":[{"emailAddress":"a@x.test","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}]}}"#;
        let e = events(&envelope(bounce), 0).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(
            (
                e[0].kind.clone(),
                e[0].delivery,
                e[0].recipient.as_deref(),
                e[0].reply.as_deref(),
                e[0].provider_message_id.as_deref(),
                e[0].at_ms,
                e[0].key.as_str()
            ),
            (
                EventKind::Bounced { hard: true },
                Some(42),
                Some("a@x.test"),
                Some("550 5.1.1 user unknown"),
                Some("0100-abc"),
                1_800_007_201_000,
                "ses:0100-abc:Bounce:2027-01-15T10:00:01.000Z:a@x.test"
            )
        );
        // The same SES event in another SNS message (a second topic): the same key.
        let mut again = envelope(bounce);
        again.message_id = "m-2".into();
        assert_eq!(events(&again, 0).unwrap()[0].key, e[0].key);
        let suppressed = bounce.replace("\"General\"", "\"OnAccountSuppressionList\"");
        assert_eq!(
            events(&envelope(&suppressed), 0).unwrap()[0].kind,
            EventKind::Bounced { hard: true }
        );
        let transient = bounce.replace("Permanent", "Transient");
        assert_eq!(
            events(&envelope(&transient), 0).unwrap()[0].kind,
            EventKind::Bounced { hard: false }
        );
        let delivered = r#"{"notificationType":"Delivery","mail":{"messageId":"0100-def","destination":["a@x.test"]},
            "delivery":{"timestamp":"2027-01-15T10:00:02.000Z","recipients":["a@x.test"],"smtpResponse":"250 2.0.0 OK 1700000000 q1","remoteMtaIp":"192.0.2.7","reportingMTA":"a8-1.smtp-out.amazonses.com"}}"#;
        let e = events(&envelope(delivered), 0).unwrap();
        assert_eq!(
            (
                e[0].kind.clone(),
                e[0].delivery,
                e[0].reply.as_deref(),
                e[0].remote_mta.as_deref()
            ),
            (
                EventKind::Delivered,
                None,
                Some("250 2.0.0 OK 1700000000 q1"),
                Some("192.0.2.7")
            )
        );
        let complaint = r#"{"eventType":"Complaint","mail":{"tags":{"herald_delivery":["7"]}},"complaint":{"complaintFeedbackType":"abuse","complainedRecipients":[{"emailAddress":"c@x.test"}]}}"#;
        let e = events(&envelope(complaint), 5).unwrap();
        assert_eq!(
            (e[0].kind.clone(), e[0].delivery, e[0].at_ms),
            (EventKind::Complaint, Some(7), 5)
        );
        let never_sent = complaint.replace(
            r#""complaintFeedbackType":"abuse""#,
            r#""complaintSubType":"OnAccountSuppressionList""#,
        );
        assert!(matches!(
            events(&envelope(&never_sent), 5).unwrap()[0].kind,
            EventKind::Other(_)
        ));
        let delay = r#"{"eventType":"DeliveryDelay","mail":{},"deliveryDelay":{"delayType":"MailboxFull","delayedRecipients":[{"emailAddress":"d@x.test","diagnosticCode":"smtp; 452 4.2.2 full"}]}}"#;
        let e = events(&envelope(delay), 0).unwrap();
        assert_eq!(
            (e[0].kind.clone(), e[0].reply.as_deref()),
            (EventKind::Deferred, Some("452 4.2.2 full"))
        );
        for garbage in [
            "",
            "null",
            "[]",
            "{}",
            r#"{"eventType":"Bounce","bounce":7}"#,
        ] {
            let _ = events(&envelope(garbage), 0);
        }
    }
}
