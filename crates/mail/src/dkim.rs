//! DKIM (RFC 6376, RFC 8463): key generation, the public records to publish, and signing every
//! message twice — RSA-SHA256 (what every receiver verifies; Gmail ignores Ed25519) and
//! Ed25519-SHA256. All use of mail-auth 0.13 stays in this module so its API upgrade is local.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{Canonicalization, DkimSigner, Done};

/// Headers signed, in order. From is listed twice ("over-signed") so a second From added in
/// transit breaks the signature instead of being shown to the reader.
const SIGNED_HEADERS: &[&str] = &[
    "From",
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Reply-To",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

#[derive(Debug, thiserror::Error)]
pub enum DkimError {
    #[error("generating a key: {0}")]
    Generate(String),
    #[error("loading the {0} key: {1}")]
    Key(&'static str, String),
    #[error("signing: {0}")]
    Sign(String),
}

/// Private keys (PKCS#8 DER) of one selector.
pub struct KeyPair {
    pub rsa_pkcs8: Vec<u8>,
    pub ed25519_pkcs8: Vec<u8>,
}

/// Generate an RSA-2048 and an Ed25519 key.
pub fn generate() -> Result<KeyPair, DkimError> {
    use aws_lc_rs::encoding::AsDer;
    let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .map_err(|e| DkimError::Generate(format!("RSA: {e}")))?;
    let rsa_pkcs8 = rsa
        .as_der()
        .map_err(|e| DkimError::Generate(format!("RSA: {e}")))?
        .as_ref()
        .to_vec();
    let ed25519_pkcs8 =
        Ed25519Key::generate_pkcs8().map_err(|e| DkimError::Generate(format!("Ed25519: {e}")))?;
    Ok(KeyPair {
        rsa_pkcs8,
        ed25519_pkcs8,
    })
}

/// The selector names of one key pair: RSA at `S`, Ed25519 at `S-ed25519`.
pub fn selectors(selector: &str) -> (String, String) {
    (selector.to_string(), format!("{selector}-ed25519"))
}

/// The DKIM TXT record values to publish: (RSA, Ed25519).
pub fn public_records(keys: &KeyPair) -> Result<(String, String), DkimError> {
    use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
    use aws_lc_rs::signature::KeyPair as _;
    let rsa = aws_lc_rs::rsa::KeyPair::from_pkcs8(&keys.rsa_pkcs8)
        .map_err(|e| DkimError::Key("RSA", e.to_string()))?;
    // SubjectPublicKeyInfo, the form OpenDKIM publishes and every verifier reads.
    let spki: PublicKeyX509Der<'static> = rsa
        .public_key()
        .as_der()
        .map_err(|e| DkimError::Key("RSA", e.to_string()))?;
    let ed = Ed25519Key::from_pkcs8_der(&keys.ed25519_pkcs8)
        .map_err(|e| DkimError::Key("Ed25519", e.to_string()))?;
    Ok((
        format!("v=DKIM1; k=rsa; p={}", B64.encode(spki.as_ref())),
        format!("v=DKIM1; k=ed25519; p={}", B64.encode(ed.public_key())),
    ))
}

/// Split a TXT value into strings of at most 255 bytes (RFC 1035 §3.3.14), as DNS needs.
pub fn txt_strings(value: &str) -> Vec<String> {
    value
        .as_bytes()
        .chunks(255)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}

/// Signs messages for one domain with both keys.
pub struct Signer {
    rsa: DkimSigner<RsaKey<Sha256>, Done>,
    ed25519: DkimSigner<Ed25519Key, Done>,
}

impl Signer {
    pub fn new(domain: &str, selector: &str, keys: &KeyPair) -> Result<Self, DkimError> {
        let (rsa_sel, ed_sel) = selectors(selector);
        let der = rustls_pki_types::PrivateKeyDer::Pkcs8(keys.rsa_pkcs8.as_slice().into());
        let rsa = RsaKey::<Sha256>::from_key_der(der)
            .map_err(|e| DkimError::Key("RSA", e.to_string()))?;
        let ed = Ed25519Key::from_pkcs8_der(&keys.ed25519_pkcs8)
            .map_err(|e| DkimError::Key("Ed25519", e.to_string()))?;
        Ok(Self {
            rsa: DkimSigner::from_key(rsa)
                .domain(domain)
                .selector(rsa_sel)
                .headers(SIGNED_HEADERS.iter().copied())
                .header_canonicalization(Canonicalization::Relaxed)
                .body_canonicalization(Canonicalization::Relaxed),
            ed25519: DkimSigner::from_key(ed)
                .domain(domain)
                .selector(ed_sel)
                .headers(SIGNED_HEADERS.iter().copied())
                .header_canonicalization(Canonicalization::Relaxed)
                .body_canonicalization(Canonicalization::Relaxed),
        })
    }

    /// Return the message with an RSA and an Ed25519 DKIM-Signature header in front.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, DkimError> {
        let message = without_trailing_blank_lines(message);
        let rsa = self
            .rsa
            .sign(&message)
            .map_err(|e| DkimError::Sign(e.to_string()))?;
        let ed = self
            .ed25519
            .sign(&message)
            .map_err(|e| DkimError::Sign(e.to_string()))?;
        let mut out = Vec::with_capacity(message.len() + 1200);
        out.extend_from_slice(rsa.to_header().as_bytes());
        out.extend_from_slice(ed.to_header().as_bytes());
        out.extend_from_slice(&message);
        Ok(out)
    }
}

/// Guard for mail-auth 0.13's relaxed body canonicalisation bug (upstream issue 62, fixed in
/// 0.15): it hashes a body that ends in whitespace-only lines wrongly, so independent
/// verifiers reject the signature. Relaxed canonicalisation ignores such lines anyway (RFC 6376
/// §3.4.4), so dropping them before signing changes nothing a verifier sees.
fn without_trailing_blank_lines(message: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let Some(body_start) = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
    else {
        return message.into();
    };
    let body = &message[body_start..];
    // Length of the body up to the end of its last line with visible content.
    let (mut keep, mut pos) = (0, 0);
    for line in body.split_inclusive(|&b| b == b'\n') {
        pos += line.len();
        if line
            .iter()
            .any(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            keep = pos;
        }
    }
    if keep == body.len() {
        return message.into();
    }
    let mut m = message[..body_start + keep].to_vec();
    if keep > 0 && !m.ends_with(b"\r\n") {
        m.extend_from_slice(b"\r\n");
    }
    m.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_blank_lines_are_dropped_and_nothing_else() {
        let f = |s: &str| {
            String::from_utf8(without_trailing_blank_lines(s.as_bytes()).into_owned()).unwrap()
        };
        assert_eq!(
            f("A: b\r\n\r\nbody\r\n  \r\n\t\r\n\r\n"),
            "A: b\r\n\r\nbody\r\n"
        );
        assert_eq!(f("A: b\r\n\r\nbody\r\n"), "A: b\r\n\r\nbody\r\n");
        assert_eq!(
            f("A: b\r\n\r\nbody \r\nmore\r\n"),
            "A: b\r\n\r\nbody \r\nmore\r\n"
        );
        assert_eq!(f("A: b\r\n\r\n--b--\r\n"), "A: b\r\n\r\n--b--\r\n");
    }

    #[test]
    fn records_and_txt_strings() {
        let k = generate().unwrap();
        let (rsa, ed) = public_records(&k).unwrap();
        assert!(rsa.starts_with("v=DKIM1; k=rsa; p=MIIBIjAN"), "{rsa}");
        assert!(ed.starts_with("v=DKIM1; k=ed25519; p="), "{ed}");
        let parts = txt_strings(&rsa);
        assert!(parts.len() >= 2 && parts.iter().all(|p| p.len() <= 255));
        assert_eq!(parts.concat(), rsa);
    }
}
