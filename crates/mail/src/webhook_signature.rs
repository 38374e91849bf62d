//! The signature on Herald's own outbound webhook posts (`Herald-Signature`), and its check,
//! for receivers written in Rust and for the tests.
//!
//! `Herald-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` where the HMAC key is the
//! endpoint's secret (the whole `whsec_…` string, as bytes) and the signed bytes are the
//! timestamp, a `.`, and the request body exactly as sent. Binding the time into the MAC lets a
//! receiver refuse a captured post replayed later (compare `t` with its clock).

use aws_lc_rs::{hmac, rand::SecureRandom};
use base64::Engine as _;

/// The header that carries the signature.
pub const HEADER: &str = "Herald-Signature";

/// A new endpoint secret: `whsec_` and 32 random bytes (URL-safe base64). None if the system's
/// random source failed.
pub fn new_secret() -> Option<String> {
    let mut b = [0u8; 32];
    aws_lc_rs::rand::SystemRandom::new().fill(&mut b).ok()?;
    Some(format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    ))
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> hmac::Tag {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    ctx.sign()
}

/// The header's value for `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body);
    let mut v = format!("t={timestamp},v1=");
    for b in tag.as_ref() {
        v.push_str(&format!("{b:02x}"));
    }
    v
}

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Herald-Signature header is malformed (expected t=<seconds>,v1=<hex>)")]
    Malformed,
    #[error("the signature's time is outside the tolerance (a replay, or a wrong clock)")]
    Stale,
    #[error("the signature does not match the body (wrong secret, or the body was changed)")]
    Mismatch,
}

/// Check a post: the header's MAC over `body`, and its time within `tolerance_secs` of `now`.
/// Any of several `v1=` values may match (a secret being rolled).
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(v),
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if sigs.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now_secs - t).abs() > tolerance_secs {
        return Err(SignatureError::Stale);
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut signed = t.to_string().into_bytes();
    signed.push(b'.');
    signed.extend_from_slice(body);
    for s in sigs {
        if let Some(tag) = unhex(s)
            && hmac::verify(&key, &signed, &tag).is_ok()
        {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_and_refuses_changes() {
        let secret = new_secret().unwrap();
        assert!(secret.starts_with("whsec_") && secret.len() > 40);
        let body = br#"{"id":"evt_1","type":"delivered"}"#;
        let h = sign(&secret, 1_764_000_000, body);
        assert!(h.starts_with("t=1764000000,v1="));
        assert_eq!(verify(&secret, &h, body, 1_764_000_100, 300), Ok(()));
        assert_eq!(
            verify(&secret, &h, b"{}", 1_764_000_100, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("whsec_other", &h, body, 1_764_000_100, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&secret, &h, body, 1_764_001_000, 300),
            Err(SignatureError::Stale)
        );
        // The time is part of what is signed: moving it breaks the signature.
        let moved = h.replace("t=1764000000", "t=1764000900");
        assert_eq!(
            verify(&secret, &moved, body, 1_764_000_900, 300),
            Err(SignatureError::Mismatch)
        );
        for bad in [
            "",
            "t=x,v1=00",
            "v1=00",
            "t=1764000000",
            "t=1764000000,v1=zz",
        ] {
            assert_ne!(verify(&secret, bad, body, 1_764_000_000, 300), Ok(()));
        }
    }

    #[test]
    fn a_known_vector() {
        // HMAC-SHA256(key "whsec_test", "1700000000.{}") computed independently (Python hmac).
        assert_eq!(
            sign("whsec_test", 1_700_000_000, b"{}"),
            "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
        );
    }
}
