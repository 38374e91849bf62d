//! The VERP return path: `b+<delivery id>.<mac>@<return-path domain>`.
//!
//! The MAC is HMAC-SHA256 over the delivery id, truncated to 80 bits and written in lower-case
//! hex (receivers may lower-case local parts). A bounce therefore names exactly one delivery
//! even when the DSN body is mangled, and nobody can forge a return path that suppresses an
//! address of their choosing.

use aws_lc_rs::hmac;

/// Bytes of the MAC kept in the address.
const MAC_BYTES: usize = 10;

/// The secret that signs return paths.
pub struct VerpKey(hmac::Key);

impl VerpKey {
    /// A key from at least 32 secret bytes.
    pub fn new(secret: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// 32 fresh random bytes for a new key.
    pub fn generate_secret() -> Option<[u8; 32]> {
        use aws_lc_rs::rand::SecureRandom;
        let mut b = [0u8; 32];
        aws_lc_rs::rand::SystemRandom::new().fill(&mut b).ok()?;
        Some(b)
    }

    fn mac(&self, id: i64) -> String {
        let tag = hmac::sign(&self.0, format!("herald-verp-v1:{id}").as_bytes());
        tag.as_ref()[..MAC_BYTES]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The local part for a delivery: `b+<id>.<mac>`.
    pub fn local_part(&self, id: i64) -> String {
        format!("b+{id}.{}", self.mac(id))
    }

    /// The full return path.
    pub fn address(&self, id: i64, domain: &str) -> String {
        format!("{}@{domain}", self.local_part(id))
    }

    /// The mailto unsubscribe address of a delivery (`u+<id>.<mac>@<domain>`, RFC 8058's mailto
    /// alternative): its MAC is separate from the return path's, so a bounce address cannot be
    /// turned into an unsubscribe.
    pub fn unsubscribe_address(&self, id: i64, domain: &str) -> String {
        format!("u+{id}.{}@{domain}", self.mac(-id - 1))
    }

    /// The delivery id of a mailto unsubscribe address, if its MAC is ours.
    pub fn verify_unsubscribe(&self, address: &str) -> Option<i64> {
        let (local, _) = address.trim_matches(['<', '>']).rsplit_once('@')?;
        let rest = local
            .get(..2)
            .filter(|p| p.eq_ignore_ascii_case("u+"))
            .map(|_| &local[2..])?;
        let (id_text, mac) = rest.split_once('.')?;
        if id_text.len() > 19 || mac.len() != MAC_BYTES * 2 {
            return None;
        }
        let id: i64 = id_text.parse().ok().filter(|n: &i64| *n >= 0)?;
        constant_time_eq(&self.mac(-id - 1), &mac.to_ascii_lowercase()).then_some(id)
    }

    /// The delivery id of a return-path address, if its MAC is ours. Any domain: the caller
    /// checks the domain is one of its return-path domains.
    pub fn verify(&self, address: &str) -> Option<i64> {
        let (local, _) = address.trim_matches(['<', '>']).rsplit_once('@')?;
        let token = local
            .get(..2)
            .filter(|p| p.eq_ignore_ascii_case("b+"))
            .map(|_| &local[2..])?;
        let (id, mac) = token.split_once('.')?;
        if id.len() > 19 || mac.len() != MAC_BYTES * 2 {
            return None;
        }
        // Negative ids are the unsubscribe addresses' MAC inputs: never a return path.
        let id: i64 = id.parse().ok().filter(|n: &i64| *n >= 0)?;
        constant_time_eq(&self.mac(id), &mac.to_ascii_lowercase()).then_some(id)
    }
}

impl VerpKey {
    /// The delivery named by the first address this key signed (`b+…` or `u+…`) anywhere in
    /// `text`: a report's returned original carries its Return-Path and List-Unsubscribe, so
    /// a complaint or bounce sent to a shared feedback address can still prove which delivery
    /// it is about. Anything unsigned (a bare Message-ID) proves nothing.
    pub fn find_signed(&self, text: &[u8]) -> Option<i64> {
        let mut at = 0;
        while let Some(found) = text[at..]
            .windows(2)
            .position(|w| matches!(w[0], b'b' | b'B' | b'u' | b'U') && w[1] == b'+')
        {
            let start = at + found;
            at = start + 2;
            // `x+` + up to 19 digits + `.` + 20 hex digits + `@`.
            let end = (start + 2 + 19 + 1 + MAC_BYTES * 2 + 1).min(text.len());
            let candidate = &text[start..end];
            let Some(len) = candidate.iter().position(|b| *b == b'@') else {
                continue;
            };
            let Ok(local) = std::str::from_utf8(&candidate[..len]) else {
                continue;
            };
            let address = format!("{local}@x");
            if let Some(id) = self
                .verify(&address)
                .or_else(|| self.verify_unsubscribe(&address))
            {
                return Some(id);
            }
        }
        None
    }
}

/// Equal-length strings compared without an early exit.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let k = VerpKey::new(&[7u8; 32]);
        let a = k.address(42, "bounces.example.com");
        assert!(a.starts_with("b+42."));
        assert_eq!(k.verify(&a), Some(42));
        assert_eq!(k.verify(&a.to_ascii_uppercase()), Some(42));
        // Another delivery's id with this MAC, a changed MAC, another key: all refused.
        assert_eq!(k.verify(&a.replace("b+42.", "b+43.")), None);
        let mut bad = a.clone();
        bad.replace_range(6..7, if &a[6..7] == "0" { "1" } else { "0" });
        assert_eq!(k.verify(&bad), None);
        assert_eq!(VerpKey::new(&[8u8; 32]).verify(&a), None);
        // The unsubscribe address has its own MAC: neither address works as the other.
        let u = k.unsubscribe_address(42, "bounces.example.com");
        assert!(u.starts_with("u+42."));
        assert_eq!(k.verify_unsubscribe(&u), Some(42));
        assert_eq!(k.verify(&u.replacen("u+", "b+", 1)), None);
        assert_eq!(k.verify_unsubscribe(&a.replacen("b+", "u+", 1)), None);
        for junk in [
            "",
            "@",
            "b+@x",
            "b+1.@x",
            "b+99999999999999999999.00@x",
            "bounce@x",
        ] {
            assert_eq!(k.verify(junk), None, "{junk}");
        }
        // An unsubscribe MAC under a negative id is not a return path.
        let u7 = k.unsubscribe_address(7, "x");
        let mac = u7.split(['.', '@']).nth(1).unwrap_or("");
        assert_eq!(k.verify(&format!("b+-8.{mac}@x")), None);
    }

    #[test]
    fn signed_addresses_are_found_in_a_returned_original() {
        let k = VerpKey::new(&[7u8; 32]);
        let rp = k.address(42, "bounces.example.com");
        let original = format!(
            "--b\r\nContent-Type: message/rfc822\r\n\r\nReturn-Path: <{rp}>\r\nMessage-ID: <x@y>\r\n"
        );
        assert_eq!(k.find_signed(original.as_bytes()), Some(42));
        let unsub = k.unsubscribe_address(7, "bounces.example.com");
        let header =
            format!("List-Unsubscribe: <https://l/u/t>, <mailto:{unsub}?subject=unsubscribe>");
        assert_eq!(k.find_signed(header.as_bytes()), Some(7));
        // Unsigned, tampered or foreign: nothing.
        for text in [
            "Message-ID: <x@y>".to_string(),
            rp.replace("b+42.", "b+43."),
            VerpKey::new(&[8u8; 32]).address(42, "b.example"),
            "b+ u+ b+1. u+99999999999999999999999999999@".into(),
            "é+b+".into(),
        ] {
            assert_eq!(k.find_signed(text.as_bytes()), None, "{text}");
        }
    }
}
