//! Signed tracking and unsubscribe tokens, and the rewriting of a message's links (sans-IO).
//!
//! A token is `base64url(kind | key id | delivery id | sent-at | mac)`: the MAC is HMAC-SHA256
//! (truncated to 96 bits) over those fields and, for a click, the destination URL, so a token
//! names one delivery and one link and cannot be moved to another recipient or another URL
//! (no open redirect). Keys carry an id: after a rotation, links signed with the previous key
//! keep working until its grace period ends.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const MAC_BYTES: usize = 12;
/// kind(1) + key id(1) + delivery(8) + sent-at seconds(4) + mac.
const TOKEN_BYTES: usize = 1 + 1 + 8 + 4 + MAC_BYTES;
/// Longest token text accepted (anything longer is rejected before decoding).
pub const MAX_TOKEN_CHARS: usize = 64;
/// Longest destination URL signed or accepted.
pub const MAX_URL_BYTES: usize = 4096;

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Open = 1,
    Click = 2,
    Unsubscribe = 3,
    /// A double opt-in confirmation link (the delivery is the confirmation message).
    Confirm = 4,
    /// A served sign-up form (the "delivery" is the list; the URL is its slug).
    Form = 5,
    /// A recipient's preference centre (the delivery names the contact).
    Preferences = 6,
    /// The web copy of one delivery's message (`{{ view_in_browser_url }}`).
    View = 7,
    /// A campaign's public archive page (the "delivery" is the campaign).
    Archive = 8,
}

/// What a valid token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub delivery: i64,
    /// When the message was rendered (≈ sent), seconds since the Unix epoch.
    pub sent_at: i64,
    pub key_id: u8,
}

/// One signing key.
pub struct TrackingKey {
    pub id: u8,
    key: hmac::Key,
    /// After this time (ms) tokens signed with it are refused; `None`: current or still valid.
    pub valid_until_ms: Option<i64>,
}

impl TrackingKey {
    pub fn new(id: u8, secret: &[u8], valid_until_ms: Option<i64>) -> Self {
        Self {
            id,
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            valid_until_ms,
        }
    }
}

/// The keys: the first signs, all verify (until their grace ends).
pub struct Keyset {
    keys: Vec<TrackingKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeysetError {
    #[error("no tracking key")]
    Empty,
    #[error("two tracking keys share the id {0}")]
    DuplicateId(u8),
}

impl Keyset {
    /// `keys[0]` signs new tokens.
    pub fn new(keys: Vec<TrackingKey>) -> Result<Self, KeysetError> {
        if keys.is_empty() {
            return Err(KeysetError::Empty);
        }
        for (i, k) in keys.iter().enumerate() {
            if keys[..i].iter().any(|o| o.id == k.id) {
                return Err(KeysetError::DuplicateId(k.id));
            }
        }
        Ok(Self { keys })
    }

    fn mac(key: &TrackingKey, head: &[u8], url: &str) -> [u8; MAC_BYTES] {
        let mut ctx = hmac::Context::with_key(&key.key);
        ctx.update(b"herald-track-v1");
        ctx.update(head);
        ctx.update(url.as_bytes());
        let tag = ctx.sign();
        let mut out = [0u8; MAC_BYTES];
        out.copy_from_slice(&tag.as_ref()[..MAC_BYTES]);
        out
    }

    /// A token for `delivery`; `url` only for clicks (empty otherwise).
    pub fn sign(&self, kind: TokenKind, delivery: i64, sent_at: i64, url: &str) -> String {
        let key = &self.keys[0];
        let mut b = Vec::with_capacity(TOKEN_BYTES);
        b.push(kind as u8);
        b.push(key.id);
        b.extend_from_slice(&delivery.to_be_bytes());
        b.extend_from_slice(&(sent_at.clamp(0, u32::MAX as i64) as u32).to_be_bytes());
        let mac = Self::mac(key, &b, url);
        b.extend_from_slice(&mac);
        URL_SAFE_NO_PAD.encode(b)
    }

