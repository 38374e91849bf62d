//! The keyed hash that stands in for an erased person's address (`herald contacts erase`).
//!
//! After an erasure the address itself is gone from the database; what stays is
//! `erased:<HMAC-SHA256(key, address key)>` on the suppression list, so the address is never
//! mailed or silently imported again, while someone holding only a copy of the database (no
//! key) cannot test guesses against it. The key lives beside the other secrets
//! (`<data dir>/secrets/erasure.key`) and must never change: a new key forgets every erasure.

use aws_lc_rs::hmac;

/// What every erasure token starts with (no address key can: they hold an `@`, never a `:`
/// first).
pub const TOKEN_PREFIX: &str = "erased:";

/// The secret behind erasure tokens.
pub struct ErasureKey(hmac::Key);

impl std::fmt::Debug for ErasureKey {
    /// Never the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ErasureKey(…)")
    }
}

impl ErasureKey {
    /// A key from at least 32 secret bytes.
    pub fn new(secret: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// The token for an address key (`EmailAddress::key`): `erased:` and 64 hex digits.
    pub fn token(&self, email_key: &str) -> String {
        let tag = hmac::sign(&self.0, format!("herald-erasure-v1:{email_key}").as_bytes());
        let mut out = String::with_capacity(TOKEN_PREFIX.len() + 64);
        out.push_str(TOKEN_PREFIX);
        for b in tag.as_ref() {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    /// What stands in for the address in delivery records: a reserved, undeliverable address
    /// (RFC 2606 `.invalid`), distinct per person so a campaign's records stay one per person.
    pub fn placeholder(&self, email_key: &str) -> String {
        let t = self.token(email_key);
        format!(
            "erased-{}@erased.invalid",
            &t[TOKEN_PREFIX.len()..TOKEN_PREFIX.len() + 16]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stable_keyed_and_distinct() {
        let a = ErasureKey::new(&[1; 32]);
        let b = ErasureKey::new(&[2; 32]);
        let t = a.token("eve@example.org");
        assert_eq!(t, a.token("eve@example.org"));
        assert!(t.starts_with(TOKEN_PREFIX) && t.len() == TOKEN_PREFIX.len() + 64);
        assert_ne!(t, a.token("adam@example.org"));
        assert_ne!(t, b.token("eve@example.org"));
        assert!(!t.contains("eve"));
        let p = a.placeholder("eve@example.org");
        assert!(p.starts_with("erased-") && p.ends_with("@erased.invalid"));
        assert_ne!(p, a.placeholder("adam@example.org"));
    }
}
