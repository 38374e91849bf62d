//! `EmailAddress`: an address that is safe to put in `MAIL FROM`/`RCPT TO` and a header.
//!
//! Parsing follows RFC 5321 §4.1.2 (dot-atom local part) with the domain converted to its
//! ASCII (A-label) form per RFC 5891, because Herald does not use SMTPUTF8. Addresses compare
//! case-insensitively through [`EmailAddress::key`], as every marketing tool does, while the
//! spelling first seen is kept for sending.

use std::fmt;

/// Why a string is not an address Herald will send to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("address is empty")]
    Empty,
    #[error("address contains a control character or white space")]
    ControlOrSpace,
    #[error("address has no '@'")]
    NoAt,
    #[error("local part (before '@') is empty")]
    EmptyLocal,
    #[error("local part is longer than 64 characters")]
    LocalTooLong,
    #[error("local part has a character not allowed in a dot-atom: {0:?}")]
    BadLocalChar(char),
    #[error("local part has a leading, trailing or double dot")]
    BadDots,
    #[error("domain is empty")]
    EmptyDomain,
    #[error("domain is not a valid host name: {0}")]
    BadDomain(String),
    #[error("address is longer than 254 characters")]
    TooLong,
}

/// A validated email address.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress {
    /// As sent: local part as first spelled, domain in lower-case ASCII.
    addr: String,
    at: usize,
}

impl EmailAddress {
    /// Parse and normalise an address (surrounding white space is trimmed).
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(AddressError::Empty);
        }
        if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(AddressError::ControlOrSpace);
        }
        let at = s.rfind('@').ok_or(AddressError::NoAt)?;
        let (local, domain) = (&s[..at], &s[at + 1..]);
        if local.is_empty() {
            return Err(AddressError::EmptyLocal);
        }
        if local.len() > 64 {
            return Err(AddressError::LocalTooLong);
        }
        // RFC 5322 atext, plus '.' between atoms. Non-ASCII would need SMTPUTF8.
        if let Some(c) = local
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(*c)))
        {
            return Err(AddressError::BadLocalChar(c));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(AddressError::BadDots);
        }
        let domain = normalise_domain(domain)?;
        let addr = format!("{local}@{domain}");
        if addr.len() > 254 {
            return Err(AddressError::TooLong);
        }
        Ok(Self { addr, at })
    }

    /// The address as Herald sends it.
    pub fn as_str(&self) -> &str {
        &self.addr
    }

    pub fn local_part(&self) -> &str {
        &self.addr[..self.at]
    }

    /// Domain in lower-case ASCII (A-labels).
    pub fn domain(&self) -> &str {
        &self.addr[self.at + 1..]
    }

    /// The comparison key: the whole address in lower case.
    pub fn key(&self) -> String {
        self.addr.to_ascii_lowercase()
    }
}

/// The domain part of an address as written (after the last `@`; empty when there is none),
/// for addresses already stored — parse new input with [`EmailAddress::parse`].
pub fn domain_part(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

/// Convert a domain to lower-case ASCII and check it is a host name (RFC 1123 labels).
pub fn normalise_domain(domain: &str) -> Result<String, AddressError> {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.is_empty() {
        return Err(AddressError::EmptyDomain);
    }
    let ascii =
        idna::domain_to_ascii(domain).map_err(|_| AddressError::BadDomain(domain.to_string()))?;
    if ascii.len() > 253 || !ascii.contains('.') && ascii != "localhost" {
        return Err(AddressError::BadDomain(domain.to_string()));
    }
    for label in ascii.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return Err(AddressError::BadDomain(domain.to_string()));
        }
    }
    Ok(ascii)
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.addr)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.addr)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = AddressError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl serde::Serialize for EmailAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.addr)
    }
}

impl<'de> serde::Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_domain_part_of_a_stored_address() {
        assert_eq!(domain_part("ann@example.com"), "example.com");
        assert_eq!(domain_part("\"a@b\"@example.com"), "example.com");
        assert_eq!(domain_part("no-at-sign"), "");
    }

    #[test]
    fn keeps_spelling_and_compares_case_insensitively() {
        let a = EmailAddress::parse("  Ann.Lee@Example.COM ").unwrap();
        assert_eq!(a.as_str(), "Ann.Lee@example.com");
        assert_eq!(a.key(), "ann.lee@example.com");
        assert_eq!(a.domain(), "example.com");
        assert_eq!(a.local_part(), "Ann.Lee");
    }

    #[test]
    fn idn_domains_become_a_labels() {
        let a = EmailAddress::parse("jo@bücher.example").unwrap();
        assert_eq!(a.domain(), "xn--bcher-kva.example");
        let b = EmailAddress::parse("JO@XN--BCHER-KVA.example").unwrap();
        assert_eq!(a.key(), b.key());
    }

    #[test]
    fn rejects_what_cannot_be_sent() {
        let cases = [
            ("", AddressError::Empty),
            ("ann", AddressError::NoAt),
            ("@x.com", AddressError::EmptyLocal),
            ("a b@x.com", AddressError::ControlOrSpace),
            ("a\r\nBcc: x@y.com", AddressError::ControlOrSpace),
            (".a@x.com", AddressError::BadDots),
            ("a..b@x.com", AddressError::BadDots),
            ("a<b@x.com", AddressError::BadLocalChar('<')),
            ("jö@x.com", AddressError::BadLocalChar('ö')),
            ("a@", AddressError::EmptyDomain),
        ];
        for (input, want) in cases {
            assert_eq!(EmailAddress::parse(input), Err(want), "{input:?}");
        }
        assert!(matches!(
            EmailAddress::parse("a@-x.com"),
            Err(AddressError::BadDomain(_))
        ));
        assert!(matches!(
            EmailAddress::parse("a@x_y.com"),
            Err(AddressError::BadDomain(_))
        ));
        assert!(matches!(
            EmailAddress::parse("a@com"),
            Err(AddressError::BadDomain(_))
        ));
        assert!(matches!(
            EmailAddress::parse(&format!("{}@x.com", "a".repeat(65))),
            Err(AddressError::LocalTooLong)
        ));
    }
}

#[cfg(test)]
mod noise_tests {
    use super::*;

    /// Whatever the input, parsing returns; an accepted address is safe for SMTP and headers.
    #[test]
    fn arbitrary_strings_never_panic_and_accepted_ones_are_safe() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let alphabet: Vec<char> = "ab.@-_+ \r\n\"<>ü日xn--Z9!".chars().collect();
        for _ in 0..50_000 {
            let mut s = String::new();
            for _ in 0..(x % 24) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            if let Ok(a) = EmailAddress::parse(&s) {
                assert!(!a.as_str().contains(['\r', '\n', ' ', '<', '>']), "{a:?}");
                assert!(a.domain().is_ascii());
            }
        }
    }
}