    /// The delivery a token names, if it is genuine, of this kind, for this URL, and signed by
    /// a key still valid at `now_ms`.
    pub fn verify(&self, kind: TokenKind, token: &str, url: &str, now_ms: i64) -> Option<Verified> {
        if token.len() > MAX_TOKEN_CHARS || url.len() > MAX_URL_BYTES {
            return None;
        }
        let b = URL_SAFE_NO_PAD.decode(token).ok()?;
        if b.len() != TOKEN_BYTES || b[0] != kind as u8 {
            return None;
        }
        let key = self.keys.iter().find(|k| k.id == b[1])?;
        if key.valid_until_ms.is_some_and(|until| now_ms > until) {
            return None;
        }
        let (head, mac) = b.split_at(TOKEN_BYTES - MAC_BYTES);
        let want = Self::mac(key, head, url);
        // Constant-time comparison.
        let diff = want.iter().zip(mac).fold(0u8, |d, (a, b)| d | (a ^ b));
        if diff != 0 {
            return None;
        }
        let delivery = i64::from_be_bytes(head[2..10].try_into().ok()?);
        let sent_at = u32::from_be_bytes(head[10..14].try_into().ok()?) as i64;
        Some(Verified {
            delivery,
            sent_at,
            key_id: key.id,
        })
    }
}

/// Encode a destination URL for the `u` query parameter.
pub fn encode_url(url: &str) -> String {
    URL_SAFE_NO_PAD.encode(url.as_bytes())
}

/// Decode the `u` query parameter.
pub fn decode_url(u: &str) -> Option<String> {
    if u.len() > MAX_URL_BYTES * 4 / 3 + 4 {
        return None;
    }
    String::from_utf8(URL_SAFE_NO_PAD.decode(u).ok()?).ok()
}

/// Rewrite every `href` of an `<a>` element whose value is an http(s) URL with `rewrite`,
/// leaving `mailto:`, anchors, and anything `keep` says to keep (the unsubscribe link) alone.
/// Written by hand: only `<a … href=…>` matters, and the rest of the HTML passes through
/// byte for byte (a full HTML rewriter would re-serialise it).
pub fn rewrite_links(
    html: &str,
    keep: impl Fn(&str) -> bool,
    mut rewrite: impl FnMut(&str) -> String,
) -> String {
    let mut out = String::with_capacity(html.len() + 256);
    let lower = html.to_ascii_lowercase();
    let mut pos = 0;
    while let Some(rel) = lower[pos..].find("<a") {
        let tag_start = pos + rel;
        // `<a` followed by whitespace: an anchor element, not <abbr> or <area>.
        if !lower[tag_start + 2..].starts_with(|c: char| c.is_ascii_whitespace()) {
            out.push_str(&html[pos..tag_start + 2]);
            pos = tag_start + 2;
            continue;
        }
        let Some(tag_len) = lower[tag_start..].find('>') else {
            break;
        };
        let tag_end = tag_start + tag_len;
        out.push_str(&html[pos..tag_start]);
        out.push_str(&rewrite_tag(&html[tag_start..tag_end], &keep, &mut rewrite));
        pos = tag_end;
    }
    out.push_str(&html[pos..]);
    out
}

/// Rewrite every bare http(s) URL of a text part (up to whitespace or a closing bracket).
pub fn rewrite_text_links(
    text: &str,
    keep: impl Fn(&str) -> bool,
    mut rewrite: impl FnMut(&str) -> String,
) -> String {
    let mut out = String::with_capacity(text.len() + 256);
    let mut pos = 0;
    while let Some(rel) = text[pos..].find("http") {
        let start = pos + rel;
        let rest = &text[start..];
        if !(rest.starts_with("http://") || rest.starts_with("https://")) {
            out.push_str(&text[pos..start + 4]);
            pos = start + 4;
            continue;
        }
        let len = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '>' | ')' | ']' | '"' | '\''))
            .unwrap_or(rest.len());
        let url = rest[..len].trim_end_matches(['.', ',', ';', ':', '!', '?']);
        out.push_str(&text[pos..start]);
        if keep(url) {
            out.push_str(url);
        } else {
            out.push_str(&rewrite(url));
        }
        pos = start + url.len();
    }
    out.push_str(&text[pos..]);
    out
}

fn rewrite_tag(
    tag: &str,
    keep: &impl Fn(&str) -> bool,
    rewrite: &mut impl FnMut(&str) -> String,
) -> String {
    let lower = tag.to_ascii_lowercase();
    let mut search = 0;
    while let Some(rel) = lower[search..].find("href") {
        let at = search + rel;
        let before_ok = at > 0 && lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = lower[at + 4..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            search = at + 4;
            continue;
        }
        let eq = tag.len() - rest.len();
        let after_eq = &tag[eq + 1..];
        let value_start = eq + 1 + (after_eq.len() - after_eq.trim_start().len());
        let (quote, vs) = match tag[value_start..].chars().next() {
            Some(q @ ('"' | '\'')) => (Some(q), value_start + 1),
            _ => (None, value_start),
        };
        let ve = match quote {
            Some(q) => tag[vs..].find(q).map_or(tag.len(), |n| vs + n),
            None => tag[vs..]
                .find(|c: char| c.is_ascii_whitespace())
                .map_or(tag.len(), |n| vs + n),
        };
        let raw = &tag[vs..ve];
        let url = raw.replace("&amp;", "&");
        let trimmed = url.trim();
        let scheme = trimmed.to_ascii_lowercase();
        if !(scheme.starts_with("http://") || scheme.starts_with("https://")) || keep(trimmed) {
            return tag.to_string();
        }
        let new = rewrite(trimmed).replace('&', "&amp;");
        return format!("{}{}{}", &tag[..vs], new, &tag[ve..]);
    }
    tag.to_string()
}

/// The 1×1 transparent GIF the open pixel serves.
pub const PIXEL_GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keyset {
        Keyset::new(vec![TrackingKey::new(2, &[2u8; 32], None)]).expect("keys")
    }

    #[test]
    fn tokens_bind_kind_delivery_and_url() {
        let k = keys();
        let t = k.sign(TokenKind::Click, 42, 1_800_000_000, "https://a.test/x");
        let v = k
            .verify(TokenKind::Click, &t, "https://a.test/x", 0)
            .expect("valid");
        assert_eq!((v.delivery, v.sent_at, v.key_id), (42, 1_800_000_000, 2));
        // Another URL, another kind, a flipped byte, another key: refused.
        assert!(
            k.verify(TokenKind::Click, &t, "https://evil.test/", 0)
                .is_none()
        );
        assert!(
            k.verify(TokenKind::Open, &t, "https://a.test/x", 0)
                .is_none()
        );
        let mut b = URL_SAFE_NO_PAD.decode(&t).expect("b64");
        b[5] ^= 1; // another delivery id with the same MAC
        let moved = URL_SAFE_NO_PAD.encode(&b);
        assert!(
            k.verify(TokenKind::Click, &moved, "https://a.test/x", 0)
                .is_none()
        );
        let other = Keyset::new(vec![TrackingKey::new(2, &[3u8; 32], None)]).expect("keys");
        assert!(
            other
                .verify(TokenKind::Click, &t, "https://a.test/x", 0)
                .is_none()
        );
        for junk in [
            "",
            "x",
            &"A".repeat(500),
            "!!!!",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(k.verify(TokenKind::Open, junk, "", 0).is_none(), "{junk}");
        }
    }

    #[test]
    fn rotated_keys_verify_until_their_grace_ends() {
        let old = Keyset::new(vec![TrackingKey::new(1, &[1u8; 32], None)]).expect("keys");
        let t = old.sign(TokenKind::Open, 7, 0, "");
        let rotated = Keyset::new(vec![
            TrackingKey::new(2, &[2u8; 32], None),
            TrackingKey::new(1, &[1u8; 32], Some(1_000)),
        ])
        .expect("keys");
        assert_eq!(
            rotated
                .verify(TokenKind::Open, &t, "", 999)
                .map(|v| v.delivery),
            Some(7)
        );
        assert!(rotated.verify(TokenKind::Open, &t, "", 1_001).is_none());
        let new = rotated.sign(TokenKind::Open, 7, 0, "");
        assert_eq!(
            rotated
                .verify(TokenKind::Open, &new, "", 5_000)
                .map(|v| v.key_id),
            Some(2)
        );
        assert_eq!(
            Keyset::new(vec![
                TrackingKey::new(1, &[1u8; 32], None),
                TrackingKey::new(1, &[2u8; 32], None)
            ])
            .err(),
            Some(KeysetError::DuplicateId(1))
        );
    }

    #[test]
    fn rewrites_only_http_anchor_links() {
        let html = r#"<p><a href="https://a.test/p?x=1&amp;y=2">A</a> <A HREF='http://b.test'>B</A>
<a href="mailto:x@y.test">m</a> <a href="{{u}}">u</a> <abbr href="https://no.test">n</abbr>
<a class="c" href=https://c.test/z>C</a> <a name="top">t</a> <img src="https://i.test/a.png"></p>"#;
        let out = rewrite_links(html, |u| u.contains("{{u}}"), |u| format!("T[{u}]"));
        assert!(
            out.contains(r#"href="T[https://a.test/p?x=1&amp;y=2]""#),
            "{out}"
        );
        assert!(out.contains("HREF='T[http://b.test]'"), "{out}");
        assert!(out.contains(r#"href="mailto:x@y.test""#), "{out}");
        assert!(out.contains(r#"<abbr href="https://no.test">"#), "{out}");
        assert!(out.contains("href=T[https://c.test/z]>C"), "{out}");
        assert!(out.contains(r#"<img src="https://i.test/a.png">"#), "{out}");
        assert!(out.contains(r#"<a name="top">"#), "{out}");
        // Unterminated tags and odd input pass through.
        assert_eq!(
            rewrite_links("<a href=\"https://x", |_| false, |u| u.into()),
            "<a href=\"https://x"
        );
    }

    #[test]
    fn rewrites_text_links() {
        let t =
            "See https://a.test/x?y=1. Or (http://b.test/) and [u]: https://keep.test/u\nhttpx no";
        let out = rewrite_text_links(t, |u| u.starts_with("https://keep"), |u| format!("T[{u}]"));
        assert_eq!(
            out,
            "See T[https://a.test/x?y=1]. Or (T[http://b.test/]) and [u]: https://keep.test/u\nhttpx no"
        );
    }

    #[test]
    fn url_parameter_round_trip() {
        let u = "https://a.test/ä?q=1&r=<2>";
        assert_eq!(decode_url(&encode_url(u)).as_deref(), Some(u));
        assert_eq!(decode_url("%%%"), None);
    }
}
